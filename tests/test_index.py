"""The persistent index: incremental refresh, duplicates, self-healing, concurrency, location."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from papernotes.disk.store import Store, open_store, snapshot
from papernotes.engine import index as index_module
from papernotes.engine.index import SCHEMA_VERSION, Index, index_location, load
from papernotes.engine.indexing import RACY_NS
from papernotes.engine.kb import open_kb
from papernotes.engine.search import ids_matching, search

NOTE = "---\ntitle: {title}\nid: {id}\ntags: [{tag}]\n---\n{body}\n"


def note(title: str, body: str = "", *, id: str = "", tag: str = "misc") -> str:
    return NOTE.format(title=title, id=id or title.lower().replace(" ", "-"), tag=tag, body=body)


def write(root: Path, name: str, text: str, *, mtime_ns: int | None = None) -> Path:
    """Write a note; set its mtime so that edits are seen even within one clock tick."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    stamp = mtime_ns if mtime_ns is not None else max(old + 1_000_000, path.stat().st_mtime_ns)
    os.utime(path, ns=(stamp, stamp))
    return path


def aged() -> None:
    """Wait until the notes just written are older than the next refresh's stats by more than
    a tick of the file system's clock: not "racily clean" (see papernotes.engine.indexing)."""
    time.sleep(2 * RACY_NS / 1e9)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    write(folder, "alpha.md", note("Alpha", "transformers and attention"))
    write(folder, "beta.md", note("Beta", "reward models for preference learning"))
    write(folder, "sub/gamma.md", note("Gamma", "diffusion models", tag="vision"))
    aged()
    return folder


def store(root: Path) -> Store:
    return open_store(root)


def ids(root: Path, query: str) -> list[str]:
    return ids_matching(open_kb(store(root)), query)


def test_cold_build_indexes_every_note(root: Path) -> None:
    kb = open_kb(store(root))
    assert [p.id for p in kb.papers()] == ["alpha", "beta", "gamma"]
    assert kb.index.report is not None and kb.index.report.added == 3
    assert len(kb) == 3 and kb.skipped == 0 and kb.notices == []
    paper = kb.get("gamma")
    assert paper is not None
    assert (paper.path, paper.tags, paper.body) == (
        "sub/gamma.md",
        ("vision",),
        "diffusion models\n",
    )
    assert paper.line_of("tags") == 4


def test_index_serves_the_same_papers_as_the_parser(root: Path) -> None:
    from papernotes.note.parse import parse_file

    kb = open_kb(store(root))
    for paper in kb.papers():
        parsed = parse_file(root / paper.path, paper.path).paper
        assert parsed == paper
        assert (parsed.key_lines, parsed.body_line) == (paper.key_lines, paper.body_line)


