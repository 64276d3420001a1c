"""Counting, in SQL over the index: how often each tag, topic or author occurs
(:func:`facet_counts`), and the summary ``stats`` shows (:func:`compute`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papernotes.model import STATUSES
from papernotes.normalize import fold

if TYPE_CHECKING:
    import sqlite3

    from papernotes.kb import KnowledgeBase

FACETS = ("tags", "topics", "authors")


def facet_counts(
    kb: KnowledgeBase, facet: str, sort: str = "count", extra: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """``(value, number of notes)`` for a list field (see :func:`merge_counts`)."""
    if facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r}")
    return merge_counts(kb.index.facet(facet), sort, extra)


def merge_counts(
    counts: Iterable[tuple[str, int]], sort: str = "count", extra: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Counts of values, with spellings differing only in case or accents counted as one and
    shown as most notes spell it. ``extra`` values (a taxonomy) appear with 0 when no note
    uses them. Most used first (ties by name), or by name."""
    notes: dict[str, int] = {}
    spellings: dict[str, dict[str, int]] = {}
    for value, count in counts:
        key = fold(value)
        notes[key] = notes.get(key, 0) + count
        spellings.setdefault(key, {})[value] = count
    for value in extra:
        spellings.setdefault(fold(value), {value: 0})
    rows = [(max(seen, key=seen.__getitem__), notes.get(k, 0)) for k, seen in spellings.items()]
    if sort == "name":
        return sorted(rows, key=lambda r: (fold(r[0]), r[0]))
    return sorted(rows, key=lambda r: (-r[1], fold(r[0]), r[0]))


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
        def rows(sql: str) -> list[tuple[object, int]]:
            return [(key, int(n)) for key, n in conn.execute(sql)]

        (notes, with_arxiv, rated), *_ = conn.execute(
            "SELECT count(*), count(arxiv), count(rating) FROM papers"
        )
        status = dict(rows("SELECT coalesce(status, 'no status'), count(*) FROM papers GROUP BY 1"))
        years = rows("SELECT year, count(*) FROM papers WHERE year IS NOT NULL GROUP BY year")
        months = rows(
            "SELECT substr(read, 1, 7), count(*) FROM papers WHERE read IS NOT NULL GROUP BY 1"
        )
        (without_topic,) = conn.execute(
            "SELECT count(*) FROM papers WHERE rowid NOT IN (SELECT paper FROM topics)"
        ).fetchone()
        (tags,) = conn.execute("SELECT count(DISTINCT folded) FROM tags").fetchone()
        (authors,) = conn.execute("SELECT count(DISTINCT folded) FROM authors").fetchone()
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
