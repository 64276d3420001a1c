"""The index's schema, owned here: its tables, the FTS5 columns, and the one mapping between a
:class:`Paper` and its rows (written by :mod:`papernotes.engine.indexing`, read by
:mod:`papernotes.engine.index` and the read API).

``papers`` holds one row per indexed note, small, with typed columns for what commands filter,
sort and count on (``year`` is the ``year`` key, else the year ``published``; ``title_key`` the
title folded for sorting); ``records`` the whole paper, under the same rowid (``data``:
:meth:`Paper.to_dict` without the body, plus where each key is in the file; ``body``), read
only for the notes a command shows. ``authors``, ``topics`` and ``tags`` hold each value as
written and folded (facets, filters); ``keys`` the names a note answers to (``id``, ``file``,
``alias``, ``title``, ``arxiv``, ``doi``), folded for exact lookups; ``links`` each outgoing
link with its folded keys (:func:`link_keys`), so that links resolve, dangle and point back in
SQL; ``extras`` the text of each key papernotes does not know (``paper_ref:baker``); ``terms``
each note's distinctive words with their counts and ``words`` how many notes use each
(``related``). ``fts`` is the full-text index (its
``body`` column: the body without the abstract section, which is the ``abstract`` column, and
without the importers' ``## Source`` list; its ``extra`` column: the extra keys' text) and
``fts_vocab`` its words, for typo correction. ``files`` records every note file: its stat, its
paper or why it is not indexed (``problems``), and its warnings."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from papernotes.note import cells, normalize
from papernotes.note.model import Paper, as_dict

SCHEMA_VERSION = 13

# FTS5 columns, in order (search's bm25 weights are given in this order); the body is column 8
COLUMNS = (
    *("title", "aliases", "authors", "topics", "tags", "venue", "org", "abstract", "body"),
    "extra",
)
FACETS = ("authors", "topics", "tags")  # list fields with a table of their own
SHELVED = ("topics", "tags")  # the facets whose notes a listing reads from shelves
# a shelf row holds the note's line up to this length (else NULL: the line is read from
# papers): a note's line grows with its topics and tags, and it is kept once per value, so an
# unbounded copy would be quadratic (100,000 tags: a 1 MB line 100,000 times)
SHELF_LINE = 512
DUPLICABLE = ("alias", "arxiv")  # keys two notes may share by mistake (table dupkeys)


class IndexDamaged(sqlite3.DatabaseError):
    """What was read back from the index is not what papernotes writes: rebuild it."""


def _facet_tables() -> tuple[str, ...]:
    out: list[str] = []
    for name in FACETS:
        out += [
            f"""CREATE TABLE {name}(paper INTEGER NOT NULL, pos INTEGER NOT NULL,
        value TEXT NOT NULL, folded TEXT NOT NULL, PRIMARY KEY(paper, pos)) WITHOUT ROWID""",
            # filters (folded = ?) and facets (GROUP BY folded, value) read only this index
            f"CREATE INDEX {name}_folded ON {name}(folded, value)",
        ]
    return tuple(out)


TABLES = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    # every note file seen: its stat when indexed (and when that stat was taken), its paper,
    # or why it is not indexed (problems: errors), and its warnings
    """CREATE TABLE files(
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, checked_ns INTEGER NOT NULL,
        paper INTEGER, dup_of TEXT, problems TEXT, warnings TEXT) WITHOUT ROWID""",
    "CREATE INDEX files_dup ON files(dup_of) WHERE dup_of IS NOT NULL",
    # every command counts the skipped notes: without this, a scan of all files (8 ms at 75k)
    "CREATE INDEX files_problems ON files(path) WHERE problems IS NOT NULL",
    # check reads the files with problems or warnings, by path: without this, a scan of all
    # files (10 ms at 75k)
    "CREATE INDEX files_noted ON files(path) WHERE problems IS NOT NULL OR warnings IS NOT NULL",
    """CREATE TABLE papers(
        rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
        title TEXT NOT NULL, title_key TEXT NOT NULL, year INTEGER, published TEXT,
        read TEXT, added TEXT, arxiv TEXT, doi TEXT, status TEXT, rating INTEGER,
        line TEXT NOT NULL)""",
    # line: what list prints for the note on a pipe (note.cells.line). A listing of 20,699
    # notes at 74,728 selects, sorts and prints them in one query (~45 ms) instead of
    # decoding 20,699 records (~600 ms), or reading lines from a table of their own (~65 ms)
    "CREATE TABLE records(rowid INTEGER PRIMARY KEY, data TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX papers_title ON papers(title_key, id)",
    # stats groups the notes by these in one pass over this index, in its order (no sort:
    # 8 ms at 75,000 notes, against 65 for a GROUP BY of the table)
    "CREATE INDEX papers_stats ON papers(status, year, read, rating, arxiv)",
    # the names of a note, folded: id, file, alias, title, arxiv, doi
    "CREATE TABLE keys(kind TEXT NOT NULL, value TEXT NOT NULL, paper INTEGER NOT NULL)",
    "CREATE INDEX keys_value ON keys(kind, value)",
    "CREATE INDEX keys_paper ON keys(paper)",
    # the alias and arXiv keys that more than one note has (check's duplicates), kept for the
    # keys each batch touched (flush): grouping 75,000 arXiv keys took check 30 ms
    "CREATE TABLE dupkeys(kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(kind, value))"
    " WITHOUT ROWID",
    *_facet_tables(),
    # each note under each of its topics and tags (the folded values of those tables), in the
    # order of a listing by title, with its line of list (papers.line; NULL when longer than
    # SHELF_LINE): list --topic nlp reads its 20,699 lines at 74,728 notes from here, in
    # order (~9 ms of SQL), where papers needs 20,699 lookups and a sort (~40 ms), and its
    # first page reads 20 rows (0.1 ms, not 17); with the note's other sort keys (papers'
    # columns): the first page of the 25,049 notes tagged cs.CL by year sorts the shelf's
    # rows (8 ms), not 25,049 rows of papers looked up (35 ms)
    """CREATE TABLE shelves(field TEXT NOT NULL, folded TEXT NOT NULL, title_key TEXT NOT NULL,
        id TEXT NOT NULL, paper INTEGER NOT NULL, line TEXT, year INTEGER, read TEXT,
        added TEXT, rating INTEGER, PRIMARY KEY(field, folded, title_key, id)) WITHOUT ROWID""",
    # outgoing links (related ids, then wikilinks), folded by link_keys()
    """CREATE TABLE links(paper INTEGER NOT NULL, pos INTEGER NOT NULL, target TEXT NOT NULL,
        key TEXT NOT NULL, title_key TEXT NOT NULL, related INTEGER NOT NULL,
        line INTEGER NOT NULL, PRIMARY KEY(paper, pos)) WITHOUT ROWID""",
    "CREATE INDEX links_key ON links(key)",
    "CREATE INDEX links_title ON links(title_key)",
    # keys papernotes does not know: name as written, lower case, and their words folded
    """CREATE TABLE extras(paper INTEGER NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL,
        words TEXT NOT NULL, PRIMARY KEY(paper, name)) WITHOUT ROWID""",
    "CREATE INDEX extras_key ON extras(key, paper)",
    # each value of a list field (folded): the spelling most notes use (the first of equals)
    # and the notes with any spelling; kept for the values each batch touched (flush), so
    # that tags, topics and authors read their answer in order, as long as it is
    # (and that spelling as a table cell, note.cells.cell)
    """CREATE TABLE counts(field TEXT NOT NULL, folded TEXT NOT NULL, shown TEXT NOT NULL,
        cell TEXT NOT NULL, notes INTEGER NOT NULL, PRIMARY KEY(field, folded)) WITHOUT ROWID""",
    "CREATE INDEX counts_notes ON counts(field, notes DESC, folded, shown, cell)",
    # the same, a row a number of notes and first character (part) of the folded values: the
    # lines a pipe gets for those values ("notes<TAB>cell"), by folded value; kept for the
    # rows each batch changed (flush). On a pipe, authors reads 1,177 rows instead of 175,000
    # at 75,000 notes (40 ms -> 5) and prints them as they are (making the lines took 30 ms
    # more), and a new author rewrites the lines of one part, not of 100,000
    """CREATE TABLE runs(field TEXT NOT NULL, notes INTEGER NOT NULL, part TEXT NOT NULL,
        lines TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX runs_notes ON runs(field, notes DESC, part)",
    # the runs whose rows changed, not written yet: the watcher writes them once it is idle
    # (clean_runs), not while a command waits for its batch (100 new notes: 125-1,350 ms)
    """CREATE TABLE dirty(field TEXT NOT NULL, notes INTEGER NOT NULL, part TEXT NOT NULL,
        PRIMARY KEY(field, notes, part)) WITHOUT ROWID""",
    # each note's distinctive words with their counts (related.document), "word count word
    # count ...": related ranks 50 candidates from these (~3 ms) instead of cutting their
    # texts into words again (~15 ms at 74,728 notes), and a note's words leave the counts
    # of words below exactly as they came in
    "CREATE TABLE terms(rowid INTEGER PRIMARY KEY, counts TEXT NOT NULL)",
    # how many notes share what stats counts them by (a group: a JSON array, see group()),
    # kept by every write (flush): grouping 75,000 notes took stats 20 ms, counting those with
    # a topic 8 more
    "CREATE TABLE summary(key TEXT PRIMARY KEY, notes INTEGER NOT NULL) WITHOUT ROWID",
    # the distinctive words of title, aliases, abstract and body (related.document)
    # and how many notes use each: the document frequencies of related and show
    "CREATE TABLE words(term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID",
    f"""CREATE VIRTUAL TABLE fts USING fts5({", ".join(COLUMNS)},
        tokenize = 'unicode61 remove_diacritics 2')""",
    "CREATE VIRTUAL TABLE fts_vocab USING fts5vocab(fts, row)",
)
# name -> the SQL that SQLite keeps for it; and the shadow tables of the FTS5 table
_NAMED = re.compile(r"CREATE (?:VIRTUAL |UNIQUE )?(?:TABLE|INDEX) (\w+)")
EXPECTED = {_NAMED.findall(sql)[0]: sql for sql in TABLES}
SHADOWS = tuple(f"fts_{shadow}" for shadow in ("data", "idx", "content", "docsize", "config"))