def test_warm_run_parses_nothing(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    open_kb(store(root))
    import papernotes.note.parse

    monkeypatch.setattr(papernotes.note.parse, "parse_file", lambda *a, **k: pytest.fail("parsed"))
    kb = open_kb(store(root))
    assert kb.index.report is not None and kb.index.report.changed == 0
    assert len(kb.papers()) == 3


def test_an_edited_note_is_found_by_its_new_words_on_the_next_search(root: Path) -> None:
    assert ids(root, "transformers") == ["alpha"]
    write(root, "alpha.md", note("Alpha", "now about state space models"))
    kb = open_kb(store(root))
    assert kb.index.report is not None
    assert (kb.index.report.added, kb.index.report.updated) == (0, 1)
    assert ids_matching(kb, "transformers") == []
    assert search(kb, "space").hits[0].paper.id == "alpha"


def test_an_edit_keeping_size_and_changing_mtime_is_seen(root: Path) -> None:
    open_kb(store(root))
    path = root / "beta.md"
    text = path.read_text(encoding="utf-8").replace("reward", "awards")
    write(root, "beta.md", text)
    assert ids(root, "awards") == ["beta"]


def test_a_deleted_note_disappears(root: Path) -> None:
    assert ids(root, "diffusion") == ["gamma"]
    (root / "sub" / "gamma.md").unlink()
    kb = open_kb(store(root))
    assert ids_matching(kb, "diffusion") == [] and kb.get("gamma") is None
    assert kb.index.report is not None and kb.index.report.removed == 1


def test_a_new_note_appears(root: Path) -> None:
    open_kb(store(root))
    write(root, "delta.md", note("Delta", "mixture of experts"))
    assert ids(root, "experts") == ["delta"]


def test_notes_with_errors_are_skipped_and_reported(root: Path) -> None:
    write(root, "broken.md", "---\ntitle: Broken\n\tyear: 2020\n---\n")
    kb = open_kb(store(root))
    assert kb.skipped == 1 and len(kb) == 3
    assert [str(d) for d in kb.problems] == [
        "broken.md:3: error: TAB character in YAML front matter (use spaces)"
    ]
    write(root, "broken.md", "---\ntitle: Broken\nyear: 2020\n---\n")
    kb = open_kb(store(root))
    assert kb.skipped == 0 and kb.get("broken") is not None


def test_duplicate_ids_first_path_wins_whatever_the_order(root: Path) -> None:
    write(root, "z-copy.md", note("Copy", "late", id="alpha"))
    kb = open_kb(store(root))
    assert kb.get("alpha") is not None and kb.get("alpha").path == "alpha.md"  # type: ignore[union-attr]
    assert [str(d) for d in kb.problems] == [
        "z-copy.md:3: error: duplicate id 'alpha' (also in alpha.md)"
    ]
    write(root, "a-first.md", note("First", "early", id="alpha"))
    kb = open_kb(store(root))
    assert kb.get("alpha").path == "a-first.md"  # type: ignore[union-attr]
    assert {d.path for d in kb.problems} == {"alpha.md", "z-copy.md"}
    (root / "a-first.md").unlink()
    (root / "alpha.md").unlink()
    kb = open_kb(store(root))
    assert kb.get("alpha").path == "z-copy.md"  # type: ignore[union-attr]
    assert kb.problems == []


def test_indexing_never_writes_notes(root: Path) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*.md")}
    kb = load(store(root), rebuild=True)
    search(open_kb(store(root)), "models")
    kb.close()
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*.md")} == before


def test_default_location_is_per_directory_under_the_cache(root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / "notes"
    other.mkdir(parents=True)
    first, second = index_location(store(root)), index_location(store(other))
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "papernotes"
    assert first is not None and second is not None
    assert first.parent == cache == second.parent and first != second
    open_kb(store(root))
    assert first.is_file()


def test_location_from_env_and_config(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "papernotes.toml").write_text('index = ".cache/index.db"\n', encoding="utf-8")
    assert index_location(store(root)) == root / ".cache" / "index.db"
    open_kb(store(root))
    assert (root / ".cache" / "index.db").is_file()
    monkeypatch.setenv("PAPERNOTES_INDEX", str(tmp_path / "env.sqlite"))
    assert index_location(store(root)) == tmp_path / "env.sqlite"
    monkeypatch.setenv("PAPERNOTES_INDEX", ":memory:")
    kb = open_kb(store(root))
    assert kb.index.location is None and len(kb) == 3


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b"this is not a database" * 100), id="garbage"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[: 4096 * 3]), id="truncated"),
        pytest.param(
            lambda p: p.write_bytes(p.read_bytes()[:100] + b"\xff" * 5000 + p.read_bytes()[5100:]),
            id="scribbled",
        ),
        pytest.param(  # a page the warm path does not read: found by a later read, healed there
            lambda p: p.write_bytes(
                p.read_bytes()[:8192] + b"\xff" * 4096 + p.read_bytes()[12288:]
            ),
            id="page-3",
        ),
    ],
)
def test_a_damaged_index_is_rebuilt(root: Path, damage: object) -> None:
    kb = open_kb(store(root))
    location = kb.index.location
    kb.index.close()
    assert location is not None
    sqlite3.connect(location).execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    damage(location)  # type: ignore[operator]
    kb = open_kb(store(root))
    assert [p.id for p in kb.papers()] == ["alpha", "beta", "gamma"]
    assert search(kb, "diffusion").hits[0].paper.id == "gamma"
    assert len(kb.notices) <= 1 and all("search index" in n for n in kb.notices)


