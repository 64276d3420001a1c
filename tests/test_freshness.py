"""The freshness check (``papernotes.disk.freshness``) gives the same answer on every path it takes:
one process, a forked child for half the notes, a child started early by the console script."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from papernotes.disk import freshness, store
from papernotes.engine import indexing


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
        out[path.relative_to(root).as_posix()] = (
            st.st_size,
            st.st_mtime_ns,
            st.st_ctime_ns,
            st.st_ino,
        )
    return out


def test_snapshot_matches_a_plain_stat_of_every_note(notes: Path) -> None:
    snap = freshness.snapshot(notes)
    assert sorted(snap) == ["a.md", "b.markdown", "sub/c.md", "sub/deep/d.md"]
    assert snap == expected(notes)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_snapshot_is_the_same(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(freshness, "PARALLEL_STAT_MIN", 1)
    monkeypatch.setattr(freshness, "_can_fork", lambda: True)
    assert freshness.snapshot(notes) == expected(notes)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_failing_child_is_made_up_for(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(freshness, "PARALLEL_STAT_MIN", 1)
    monkeypatch.setattr(freshness, "_can_fork", lambda: True)
    real = freshness._stat
    parent = os.getpid()

    def stat_or_die(root: Path, rels: list[str]) -> store.Snapshot:
        if os.getpid() != parent:
            os._exit(3)
        return real(root, rels)

    monkeypatch.setattr(freshness, "_stat", stat_or_die)
    assert freshness.snapshot(notes) == expected(notes)


def test_an_in_place_edit_changes_the_snapshot(notes: Path) -> None:
    before = freshness.snapshot(notes)
    with open(notes / "sub" / "c.md", "a", encoding="utf-8") as handle:
        handle.write("more\n")
    after = freshness.snapshot(notes)
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
    monkeypatch.setattr(freshness, "PARALLEL_STAT_MIN", 1 if forked else 10**9)
    monkeypatch.setattr(freshness, "_can_fork", lambda: True)
    scanned = freshness.scan(notes)
    assert scanned.snapshot() == expected(notes)
    assert scanned.digest == indexing.digest(scanned.snapshot())
    assert list(scanned.snapshot()) == list(freshness.snapshot(notes))  # the same order each time
    with open(notes / "a.md", "a", encoding="utf-8") as handle:
        handle.write("edited\n")
    assert freshness.scan(notes).digest != scanned.digest


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(freshness, "_can_fork", lambda: True)


@pytest.mark.usefixtures("forking")
@pytest.mark.parametrize("step", [10**6, 1], ids=["child-done-first", "work-shared"])
def test_a_prefetched_scan_is_the_same(
    notes: Path, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    monkeypatch.setattr(freshness, "_STEP", step)
    plain = freshness.scan(notes)
    freshness.prefetch(notes)
    assert vars(freshness)["_pending"] is not None
    prefetched = freshness.scan(notes)
    assert vars(freshness)["_pending"] is None  # taken once; the child is gone
    assert prefetched.digest == plain.digest
    assert prefetched.snapshot() == plain.snapshot() == expected(notes)
    assert list(prefetched.snapshot()) == list(plain.snapshot())


@pytest.mark.usefixtures("forking")
def test_a_prefetch_of_another_folder_is_not_used(notes: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    freshness.prefetch(other)
    assert freshness.scan(notes).snapshot() == expected(notes)
    assert vars(freshness)["_pending"] is None


@pytest.mark.usefixtures("forking")
@pytest.mark.parametrize("step", [10**6, 1], ids=["child-done-first", "work-shared"])
def test_a_failed_prefetch_is_made_up_for(
    notes: Path, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    monkeypatch.setattr(freshness, "_STEP", step)
    real = freshness._stat
    parent = os.getpid()

    def stat_or_die(root: Path, rels: list[str]) -> store.Snapshot:
        if os.getpid() != parent:
            os._exit(3)
        return real(root, rels)

    monkeypatch.setattr(freshness, "_stat", stat_or_die)
    freshness.prefetch(notes)
    assert freshness.scan(notes).snapshot() == expected(notes)


@pytest.mark.usefixtures("forking")
def test_an_edit_after_the_prefetch_is_seen_by_the_next_scan(notes: Path) -> None:
    freshness.prefetch(notes)
    before = freshness.scan(notes)
    with open(notes / "a.md", "a", encoding="utf-8") as handle:
        handle.write("edited\n")
    assert freshness.scan(notes).digest != before.digest


@pytest.mark.usefixtures("forking")
def test_the_command_takes_half_of_what_the_child_has_left(
    notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(freshness, "_STEP", 1)
    real = freshness._stat
    parent = os.getpid()
    stated_here: list[str] = []

    def slow_in_child(root: Path, rels: list[str]) -> store.Snapshot:
        if os.getpid() != parent:
            time.sleep(0.2)  # the command asks for its share long before the child is done
        else:
            stated_here.extend(rels)
        return real(root, rels)

    monkeypatch.setattr(freshness, "_stat", slow_in_child)
    freshness.prefetch(notes)
    scanned = freshness.scan(notes)
    assert scanned.snapshot() == expected(notes)
    assert list(scanned.snapshot()) == list(freshness._rels(notes))
    assert 0 < len(stated_here) < len(expected(notes))


@pytest.mark.parametrize("how", ["plain", "forked", "prefetched"])
def test_a_scan_knows_when_it_started(
    notes: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Before the first stat: a note changed since then may change again unseen (the index
    reads it again: see papernotes.engine.indexing.racy)."""
    if how != "plain" and not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(freshness, "_can_fork", lambda: True)
    monkeypatch.setattr(freshness, "PARALLEL_STAT_MIN", 1 if how == "forked" else 10**9)
    before = time.time_ns()
    if how == "prefetched":
        freshness.prefetch(notes)
    after_start = time.time_ns()
    scanned = freshness.scan(notes)
    assert before <= scanned.started_ns <= (after_start if how == "prefetched" else time.time_ns())