# --------------------------------------------------------------------------- folding


_WRAPPED = re.compile(r"^!?\[\[(?P<inner>[^\[\]]*)\]\]$")
_WORD = re.compile(r"[^\W_]+")  # a word as FTS5's unicode61 tokenizer cuts it


def link_name(target: str) -> str:
    """The part of a link target that names a note: ``"[[Papers/DPO.md#Method|the DPO
    paper]]"`` -> ``DPO`` (Obsidian's rules: the folder, ``.md``, a ``#heading`` or ``^block``
    and a ``|label`` are ignored)."""
    text = target.strip()
    wrapped = _WRAPPED.match(text)
    if wrapped:
        text = wrapped.group("inner")
    text = text.split("|", 1)[0]
    text = re.split(r"#|\^", text, maxsplit=1)[0].strip()
    if text.lower().endswith(".md"):
        text = text[:-3]
    return text.replace("\\", "/").rsplit("/", 1)[-1].strip()


def link_keys(target: str) -> tuple[str, str]:
    """The one fold of a link target, used when a note is indexed and when a link is looked
    up: ``(key, title key)``, compared with the ``id``, ``file`` and ``alias`` keys of notes
    (the first) and with their ``title`` key (the second). Case and accents are ignored
    (``[[cafe]]`` finds the alias ``Café``), and punctuation too for titles."""
    name = link_name(target)
    return normalize.fold(name), normalize.title_key(name)


