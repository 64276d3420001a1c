"""The index is disposable and self-healing (issue 8): killed mid-rebuild, truncated, filled with
garbage, from an older schema, deleted while a search runs, on a cache that cannot be written,
written by several processes at once: the next command still answers correctly, through the
CLI, with at most one line about it on stderr."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kbfactory import run
from papernotes.disk.store import open_store
from papernotes.engine.index import SCHEMA_VERSION, index_location
from papernotes.engine.indexing import PARALLEL_MIN
from papernotes.engine.kb import open_kb
from papernotes.engine.search import search

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL, POSIX unlink")


def make_notes(root: Path, count: int) -> Path:
    """``count`` small notes ``n0000.md``..., each with a word of its own (``unique<i>``)."""
    notes = root / "notes"
    notes.mkdir()
    for i in range(count):
        (notes / f"n{i:04d}.md").write_text(
            f"---\ntitle: Paper {i} about topic{i % 10}\ntags: [t{i % 7}]\n---\n"
            f"unique{i} shared words of every note\n",
            encoding="utf-8",
        )
    return notes


def answers_correctly(notes: Path, count: int, *, notices: int = 1) -> str:
    """The next commands answer as if nothing happened; returns what they said on stderr
    (at most ``notices`` lines: "rebuilding the search index ...")."""
    found = run(notes, "search", f"unique{count - 1}", "--format", "ids")
    assert found.exit_code == 0, found.output
    assert found.stdout == f"n{count - 1:04d}\n"
    assert len(found.stderr.splitlines()) <= notices, found.stderr
    listed = run(notes, "list", "--format", "ids")
    assert listed.exit_code == 0
    assert listed.stderr == ("" if "working from memory" not in found.stderr else found.stderr)
    assert sorted(listed.stdout.split()) == [f"n{i:04d}" for i in range(count)]
    shared = run(notes, "search", "shared words", "--limit", str(count + 1), "--format", "ids")
    assert len(shared.stdout.split()) == count
    return found.stderr


def location(notes: Path) -> Path:
    found = index_location(open_store(notes))
    assert found is not None
    return found


# -- killed mid-build ------------------------------------------------------------------------------

# Runs papernotes and SIGKILLs it at the KILL_AT-th paper it stores in the index (json.dumps is
# called once per paper, inside the write transaction): a deterministic crash mid-transaction.
# killed as it writes the KILL_AT-th paper into the index (the writing process: the workers
# that parse notes work out the rows, and write nothing)
KILLER = """\
import os, signal, sys
from papernotes.__main__ import main
from papernotes.engine import indexing
kill_at, calls, insert = int(os.environ["KILL_AT"]), [0], indexing.insert_paper
def counting(*args, **kwargs):
    calls[0] += 1
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return insert(*args, **kwargs)
indexing.insert_paper = counting
sys.argv = ["papernotes", *sys.argv[1:]]
main()
"""
NOTES = 1200  # three write transactions of 500


@pytest.mark.parametrize(
    ("command", "kill_at"),
    [
        (("index", "--rebuild"), 1),  # the first paper of the first batch
        (("index", "--rebuild"), 260),  # in the middle of the first batch
        (("index", "--rebuild"), 777),  # after a batch was committed
        (("search", "unique5"), 1100),  # the first build, run by a search
    ],
    ids=["rebuild-first-paper", "rebuild-mid-batch", "rebuild-second-batch", "cold-search"],
)
def test_killed_mid_build(tmp_path: Path, command: tuple[str, ...], kill_at: int) -> None:
    notes = make_notes(tmp_path, NOTES)
    if command[0] == "index":
        assert run(notes, "index").exit_code == 0
    env = {**os.environ, "KILL_AT": str(kill_at)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, "--notes-dir", str(notes), *command],
        env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    answers_correctly(notes, NOTES, notices=0)


def _marked(mark: str) -> list[int]:
    """Processes whose environment holds ``mark`` (Linux: from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_killed_mid_parallel_build_leaves_no_worker_behind(tmp_path: Path) -> None:
    """From PARALLEL_MIN notes on, worker processes parse; when the process that started them
    is killed they exit too (they once waited forever, holding its stdout open)."""
    count = PARALLEL_MIN + 200
    notes = make_notes(tmp_path, count)
    mark = f"papernotes-test-{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "KILL_AT": "900", "PAPERNOTES_TEST_MARK": mark}
    try:
        killed = subprocess.run(
            [sys.executable, "-c", KILLER, "--notes-dir", str(notes), "index"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
        )  # fmt: skip
        assert killed.returncode == -signal.SIGKILL
        deadline = time.monotonic() + 15
        while _marked(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _marked(mark) == []
    finally:
        for pid in _marked(mark):  # the test's own processes, if a worker was left behind
            os.kill(pid, signal.SIGKILL)
    answers_correctly(notes, count, notices=0)


# -- damaged files ---------------------------------------------------------------------------------


def _sql(*statements: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        conn = sqlite3.connect(path)
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()

    return apply


def _replace_with_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "garbage": lambda p: p.write_bytes(os.urandom(p.stat().st_size)),
    "truncated-half": lambda p: os.truncate(p, p.stat().st_size // 2),
    "truncated-to-header": lambda p: os.truncate(p, 100),
    "empty-file": lambda p: os.truncate(p, 0),
    "garbage-page": lambda p: p.write_bytes(
        p.read_bytes()[:8192] + os.urandom(4096) + p.read_bytes()[12288:]
    ),
    "garbage-wal": lambda p: Path(f"{p}-wal").write_bytes(os.urandom(50_000)),
    "garbage-shm": lambda p: Path(f"{p}-shm").write_bytes(os.urandom(32_768)),
    "older-schema": _sql(
        "DROP TABLE keys", "CREATE TABLE keys(kind, value)", "PRAGMA user_version = 1"
    ),
    "newer-schema": _sql(f"PRAGMA user_version = {SCHEMA_VERSION + 1}"),
    "other-parser": _sql("UPDATE meta SET value = '0' WHERE key = 'parser'"),
    "other-notes-directory": _sql("UPDATE meta SET value = '/elsewhere' WHERE key = 'root'"),
    "table-dropped": _sql("DROP TABLE papers"),
    "fts-dropped": _sql("DROP TABLE fts"),
    "not-an-index": _sql(
        "DROP TABLE meta", "DROP TABLE files", "CREATE TABLE files(x)", "PRAGMA user_version = 0"
    ),
    "a-directory": _replace_with_directory,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_index_answers_correctly(tmp_path: Path, damage: str) -> None:
    notes = make_notes(tmp_path, 300)
    assert run(notes, "index").exit_code == 0
    path = location(notes)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    DAMAGE[damage](path)
    said = answers_correctly(notes, 300)
    if damage == "a-directory":  # cannot be replaced: works from memory, and says so
        assert said.startswith(f"cannot write the search index {path}")
        assert said.endswith(
            "working from memory (set PAPERNOTES_INDEX to a writable file to keep one)\n"
        )


# -- deleted while it is used ----------------------------------------------------------------------


def test_deleted_between_the_refresh_and_the_search(tmp_path: Path) -> None:
    notes = make_notes(tmp_path, 50)
    kb = open_kb(open_store(notes))
    shutil.rmtree(location(notes).parent)  # rm -rf ~/.cache/papernotes
    assert [h.paper.id for h in search(kb, "unique7").hits] == ["n0007"]
    kb.index.close()
    answers_correctly(notes, 50, notices=0)


def test_deleted_again_and_again_while_searches_run(tmp_path: Path) -> None:
    notes = make_notes(tmp_path, 1500)
    cache = location(notes).parent
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "papernotes",
                "--notes-dir",
                str(notes),
                "search",
                f"unique{i * 100}",
                "--format",
                "ids",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    deletions = 0
    while any(p.poll() is None for p in procs):
        if cache.exists():
            shutil.rmtree(cache, ignore_errors=True)
            deletions += 1
        time.sleep(0.01)
    for i, proc in enumerate(procs):
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        assert out == f"n{i * 100:04d}\n"
        assert "Traceback" not in err
    assert deletions >= 1
    answers_correctly(notes, 1500)


# -- an index location that holds something else ----------------------------------------------


def _foreign_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places(url TEXT)")
    conn.execute("INSERT INTO moz_places VALUES ('https://example.org')")
    conn.execute("PRAGMA user_version = 74")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("how", ["environment", "papernotes.toml"])
@pytest.mark.parametrize("what", ["a text file", "a note", "another program's database"])
def test_a_chosen_location_holding_something_else_is_never_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, what: str
) -> None:
    """A mistyped $PAPERNOTES_INDEX, or ``index = ...`` in the papernotes.toml of someone
    else's notes, once made papernotes delete that file or drop the tables of that database."""
    notes = make_notes(tmp_path, 20)
    # papernotes.toml may only name a place inside the notes (or the cache): test_hostile_input
    base = notes if how == "papernotes.toml" else tmp_path
    if what == "a note":
        target = notes / "n0003.md"
    elif what == "a text file":
        target = base / "precious.txt"
        target.write_text("years of work\n", encoding="utf-8")
    else:
        target = base / "places.sqlite"
        _foreign_database(target)
    if how == "environment":
        monkeypatch.setenv("PAPERNOTES_INDEX", str(target))
        shown = target
    else:
        relative = os.path.relpath(target, notes)  # like "../precious.txt"
        (notes / "papernotes.toml").write_text(f"index = {relative!r}\n", encoding="utf-8")
        shown = notes / relative
    before = sorted(p.name for p in target.parent.iterdir())
    content = target.read_bytes()
    said = answers_correctly(notes, 20)
    assert said == (
        f"{shown} is not a papernotes search index (or is damaged): left untouched; working "
        "from memory (delete it, or set PAPERNOTES_INDEX or index in papernotes.toml to a new "
        "file)\n"
    )
    assert target.read_bytes() == content
    assert sorted(p.name for p in target.parent.iterdir()) == before  # no -wal, -shm, .lock


def test_a_chosen_location_keeps_working_as_an_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = make_notes(tmp_path, 20)
    monkeypatch.setenv("PAPERNOTES_INDEX", str(tmp_path / "mine.sqlite"))
    answers_correctly(notes, 20, notices=0)
    (notes / "n0020.md").write_text(
        "---\ntitle: New\n---\nunique20 shared words\n", encoding="utf-8"
    )
    assert answers_correctly(notes, 21, notices=0) == ""  # the same file, refreshed


# -- a cache that cannot be written ----------------------------------------------------------------


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.mark.skipif(_as_root(), reason="root writes into read-only directories")
@pytest.mark.parametrize("what", ["directory", "file"])
def test_a_read_only_cache(tmp_path: Path, what: str) -> None:
    notes = make_notes(tmp_path, 100)
    assert run(notes, "index").exit_code == 0
    path = location(notes)
    (notes / "n0100.md").write_text("---\ntitle: A new one\n---\nunique100\n", encoding="utf-8")
    target = path.parent if what == "directory" else path
    mode = target.stat().st_mode
    target.chmod(0o555 if what == "directory" else 0o444)
    try:
        said = answers_correctly(notes, 101)
    finally:
        target.chmod(mode)
    assert said == "" or "working from memory" in said


def test_a_read_only_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where nothing can be created (here /sys, even for root): from memory, and it says so."""
    place = Path("/sys/papernotes-test/index.sqlite")
    if not Path("/sys").is_dir() or (os.access("/sys", os.W_OK) and not _as_root()):
        pytest.skip("no read-only place to point the index at")
    notes = make_notes(tmp_path, 100)
    monkeypatch.setenv("PAPERNOTES_INDEX", str(place))
    said = answers_correctly(notes, 100)
    assert said.startswith(f"cannot write the search index {place} (")
    assert said.endswith(
        "working from memory (set PAPERNOTES_INDEX to a writable file to keep one)\n"
    )
    status = run(notes, "index", "--status")
    assert status.exit_code == 0 and "memory" in status.output


# Runs papernotes with its files limited to 300 kB: the index outgrows the limit mid-build,
# like a disk that fills up (SIGXFSZ ignored, so the write fails with EFBIG instead).
DISK_FULL = """\
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
from papernotes.__main__ import main
sys.argv = ["papernotes", *sys.argv[1:]]
main()
"""


def test_disk_full_mid_build(tmp_path: Path) -> None:
    notes = make_notes(tmp_path, 1500)
    full = subprocess.run(
        [sys.executable, "-c", DISK_FULL, "--notes-dir", str(notes), "search", "unique1499"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert full.returncode == 0, full.stderr
    assert full.stdout.startswith(" 1. Paper 1499 about topic9")
    assert full.stderr.startswith(f"cannot write the search index {location(notes)} (")
    assert full.stderr.endswith(
        "working from memory (set PAPERNOTES_INDEX to a writable file to keep one)\n"
    )
    answers_correctly(notes, 1500)  # with room again: the file is rebuilt


# -- several writers at once -----------------------------------------------------------------------


def test_rebuilds_refreshes_and_searches_at_once(tmp_path: Path) -> None:
    notes = make_notes(tmp_path, 1200)
    commands = [
        ("index", "--rebuild"), ("index", "--rebuild"), ("index",),
        ("search", "unique3", "--format", "ids"), ("search", "unique1100", "--format", "ids"),
    ]  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = [(p, *p.communicate(timeout=300)) for p in procs]
    for proc, _, err in results:
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    assert [out for _, out, _ in results[3:]] == ["n0003\n", "n1100\n"]
    answers_correctly(notes, 1200, notices=0)
