"""Writing notes into the index: the incremental refresh.

The notes are stat'ed (:mod:`papernotes.disk.freshness`: size, mtime, ctime, inode) and compared
with what the index recorded: new and changed notes are parsed (in worker processes when there
are many), deleted ones dropped, in transactions of ``BATCH`` notes. A note that another
process indexed meanwhile is skipped. The digest of the snapshot a refresh ends with is
remembered, so that the common case, nothing changed, costs the stats and one digest. Of notes
sharing an id, the first in path order is indexed, whatever order they came in; the others are
recorded with a "duplicate id" problem.

A note changed within a tick of the file system's clock before its stat was taken may change
again, in the same tick, without changing its stat: it is "racily clean" (git's term). Each
file's row records when the stat was taken (``checked_ns``); a refresh reads such a note again
(counting it only if its text did change) and remembers no digest until every note is older
than the stat that recorded it. Every transaction first checks that the index still serves
this notes directory (several may share one index path): when it does not, nothing is written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papernotes.disk.freshness import scan
from papernotes.disk.store import Snapshot
from papernotes.engine.schema import IndexDamaged as IndexDamaged
from papernotes.engine.schema import (
    Pending,
    Rows,
    clean_runs,
    delete_paper,
    flush,
    insert_paper,
    rows_of,
    runs_stale,
    write_runs,
)

_WINDOWS = sys.platform == "win32"

if TYPE_CHECKING:
    from papernotes.note.parse import ParseResult

BATCH = 500  # notes parsed and written per transaction
PARALLEL_MIN = 2000  # parse in worker processes from this many notes on
# how far a file system's timestamps may lag behind time.time_ns(): a tick of the kernel's
# coarse clock (Linux: 1-10 ms); two seconds for timestamps in whole seconds (FAT, ext3, HFS+)
RACY_NS = 20_000_000
RACY_WHOLE_SECONDS_NS = 2_000_000_000

# (done, total) after each batch of a refresh that parses ``total`` notes
Progress = Callable[[int, int], None]


class ServesAnother(IndexDamaged):
    """The index now serves another notes directory (one index path, two folders)."""

    def __init__(self, root: object) -> None:
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(root))
        super().__init__(f"it was built for another notes directory ({shown})")


def root_text(root: Path) -> str:
    """How the index records the notes directory it serves: its path as text, any byte that is
    not UTF-8 escaped (``caf\\xe9``: SQLite text cannot hold it)."""
    return os.fsencode(root).decode("utf-8", "backslashreplace")


def check_root(conn: sqlite3.Connection, root: Path) -> None:
    """Raise :class:`ServesAnother` unless the index in ``conn`` serves ``root``."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
    if row is None or row[0] != root_text(root):
        raise ServesAnother(None if row is None else row[0])


