"""The persistent search index: one SQLite database (FTS5) per notes directory.

Where: ``$PAPERNOTES_INDEX`` (``:memory:`` for no file), else ``index = "path"`` in
papernotes.toml (relative to the notes directory), else
``$XDG_CACHE_HOME/papernotes/<folder>-<hash of its path>.sqlite`` (``~/.cache`` by default).

    index = Index.open(store)        # create, check versions, rebuild when stale or damaged
    index.refresh(progress)          # re-parse new and changed notes, drop deleted ones
    index.rebuild(progress)          # everything from scratch
    index.papers(rowids), index.lookup(kind, value), index.problems(), index.diagnostics()
    index.read(lambda conn: ...)     # any other read, healed the same way (the read API)
    index.notices                    # one-line messages for the user ("rebuilding the index")

Or :func:`load`, which does the first two and heals a damaged file on the way.

The tables, and how a paper is written into them and read back, are in
:mod:`papernotes.engine.schema`; the reads over them that commands share (selecting, links,
counts, problems) in :mod:`.selection`, :mod:`.links`,
:mod:`papernotes.engine.stats` and :mod:`papernotes.engine.check`. How a refresh works is in
:mod:`papernotes.engine.indexing`. The index records its schema, the parser's version and the notes
directory it serves, and rebuilds itself when any of them changes. Notes are only ever read.

The index is a cache, never trusted: any error that is not "busy" or "cannot write" means
damage, and so does a stored record that does not decode into a :class:`Paper`; the index is
then rebuilt, with one line on stderr. A rebuild indexes every note into a private temporary
database, then copies it over the index in one transaction (SQLite's backup): a search
running meanwhile sees the old index or the new one, whole, and a file too damaged to be
written into is deleted and made anew. After a refresh, every read of a command shares one
read transaction: rowids read by one query are valid in the next, whatever other processes
write meanwhile, and the index was checked to serve this notes directory at its start.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, NamedTuple, ParamSpec, TypeVar

from papernotes.disk.store import CONFIG_NAME, Store, cache_home, snapshot
from papernotes.engine.indexing import (
    IndexDamaged,
    Progress,
    RefreshReport,
    ServesAnother,
    check_root,
    checkpoint,
    refresh,
    root_text,
    write,
)
from papernotes.engine.query import fts_string
from papernotes.engine.schema import (
    EXPECTED,
    FACETS,
    SCHEMA_VERSION,
    SHADOWS,
    TABLES,
    json_of,
    note_count,
    paper_of,
    terms_of,
)
from papernotes.engine.sqlerrors import brief, is_damage, is_unwritable, transient
from papernotes.errors import ConfigError, Diagnostic, IndexFailure
from papernotes.note.cells import ROW_FORMAT
from papernotes.note.model import PARSER_VERSION, Paper

APPLICATION_ID = 0x706E6F74  # "pnot", in the SQLite header: this file is a papernotes index
ENV_INDEX = "PAPERNOTES_INDEX"
BUSY_TIMEOUT = 60.0  # seconds to wait for another process's write

__all__ = ["Index", "IndexStatus", "Progress", "RefreshReport", "index_location", "load"]


class Headline(NamedTuple):
    """The fields of a paper that name it (see :meth:`Index.headlines`)."""

    id: str
    title: str
    year: int | None
    path: str
    aliases: tuple[str, ...]
    arxiv: str | None
    doi: str | None
    url: str | None


def index_location(store: Store) -> Path | None:
    """Where the index of ``store`` lives (None: in memory only)."""
    env = os.environ.get(ENV_INDEX)
    if env:
        return None if env == ":memory:" else Path(env).expanduser()
    configured = store.config.get("index")
    if configured is not None:
        if not isinstance(configured, str) or not configured.strip():
            raise ConfigError(f"{CONFIG_NAME}: index must be the path of the index file")
        if configured == ":memory:":
            return None
        return store.root / Path(configured).expanduser()
    from papernotes.disk.digest import sha256

    digest = sha256(str(store.root).encode("utf-8", "surrogateescape")).hexdigest()
    return cache_home() / "papernotes" / f"{store.root.name or 'notes'}-{digest[:16]}.sqlite"


@dataclass(frozen=True)
class IndexStatus:
    location: str
    size: int  # bytes, with the WAL file
    notes: int  # indexed
    skipped: int  # note files with errors (or duplicate ids)
    pending: int  # note files added, changed or deleted since the last refresh
    schema_version: int
    parser_version: int


P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

LINES_CHUNK = 2000  # lines a listing reads (and prints) at a time
# a stored line as its UTF-8 bytes, NULL when it is not text (see Index.lines)
LINE_BYTES = "CASE WHEN typeof({0}) = 'text' THEN CAST({0} AS BLOB) END"

# what decoding a stored value raises when it is not what papernotes wrote
_UNDECODABLE = (ValueError, TypeError, KeyError, AttributeError)


def _healing(method: Callable[Concatenate[Index, P], R]) -> Callable[Concatenate[Index, P], R]:
    """A reading method that, when the index turns out to be damaged (an SQLite error that
    is not "busy", or a stored value that does not decode), rebuilds it (:meth:`Index.heal`)
    and reads again; any other SQLite error becomes an IndexFailure."""

    @functools.wraps(method)
    def read(self: Index, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            if not is_damage(exc):
                raise failure(self, exc) from None
            self.heal(exc)
        except _UNDECODABLE:
            self.heal(IndexDamaged("a stored value is not what papernotes writes"))
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise failure(self, exc) from None

    return read


@dataclass
class Index:
    """An open index. ``location`` None: an in-memory database (nothing persists)."""

    store: Store
    conn: sqlite3.Connection
    location: Path | None
    notices: list[str] = field(default_factory=list)
    report: RefreshReport | None = None  # what the last refresh or rebuild changed
    identity: tuple[int, int] | None = None  # of the file opened (see _discard)
    pinned: bool = False  # reads share one read transaction (see _pin)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, store: Store, progress: Progress | None = None, rebuild: bool = False) -> Index:
        """Open (or create) the index of ``store``. One made by another version, for another
        notes directory, or damaged, is rebuilt (see :meth:`rebuild`), as is any with
        ``rebuild`` (then the old file is not even read: it is written over, or replaced
        when it cannot be). When the index cannot be written: an index in memory, empty."""
        location = index_location(store)
        if location is None:
            return cls._in_memory(store, [])
        if _chosen(store) and not _adoptable(location):
            return cls._in_memory(store, [_foreign_notice(location)])
        notices: list[str] = []
        try:
            if not rebuild:
                opened = cls._checked(store, location, notices)
                if opened is not None:
                    return opened
            with _lock(location):  # one rebuild at a time: the others then use its result
                if not rebuild:
                    again = cls._checked(store, location, [])
                    if again is not None:
                        return again
                index = cls(store, sqlite3.connect(":memory:"), location, notices)
                index.rebuild(progress)
                return index
        except (OSError, sqlite3.Error) as exc:
            if is_unwritable(exc):
                return cls._in_memory(store, [*notices, _memory_notice(location, exc)])
            raise IndexFailure(f"cannot open the search index {location}: {brief(exc)}") from None

    @classmethod
    def _checked(cls, store: Store, location: Path, notices: list[str]) -> Index | None:
        """The index at ``location`` when it is current (a new file is made current); else
        None, and why it must be rebuilt in ``notices``."""
        for attempt in range(3):
            conn = None
            try:
                location.parent.mkdir(parents=True, exist_ok=True)
                conn = _connect(location)
                identity = _identity(location)
                why = _prepare(conn, store)
            except (OSError, sqlite3.Error) as exc:
                _close(conn)
                if is_unwritable(exc) and attempt < 2:
                    continue  # its folder may have been deleted meanwhile: try again
                if transient(exc) and attempt < 2:
                    # busy at once, without waiting (setting WAL mode on a file another
                    # process is creating): seen with four processes opening a new index
                    time.sleep(0.1 * (attempt + 1))
                    continue
                if not is_damage(exc):
                    raise
                notices.append(f"the search index was unreadable ({brief(exc)}); rebuilding it")
                return None
            if why is None:
                return cls(store, conn, location, notices, identity=identity)
            conn.close()
            notices.append(f"rebuilding the search index: {why}")
            return None
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _in_memory(cls, store: Store, notices: list[str]) -> Index:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        _prepare(conn, store)
        return cls(store, conn, None, notices)

    def heal(self, exc: BaseException, progress: Progress | None = None) -> Index:
        """Rebuild this damaged index (or one that another notes directory took over), in
        place; returns itself."""
        if isinstance(exc, ServesAnother):
            self.notices.append(f"rebuilding the search index: {exc}")
        else:
            self.notices.append(f"the search index was damaged ({brief(exc)}); rebuilding it")
        self.rebuild(progress)
        return self

    def close(self) -> None:
        self.pinned = False
        self.conn.close()

    # ------------------------------------------------------------------ updating

    def refresh(self, progress: Progress | None = None) -> RefreshReport:
        """Bring the index up to date with the notes (see the module docstring); when
        another notes directory took it over, rebuild it for this one."""
        self._unpin()
        try:
            # issue 16: a change watcher that vouches for this index stands for the scan
            from papernotes.engine import watchclient

            if watchclient.vouched(self):  # pinned on the state it vouched for
                self.report = RefreshReport(undecodable=watchclient.last_undecodable)
                return self.report
            # end of the watcher hook
            self.report = refresh(self.conn, self.store.root, progress)
            self._pin()
        except ServesAnother as exc:
            self.heal(exc, progress)
        assert self.report is not None
        return self.report

    def rebuild(self, progress: Progress | None = None) -> RefreshReport:
        """Index every note again, into a private temporary database that then replaces the
        index in one transaction (see the module docstring)."""
        self._unpin()
        for attempt in range(3):
            built, report = _build(self.store, progress, self.location is None)
            conn, identity = built, None
            if self.location is not None:
                try:
                    conn, identity = _install(built, self.location)
                finally:
                    built.close()
            with suppress(sqlite3.Error):
                self.conn.close()
            self.conn, self.identity, self.report = conn, identity, report
            try:
                self._pin()
                return report
            except ServesAnother:
                if attempt == 2:  # another notes directory's rebuild each time: give up
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def renew(self) -> None:
        """Read the index as it is now, from here on: one state of it, until the next renew,
        refresh or rebuild (a long-running process renews it for each piece of work)."""
        self._unpin()
        try:
            self._pin()
        except sqlite3.Error as exc:
            if not is_damage(exc):
                raise failure(self, exc) from None
            self.heal(exc)

    def _pin(self) -> None:
        """From here on, read one state of the index (what other processes write is not
        seen), after checking that it serves this notes directory."""
        self.conn.execute("BEGIN")
        try:
            check_root(self.conn, self.store.root)  # the read transaction starts here
        except BaseException:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        self.pinned = True

    def _unpin(self) -> None:
        if self.pinned:
            self.pinned = False
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")  # nothing was written

    # ------------------------------------------------------------------ reading

    @_healing
    def count(self) -> int:
        """Indexed notes (:func:`.schema.note_count`)."""
        return note_count(self.conn)

    @_healing
    def papers(self, rowids: Sequence[int], body: bool = True) -> list[Paper]:
        """The papers with these rowids (read from this index), in this order (``body=False``:
        with ``body=""``). A rowid that names no paper means damage."""
        return self._records(rowids, body, paper_of)

    @_healing
    def json_texts(self, rowids: Sequence[int]) -> list[str]:
        """As :meth:`papers`, each paper as the JSON text of :meth:`Paper.to_dict`, without
        making the papers (:func:`.schema.json_of`)."""
        return self._records(rowids, True, json_of)

    def _records(
        self, rowids: Sequence[int], body: bool, decode: Callable[[object, object], T]
    ) -> list[T]:
        if not rowids:
            return []
        ids = json.dumps(list(rowids))
        column = "body" if body else "''"
        sql = (
            f"SELECT rowid, data, {column} FROM records "
            "WHERE rowid IN (SELECT value FROM json_each(?))"
        )
        found = {rowid: decode(data, text) for rowid, data, text in self.conn.execute(sql, (ids,))}
        if len(found) < len(set(rowids)):
            raise IndexDamaged("a note it finds has no record")
        return [found[r] for r in rowids]

    def lines(self, sql: str, params: Sequence[object] = ()) -> Iterator[bytes]:
        """The rows of ``sql``, whose one column is the line ``list`` prints on a pipe for a
        note (:func:`papernotes.note.cells.line`, kept when the note was indexed) as UTF-8
        (:data:`LINE_BYTES` of the column), joined :data:`LINES_CHUNK` at a time, each line
        ended by a newline: a listing is printed as it is read, never held whole, and never
        decoded into Python's strings only to be encoded again (20,699 lines: ~5 ms). Damage
        found midway is healed as every read's is (:func:`_healing`), and the query then goes
        on from the row where it stopped: its order must be total (every order of
        :mod:`.selection` ends with the note's id)."""
        given, healed = 0, False
        while True:
            cursor = self.conn.cursor()
            try:
                cursor.execute(sql, params)
                skip = given  # after a rebuild: the rows given before it
                while skip > 0 and (rows := cursor.fetchmany(min(skip, LINES_CHUNK))):
                    skip -= len(rows)
                while chunk := cursor.fetchmany(LINES_CHUNK):
                    text = _line_chunk([line for (line,) in chunk])
                    given += len(chunk)
                    yield text
                return
            except sqlite3.Error as exc:
                if healed or not is_damage(exc):
                    raise failure(self, exc) from None
                cursor.close()  # before the rebuild
                self.heal(exc)
                healed = True
            finally:
                with suppress(sqlite3.ProgrammingError):  # its connection closed by a rebuild
                    cursor.close()

    @_healing
    def read(self, run: Callable[[sqlite3.Connection], R]) -> R:
        """``run(conn)`` on this index, healed as every read is (see :func:`_healing`): the
        read API (:mod:`.selection`, :mod:`.links`, ...) runs its SQL
        through this."""
        return run(self.conn)

    @_healing
    def rowids(self, paper_ids: Iterable[str]) -> list[int]:
        """The rowids of these paper ids (unknown ids left out), in order."""
        out = []
        for paper_id in paper_ids:
            row = self.conn.execute("SELECT rowid FROM papers WHERE id = ?", (paper_id,))
            found = row.fetchone()
            if found:
                out.append(_int(found[0]))
        return out

    @_healing
    def lookup(self, kind: str, value: str) -> list[int]:
        """Rowids of papers whose ``kind`` key (id, file, alias, title, arxiv, doi) is
        ``value`` (already folded the way the index folds it)."""
        rows = self.conn.execute(
            "SELECT DISTINCT paper FROM keys WHERE kind = ? AND value = ? ORDER BY paper",
            (kind, value),
        )
        return [_int(r) for (r,) in rows]

    @_healing
    def has_extra(self, name: str) -> bool:
        """Whether some note has the key ``name`` (any case) outside the keys papernotes knows:
        ``name:`` is then a field of the query language."""
        row = self.conn.execute("SELECT 1 FROM extras WHERE key = ? LIMIT 1", (name.lower(),))
        return row.fetchone() is not None

    @_healing
    def headlines(self) -> list[Headline]:
        """Every paper's id, title, year, path, aliases, arXiv id, DOI and url, by id: enough to
        resolve a reference, and much faster to load than whole papers."""
        rows = self.conn.execute(
            "SELECT p.id, p.title, p.year, p.path, json_extract(r.data, '$.aliases'), p.arxiv, "
            "p.doi, json_extract(r.data, '$.url') FROM papers p "
            "JOIN records r ON r.rowid = p.rowid ORDER BY p.id"
        )
        out = [
            Headline(i, t, y, p, tuple(json.loads(a)) if a and a != "[]" else (), x, d, u)
            for i, t, y, p, a, x, d, u in rows
        ]
        for h in out:
            if not (
                type(h.id) is str
                and type(h.title) is str
                and type(h.path) is str
                and (h.year is None or type(h.year) is int)
                and all(type(a) is str for a in h.aliases)
                and all(v is None or type(v) is str for v in (h.arxiv, h.doi, h.url))
            ):
                raise IndexDamaged("a stored record does not decode into a paper")
        return out

    def facet(self, field: str, by_name: bool = False) -> list[tuple[str, str, int]]:
        """``(folded value, the spelling most notes use, number of notes)`` for every value of
        a list field (``topics``, ``tags``, ``authors``): most notes first (then by folded
        value), or by folded value. Read in that order from the ``counts`` table."""
        if field not in FACETS:
            raise ValueError(f"not a list field: {field!r}")
        return self._facet(field, by_name)

    @_healing
    def _facet(self, field: str, by_name: bool) -> list[tuple[str, str, int]]:
        order = "folded" if by_name else "notes DESC, folded"
        rows = self.conn.execute(
            f"SELECT folded, shown, notes FROM counts WHERE field = ? ORDER BY {order}", (field,)
        ).fetchall()
        if rows:  # checked a column at a time, in C: 175,000 authors at 75,000 notes
            folded, shown, notes = zip(*rows, strict=True)
            if not (
                set(map(type, folded)) == set(map(type, shown)) == {str}
                and set(map(type, notes)) == {int}
            ):
                raise IndexDamaged("a stored value is not what papernotes writes")
        return rows

    @_healing
    def document_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """How many notes use each of ``words`` (those of :func:`.related.document`);
        for weighing words in ``related``."""
        rows = self.conn.execute(  # each word looked up (the IN list: 6 ms for 2,300, not 4)
            "SELECT term, docs FROM json_each(?) j CROSS JOIN words ON term = j.value",
            (json.dumps(list(set(words))),),
        )
        return {_text(t): _int(n) for t, n in rows}

    @_healing
    def terms(self, paper_ids: Sequence[str]) -> dict[str, Counter[str]]:
        """The words of these notes with their counts (:func:`.related.document`, as kept
        when each was indexed), by id; an id of no indexed note is left out. A note without
        them means damage."""
        rows = self.conn.execute(
            "SELECT p.id, t.counts FROM papers p LEFT JOIN terms t ON t.rowid = p.rowid "
            "WHERE p.id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(paper_ids))),),
        )
        return {_text(paper_id): terms_of(counts) for paper_id, counts in rows}

    @_healing
    def more_like(self, weights: Mapping[str, float], limit: int) -> list[int]:
        """Rowids of the notes that hold the most of the words of ``weights``, by the sum of
        the weights of those they hold (each word counts once, however often it occurs), best
        first, ties by rowid. Each word is matched alone, so FTS5 only reads its list of notes:
        at 74,728 notes, 30 words in ~25,000 notes take ~18 ms this way, against ~42 ms ranked
        by ``bm25()`` (computed for every note that matches), and the notes found are as
        good (bench/related_fidelity.py)."""
        if not weights:
            return []
        words = sorted(weights)
        each = " UNION ALL ".join(
            ["SELECT rowid, ? AS weight FROM fts WHERE fts MATCH ?"] * len(words)
        )
        # whole millionths: a sum of integers does not depend on the order it is taken in, so
        # equal sums tie (and fall to the rowid) however SQLite groups the rows
        params = [x for w in words for x in (round(weights[w] * 1e6), fts_string(w))]
        rows = self.conn.execute(
            f"SELECT rowid FROM ({each}) GROUP BY rowid ORDER BY sum(weight) DESC, rowid LIMIT ?",
            (*params, limit),
        )
        return [_int(r) for (r,) in rows]

    @_healing
    def problems(self) -> list[Diagnostic]:
        """Why note files are not indexed (errors, duplicate ids), by path."""
        rows = self.conn.execute(
            "SELECT path, problems FROM files WHERE problems IS NOT NULL ORDER BY path"
        )
        return [
            Diagnostic(str(path), _int(line), "error", str(message))
            for path, problems in rows
            for line, message in json.loads(problems)
        ]

    @_healing
    def diagnostics(self) -> list[tuple[str, Diagnostic]]:
        """Every problem the indexer recorded, errors and warnings, by path: ``(kind,
        diagnostic)``, kind ``error`` (the note is not indexed), ``duplicate`` (not indexed:
        another note has its id) or ``warning``."""
        rows = self.conn.execute(
            "SELECT path, problems, dup_of, warnings FROM files "
            "WHERE problems IS NOT NULL OR warnings IS NOT NULL ORDER BY path"
        )
        out: list[tuple[str, Diagnostic]] = []
        for path, problems, dup_of, warnings in rows:
            kind = "error" if dup_of is None else "duplicate"
            for line, message in json.loads(problems) if problems is not None else ():
                out.append((kind, Diagnostic(_text(path), _int(line), "error", _text(message))))
            for line, message in json.loads(warnings) if warnings is not None else ():
                out.append(
                    ("warning", Diagnostic(_text(path), _int(line), "warning", _text(message)))
                )
        return out

    @_healing
    def skipped(self) -> int:
        """Note files left out of the index because of errors."""
        row = self.conn.execute("SELECT count(*) FROM files WHERE problems IS NOT NULL")
        return _int(row.fetchone()[0])

    @_healing
    def status(self, pending: bool = True) -> IndexStatus:
        """Counts, size and location, and (unless ``pending`` is False: then 0) how many notes
        changed since the last refresh."""
        changes = 0
        if pending:
            current = snapshot(self.store.root)
            rows = self.conn.execute("SELECT path, size, mtime_ns, ctime_ns, inode FROM files")
            stored = {p: (s, m, c, i) for p, s, m, c, i in rows}
            changes = sum(1 for p, st in current.items() if stored.get(p) != st)
            changes += sum(1 for p in stored if p not in current)
        size = 0
        if self.location is not None:
            for suffix in ("", "-wal"):
                with suppress(OSError):
                    size += os.path.getsize(f"{self.location}{suffix}")
        return IndexStatus(
            location=str(self.location) if self.location else ":memory:",
            size=size,
            notes=self.count(),
            skipped=self.skipped(),
            pending=changes,
            schema_version=SCHEMA_VERSION,
            parser_version=PARSER_VERSION,
        )


def load(store: Store, progress: Progress | None = None, rebuild: bool = False) -> Index:
    """The index of ``store``, brought up to date (``rebuild``: from scratch, without reading
    the old file); a file found damaged on the way is rebuilt, one that cannot be written is
    replaced by an index in memory. :class:`IndexFailure` when it cannot be used at all."""
    for attempt in range(3):
        index = Index.open(store, progress, rebuild=rebuild)
        if index.report is not None and index.pinned:
            return index  # just built
        try:
            index.refresh(progress)
            return index
        except sqlite3.Error as exc:
            error: sqlite3.Error = exc
        if not transient(error) or attempt == 2:
            break
        # busy at once, without waiting (SQLite does so when the file was deleted or replaced
        # by another process mid-way, seen with six searches while the index is deleted)
        with suppress(sqlite3.Error):
            index.close()
        time.sleep(0.1 * (attempt + 1))
    if is_damage(error):
        try:
            return index.heal(error, progress)
        except sqlite3.Error as again:
            error = again
    if not is_unwritable(error) or index.location is None:
        raise failure(index, error)
    with suppress(sqlite3.Error):
        index.close()
    memory = Index._in_memory(store, [*index.notices, _memory_notice(index.location, error)])
    memory.refresh(progress)
    return memory


def _line_chunk(lines: list[object]) -> bytes:
    """Lines of :data:`LINE_BYTES` as one text, each ended by a newline; IndexDamaged for a
    value papernotes does not write (not text, or not UTF-8)."""
    try:
        if set(map(type, lines)) != {bytes}:
            raise ValueError("not text")
        text = b"\n".join(lines) + b"\n"  # type: ignore[arg-type]
        if not text.isascii():
            text.decode("utf-8")  # UnicodeDecodeError, a ValueError
    except ValueError:
        raise IndexDamaged("a stored line is not what papernotes writes") from None
    return text


def failure(index: Index, exc: sqlite3.Error) -> IndexFailure:
    """The user-facing error for an SQLite error that healing cannot fix."""
    where = index.location or "in memory"
    return IndexFailure(f"cannot use the search index ({where}): {brief(exc)}")


def _memory_notice(location: Path, exc: BaseException) -> str:
    reason = brief(exc)
    if isinstance(exc, OSError) and exc.strerror:
        reason = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return (
        f"cannot write the search index {location} ({reason}); working from memory "
        f"(set {ENV_INDEX} to a writable file to keep one)"
    )


def _connect(location: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(location), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _close(conn: sqlite3.Connection | None) -> None:
    if conn is not None:
        with suppress(sqlite3.Error):
            conn.close()


def _prepare(conn: sqlite3.Connection, store: Store) -> str | None:
    """Create the schema in a new database; None when it is current, else why it must be
    rebuilt (which is not done here: see :meth:`Index.rebuild`)."""
    why = _stale(conn, store)
    if why != "":
        return why
    conn.execute("BEGIN IMMEDIATE")
    try:
        why = _stale(conn, store)  # another process may have just done it
        if why == "":
            _create(conn, store)
            why = None
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return why


def _stale(conn: sqlite3.Connection, store: Store) -> str | None:
    """None when the index is current; "" when the database is new (empty); else why it must
    be rebuilt."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = dict(conn.execute("SELECT name, sql FROM sqlite_master"))
    if version == 0:
        return "" if not tables else "its tables are not the expected ones"
    if version != SCHEMA_VERSION:
        return f"its format changed (version {version}, now {SCHEMA_VERSION})"
    if any(tables.get(n) != sql for n, sql in EXPECTED.items()) or set(SHADOWS) - set(tables):
        return "its tables are not the expected ones"
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    if meta.get("parser") != str(PARSER_VERSION):
        return "the note parser changed"
    if meta.get("rows") != str(ROW_FORMAT):
        return "the rows of list changed"
    if meta.get("root") != root_text(store.root):
        return str(ServesAnother(meta.get("root")))
    return None


def _create(conn: sqlite3.Connection, store: Store) -> None:
    for statement in TABLES:
        conn.execute(statement)
    # generations count the writes (see indexing._Session); each new index starts at a random
    # one, so that a writer never takes a rebuilt index for the one it started with
    start = int.from_bytes(os.urandom(6), "big")
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?)",
        [
            ("parser", str(PARSER_VERSION)),
            ("rows", str(ROW_FORMAT)),
            ("root", root_text(store.root)),
            ("generation", str(start)),
            ("notes", "0"),  # kept by schema.flush, as are the three below
            ("authors values", "0"),
            ("topics values", "0"),
            ("tags values", "0"),
        ],
    )
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")


def _build(
    store: Store, progress: Progress | None, in_memory: bool
) -> tuple[sqlite3.Connection, RefreshReport]:
    """A new index of every note: in memory, or in a private temporary file (SQLite deletes
    it when it is closed, or when the process dies)."""
    conn = sqlite3.connect(
        ":memory:" if in_memory else "", isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("PRAGMA synchronous = OFF")
        with write(conn):
            _create(conn, store)
        report = refresh(conn, store.root, progress)
    except BaseException:
        conn.close()
        raise
    return conn, report


def _install(
    built: sqlite3.Connection, location: Path
) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
    """Copy the index ``built`` over the one at ``location`` in one transaction (readers see
    the old one or this one, whole); a file that cannot be written into is replaced."""
    identity = None
    with _lock(location):
        for attempt in range(2):
            conn = None
            try:
                location.parent.mkdir(parents=True, exist_ok=True)
                identity = _identity(location)
                conn = _connect(location)
                built.backup(conn)
                checkpoint(conn)
                return conn, identity
            except (OSError, sqlite3.Error) as exc:
                _close(conn)
                if attempt or transient(exc):
                    raise
                _discard(location, identity)  # damaged beyond writing into: a new file
    raise AssertionError("unreachable")  # pragma: no cover


def _chosen(store: Store) -> bool:
    """Whether the index location was chosen ($PAPERNOTES_INDEX, papernotes.toml) rather than
    the file papernotes names in its own cache folder."""
    return bool(os.environ.get(ENV_INDEX)) or store.config.get("index") is not None


def _adoptable(location: Path) -> bool:
    """Whether papernotes may build, rebuild or replace the index at a chosen ``location``:
    nothing is there, or an empty file, or a papernotes index. Anything else (a note, a text
    file, another program's database: a path set by mistake, or by a papernotes.toml in
    someone else's notes) is never converted, emptied or deleted."""
    try:
        if not location.is_file() or location.stat().st_size == 0:
            return True  # nothing to lose (a directory is refused when opened)
    except OSError:
        return True
    conn = None
    try:
        conn = sqlite3.connect(str(location), timeout=BUSY_TIMEOUT)
        if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
            return True
        # indexes made before the application id was set: their meta table names a root
        return conn.execute("SELECT 1 FROM meta WHERE key = 'root'").fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        if conn is not None:
            conn.close()


def _foreign_notice(location: Path) -> str:
    return (
        f"{location} is not a papernotes search index (or is damaged): left untouched; working "
        f"from memory (delete it, or set {ENV_INDEX} or index in {CONFIG_NAME} to a new file)"
    )


def _identity(location: Path) -> tuple[int, int] | None:
    """Which file is at ``location`` now (device, inode), if any."""
    try:
        found = os.stat(location)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _discard(location: Path, identity: tuple[int, int] | None) -> None:
    """Delete a damaged index file (and its WAL), unless another process has replaced it
    meanwhile (the file there is no longer ``identity``); under a lock, so that two
    processes healing at once do not delete each other's new file."""
    with _lock(location):
        if identity is not None and _identity(location) not in (identity, None):
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(OSError):
                os.unlink(f"{location}{suffix}")


_held: set[str] = set()  # the locks this process holds (taking one twice would wait forever)


@contextmanager
def _lock(location: Path) -> Iterator[None]:
    """An exclusive lock beside the index (none when it cannot be taken: a best effort)."""
    key = str(location)
    if key in _held:
        yield
        return
    try:
        import fcntl

        location.parent.mkdir(parents=True, exist_ok=True)
        handle = open(f"{location}.lock", "a+b")  # noqa: SIM115
    except (ImportError, OSError):
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.add(key)
        try:
            yield
        finally:
            _held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _text(value: object) -> str:
    """A text read back from the index (checked, not trusted)."""
    if type(value) is not str:
        raise IndexDamaged("a stored value is not what papernotes writes")
    return value


def _int(value: object) -> int:
    """A number read back from the index (that it is one is checked, not trusted)."""
    if type(value) is not int:
        raise IndexDamaged("a stored value is not what papernotes writes")
    return value