def words(text: str) -> str:
    """The words of ``text``, folded and cut as the FTS5 tokenizer cuts them, each between
    spaces (``" baker et al 2011 "``): an extra key's value, matched with ``LIKE``."""
    return " " + " ".join(_WORD.findall(normalize.fold(text))) + " "


def extra_text(value: Any) -> str:
    """The text of an extra key's value (lists and mappings flattened), one item a line."""
    if isinstance(value, Mapping):
        return "\n".join(extra_text(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return "\n".join(extra_text(v) for v in value)
    return "" if value is None else str(value)


def effective_year(paper: Paper) -> int | None:
    """The ``year`` key, else the year ``published`` (what ``year:`` and ``--year`` mean)."""
    if paper.year is None and paper.published and paper.published[:4].isdigit():
        return int(paper.published[:4])
    return paper.year


def outgoing(paper: Paper) -> tuple[str, ...]:
    """Link targets of a note: its ``related`` ids, then its wikilinks, each once."""
    return tuple(dict.fromkeys((*paper.related, *paper.links)))


# --------------------------------------------------------------------------- records


def record(paper: Paper) -> tuple[str, str]:
    """What the index keeps of ``paper``: its record (JSON, without the body), and its body."""
    data = paper.to_dict()
    body = data.pop("body")
    data["key_lines"] = dict(paper.key_lines)
    data["body_line"] = paper.body_line
    return json.dumps(data, ensure_ascii=False), body


def paper_of(data: object, body: object) -> Paper:
    """The paper in a stored record; :class:`IndexDamaged` when the record is not one
    papernotes wrote (a flipped bit, a changed byte: the index is never trusted)."""
    values = _record(data, body)
    try:
        return Paper.from_dict(values, strict=True)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise IndexDamaged("a stored record does not decode into a paper") from None


def json_of(data: object, body: object) -> str:
    """The paper in a stored record as the JSON text of its :meth:`Paper.to_dict` (checked as
    :func:`paper_of` checks it), without making a :class:`Paper` or encoding the record again:
    the record is that text without the body, and with the places of the keys after it (see
    :func:`record`), which are cut off. Five times faster, for streaming every note out."""
    values = _record(data, body)
    try:
        fields = as_dict(values)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise IndexDamaged("a stored record does not decode into a paper") from None
    assert type(data) is str  # checked by _record
    # the last top-level keys (checked): an earlier ', "key_lines": {' is in extra's value, a
    # later one cannot be (key_lines maps names to numbers, and JSON text escapes its quotes)
    places = data.rfind(', "key_lines": {')
    if places > 0 and list(values)[-3:] == ["key_lines", "body_line", "body"]:
        return f'{data[:places]}, "body": {_encode(body)}}}'
    return _encode(fields)  # a record written otherwise: the same text, the slow way


_encode = json.JSONEncoder(ensure_ascii=False).encode


def _record(data: object, body: object) -> dict[str, Any]:
    try:
        if type(data) is not str or type(body) is not str:
            raise ValueError
        values = json.loads(data)
        if type(values) is not dict or not {"key_lines", "body_line"} <= values.keys():
            raise ValueError
    except ValueError:
        raise IndexDamaged("a stored record does not decode into a paper") from None
    values["body"] = body
    return values


def terms_text(counts: Mapping[str, int]) -> str:
    """A note's words and their counts (:func:`.related.document`) as ``terms`` keeps them."""
    return " ".join(f"{word} {count:d}" for word, count in counts.items())


def terms_of(text: object) -> Counter[str]:
    """What :func:`terms_text` wrote, read back; damage when it is anything else."""
    if type(text) is not str:
        raise IndexDamaged("a note's stored words are not text")
    items = text.split()
    try:
        counts = Counter(dict(zip(items[::2], map(int, items[1::2]), strict=True)))
    except ValueError:
        raise IndexDamaged("a note's stored words do not decode") from None
    if any(n <= 0 for n in counts.values()):
        raise IndexDamaged("a note's stored words do not decode")
    return counts


def note_count(conn: sqlite3.Connection) -> int:
    """How many notes the index holds, as every write keeps it in meta (``SELECT count(*)``
    reads an index of 75,000 ids: ~3 ms); damage when it is not a count."""
    return _meta_count(conn, "notes", "notes")


def value_count(conn: sqlite3.Connection, facet: str) -> int:
    """How many values of ``facet`` the notes have (spellings that differ only in case or
    accents as one: rows of ``counts``), as every write keeps it in meta (counting the rows
    of 175,000 authors at 75,000 notes: ~19 ms); damage when it is not a count."""
    return _meta_count(conn, f"{facet} values", facet)


def _meta_count(conn: sqlite3.Connection, key: str, what: str) -> int:
    """The count meta keeps under ``key``; damage (of ``what``) when it is not a count."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    text = row[0] if row is not None else None
    if type(text) is not str or not (text.isascii() and text.isdigit()):
        raise IndexDamaged(f"the index does not count its {what}")
    return int(text)


def group(
    status: object, year: object, read: object, rating: object, arxiv: object, topic: bool
) -> str:
    """The key in ``summary`` of a note with these columns of ``papers`` and (``topic``) a
    topic or not: ``[status, year, month read, rated, with arXiv id, with a topic]``."""
    month = None if read is None else str(read)[:7]
    return json.dumps([status, year, month, rating is not None, arxiv is not None, topic])


def summary(conn: sqlite3.Connection) -> list[tuple[list[Any], int]]:
    """The groups of ``summary`` (see :func:`group`) and how many notes each has; a
    TypeError, which heals the index, for a row papernotes does not write."""
    out = []
    for key, notes in conn.execute("SELECT key, notes FROM summary"):
        try:
            status, year, month, rated, arxiv, topic = json.loads(key)
        except (ValueError, TypeError) as exc:
            raise TypeError("a stored group of notes is not one") from exc
        if (
            type(notes) is not int
            or notes <= 0
            or not (status is None or type(status) is str)
            or not (year is None or type(year) is int)
            or not (month is None or type(month) is str)
            or not all(type(flag) is bool for flag in (rated, arxiv, topic))
        ):
            raise TypeError("a stored group of notes is not one")
        out.append(([status, year, month, rated, arxiv, topic], notes))
    return out


@dataclass
class Pending:
    """What a batch of writes changed in the tables written once a batch (:func:`flush`): a
    row a word and a note, or a count a value and a note, would double a build's time."""

    words: Counter[str] = field(default_factory=Counter)  # notes added minus removed, a word
    notes: int = 0  # notes added minus removed (meta's notes)
    # the rows each (list field, folded value, spelling) gained, and the (field, folded) that
    # lost any: the values a batch touched; one only gained in the spelling most notes use is
    # counted on, not again
    gained: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    lost: set[tuple[str, str]] = field(default_factory=set)
    groups: Counter[str] = field(default_factory=Counter)  # notes added minus removed, a group
    keys: set[tuple[str, str]] = field(default_factory=set)  # (kind, value) of DUPLICABLE
    # a refresh of many notes: runs is rewritten whole at its end (write_runs), not a batch at
    # a time (which made a build of 75,000 notes 50% slower); meanwhile, readers of runs see
    # it marked stale and read counts instead
    deferred: bool = False
    # the watcher: the runs a batch changes are listed in dirty, for clean_runs
    lazy: bool = False


def flush(conn: sqlite3.Connection, pending: Pending) -> None:
    """Write what ``pending`` holds into ``words``, ``counts``, ``summary``, ``dupkeys`` and
    meta's ``notes`` and ``values``; clears it."""
    if pending.notes:
        notes = note_count(conn) + pending.notes
        if notes < 0:
            raise IndexDamaged("the index does not count its notes")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'notes'", (str(notes),))
        pending.notes = 0
    groups = [(key, n) for key, n in pending.groups.items() if n]
    pending.groups.clear()
    if groups:
        sql = "SELECT key, notes FROM summary WHERE key IN (SELECT value FROM json_each(?))"
        stored = dict(conn.execute(sql, (json.dumps([key for key, _ in groups]),)))
        kept = []
        for key, n in groups:
            notes = stored.get(key, 0)
            if type(notes) is not int or (key in stored and notes <= 0) or notes + n < 0:
                raise IndexDamaged("the index does not count its notes' groups")
            kept.append((key, notes + n))
        conn.executemany("DELETE FROM summary WHERE key = ?", [(k,) for k, n in kept if not n])
        conn.executemany(
            "INSERT OR REPLACE INTO summary(key, notes) VALUES (?, ?)", [r for r in kept if r[1]]
        )
    rows = [(term, n) for term, n in pending.words.items() if n]
    pending.words.clear()
    if rows:
        conn.executemany(
            "INSERT INTO words(term, docs) VALUES (?, ?) "
            "ON CONFLICT(term) DO UPDATE SET docs = docs + excluded.docs",
            rows,
        )
        if any(n < 0 for _, n in rows):
            conn.execute("DELETE FROM words WHERE docs <= 0")
    for name in FACETS:
        keys = sorted(
            {key for table, key, _ in pending.gained if table == name}
            | {key for table, key in pending.lost if table == name}
        )
        if not keys:
            continue
        stored = {} if pending.deferred else _stored_counts(conn, name, keys)
        before = {(key, notes, cell) for key, (_, notes, cell) in stored.items()}
        on = _counted_on(name, stored, pending)
        conn.executemany(
            "UPDATE counts SET notes = ? WHERE field = ? AND folded = ?",
            [(notes, name, key) for key, notes in on.items()],
        )
        again = [key for key in keys if key not in on]
        if again:
            _count_again(conn, name, again)
        if pending.deferred:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('runs', 'stale')")
            continue
        after = {
            (key, notes, cell) for key, (_, notes, cell) in _stored_counts(conn, name, keys).items()
        }
        changed = sorted({(n, part(key)) for key, n, _ in before ^ after})
        if pending.lazy:
            conn.executemany(
                "INSERT OR IGNORE INTO dirty(field, notes, part) VALUES (?, ?, ?)",
                [(name, *run) for run in changed],
            )
            continue
        for notes, first in changed:
            _write_run(conn, name, notes, first)
    pending.gained.clear()
    pending.lost.clear()
    for kind in DUPLICABLE:
        touched = json.dumps(sorted(value for k, value in pending.keys if k == kind))
        if touched == "[]":
            continue
        conn.execute(
            "DELETE FROM dupkeys WHERE kind = ? AND value IN (SELECT value FROM json_each(?))",
            (kind, touched),
        )
        conn.execute(
            "INSERT INTO dupkeys(kind, value) SELECT kind, value FROM keys "
            "WHERE kind = ? AND value IN (SELECT value FROM json_each(?)) "
            "GROUP BY kind, value HAVING count(*) > 1",
            (kind, touched),
        )
    pending.keys.clear()


def _counted_on(
    name: str, stored: dict[str, tuple[str, int, str]], pending: Pending
) -> dict[str, int]:
    """The new number of notes of each value of ``name`` that only gained notes, all in the
    spelling most notes already use (100 new notes tagged cs.LG): its count goes up by as
    many, where counting it again read every note that has it (25,049 for cs.CL at 74,728
    notes: ~25 ms a batch)."""
    spellings: dict[str, set[str]] = {}
    for (table, key, value), n in pending.gained.items():
        if table == name and n:
            spellings.setdefault(key, set()).add(value)
    on: dict[str, int] = {}
    for key, (shown, notes, _) in stored.items():
        if (name, key) not in pending.lost and spellings.get(key) == {shown}:
            on[key] = notes + pending.gained[(name, key, shown)]
    return on


def _stored_counts(
    conn: sqlite3.Connection, name: str, keys: list[str]
) -> dict[str, tuple[str, int, str]]:
    """The ``counts`` rows of these folded values of ``name``: (shown, notes, cell) by value;
    damage when one is not what papernotes writes."""
    rows = conn.execute(
        "SELECT folded, shown, notes, cell FROM counts "
        "WHERE field = ? AND folded IN (SELECT value FROM json_each(?))",
        (name, json.dumps(keys)),
    ).fetchall()
    out: dict[str, tuple[str, int, str]] = {}
    for key, shown, notes, cell in rows:
        if not (type(shown) is type(cell) is str and type(notes) is int and notes > 0):
            raise IndexDamaged("a stored count of a value is not one")
        out[key] = (shown, notes, cell)
    return out


def _count_again(conn: sqlite3.Connection, name: str, keys: list[str]) -> None:
    """Count the notes of these folded values of ``name`` anew, with the spelling most of
    them use, and keep meta's number of values of ``name`` up to date."""
    touched = json.dumps(keys)
    removed = conn.execute(
        "DELETE FROM counts WHERE field = ? AND folded IN (SELECT value FROM json_each(?))",
        (name, touched),
    ).rowcount
    counted = conn.execute(
        "SELECT folded, value, total FROM ("
        " SELECT folded, value, sum(n) OVER (PARTITION BY folded) AS total,"
        "  row_number() OVER (PARTITION BY folded ORDER BY n DESC, value) AS rank"
        f" FROM (SELECT folded, value, count(*) AS n FROM {name}"
        "  WHERE folded IN (SELECT value FROM json_each(?)) GROUP BY folded, value)"
        ") WHERE rank = 1",
        (touched,),
    ).fetchall()
    conn.executemany(
        "INSERT INTO counts(field, folded, shown, cell, notes) VALUES (?, ?, ?, ?, ?)",
        [(name, key, shown, cells.cell(shown), n) for key, shown, n in counted],
    )
    if len(counted) != removed:
        values = value_count(conn, name) + len(counted) - removed
        if values < 0:
            raise IndexDamaged(f"the index does not count its {name}")
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(values), f"{name} values"))


