"""The freshness check (``store.snapshot``) gives the same answer on every path it can take."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from papernotes import indexing, store


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    for rel in ("a.md", "b.markdown", "sub/c.md", "sub/deep/d.md", ".hidden/e.md", "f.txt"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: {rel}\n---\n", encoding="utf-8")
    (root / "template.md").write_text("---\ntitle: t\n---\n", encoding="utf-8")
    return root


def expected(root: Path) -> store.Snapshot:
    out: store.Snapshot = {}
    for path in store.iter_notes(root):
        st = path.stat()
        out[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def test_snapshot_matches_a_plain_stat_of_every_note(notes: Path) -> None:
    snap = store.snapshot(notes)
    assert sorted(snap) == ["a.md", "b.markdown", "sub/c.md", "sub/deep/d.md"]
    assert snap == expected(notes)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_snapshot_is_the_same(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "PARALLEL_STAT_MIN", 1)
    monkeypatch.setattr(store, "_can_fork", lambda: True)
    assert store.snapshot(notes) == expected(notes)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_failing_child_is_made_up_for(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "PARALLEL_STAT_MIN", 1)
    monkeypatch.setattr(store, "_can_fork", lambda: True)
    real = store._stat
    parent = os.getpid()

    def stat_or_die(root: Path, rels: list[str]) -> store.Snapshot:
        if os.getpid() != parent:
            os._exit(3)
        return real(root, rels)

    monkeypatch.setattr(store, "_stat", stat_or_die)
    assert store.snapshot(notes) == expected(notes)


def test_an_in_place_edit_changes_the_snapshot(notes: Path) -> None:
    before = store.snapshot(notes)
    with open(notes / "sub" / "c.md", "a", encoding="utf-8") as handle:
        handle.write("more\n")
    after = store.snapshot(notes)
    assert after["sub/c.md"] != before["sub/c.md"]
    assert {k: v for k, v in after.items() if k != "sub/c.md"} == {
        k: v for k, v in before.items() if k != "sub/c.md"
    }


@pytest.mark.parametrize("forked", [False, True])
def test_scan_digest_is_the_digest_of_the_snapshot(
    notes: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    if forked and not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(store, "PARALLEL_STAT_MIN", 1 if forked else 10**9)
    monkeypatch.setattr(store, "_can_fork", lambda: True)
    scanned = store.scan(notes)
    assert scanned.snapshot() == expected(notes)
    assert scanned.digest == indexing.digest(scanned.snapshot())
    assert list(scanned.snapshot()) == list(store.snapshot(notes))  # the same order each time
    with open(notes / "a.md", "a", encoding="utf-8") as handle:
        handle.write("edited\n")
    assert store.scan(notes).digest != scanned.digest
