"""The index heals from any damage and serves one folder only (issue 12): byte-level damage to
its schema text, pages, records and vocabulary; two notes folders sharing one index path; a
rebuild running beside searches; a note replaced by another of the same size and mtime."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kbfactory import run
from papernotes.disk import freshness
from papernotes.disk.store import open_store
from papernotes.engine import indexing
from papernotes.engine.index import Index, load
from papernotes.engine.kb import open_kb
from papernotes.engine.search import ids_matching, search
from test_reliability_index import answers_correctly, location, make_notes

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and inodes")

COUNT = 300
LAST = f"n{COUNT - 1:04d}"  # the note answers_correctly looks for

Damage = Callable[[Path], None]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """300 notes and the bytes of their index, built once for the module."""
    base = tmp_path_factory.mktemp("healing")
    notes = make_notes(base, COUNT)
    time.sleep(2 * indexing.RACY_NS / 1e9)  # else the last notes are read again, mending damage
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PAPERNOTES_INDEX", str(base / "pristine.sqlite"))
        load(open_store(notes)).close()
    conn = sqlite3.connect(base / "pristine.sqlite")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return notes, (base / "pristine.sqlite").read_bytes()


def _install(built: tuple[Path, bytes]) -> tuple[Path, Path]:
    """A copy of the pristine index where this test's commands look for it."""
    notes, data = built
    path = location(notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return notes, path


# -- byte-level damage -------------------------------------------------------------------------


def _sql(*statements: str, schema: bool = False) -> Damage:
    def apply(path: Path) -> None:
        conn = sqlite3.connect(path)
        if schema:
            conn.execute("PRAGMA writable_schema = ON")
        for statement in statements:
            assert conn.execute(statement).rowcount != 0, statement
        conn.commit()
        conn.close()

    return apply


def _schema(name: str, old: str, new: str) -> Damage:
    """Edit the SQL that SQLite keeps for ``name`` (``new`` may hold invalid UTF-8: X'..')."""
    replacement = new if new.startswith("CAST(") else f"'{new}'"
    return _sql(
        f"UPDATE sqlite_master SET sql = replace(sql, '{old}', {replacement}) "
        f"WHERE name = '{name}' AND instr(sql, '{old}') > 0",
        schema=True,
    )


def _of_last(statement: str) -> Damage:
    """An UPDATE of the note every check looks for (``{rowid}`` is its rowid)."""
    return _sql(statement.replace("{rowid}", f"(SELECT rowid FROM papers WHERE id = '{LAST}')"))


def _data(old: str, new: str) -> Damage:
    """One change in the JSON record of that note, as a flipped bit would make."""
    return _of_last(
        f"UPDATE records SET data = replace(data, '{old}', '{new}') WHERE rowid = {{rowid}}"
    )


def _blocks(seed: int) -> Damage:
    """Random bytes over part of the FTS5 index blocks (its vocabulary and doclists)."""

    def apply(path: Path) -> None:
        rng = random.Random(seed)
        conn = sqlite3.connect(path)
        rows = conn.execute("SELECT id, block FROM fts_data WHERE length(block) > 100").fetchall()
        for block_id, block in rng.sample(rows, min(3, len(rows))):
            start = rng.randrange(len(block) - 40)
            scribbled = block[:start] + rng.randbytes(40) + block[start + 40 :]
            conn.execute("UPDATE fts_data SET block = ? WHERE id = ?", (scribbled, block_id))
        conn.commit()
        conn.close()

    return apply


BAD_UTF8 = "CAST(X'FF' AS TEXT)"
NAMED_DAMAGE: dict[str, Damage] = {
    # one changed byte in the schema text (PRAGMA writable_schema)
    "schema-fts-tokenizer": _schema("fts", "unicode61", "unicode62"),
    "schema-fts-option": _schema("fts", "remove_diacritics 2", "remove_diacritics 7"),
    "schema-fts-column": _schema("fts", "abstract", "abstracu"),
    "schema-fts-keyword": _schema("fts", "VIRTUAL", "VIRTUAM"),
    "schema-fts-module": _schema("fts", "fts5(", "fts4("),
    "schema-vocab": _schema("fts_vocab", "row", "col"),
    "schema-vocab-table": _schema("fts_vocab", "(fts,", "(ftt,"),
    "schema-papers-column": _schema("papers", "title TEXT", "titlf TEXT"),
    "schema-index-column": _schema("keys_value", "kind, value", "kind, valuf"),
    "schema-invalid-utf8": _schema("fts", "tokenize", "CAST(X'746F6BE56E697A65' AS TEXT)"),
    "schema-rootpage": _sql(
        "UPDATE sqlite_master SET rootpage = 2 WHERE name = 'papers'", schema=True
    ),
    # invalid UTF-8 inside a stored note
    "body-invalid-utf8": _of_last(
        f"UPDATE records SET body = {BAD_UTF8} || body WHERE rowid = {{rowid}}"
    ),
    "title-invalid-utf8": _of_last(
        f"UPDATE papers SET title = title || {BAD_UTF8} WHERE rowid = {{rowid}}"
    ),
    "record-invalid-utf8": _of_last(
        f"UPDATE records SET data = {BAD_UTF8} || data WHERE rowid = {{rowid}}"
    ),
    "key-invalid-utf8": _sql(f"UPDATE keys SET value = value || {BAD_UTF8} WHERE kind = 'file'"),
    "path-invalid-utf8": _sql(
        f"UPDATE files SET path = path || {BAD_UTF8} WHERE path = 'n0007.md'"
    ),
    "meta-invalid-utf8": _sql(f"UPDATE meta SET value = value || {BAD_UTF8} WHERE key = 'root'"),
    # a flipped bit in a stored record: the JSON is not trusted
    "record-key-flipped": _data('"title"', '"tiTle"'),
    "record-bracket-flipped": _data('"tags": [', '"tags": {'),
    "record-quote-flipped": _data('"id": "', '"id": \x02'),
    "record-null-flipped": _data('"year": null', '"year": nulL'),
    "record-type-changed": _data('"year": null', '"year": "null"'),
    "record-list-changed": _data('"tags": ["t5"]', '"tags": [5]'),
    "record-not-an-object": _of_last("UPDATE records SET data = '[]' WHERE rowid = {rowid}"),
    "record-an-integer": _of_last("UPDATE records SET data = 7 WHERE rowid = {rowid}"),
    "record-key-lines": _data('"key_lines": {', '"key_lines": ['),
    "column-type-changed": _of_last("UPDATE papers SET id = 4242 WHERE rowid = {rowid}"),
    "year-not-a-number": _of_last("UPDATE papers SET year = 'x' WHERE rowid = {rowid}"),
    "tag-invalid-utf8": _sql(f"UPDATE tags SET value = value || {BAD_UTF8} WHERE folded = 't5'"),
    "count-invalid-utf8": _sql(
        f"UPDATE counts SET shown = shown || {BAD_UTF8} WHERE field = 'tags' AND folded = 't5'"
    ),
    "count-cell-a-blob": _sql("UPDATE counts SET cell = X'35' WHERE field = 'tags'"),
    "runs-lines-invalid-utf8": _sql(
        f"UPDATE runs SET lines = lines || {BAD_UTF8} WHERE field = 'tags'"
    ),
    "runs-lines-a-blob": _sql("UPDATE runs SET lines = X'35' WHERE field = 'tags'"),
    "runs-notes-not-a-number": _sql(
        "UPDATE runs SET notes = 'x' WHERE field = 'tags' AND notes = "
        "(SELECT max(notes) FROM runs WHERE field = 'tags')"
    ),
    "line-invalid-utf8": _of_last(
        f"UPDATE papers SET line = line || {BAD_UTF8} WHERE rowid = {{rowid}}"
    ),
    "line-a-blob": _of_last("UPDATE papers SET line = X'37' WHERE rowid = {rowid}"),
    "line-a-number": _of_last("UPDATE papers SET line = 7 WHERE rowid = {rowid}"),
    "key-paper-not-a-number": _sql("UPDATE keys SET paper = 'x' WHERE kind = 'file'"),
    # the shelf that list --tag t5 reads
    "shelf-line-invalid-utf8": _sql(
        f"UPDATE shelves SET line = line || {BAD_UTF8} WHERE field = 'tags' AND folded = 't5'"
    ),
    "shelf-line-a-blob": _sql("UPDATE shelves SET line = X'37' WHERE folded = 't5'"),
    "shelf-paper-not-a-number": _sql("UPDATE shelves SET paper = 'x' WHERE folded = 't5'"),
    "file-size-not-a-number": _sql("UPDATE files SET size = 'x' WHERE path = 'n0007.md'"),
    "generation-not-a-number": _sql("UPDATE meta SET value = 'x' WHERE key = 'generation'"),
    "note-count-not-a-number": _sql("UPDATE meta SET value = '7x' WHERE key = 'notes'"),
    "note-count-missing": _sql("DELETE FROM meta WHERE key = 'notes'"),
    "summary-notes-not-a-number": _sql("UPDATE summary SET notes = 'x'"),
    "summary-key-not-a-group": _sql("UPDATE summary SET key = '[1]'"),
    "summary-key-not-json": _sql("UPDATE summary SET key = 'x'"),
    "value-count-not-a-number": _sql("UPDATE meta SET value = '7x' WHERE key = 'tags values'"),
    "value-count-missing": _sql("DELETE FROM meta WHERE key = 'authors values'"),
    # the FTS5 tables behind the vocabulary
    "fts-blocks-scribbled": _blocks(1),
    "fts-blocks-scribbled-2": _blocks(2),
    "fts-version": _sql("UPDATE fts_config SET v = 5 WHERE k = 'version'"),
    "fts-content-row-missing": _of_last("DELETE FROM fts_content WHERE id = {rowid}"),
    "fts-docsize-row-missing": _of_last("DELETE FROM fts_docsize WHERE id = {rowid}"),
}
# damage no query can reveal (the words of a note whose record is gone find nothing): it stays
# until the next rebuild, without failing anything meanwhile
SILENT_DAMAGE: dict[str, Damage] = {
    "paper-row-missing": _of_last("DELETE FROM papers WHERE rowid = {rowid}"),
    "keys-row-missing": _sql("DELETE FROM keys WHERE kind = 'file' AND value = 'n0005'"),
}


def _page_damage(seed: int) -> Damage:
    """Random bytes or flipped bits in one page, anywhere after the first."""

    def apply(path: Path) -> None:
        rng = random.Random(seed)
        data = bytearray(path.read_bytes())
        page = rng.randrange(1, len(data) // 4096)
        if seed % 2:
            for _ in range(8):
                data[page * 4096 + rng.randrange(4096)] ^= 1 << rng.randrange(8)
        else:
            start = page * 4096 + rng.randrange(4000)
            data[start : start + 64] = rng.randbytes(64)
        path.write_bytes(bytes(data))

    return apply


PAGE_SEEDS = range(12)

# Every command that reads the index: none may fail with anything but a message.
COMMANDS = [
    ("search", "unique299", "--format", "ids"),
    ("search", "shared words", "--limit", "5"),
    ("search", "unique299", "--explain"),
    ("search", "zzyzx"),  # nothing matches: titles are compared for "did you mean"
    ("search", "uniqeu299"),  # a typo: the vocabulary is read
    ("list", "--format", "json"),
    ("list", "--tag", "t5"),
    ("list", "--tag", "t5", "--format", "ids"),
    ("show", LAST),
    ("related", LAST),
    ("tags",),
    ("authors",),
    ("tags", "--sort", "name"),
    ("list",),
    ("stats",),
    ("check",),
    ("index", "--status"),
    ("index",),
]


def _commands_never_crash(notes: Path) -> None:
    for command in COMMANDS:
        result = run(notes, *command)  # a traceback fails the test (catch_exceptions=False)
        assert result.exit_code in (0, 1), (command, result.output)
        assert "Traceback" not in result.output
        assert len(result.stderr.splitlines()) <= 2, (command, result.stderr)


@pytest.mark.parametrize("first", ["search", "rebuild"])
@pytest.mark.parametrize("damage", list(NAMED_DAMAGE))
def test_named_damage_heals(built: tuple[Path, bytes], damage: str, first: str) -> None:
    """The next command notices and rebuilds (one line on stderr), or `index --rebuild` run
    first just works: either way every command then answers correctly."""
    notes, path = _install(built)
    NAMED_DAMAGE[damage](path)
    if first == "rebuild":
        rebuilt = run(notes, "index", "--rebuild")
        assert rebuilt.exit_code == 0, rebuilt.output
        assert rebuilt.stdout.startswith(f"{COUNT} added")
        answers_correctly(notes, COUNT, notices=0)
    else:
        said = answers_correctly(notes, COUNT)
        assert said == "" or "rebuilding" in said, said
    _commands_never_crash(notes)
    answers_correctly(notes, COUNT, notices=0)


@pytest.mark.parametrize("damage", [*NAMED_DAMAGE, *SILENT_DAMAGE])
def test_named_damage_never_crashes_any_command(built: tuple[Path, bytes], damage: str) -> None:
    notes, path = _install(built)
    {**NAMED_DAMAGE, **SILENT_DAMAGE}[damage](path)
    _commands_never_crash(notes)
    if damage in SILENT_DAMAGE:
        assert run(notes, "index", "--rebuild").exit_code == 0
    answers_correctly(notes, COUNT, notices=0)


@pytest.mark.parametrize("seed", PAGE_SEEDS)
def test_random_page_damage(built: tuple[Path, bytes], seed: int) -> None:
    """Damage that no query reveals may go unseen; any other is healed. Either way no command
    fails with anything but a message, and `index --rebuild` run first always works."""
    notes, path = _install(built)
    _page_damage(seed)(path)
    _commands_never_crash(notes)
    notes, path = _install(built)
    _page_damage(seed)(path)
    rebuilt = run(notes, "index", "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    answers_correctly(notes, COUNT, notices=0)


def test_a_damage_notice_is_one_short_printable_line(built: tuple[Path, bytes]) -> None:
    """An error that quotes the damaged text (a whole note body, control characters) is cut
    to its first words on one line."""
    notes, path = _install(built)
    _of_last(
        "UPDATE records SET body = CAST(X'FF1B5D303B0A0A' AS TEXT) || body WHERE rowid = {rowid}"
    )(path)
    found = run(notes, "search", "unique299", "--format", "ids")
    assert (found.exit_code, found.stdout) == (0, f"{LAST}\n")
    assert found.stderr.count("\n") == 1 and "\x1b" not in found.stderr
    assert found.stderr.startswith("the search index was damaged (")
    assert len(found.stderr) < 200


def test_a_stored_record_is_validated(built: tuple[Path, bytes]) -> None:
    notes, path = _install(built)
    _data('"tags": ["t5"]', '"tags": "t5"')(path)  # a string where a list belongs
    kb = open_kb(open_store(notes))
    paper = kb.get(LAST)
    assert paper is not None and paper.tags == ("t5",)
    assert kb.notices == [
        "the search index was damaged (a stored record does not decode into a paper); rebuilding it"
    ]


# -- one folder only -------------------------------------------------------------------------------


def _folder(base: Path, name: str, word: str, count: int = 40) -> Path:
    """A notes folder whose notes all hold ``word`` and ``common``; ids ``<name>-<i>``."""
    notes = base / name
    notes.mkdir()
    for i in range(count):
        (notes / f"{name}-{i:03d}.md").write_text(
            f"---\ntitle: {name} paper {i}\n---\n{word} common words {name}{i}\n",
            encoding="utf-8",
        )
    return notes


def test_a_refresh_never_writes_into_an_index_another_folder_took_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERNOTES_INDEX", str(tmp_path / "shared.sqlite"))
    first = _folder(tmp_path, "aaa", "applesauce")
    second = _folder(tmp_path, "bbb", "bananabread")
    kb = open_kb(open_store(first))
    (first / "aaa-new.md").write_text("---\ntitle: New\n---\napplesauce common\n", "utf-8")
    other = open_kb(open_store(second))  # takes the index over meanwhile
    assert other.notices == [
        f"rebuilding the search index: it was built for another notes directory ({first})"
    ]
    kb.index.refresh()  # the first process goes on: it must not write into the other's
    assert ids_matching(other, "common") == [f"bbb-{i:03d}" for i in range(40)]
    assert ids_matching(kb, "common") == [f"aaa-{i:03d}" for i in range(40)] + ["aaa-new"]
    assert kb.notices == [
        f"rebuilding the search index: it was built for another notes directory ({second})"
    ]


def test_a_reader_never_answers_from_an_index_another_folder_took_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERNOTES_INDEX", str(tmp_path / "shared.sqlite"))
    first = _folder(tmp_path, "aaa", "applesauce")
    second = _folder(tmp_path, "bbb", "bananabread")
    kb = open_kb(open_store(first))
    open_kb(open_store(second)).index.close()  # between the refresh and the search
    assert ids_matching(kb, "common")[:2] == ["aaa-000", "aaa-001"]
    assert [h.paper.id for h in search(kb, "applesauce aaa7").hits[:1]] == ["aaa-007"]


def test_a_folder_replaced_at_the_same_path_with_the_same_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same names, sizes and mtimes (a restore, a second checkout): not the same notes."""
    notes = _folder(tmp_path, "notes", "original")
    stamps = {p.name: p.stat().st_mtime_ns for p in notes.iterdir()}
    assert ids_matching(open_kb(open_store(notes)), "original")[:1] == ["notes-000"]
    notes.rename(tmp_path / "old")
    _folder(tmp_path, "notes", "replaced")  # "replaced" and "original" have the same length
    for name, stamp in stamps.items():
        os.utime(notes / name, ns=(stamp, stamp))
    kb = open_kb(open_store(notes))
    assert ids_matching(kb, "original") == []
    assert len(ids_matching(kb, "replaced")) == 40


def _searcher(notes: Path, word: str, rounds: int) -> subprocess.Popen[str]:
    """A process that searches ``word`` in ``notes`` ``rounds`` times; prints each answer."""
    script = (
        "import subprocess, sys\n"
        "for _ in range(int(sys.argv[3])):\n"
        "    done = subprocess.run([sys.executable, '-m', 'papernotes', '--notes-dir',\n"
        "        sys.argv[1], 'search', sys.argv[2], '--limit', '500', '--format', 'ids'],\n"
        "        capture_output=True, text=True)\n"
        "    print(done.returncode, ' '.join(sorted(done.stdout.split())), flush=True)\n"
        "    print(done.stderr.replace('\\n', ' | '), file=sys.stderr, flush=True)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script, str(notes), word, str(rounds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_folders_sharing_one_index_path_never_answer_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One PAPERNOTES_INDEX in a shell profile, two notes folders searched at once."""
    monkeypatch.setenv("PAPERNOTES_INDEX", str(tmp_path / "shared.sqlite"))
    folders = {
        "aaa": _folder(tmp_path, "aaa", "applesauce", 150),
        "bbb": _folder(tmp_path, "bbb", "bananabread", 150),
    }
    procs = [(name, _searcher(folders[name], "common", 6)) for name in ("aaa", "bbb") * 2]
    for name, proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        expected = " ".join(f"{name}-{i:03d}" for i in range(150))
        lines = out.splitlines()
        assert len(lines) == 6
        assert all(line == f"0 {expected}" for line in lines), (out, err)
        assert "Traceback" not in err


# -- a rebuild beside searches ---------------------------------------------------------------------


def test_searches_beside_rebuilds_always_find_the_note(tmp_path: Path) -> None:
    """Rebuilds in a loop while searches run: each search sees the old index or the new one,
    whole (a rebuild used to empty the index, then fill it batch by batch)."""
    notes = make_notes(tmp_path, 1100)
    assert run(notes, "index").exit_code == 0
    rebuilder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys\n"
            "for _ in range(5):\n"
            "    subprocess.run([sys.executable, '-m', 'papernotes', '--notes-dir', sys.argv[1],\n"
            "        'index', '--rebuild'], check=True, stdout=subprocess.DEVNULL)\n",
            str(notes),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    searches = [_searcher(notes, word, 12) for word in ("unique1050", "unique3", "unique700")]
    _, rebuild_err = rebuilder.communicate(timeout=600)
    assert rebuilder.returncode == 0, rebuild_err
    for word, proc in zip(("n1050", "n0003", "n0700"), searches):
        out, err = proc.communicate(timeout=600)
        assert out.splitlines() == [f"0 {word}"] * 12, err
        assert "Traceback" not in err


def test_a_reader_sees_one_index_across_its_queries(tmp_path: Path) -> None:
    """Rowids read from one state of the index are never looked up in another (a rebuild in
    another process renumbers the notes)."""
    notes = make_notes(tmp_path, 30)
    assert run(notes, "index").exit_code == 0
    (notes / "n0000.md").unlink()  # the note with rowid 1 goes: the others keep their rowids
    kb = open_kb(open_store(notes))
    rowids = kb.index.lookup("id", "n0017")
    rebuilt = subprocess.run(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "index", "--rebuild"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [p.id for p in kb.index.papers(rowids)] == ["n0017"]
    assert [h.paper.id for h in search(kb, "unique17").hits] == ["n0017"]


def test_a_long_lived_reader_never_stalls_a_writer(tmp_path: Path) -> None:
    """A command that keeps its index open (``edit`` while the editor runs) does not make a
    large refresh in another process wait for it."""
    notes = make_notes(tmp_path, 20)
    kb = open_kb(open_store(notes))
    for i in range(20, 20 + indexing.BATCH + 10):
        (notes / f"n{i:04d}.md").write_text(f"---\ntitle: Paper {i}\n---\nunique{i}\n", "utf-8")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "index"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    assert [p.id for p in kb.papers()][:2] == ["n0000", "n0001"]
    kb.index.close()


def test_a_rebuild_replaces_the_file_in_one_step_and_keeps_its_identity(tmp_path: Path) -> None:
    notes = make_notes(tmp_path, 20)
    index = load(open_store(notes))
    before = os.stat(location(notes)).st_ino
    reader = Index.open(open_store(notes))
    index.rebuild()
    assert os.stat(location(notes)).st_ino == before  # written into, not deleted under readers
    assert reader.count() == 20 and index.count() == 20


# -- a note replaced by another of the same size and mtime ----------------------------------------


def _same_size_pair(notes: Path) -> tuple[Path, Path]:
    one = notes / "one.md"
    two = notes / "two.md"
    one.write_text("---\ntitle: First\n---\nalphabetic\n", encoding="utf-8")
    two.write_text("---\ntitle: Other\n---\nbravissimo\n", encoding="utf-8")
    assert one.stat().st_size == two.stat().st_size
    stamp = one.stat().st_mtime_ns
    os.utime(two, ns=(stamp, stamp))
    return one, two


def test_a_note_moved_over_another_of_the_same_size_and_mtime(tmp_path: Path) -> None:
    """``mv two.md one.md`` after a scripted burst of writes: the old text must go."""
    notes = tmp_path / "notes"
    notes.mkdir()
    one, two = _same_size_pair(notes)
    assert ids_matching(open_kb(open_store(notes)), "alphabetic") == ["one"]
    os.replace(two, one)
    kb = open_kb(open_store(notes))
    assert ids_matching(kb, "alphabetic") == []
    assert ids_matching(kb, "bravissimo") == ["one"]


def test_a_note_copied_over_another_of_the_same_size_and_mtime(tmp_path: Path) -> None:
    """``cp -p two.md one.md``: the same inode, size and mtime; only ctime tells."""
    notes = tmp_path / "notes"
    notes.mkdir()
    one, two = _same_size_pair(notes)
    stamp = one.stat().st_mtime_ns
    assert ids_matching(open_kb(open_store(notes)), "alphabetic") == ["one"]
    time.sleep(0.05)  # past the file system's clock tick
    one.write_bytes(two.read_bytes())
    os.utime(one, ns=(stamp, stamp))
    kb = open_kb(open_store(notes))
    assert ids_matching(kb, "bravissimo") == ["one", "two"]
    assert kb.index.status().pending == 0


def _coarse_clock(monkeypatch: pytest.MonkeyPatch, changed_ns: int) -> None:
    """Stats as a file system with coarse timestamps gives them: every change in one tick."""
    real = freshness._stat

    def coarse(root: object, rels: list[str]) -> dict[str, tuple[int, ...]]:
        return {rel: (st[0], st[1], changed_ns, 1) for rel, st in real(root, rels).items()}

    monkeypatch.setattr(freshness, "_stat", coarse)


def test_a_racily_clean_note_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A note rewritten within the timestamp granularity of the refresh that read it has the
    same stat as before: it is suspect, and read again, until it is older than a refresh."""
    notes = tmp_path / "notes"
    notes.mkdir()
    one, _ = _same_size_pair(notes)
    stamp = one.stat().st_mtime_ns
    _coarse_clock(monkeypatch, time.time_ns() + 10**9)  # in the tick of the refresh, or after
    kb = open_kb(open_store(notes))
    assert ids_matching(kb, "alphabetic") == ["one"]
    assert indexing._remembered(kb.index.conn) is None  # not trusted yet: read again next time
    one.write_text("---\ntitle: First\n---\nalphabeta!\n", encoding="utf-8")
    os.utime(one, ns=(stamp, stamp))
    kb = open_kb(open_store(notes))
    assert ids_matching(kb, "alphabeta") == ["one"]
    assert ids_matching(kb, "alphabetic") == []


def test_an_old_note_is_trusted_on_the_warm_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    _same_size_pair(notes)
    _coarse_clock(monkeypatch, time.time_ns() - 60 * 10**9)  # changed a minute ago
    kb = open_kb(open_store(notes))
    assert indexing._remembered(kb.index.conn) is not None
    report = open_kb(open_store(notes)).index.report
    assert report is not None and report.changed == 0


@pytest.mark.parametrize(
    ("command", "damage"),
    [
        (("index", "--status"), "path-invalid-utf8"),
        (("list", "--format", "json"), "record-bracket-flipped"),
        (("list",), "line-invalid-utf8"),  # on a pipe, list prints the lines the index keeps
        (("stats",), "summary-notes-not-a-number"),  # stats and tags read what writes keep
        (("tags", "--format", "json"), "count-invalid-utf8"),
        (("tags",), "runs-lines-invalid-utf8"),  # and tags on a pipe, the runs of lines
        (("tags", "--sort", "name"), "count-cell-a-blob"),
    ],
)
def test_damage_found_mid_command_is_said(
    built: tuple[Path, bytes], command: tuple[str, ...], damage: str
) -> None:
    """Found by a read after the command printed what opening the index said: still one line."""
    notes, path = _install(built)
    NAMED_DAMAGE[damage](path)
    result = run(notes, *command)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("the search index was damaged (")
    assert result.stderr.endswith("); rebuilding it\n") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("damage", ["line-invalid-utf8", "line-a-blob"])
def test_a_listing_healed_midway_prints_every_note_once(
    built: tuple[Path, bytes], damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``list`` on a pipe prints lines as it reads them, two at a time here: damage found
    after the first lines were printed heals the index, and the listing goes on from the
    line where it stopped: every note once, in order, as the undamaged index lists them."""
    from papernotes.engine import index

    notes, path = _install(built)
    pristine = run(notes, "list")
    assert pristine.exit_code == 0 and pristine.stdout.count("\n") == COUNT
    assert pristine.stdout.index(f"{LAST}\t") > 0  # the damaged line is not the first
    path.write_bytes(built[1])
    NAMED_DAMAGE[damage](path)
    monkeypatch.setattr(index, "LINES_CHUNK", 2)
    result = run(notes, "list")
    assert result.exit_code == 0, result.output
    assert result.stdout == pristine.stdout
    assert result.stderr.startswith("the search index was damaged (")
    assert result.stderr.count("\n") == 1