def runs_stale(conn: sqlite3.Connection) -> bool:
    """Whether ``runs`` waits for :func:`write_runs` (a refresh of many notes is under way,
    or was stopped) or for :func:`clean_runs` (the watcher applied changes)."""
    sql = "SELECT 1 FROM meta WHERE key = 'runs' UNION ALL SELECT 1 FROM dirty LIMIT 1"
    return conn.execute(sql).fetchone() is not None


def clean_runs(conn: sqlite3.Connection, most: int | None) -> bool:
    """Write ``most`` (None: all) of the runs listed in ``dirty`` (the whole table, when a
    refresh of many notes left it stale); whether some are left."""
    if conn.execute("SELECT 1 FROM meta WHERE key = 'runs'").fetchone() is not None:
        write_runs(conn)
        return False
    sql = "SELECT field, notes, part FROM dirty LIMIT ?"
    for name, notes, first in conn.execute(sql, (-1 if most is None else most,)).fetchall():
        _write_run(conn, name, notes, first)
        conn.execute(
            "DELETE FROM dirty WHERE field = ? AND notes = ? AND part = ?", (name, notes, first)
        )
    return conn.execute("SELECT 1 FROM dirty LIMIT 1").fetchone() is not None


def write_runs(conn: sqlite3.Connection) -> None:
    """Write the whole ``runs`` table from ``counts``, a run at a time (:func:`_write_run`:
    0.4-0.6 s for the 1,370 runs of 74,728 notes, once at the end of a large refresh)."""
    conn.execute("DELETE FROM runs")
    conn.execute("DELETE FROM dirty")
    rows = conn.execute("SELECT field, notes, folded FROM counts")
    for name, notes, first in sorted({(name, n, part(key)) for name, n, key in rows}):
        _write_run(conn, name, notes, first)
    conn.execute("DELETE FROM meta WHERE key = 'runs'")