@dataclass
class RefreshReport:
    """What a refresh changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    failed: int = 0  # parsed notes that have errors (not indexed)
    # note files and folders whose names are not UTF-8, seen by the scan (None: no scan)
    undecodable: list[str] | None = field(default=None, compare=False)

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed


def refresh(
    conn: sqlite3.Connection, root: Path, progress: Progress | None = None
) -> RefreshReport:
    """Bring the index in ``conn`` up to date with the notes under ``root``."""
    scanned = scan(root)
    report = RefreshReport(undecodable=scanned.undecodable)
    fingerprint = scanned.digest  # == digest(current)
    if _remembered(conn) == fingerprint:
        return report  # the warm path: nothing else is read (nor the stats unmarshalled)
    current = scanned.snapshot()
    conn.execute("BEGIN")  # the generation and the files, as of one moment
    try:
        check_root(conn, root)
        session = _Session(conn, _generation(conn), root)
        racy_rows = conn.execute(_RACY_ROWS, (RACY_WHOLE_SECONDS_NS, RACY_NS))
        suspect = {p for (p,) in racy_rows}
        gone, todo = _compare(conn, current, suspect)
    finally:
        conn.execute("COMMIT")
    writer = _Writer(conn, report, scanned.started_ns)
    writer.pending.deferred = len(todo) > BATCH  # runs: rewritten whole at the end
    total = len(todo)
    if progress is not None and total:
        progress(0, total)
    if gone:
        with session.write():
            freed: set[str] = set()
            for path in gone:
                writer.replace(path, None, None, freed)
            todo = sorted({*todo, *writer.orphans(freed, current)})
    done = 0
    while todo:
        requeued: list[str] = []
        for batch, results in _parse_batches(root, todo):
            with session.write():
                freed = set()
                for path, result in zip(batch, results):
                    writer.replace(path, current[path], result, freed)
                requeued.extend(writer.orphans(freed, current))
            done += len(batch)
            if progress is not None and done <= total:
                progress(done, total)
        todo = sorted(set(requeued))
    if writer.pending.deferred:
        with session.write():
            write_runs(conn)
    elif runs_stale(conn):  # a refresh was stopped, or a watcher left runs to write
        with session.write():
            clean_runs(conn, None)
    if not writer.racy:
        session.remember(fingerprint)
    if report.changed >= BATCH:
        checkpoint(conn)
    return report


def _compare(
    conn: sqlite3.Connection, current: Snapshot, suspect: set[str]
) -> tuple[list[str], list[str]]:
    """The indexed notes that are gone from ``current``, and the notes of ``current`` to read
    (new, changed, or ``suspect``), sorted. The files table is compared row by row as it is
    read, not copied: a copy of 75,000 stats would double the memory a refresh takes."""
    gone: list[str] = []
    todo = [p for p in suspect if p in current]
    unseen = dict.fromkeys(current)  # the notes no row names: the new ones, at the end
    rows = conn.execute("SELECT path, size, mtime_ns, ctime_ns, inode FROM files")
    for path, size, mtime_ns, ctime_ns, inode in rows:
        stat = current.get(path)
        if stat is None:
            gone.append(path)
            continue
        del unseen[path]
        if stat != (size, mtime_ns, ctime_ns, inode) and path not in suspect:
            todo.append(path)
    todo.extend(unseen)
    return gone, sorted(todo)


def racy(stat: tuple[int, int, int, int], checked_ns: int) -> bool:
    """Whether a note whose stat, taken at ``checked_ns``, was ``stat`` may have changed since
    without changing its stat (changed within the same tick of the file system's clock)."""
    changed = stat[1] if _WINDOWS else stat[2]  # Windows: st_ctime is the creation time
    lag = RACY_WHOLE_SECONDS_NS if changed % 1_000_000_000 == 0 else RACY_NS
    return changed >= checked_ns - lag


# the files that :func:`racy` says may have changed unseen (in SQL: 1 ms per 10,000 notes)
_CHANGED = "mtime_ns" if _WINDOWS else "ctime_ns"
_RACY_ROWS = (
    f"SELECT path FROM files WHERE {_CHANGED} >= checked_ns - "
    f"CASE WHEN {_CHANGED} % 1000000000 = 0 THEN ? ELSE ? END"
)


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database and truncate it, unless a reader still
    needs it (a command keeping the index open, an ``edit`` waiting for its editor): that is
    never waited for."""
    (timeout,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError:
        pass  # busy: another process is writing; its own checkpoint will do
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _remembered(conn: sqlite3.Connection) -> str | None:
    """The digest of the snapshot the index was last brought up to date with, if known."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'snapshot'").fetchone()
    return str(row[0]) if row else None


def digest(current: Snapshot) -> str:
    """A fingerprint of a snapshot (the one :func:`papernotes.disk.freshness.scan` gives)."""
    from papernotes.disk.freshness import Scan

    return Scan([current]).digest


