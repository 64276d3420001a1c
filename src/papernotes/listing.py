"""Choosing and ordering notes for ``list`` and ``export``: field filters, sort keys, and the
"did you mean" answer to a topic or tag nobody uses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from papernotes import normalize
from papernotes.errors import NotFound, UsageError
from papernotes.model import Paper

SORT_KEYS = ("title", "year", "read", "added", "rating")


@dataclass(frozen=True)
class Filters:
    """Every condition must hold. Topics, tags and authors: all the given ones."""

    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    years: tuple[int | None, int | None] | None = None
    read_since: str | None = None
    read_until: str | None = None
    status: str | None = None


def parse_years(text: str) -> tuple[int | None, int | None]:
    """``2023`` -> (2023, 2023); ``2020..2023`` or ``2020-2023``; ``2021..`` and ``..2019``."""
    match = re.fullmatch(r"\s*(\d{4})?\s*(\.\.|-)?\s*(\d{4})?\s*", text)
    if not match or not (match.group(1) or match.group(3)):
        raise UsageError(f"not a year or range: {text!r} (expected 2023, 2020..2023 or 2021..)")
    low = int(match.group(1)) if match.group(1) else None
    high = int(match.group(3)) if match.group(3) else None
    if not match.group(2):
        high = low
    if low is not None and high is not None and low > high:
        raise UsageError(f"empty year range: {text!r}")
    return low, high


def parse_day(text: str, *, end: bool) -> str:
    """A date bound as ``YYYY-MM-DD``: ``2024`` and ``2024-02`` become the first day of the
    period, or with ``end`` its last (``-31`` is fine: only compared as a string)."""
    value = text.strip()
    if re.fullmatch(r"\d{4}", value):
        return f"{value}-12-31" if end else f"{value}-01-01"
    try:
        day = normalize.date(value)
    except ValueError as exc:
        raise UsageError(f"{exc}") from None
    if len(day) == 7:
        return f"{day}-31" if end else f"{day}-01"
    return day


def _tag_matches(have: str, want: str) -> bool:
    """``ml`` matches ``ml`` and the nested tag ``ml/rl`` (Obsidian's convention)."""
    have, want = normalize.fold(have), normalize.fold(want.lstrip("#"))
    return have == want or have.startswith(want + "/")


def _read_span(paper: Paper) -> tuple[str, str] | None:
    if not paper.read:
        return None
    if len(paper.read) == 7:  # only the month is known
        return f"{paper.read}-01", f"{paper.read}-31"
    return paper.read, paper.read


def matches(paper: Paper, filters: Filters) -> bool:
    """Whether ``paper`` satisfies every condition of ``filters``."""
    for topic in filters.topics:
        if not any(normalize.fold(t) == normalize.fold(topic) for t in paper.topics):
            return False
    for tag in filters.tags:
        if not any(_tag_matches(t, tag) for t in paper.tags):
            return False
    for author in filters.authors:
        needle = normalize.fold(author.strip())
        if not any(needle in normalize.fold(a) for a in paper.authors):
            return False
    if filters.years is not None:
        low, high = filters.years
        if paper.year is None:
            return False
        if (low is not None and paper.year < low) or (high is not None and paper.year > high):
            return False
    if filters.read_since or filters.read_until:
        span = _read_span(paper)
        if span is None:
            return False
        if filters.read_since and span[1] < filters.read_since:
            return False
        if filters.read_until and span[0] > filters.read_until:
            return False
    return not (filters.status and paper.status != filters.status)


def select(papers: Iterable[Paper], filters: Filters) -> list[Paper]:
    return [p for p in papers if matches(p, filters)]


def known_values(papers: Iterable[Paper], field: str) -> list[str]:
    """Every distinct value of a list field (``topics``, ``tags``), first spelling kept."""
    seen: dict[str, str] = {}
    for paper in papers:
        for value in getattr(paper, field):
            seen.setdefault(normalize.fold(value), value)
    return sorted(seen.values(), key=normalize.fold)


def check_known(
    papers: Sequence[Paper], filters: Filters, taxonomy: dict[str, Sequence[str]] | None = None
) -> None:
    """Raise :class:`NotFound` with the closest known values for a topic or tag no note has
    (and the taxonomy in ``papernotes.toml`` does not list)."""
    from rapidfuzz import fuzz, process

    taxonomy = taxonomy or {}
    for field, label, wanted in (
        ("topics", "topic", filters.topics),
        ("tags", "tag", filters.tags),
    ):
        if not wanted:
            continue
        known = known_values(papers, field)
        for value in taxonomy.get(field, ()):
            if normalize.fold(value) not in {normalize.fold(k) for k in known}:
                known.append(value)
        for want in wanted:
            if field == "tags":
                found = any(_tag_matches(k, want) for k in known)
            else:
                found = any(normalize.fold(k) == normalize.fold(want) for k in known)
            if found:
                continue
            close = process.extract(
                normalize.fold(want),
                {k: normalize.fold(k) for k in known},
                scorer=fuzz.WRatio,
                limit=5,
                score_cutoff=60,
            )
            raise NotFound(f"no note has the {label} {want!r}", [c[2] for c in close])


def sort_papers(papers: Iterable[Paper], key: str = "title", reverse: bool = False) -> list[Paper]:
    """Sorted by ``key`` (one of :data:`SORT_KEYS`), ties by title then id; notes without a
    value for the key go last, reversed or not."""
    if key not in SORT_KEYS:
        raise UsageError(f"cannot sort by {key!r} (expected one of {', '.join(SORT_KEYS)})")
    ordered = sorted(papers, key=lambda p: (normalize.title_key(p.title), p.id))
    if key == "title":
        return ordered[::-1] if reverse else ordered
    have = [p for p in ordered if getattr(p, key) is not None]
    missing = [p for p in ordered if getattr(p, key) is None]
    return [*sorted(have, key=lambda p: getattr(p, key), reverse=reverse), *missing]