def part(folded: str) -> str:
    """The part of the ``runs`` table a value is in (with its number of notes): the first
    character of its folded form ("" for an empty one)."""
    return folded[:1]


def _write_run(conn: sqlite3.Connection, name: str, notes: int, first: str) -> None:
    """Write the run of ``runs`` of the values of ``name`` with this many notes whose
    :func:`part` is ``first``: the range of ``counts_notes`` from ``first`` to the next
    character (in UTF-8, memcmp order is code point order), in its order."""
    conn.execute(
        "DELETE FROM runs WHERE field = ? AND notes = ? AND part = ?", (name, notes, first)
    )
    code = ord(first) if first else -1
    upper = None if code == 0x10FFFF else chr(code + (0x801 if code == 0xD7FF else 1))
    conn.execute(
        "INSERT INTO runs(field, notes, part, lines) "
        "SELECT field, notes, ?, group_concat(notes || char(9) || cell || char(10), '') "
        "FROM counts WHERE field = ? AND notes = ? AND folded >= ? AND (? IS NULL OR folded < ?) "
        "HAVING count(*) > 0",
        (first, name, notes, first, upper, upper),
    )


@dataclass(frozen=True)
class Rows:
    """Everything the index keeps of one paper, worked out from it alone (:func:`rows_of`):
    in the processes that parse notes, so that the one process writing the index only runs
    SQL."""

    paper: Paper
    columns: tuple[Any, ...]  # of the papers table, after its rowid
    data: str  # the record (see :func:`record`)
    line: str  # what list prints on a pipe (note.cells.line)
    body: str
    texts: tuple[str, ...]  # the FTS5 columns
    names: tuple[tuple[str, str], ...]  # (kind, folded value) for the keys table
    facets: tuple[
        tuple[str, tuple[tuple[int, str, str], ...]], ...
    ]  # (table, (pos, value, folded))
    links: tuple[tuple[int, str, str, str, bool, int], ...]
    extras: tuple[tuple[str, str, str], ...]  # (name, lower-case name, words)
    terms: Counter[str]  # related.document: kept in terms, each word counted in words