def _generation(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row and str(row[0]).isdigit() else 0


class _Session:
    """The write transactions of one refresh. Each one forgets the remembered digest (the
    files table changes) and counts itself in the ``generation`` of the index, so that the
    refresh knows at its end whether another process wrote meanwhile: only when none did does
    the files table match this refresh's snapshot, whose digest is then remembered."""

    def __init__(self, conn: sqlite3.Connection, generation: int, root: Path) -> None:
        self.conn = conn
        self.expected = generation
        self.root = root
        self.alone = True

    @contextmanager
    def write(self) -> Iterator[None]:
        with write(self.conn):
            check_root(self.conn, self.root)
            now = _generation(self.conn)
            self.alone = self.alone and now == self.expected
            yield
            self.conn.execute("DELETE FROM meta WHERE key = 'snapshot'")
            self.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('generation', ?)", (str(now + 1),)
            )
            self.expected = now + 1

    def remember(self, fingerprint: str) -> None:
        """Remember ``fingerprint`` as the digest of the files table, if nobody else wrote."""
        with write(self.conn):
            check_root(self.conn, self.root)
            if self.alone and _generation(self.conn) == self.expected:
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('snapshot', ?)",
                    (fingerprint,),
                )


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction, taken at once (``BEGIN IMMEDIATE``: waits for other writers)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


Stat = tuple[int, int, int, int]


class _Writer:
    """The changes of one refresh, counted in ``report``; ``checked_ns``: when its stats were
    taken. ``racy``: whether a note it recorded may change unseen (see :func:`racy`)."""

    def __init__(self, conn: sqlite3.Connection, report: RefreshReport, checked_ns: int) -> None:
        self.conn = conn
        self.report = report
        self.checked_ns = checked_ns
        self.racy = False
        self.pending = Pending()  # written by orphans(), which ends every batch

    def replace(
        self,
        path: str,
        stat: Stat | None,
        parsed: Parsed | None,
        freed: set[str],
    ) -> None:
        """Record ``path`` as ``parsed`` at ``stat`` (None, None: deleted)."""
        conn = self.conn
        row = conn.execute(
            "SELECT size, mtime_ns, ctime_ns, inode, checked_ns, paper, problems, warnings "
            "FROM files WHERE path = ?",
            (path,),
        )
        old = row.fetchone()
        result = None if parsed is None else parsed.result
        if stat is not None and old is not None and tuple(old[:4]) == stat:
            if not racy(stat, old[4]):
                return  # another process indexed this very version meanwhile
            if parsed is not None and self._same(old[5], old[6], old[7], parsed):
                conn.execute(  # read again, as suspect: unchanged
                    "UPDATE files SET checked_ns = ? WHERE path = ?", (self.checked_ns, path)
                )
                self.racy = self.racy or racy(stat, self.checked_ns)
                return
        if old is not None:
            if old[5] is not None:
                freed.add(self._delete_paper(old[5]))
            conn.execute("DELETE FROM files WHERE path = ?", (path,))
        if stat is None or parsed is None or result is None:
            self.report.removed += old is not None
            return
        if old is None:
            self.report.added += 1
        else:
            self.report.updated += 1
        paper, rows = result.paper, parsed.rows
        warnings = _warnings(result)
        if paper is None or rows is None:
            problems = [[d.line, d.message] for d in result.errors]
            self.report.failed += 1
            self._file(path, stat, None, None, problems, warnings)
            return
        other = conn.execute(
            "SELECT p.rowid, p.path, r.data FROM papers p JOIN records r ON r.rowid = p.rowid "
            "WHERE p.id = ?",
            (paper.id,),
        )
        holder = other.fetchone()
        if holder is not None:
            # the first file in path order keeps a duplicated id, whatever the history
            if path > holder[1]:
                message = f"duplicate id {paper.id!r} (also in {holder[1]})"
                problems = [[paper.line_of("id"), message]]
                self._file(path, stat, None, paper.id, problems, warnings)
                return
            self._delete_paper(holder[0])
            try:
                line = int(json.loads(holder[2])["key_lines"].get("id", 1))
            except (ValueError, TypeError, KeyError, AttributeError):
                raise IndexDamaged("a stored record does not decode into a paper") from None
            message = f"duplicate id {paper.id!r} (also in {path})"
            conn.execute(
                "UPDATE files SET paper = NULL, dup_of = ?, problems = ? WHERE path = ?",
                (paper.id, json.dumps([[line, message]]), holder[1]),
            )
        self._file(path, stat, insert_paper(self.conn, rows, self.pending), None, None, warnings)

    def _file(
        self,
        path: str,
        stat: Stat,
        paper: int | None,
        dup_of: str | None,
        problems: list[list[Any]] | None,
        warnings: list[list[Any]],
    ) -> None:
        self.conn.execute(
            "INSERT INTO files(path, size, mtime_ns, ctime_ns, inode, checked_ns, paper, "
            "dup_of, problems, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (path, *stat, self.checked_ns, paper, dup_of, _problems(problems), _problems(warnings)),
        )
        self.racy = self.racy or racy(stat, self.checked_ns)

    def _same(
        self, rowid: int | None, problems: str | None, warnings: str | None, parsed: Parsed
    ) -> bool:
        """Whether the index holds ``parsed`` for this file already (its paper, or its
        errors, and its warnings)."""
        result = parsed.result
        if warnings != _problems(_warnings(result)):
            return False
        if parsed.rows is None:
            errors = [[d.line, d.message] for d in result.errors]
            return rowid is None and problems == _problems(errors)
        if rowid is None:
            return False
        row = self.conn.execute(
            "SELECT data, body FROM records WHERE rowid = ?",
            (rowid,),
        ).fetchone()
        return row is not None and (row[0], row[1]) == (parsed.rows.data, parsed.rows.body)

    def orphans(self, freed: set[str], current: Snapshot) -> list[str]:
        """Notes that duplicated a freed id: parse them again (one of them now owns it).
        Called at the end of every batch, in its transaction: it also writes the batch's word
        word and value counts (:func:`papernotes.engine.schema.flush`)."""
        flush(self.conn, self.pending)
        found: list[str] = []
        for paper_id in freed:
            rows = self.conn.execute("SELECT path FROM files WHERE dup_of = ?", (paper_id,))
            found.extend(p for (p,) in rows if p in current)
        for path in found:
            self.conn.execute("UPDATE files SET size = -1 WHERE path = ?", (path,))
        return found

    def _delete_paper(self, rowid: int) -> str:
        return delete_paper(self.conn, rowid, self.pending)


