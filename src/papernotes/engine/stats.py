"""Counting, in SQL over the index: how often each tag, topic or author occurs
(:func:`facet_counts`), and the summary ``stats`` shows (:func:`compute`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING

from papernotes.engine.schema import runs_stale, summary, value_count
from papernotes.note.cells import cell
from papernotes.note.model import STATUSES
from papernotes.note.normalize import fold

if TYPE_CHECKING:
    import sqlite3

    from papernotes.engine.kb import KnowledgeBase

FACETS = ("tags", "topics", "authors")


def facet_counts(
    kb: KnowledgeBase, facet: str, sort: str = "count", extra: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """``(value, number of notes)`` for a list field: spellings that differ only in case or
    accents count as one, shown as most notes spell it; ``extra`` values (a taxonomy) appear
    with 0 when no note uses them. Most used first (ties by name), or by name."""
    if facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r}")
    rows = kb.index.facet(facet, by_name=sort == "name")  # (folded, shown, notes), in order
    added: dict[str, tuple[str, str, int]] = {}
    if extra:
        known = {key for key, _, _ in rows}
        for value in extra:
            key = fold(value)
            if key not in known:
                added.setdefault(key, (key, value, 0))
    if added:
        rows = sorted([*rows, *added.values()], key=itemgetter(0))
        if sort != "name":  # stable: by name within a count
            rows.sort(key=itemgetter(2), reverse=True)
    return [(shown, notes) for _, shown, notes in rows]


@dataclass(frozen=True)
class Counts:
    """What ``tags``, ``topics`` or ``authors`` lists (see :func:`facet_counts`), read from
    the index the way it is printed: as rows, or as the lines a pipe gets."""

    kb: KnowledgeBase
    facet: str
    sort: str = "count"
    extra: tuple[str, ...] = ()
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.facet not in FACETS:
            raise ValueError(f"unknown facet {self.facet!r}")

    def rows(self) -> list[tuple[str, int]]:
        """``(value, number of notes)``, in order."""
        rows = facet_counts(self.kb, self.facet, self.sort, self.extra)
        return rows[: self.limit] if self.limit else rows

    def lines(self) -> list[str]:
        """The rows as a pipe gets them, ``notes<TAB>value as a table cell`` a line each, in
        chunks of whole lines, as the index keeps them (``counts.cell``, and ``runs``:
        175,000 authors at 75,000 notes, most used first, are 1,177 rows, where a row each
        takes 250 ms); with a taxonomy, made from the rows."""
        if self.extra:
            return [f"{notes}\t{cell(value)}\n" for value, notes in self.rows()]
        chunks = self.kb.index.read(self._by_name if self.sort == "name" else self._by_count)
        if self.limit is None:
            return chunks
        out, left = [], self.limit
        for text in chunks:
            parts = text.split("\n", left)  # whole lines, then the rest ("" after the last)
            lines = parts[:left] if len(parts) > left else parts[:-1]
            out.append("".join(f"{line}\n" for line in lines))
            left -= len(lines)
            if not left:
                break
        return out

    def _by_count(self, conn: sqlite3.Connection) -> list[str]:
        if runs_stale(conn):  # a refresh of many notes rewrites it at its end
            sql = "SELECT notes, cell FROM counts WHERE field = ? ORDER BY notes DESC, folded"
            return _lines(conn.execute(sql, (self.facet,)).fetchall())
        sql = "SELECT notes, lines FROM runs WHERE field = ? ORDER BY notes DESC, part"
        rows = conn.execute(sql, (self.facet,)).fetchall()
        if any(type(n) is not int or type(text) is not str for n, text in rows):
            raise TypeError("a stored run of values is not one")  # damage: heals
        return [text for _, text in rows]

    def _by_name(self, conn: sqlite3.Connection) -> list[str]:
        sql = "SELECT notes, cell FROM counts WHERE field = ? ORDER BY folded"
        return _lines(conn.execute(sql, (self.facet,)).fetchall())


def _lines(rows: list[tuple[int, str]]) -> list[str]:
    """Rows of (number, cell) as one chunk of lines; a TypeError, which heals the index, for
    a value papernotes does not write."""
    if any(type(n) is not int or type(text) is not str for n, text in rows):
        raise TypeError("a stored count of a value is not one")
    return ["".join([f"{n}\t{text}\n" for n, text in rows])]


@dataclass(frozen=True)
class Stats:
    """What ``papernotes stats`` reports."""

    notes: int
    with_errors: int
    by_status: dict[str, int]
    by_year: list[tuple[int, int]]
    by_topic: list[tuple[str, int]]
    tags: int
    topics: int
    authors: int
    with_arxiv: int
    rated: int
    without_year: int = 0
    without_topic: int = 0
    read_by_month: list[tuple[str, int]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.by_status.get("read", 0)

    @property
    def unread(self) -> int:
        return self.notes - self.read

    def to_dict(self) -> dict[str, object]:
        return {
            "notes": self.notes,
            "with_errors": self.with_errors,
            "read": self.read,
            "unread": self.unread,
            "by_status": dict(self.by_status),
            "by_year": {str(y): n for y, n in self.by_year},
            "without_year": self.without_year,
            "by_topic": dict(self.by_topic),
            "without_topic": self.without_topic,
            "read_by_month": dict(self.read_by_month),
            "tags": self.tags,
            "topics": self.topics,
            "authors": self.authors,
            "with_arxiv": self.with_arxiv,
            "rated": self.rated,
        }


def compute(kb: KnowledgeBase) -> Stats:
    """The summary of a knowledge base (with how many notes were skipped for errors)."""

    def run(conn: sqlite3.Connection) -> Stats:
        # the groups every write keeps (schema.summary): every count below is a sum over them
        notes = with_arxiv = rated = with_topic = 0
        status: Counter[str] = Counter()
        by_year: Counter[int] = Counter()
        by_month: Counter[str] = Counter()
        for (state, year, month, has_rating, has_arxiv, has_topic), count in summary(conn):
            notes += count
            with_arxiv += count if has_arxiv else 0
            rated += count if has_rating else 0
            with_topic += count if has_topic else 0
            status["no status" if state is None else state] += count
            if year is not None:
                by_year[year] += count
            if month is not None:
                by_month[month] += count
        years, months = list(by_year.items()), list(by_month.items())
        without_topic = notes - with_topic
        tags, authors = value_count(conn, "tags"), value_count(conn, "authors")
        return Stats(
            notes=int(notes),
            with_errors=0,
            by_status={s: status[s] for s in (*STATUSES, "no status") if status.get(s)},
            by_year=sorted((int(str(y)), n) for y, n in years),
            by_topic=[],
            tags=int(tags),
            topics=0,
            authors=int(authors),
            with_arxiv=int(with_arxiv),
            rated=int(rated),
            without_year=int(notes) - sum(n for _, n in years),
            without_topic=int(without_topic),
            read_by_month=sorted((str(m), n) for m, n in months),
        )

    import dataclasses

    stats = kb.index.read(run)
    by_topic = facet_counts(kb, "topics")
    return dataclasses.replace(
        stats, with_errors=kb.skipped, by_topic=by_topic, topics=len(by_topic)
    )
