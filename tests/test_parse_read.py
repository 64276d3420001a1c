"""parse_file reads a note whole, and refuses one larger than MAX_BYTES, whatever its size
said when it was opened."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from papernotes.note.parse import MAX_BYTES, parse_file

NOTE = "---\ntitle: T\n---\nbody\n"


@pytest.mark.parametrize(
    ("extra", "ok"), [(0, True), (MAX_BYTES - len(NOTE), True), (MAX_BYTES - len(NOTE) + 1, False)]
)
def test_size_limit(tmp_path: Path, extra: int, ok: bool) -> None:
    path = tmp_path / "n.md"
    path.write_text(NOTE + "x" * extra, encoding="utf-8")
    result = parse_file(path)
    assert (result.paper is not None) is ok
    if not ok:
        assert "larger than 5 MB" in result.errors[0].message


def test_a_note_that_grows_after_it_is_opened_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "n.md"
    path.write_text(NOTE + "more words\n", encoding="utf-8")
    real = os.fstat

    def stale(fd: int) -> os.stat_result:  # the size as it was a moment before
        st = real(fd)
        return os.stat_result((st[0], st[1], st[2], st[3], st[4], st[5], 3, *st[7:10]))

    monkeypatch.setattr(os, "fstat", stale)
    result = parse_file(path)
    assert result.paper is not None and result.paper.body == "body\nmore words\n"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_not_read() -> None:
    """/dev/zero never ends: it is refused as what it is, not read up to a bound."""
    result = parse_file("/dev/zero")
    assert result.paper is None
    assert result.errors[0].message == "not a regular file (a FIFO, socket or device); not read"