def _warnings(result: ParseResult) -> list[list[Any]]:
    return [[d.line, d.message] for d in result.warnings]


def _problems(problems: list[list[Any]] | None) -> str | None:
    return json.dumps(problems) if problems else None


def _parse_batches(root: Path, paths: list[str]) -> Iterator[tuple[list[str], list[Parsed]]]:
    """``(batch, results)`` for consecutive batches of ``paths``; in worker processes when
    there are many (the main process writes one batch while the workers parse the next)."""
    batches = [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]
    workers = min(os.cpu_count() or 1, 4)
    if len(paths) >= PARALLEL_MIN and workers > 1:
        import itertools
        import multiprocessing
        from collections import deque
        from concurrent.futures import Future, ProcessPoolExecutor

        if "fork" in multiprocessing.get_all_start_methods():
            # fork: workers start at once and inherit no work; they never touch the database
            pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            try:
                ahead: deque[tuple[list[str], Future[list[Parsed]]]] = deque()
                waiting = iter(batches)
                for batch in itertools.islice(waiting, workers * 2):  # bounded: bounded memory
                    ahead.append((batch, pool.submit(_parse_batch, str(root), batch)))
                while ahead:
                    batch, future = ahead.popleft()
                    yield batch, future.result()
                    following = next(waiting, None)
                    if following is not None:
                        ahead.append((following, pool.submit(_parse_batch, str(root), following)))
            finally:
                pool.shutdown(cancel_futures=True)
            return
    for batch in batches:
        yield batch, _parse_batch(str(root), batch)


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit once the process that started it is gone (killed with SIGKILL, say).
    Forked workers share their queue's pipe, so they would never see it close: they waited
    for work forever, holding that process's stdout open."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


@dataclass(frozen=True)
class Parsed:
    """A note parsed, and the rows the index keeps of its paper (None: it has errors), worked
    out in the process that parsed it (:func:`papernotes.engine.schema.rows_of`)."""

    result: ParseResult
    rows: Rows | None


def _parse_batch(root: str, paths: list[str]) -> list[Parsed]:
    from papernotes.note.parse import parse_file

    out = []
    for path in paths:
        result = parse_file(os.path.join(root, path), path)
        out.append(Parsed(result, None if result.paper is None else rows_of(result.paper)))
    return out