def rows_of(paper: Paper) -> Rows:
    """What :func:`insert_paper` writes for ``paper``."""
    from papernotes.engine.related import document  # not imported by commands that only read

    data, body = record(paper)
    extras = [(name, extra_text(value)) for name, value in paper.extra.items()]
    texts = (
        paper.title,
        "\n".join(paper.aliases),
        "\n".join(paper.authors),
        "\n".join(paper.topics),
        "\n".join(paper.tags),
        paper.venue or "",
        paper.org or "",
        paper.abstract or "",
        paper.body_text(),  # without the abstract section and the importers' sources
        "\n".join(text for _, text in extras),
    )
    targets = [*((t, True) for t in paper.related), *((t, False) for t in paper.links)]
    return Rows(
        paper=paper,
        columns=(
            paper.id,
            paper.path,
            paper.title,
            normalize.title_key(paper.title),
            effective_year(paper),
            paper.published,
            paper.read,
            paper.added,
            paper.arxiv,
            paper.doi,
            paper.status,
            paper.rating,
        ),
        data=data,
        line=cells.line(paper),
        body=body,
        texts=texts,
        names=tuple((kind, value) for kind, value in sorted(names(paper)) if value),
        facets=tuple(
            (
                name,  # each value once a note
                tuple(
                    (n, v, folded(name, v))
                    for n, v in enumerate(dict.fromkeys(getattr(paper, name)))
                ),
            )
            for name in FACETS
        ),
        links=tuple(
            (n, target, *link_keys(target), related, _line(paper, target, related))
            for n, (target, related) in enumerate(targets)
        ),
        extras=tuple((name, name.lower(), words(text)) for name, text in extras),
        terms=document(paper),
    )