def alter(index: Index, *statements: str) -> None:
    """Change the index file behind ``index`` (closed first: its reads hold a transaction)."""
    index.close()
    assert index.location is not None
    conn = sqlite3.connect(index.location)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_old_schema_parser_or_row_format_rebuilds(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = open_kb(store(root))
    alter(kb.index, "PRAGMA user_version = 99")
    kb = open_kb(store(root))
    assert kb.notices == [
        f"rebuilding the search index: its format changed (version 99, now {SCHEMA_VERSION})"
    ]
    assert len(kb) == 3
    kb.index.close()
    monkeypatch.setattr(index_module, "PARSER_VERSION", 1000)
    kb = open_kb(store(root))
    assert kb.notices == ["rebuilding the search index: the note parser changed"]
    assert kb.index.report is not None and kb.index.report.added == 3
    kb.index.close()
    monkeypatch.setattr(index_module, "ROW_FORMAT", 1000)
    kb = open_kb(store(root))
    assert kb.notices == ["rebuilding the search index: the rows of list changed"]
    assert kb.index.report is not None and kb.index.report.added == 3


def test_an_unwritable_cache_falls_back_to_memory(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("PAPERNOTES_INDEX", str(blocker / "index.sqlite"))
    kb = open_kb(store(root))
    assert kb.index.location is None and len(kb) == 3
    assert kb.notices == [
        f"cannot write the search index {blocker / 'index.sqlite'} (File exists: {blocker}); "
        "working from memory (set PAPERNOTES_INDEX to a writable file to keep one)"
    ]


def test_a_foreign_sqlite_file_is_replaced(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE files(x)")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(a)")
    conn.commit()
    conn.close()
    monkeypatch.setenv("PAPERNOTES_INDEX", str(foreign))
    assert ids(root, "attention") == ["alpha"]


def test_status_counts_and_pending(root: Path) -> None:
    write(root, "broken.md", "---\ntitle: [\n---\n")
    index = load(store(root))
    status = index.status()
    assert (status.notes, status.skipped, status.pending) == (3, 1, 0)
    assert status.size > 0 and status.location == str(index.location)
    write(root, "new.md", note("New"))
    (root / "alpha.md").unlink()
    assert index.status().pending == 2


def test_two_processes_at_once(root: Path, tmp_path: Path) -> None:
    """Several processes build and search the same new index at once: none fails, the index
    ends consistent with the files."""
    for i in range(150):
        write(root, f"bulk/n{i:03d}.md", note(f"Bulk {i}", f"shared words number{i}"))
    script = (
        "import sys\n"
        "from papernotes.disk.store import open_store\n"
        "from papernotes.engine.kb import open_kb\n"
        "from papernotes.engine.search import search\n"
        "kb = open_kb(open_store(sys.argv[1]))\n"
        "hits = search(kb, 'shared words', limit=500).hits\n"
        "print(len(kb), len(hits))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert out == "153 150\n"
        assert err == ""
    kb = open_kb(store(root))
    assert kb.index.report is not None and kb.index.report.changed == 0
    assert len(kb) == 153


def test_a_search_while_another_process_writes(root: Path) -> None:
    kb = open_kb(store(root))
    writer = Index.open(store(root))
    writer.conn.execute("BEGIN IMMEDIATE")
    writer.conn.execute("DELETE FROM papers")  # uncommitted: readers still see the old state
    try:
        assert search(kb, "attention").hits[0].paper.id == "alpha"
    finally:
        writer.conn.execute("ROLLBACK")
        writer.close()


def test_a_warm_refresh_trusts_the_remembered_snapshot_only_when_alone(root: Path) -> None:
    """The digest of the notes is remembered after a refresh, unless another process wrote to
    the index meanwhile (then its files table may not match the digest)."""
    from papernotes.engine import indexing

    first = load(store(root))
    first.close()
    first = Index.open(store(root))  # not reading: free to write
    assert indexing._remembered(first.conn) == indexing.digest(snapshot(root))
    session = indexing._Session(first.conn, indexing._generation(first.conn), first.store.root)
    with session.write():
        pass
    other = Index.open(store(root))
    with indexing._Session(other.conn, indexing._generation(other.conn), root).write():
        pass  # another process writes between two transactions of ours
    session.remember("stale")
    assert indexing._remembered(first.conn) is None
    assert load(store(root)).report == indexing.RefreshReport()  # read the files: no change
    assert indexing._remembered(first.conn) == indexing.digest(snapshot(root))


def test_any_write_forgets_the_remembered_digest(root: Path) -> None:
    """A process that writes after another remembered its digest (say, a note parsed from an
    older stat) makes the next refresh read the files table again."""
    from papernotes.engine import indexing

    load(store(root)).close()
    index = Index.open(store(root))
    assert indexing._remembered(index.conn) is not None
    with indexing._Session(index.conn, indexing._generation(index.conn), root).write():
        index.conn.execute("UPDATE files SET size = -1 WHERE path = 'alpha.md'")
    assert indexing._remembered(index.conn) is None
    report = load(store(root)).report
    assert report is not None and report.updated == 1


def test_progress_is_reported_per_batch(tmp_path: Path) -> None:
    from papernotes.engine.indexing import BATCH

    root = tmp_path / "notes"
    for i in range(BATCH + 10):
        write(root, f"n{i:04d}.md", note(f"Note {i}"))
    aged()
    calls: list[tuple[int, int]] = []
    load(store(root), lambda done, total: calls.append((done, total)))
    assert calls == [(0, BATCH + 10), (BATCH, BATCH + 10), (BATCH + 10, BATCH + 10)]
    calls.clear()
    load(store(root), lambda done, total: calls.append((done, total)))
    assert calls == []


def test_the_progress_bar_is_drawn_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from papernotes.render import index as render_index

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    update, finish = render_index.progress_bar()
    update(0, 10_000)  # stderr is not a terminal here: nothing drawn, nothing raised
    update(10_000, 10_000)
    finish()
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    update, finish = render_index.progress_bar()
    update(0, 10)  # a small job: no bar
    finish()
    assert terminal.getvalue() == ""
    update, finish = render_index.progress_bar()
    update(0, 10_000)
    update(5_000, 10_000)
    finish()
    assert "Indexing notes" in terminal.getvalue()


@pytest.mark.parametrize(
    "statement",
    ["DROP TABLE papers", "DROP TABLE fts", "DROP INDEX keys_value", "ALTER TABLE files ADD x"],
)
def test_an_index_whose_tables_were_changed_is_rebuilt(root: Path, statement: str) -> None:
    kb = open_kb(store(root))
    alter(kb.index, statement)
    kb = open_kb(store(root))
    assert kb.notices == ["rebuilding the search index: its tables are not the expected ones"]
    assert ids_matching(kb, "diffusion") == ["gamma"] and len(kb) == 3


def test_a_read_that_finds_the_index_damaged_rebuilds_it_and_reads_again(root: Path) -> None:
    kb = open_kb(store(root))

    class Damaged:
        def execute(self, *args: object) -> None:
            raise sqlite3.DatabaseError("database disk image is malformed")

        def close(self) -> None:
            pass

    kb.index.conn = Damaged()  # type: ignore[assignment]
    assert kb.skipped == 0 and [p.id for p in kb.papers()] == ["alpha", "beta", "gamma"]
    assert kb.notices == [
        "the search index was damaged (database disk image is malformed); rebuilding it"
    ]
    assert search(kb, "diffusion").hits[0].paper.id == "gamma"
