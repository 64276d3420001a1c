"""Counting: how often each tag, topic or author occurs, and the summary ``stats`` shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from papernotes.model import STATUSES, Paper
from papernotes.normalize import fold

FACETS = ("tags", "topics", "authors")


def facet_counts(
    papers: Iterable[Paper], facet: str, sort: str = "count", extra: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """``(value, number of notes)`` for a list field (see :func:`merge_counts`)."""
    if facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r}")
    counts: Counter[str] = Counter()
    for paper in papers:
        counts.update(list(dict.fromkeys(getattr(paper, facet))))
    return merge_counts(counts.items(), sort, extra)


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


def compute(papers: Sequence[Paper], with_errors: int = 0) -> Stats:
    """The summary of a knowledge base; ``with_errors`` is how many notes were skipped."""
    status: Counter[str] = Counter(p.status or "no status" for p in papers)
    by_status = {s: status[s] for s in (*STATUSES, "no status") if status[s]}
    years = Counter(p.year for p in papers if p.year is not None)
    months = Counter(p.read[:7] for p in papers if p.read)
    by_topic = facet_counts(papers, "topics")
    return Stats(
        notes=len(papers),
        with_errors=with_errors,
        by_status=by_status,
        by_year=sorted(years.items()),
        by_topic=by_topic,
        tags=_distinct(papers, "tags"),
        topics=len(by_topic),
        authors=_distinct(papers, "authors"),
        with_arxiv=sum(1 for p in papers if p.arxiv),
        rated=sum(1 for p in papers if p.rating is not None),
        without_year=sum(1 for p in papers if p.year is None),
        without_topic=sum(1 for p in papers if not p.topics),
        read_by_month=sorted(months.items()),
    )


def _distinct(papers: Iterable[Paper], field: str) -> int:
    """How many different values (case and accents ignored) a list field has."""
    return len({fold(v) for p in papers for v in getattr(p, field)})