def insert_paper(conn: sqlite3.Connection, rows: Rows, pending: Pending) -> int:
    """Write a paper's ``rows`` into every table; its rowid. Its words and values are added to
    ``pending``, written by :func:`flush` at the end of the batch."""
    cursor = conn.execute(
        "INSERT INTO papers(id, path, title, title_key, year, published, read, added, arxiv, "
        "doi, status, rating, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*rows.columns, rows.line),
    )
    rowid = cursor.lastrowid
    assert rowid is not None
    conn.execute(
        "INSERT INTO records(rowid, data, body) VALUES (?, ?, ?)", (rowid, rows.data, rows.body)
    )
    conn.execute(
        f"INSERT INTO fts(rowid, {', '.join(COLUMNS)}) VALUES (?{', ?' * len(COLUMNS)})",
        (rowid, *rows.texts),
    )
    conn.executemany(
        "INSERT INTO keys(kind, value, paper) VALUES (?, ?, ?)",
        [(kind, value, rowid) for kind, value in rows.names],
    )
    pending.keys.update(key for key in rows.names if key[0] in DUPLICABLE)
    for name, values in rows.facets:
        conn.executemany(
            f"INSERT INTO {name}(paper, pos, value, folded) VALUES (?, ?, ?, ?)",
            [(rowid, *value) for value in values],
        )
        pending.gained.update((name, key, value) for _, value, key in values)
        if name in SHELVED:  # two spellings of one value ("NLP", "nlp"): one row
            line = rows.line if len(rows.line) <= SHELF_LINE else None
            paper_id, _, _, title_key, year, _, read, added, *_, rating = rows.columns
            conn.executemany(
                "INSERT OR IGNORE INTO shelves(field, folded, title_key, id, paper, line, "
                "year, read, added, rating) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(name, key, title_key, paper_id, rowid, line, year, read, added, rating)
                 for _, _, key in values],
            )  # fmt: skip
    conn.executemany(
        "INSERT INTO links(paper, pos, target, key, title_key, related, line) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(rowid, *link) for link in rows.links],
    )
    conn.executemany(
        "INSERT INTO extras(paper, name, key, words) VALUES (?, ?, ?, ?)",
        [(rowid, *extra) for extra in rows.extras],
    )
    conn.execute("INSERT INTO terms(rowid, counts) VALUES (?, ?)", (rowid, terms_text(rows.terms)))
    pending.words.update(rows.terms.keys())
    pending.notes += 1
    _, _, _, _, year, _, read, _, arxiv, _, status, rating = rows.columns
    topic = any(values for name, values in rows.facets if name == "topics")
    pending.groups[group(status, year, read, rating, arxiv, topic)] += 1
    return rowid


def delete_paper(conn: sqlite3.Connection, rowid: int, pending: Pending) -> str:
    """Remove the paper ``rowid`` from every table; its id. Its words and values are taken
    into ``pending``, for :func:`flush`."""
    terms = conn.execute("DELETE FROM terms WHERE rowid = ? RETURNING counts", (rowid,)).fetchall()
    if not terms:
        raise IndexDamaged("a note it holds has no words")
    pending.words.subtract(terms_of(terms[0][0]).keys())
    pending.notes -= 1
    conn.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
    if conn.execute("DELETE FROM records WHERE rowid = ?", (rowid,)).rowcount != 1:
        raise IndexDamaged("a note it holds has no record")
    gone = conn.execute("DELETE FROM keys WHERE paper = ? RETURNING kind, value", (rowid,))
    pending.keys.update((str(k), str(v)) for k, v in gone if k in DUPLICABLE)
    for table in ("links", "extras"):
        conn.execute(f"DELETE FROM {table} WHERE paper = ?", (rowid,))
    gone_paper = conn.execute(
        "DELETE FROM papers WHERE rowid = ? "
        "RETURNING id, title_key, status, year, read, rating, arxiv",
        (rowid,),
    ).fetchall()
    if not gone_paper:
        raise IndexDamaged("a note it holds has no row in papers")
    ((paper_id, title_key, status, year, read, rating, arxiv),) = gone_paper
    for name in FACETS:
        gone = conn.execute(f"DELETE FROM {name} WHERE paper = ? RETURNING folded", (rowid,))
        keys = {key for (key,) in gone}
        pending.lost.update((name, key) for key in keys)
        if name == "topics":
            pending.groups[group(status, year, read, rating, arxiv, bool(keys))] -= 1
        if name in SHELVED:
            conn.executemany(
                "DELETE FROM shelves WHERE field = ? AND folded = ? AND title_key = ? AND id = ?",
                [(name, key, title_key, paper_id) for key in keys],
            )
    return str(paper_id)


def folded(field: str, value: str) -> str:
    """A value of a list field as filters and facets compare it (a tag without its ``#``)."""
    key = normalize.fold(value.strip())
    return key.lstrip("#") if field == "tags" else key


def names(paper: Paper) -> set[tuple[str, str]]:
    """The exact keys of ``paper``: ``(kind, folded value)``."""
    fold = normalize.fold
    found = {
        ("id", fold(paper.id)),
        ("file", fold(PurePosixPath(paper.path).stem)),
        ("title", normalize.title_key(paper.title)),
        *(("alias", fold(a)) for a in paper.aliases),
    }
    if paper.arxiv:
        found.add(("arxiv", paper.arxiv.lower()))
    if paper.doi:
        found.add(("doi", paper.doi.lower()))
    return found


def _line(paper: Paper, target: str, related: bool) -> int:
    """Where a link is written: the ``related`` key, or the body line of a wikilink."""
    if related:
        return paper.line_of("related")
    body = paper.body
    return paper.body_line + body.count("\n", 0, max(body.find(target), 0))


def kinds_sql(table: str = "keys") -> str:
    """How a key matched, as a rank: a note's id or file name first, then an alias, then a
    title (the precedence of link resolution)."""
    return f"CASE {table}.kind WHEN 'alias' THEN 1 WHEN 'title' THEN 2 ELSE 0 END"


def link_names(paper: Paper) -> Iterable[tuple[str, str]]:
    """What a link to ``paper`` can say, as ``(links column, folded value)``."""
    fold = normalize.fold
    yield "key", fold(paper.id)
    yield "key", fold(PurePosixPath(paper.path).stem if paper.path else paper.id)
    for alias in paper.aliases:
        yield "key", fold(alias)
    yield "title_key", normalize.title_key(paper.title)
