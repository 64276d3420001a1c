"""Output of ``papernotes search``: a ranked list, JSON, CSV or ids.

The list is plain ``click`` output (styled on a terminal): a search must not pay for importing
rich. Note text goes through :func:`safe` and is never read as markup."""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import click

from papernotes.engine.search import Hit, SearchResult
from papernotes.render import print_data, print_json, safe, use_color


def print_results(result: SearchResult, fmt: str, explain: bool = False) -> None:
    """The hits of ``result`` as a ranked list, JSON, CSV or ids (stdout); a corrected query
    is announced on stderr."""
    if result.corrected is not None:
        click.echo(
            f'showing results for "{safe(result.corrected)}" (--exact to search as typed)',
            err=True,
        )
    if fmt == "ids":
        for hit in result.hits:
            click.echo(safe(hit.paper.id))
    elif fmt == "json":
        print_json([_record(rank, hit, explain) for rank, hit in enumerate(result.hits, 1)])
    elif fmt == "csv":
        _print_csv(result)
    else:
        _print_list(result, explain)


def _record(rank: int, hit: Hit, explain: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"rank": rank, "score": hit.score, **hit.paper.to_dict()}
    record["snippet"] = hit.snippet
    record["exact_match"] = hit.exact
    record["match"] = hit.match
    record["semantic"] = hit.semantic
    if explain:
        record["explain"] = [
            {"term": t.term, "score": t.score, "fields": list(t.fields)} for t in hit.explain or ()
        ]
    return record


def _print_csv(result: SearchResult) -> None:
    import csv
    import io

    from papernotes.interop.export import CSV_COLUMNS, csv_row

    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["rank", "score", *CSV_COLUMNS, "snippet"], lineterminator="\n"
    )
    writer.writeheader()
    for rank, hit in enumerate(result.hits, 1):
        writer.writerow(
            {"rank": rank, "score": hit.score, **csv_row(hit.paper), "snippet": hit.snippet}
        )
    print_data(out.getvalue())


def _print_list(result: SearchResult, explain: bool) -> None:
    color = use_color()
    width = columns()

    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    def echo(segments: Sequence[Segment], first: str = "    ", rest: str = "    ") -> None:
        for line in wrapped(segments, width, first, rest, style):
            click.echo(line)

    for rank, hit in enumerate(result.hits, 1):
        paper = hit.paper
        year = f" ({paper.year})" if paper.year else ""
        echo([(_line(paper.title), {"bold": True}), (year, {})], f"{rank:>2}. ")
        meta: list[Segment] = [(_line(paper.id), {"fg": "cyan"})]
        if paper.authors:
            names = ", ".join(_line(a) for a in paper.authors[:3])
            meta.append((" · " + names + (" et al." if len(paper.authors) > 3 else ""), {}))
        if paper.topics:
            meta.append((" · " + ", ".join(_line(t) for t in paper.topics), {}))
        if paper.tags:
            meta.append((" · " + " ".join(f"#{_line(t)}" for t in paper.tags), {}))
        echo(meta)
        if hit.snippet:
            echo(_highlighted(hit))
        if explain:
            for line in explanation(hit):
                echo([(line, {"dim": True})])
    last = footer(result)
    if last:
        click.echo(style(last, dim=True))


def cut_short(result: SearchResult) -> bool:
    """Whether ``--limit`` left out notes that have every word."""
    every = result.total if result.total is not None else len(result.hits) - result.partial
    return every > len(result.hits) - result.partial


def footer(result: SearchResult) -> str:
    """The last line of a ranked list: how many notes have every word, how many of those are
    shown, and how many shown notes were found another way; "" when all is on screen."""
    shown = len(result.hits)
    partial = result.partial
    every = result.total if result.total is not None else shown - partial
    more = " (--limit to see more)" if cut_short(result) else ""
    if not partial:
        return f"{shown} of {every} notes{more}" if more else ""
    other = "with some of them" if result.mode == "lexical" else "with some of them or by meaning"
    if not every:
        return f"no note has every word; {partial} {other}, best first"
    if more:
        return f"{shown - partial} of {every} notes with every word, {partial} {other}{more}"
    notes = "note has" if every == 1 else "notes have"
    return f"{every} {notes} every word; {partial} more {other}"


def _line(text: str) -> str:
    return safe(" ".join(text.split()))


def _highlighted(hit: Hit) -> list[Segment]:
    out: list[Segment] = []
    pos = 0
    for start, end in hit.highlights:
        out.append((safe(hit.snippet[pos:start]), {}))
        out.append((safe(hit.snippet[start:end]), {"bold": True, "fg": "yellow"}))
        pos = end
    out.append((safe(hit.snippet[pos:]), {}))
    return [segment for segment in out if segment[0]]


# -- fitting the terminal -------------------------------------------------------------------

Segment = tuple[str, dict[str, Any]]  # text made safe, and its click.style arguments
NARROWEST = 20  # columns of text a line keeps, however narrow the terminal
_WORDS = re.compile(r"\S+")


def columns() -> int | None:
    """The width to fit: the terminal's (``COLUMNS`` when set, as :func:`shutil.get_terminal_size`
    reads it); on a pipe ``COLUMNS`` if set, else None (lines as long as they are)."""
    import shutil

    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def cells(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(_cell(c) for c in text)


def _cell(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def wrapped(
    segments: Sequence[Segment],
    width: int | None,
    first: str,
    rest: str,
    style: Callable[..., str] = lambda text, **kwargs: text,
) -> list[str]:
    """The segments as lines of at most ``width`` columns, ``first`` before the first line and
    ``rest`` before the others, broken between words (a word longer than a line is cut), each
    piece in its segment's style. One line when ``width`` is None."""
    text = "".join(t for t, _ in segments)
    owner = [i for i, (t, _) in enumerate(segments) for _ in t]
    if width is None:
        ranges = [(0, len(text))]
    else:
        ranges = _lines(text, max(width - cells(rest), NARROWEST), cells(first) - cells(rest))
    out = []
    for number, (start, end) in enumerate(ranges):
        pieces, pos = [], start
        while pos < end:
            index = owner[pos]
            stop = pos
            while stop < end and owner[stop] == index:
                stop += 1
            kwargs = segments[index][1]
            pieces.append(style(text[pos:stop], **kwargs) if kwargs else text[pos:stop])
            pos = stop
        out.append((first if number == 0 else rest) + "".join(pieces))
    return out


def _lines(text: str, room: int, extra: int) -> list[tuple[int, int]]:
    """Where ``text`` breaks into lines of ``room`` columns (the first ``extra`` fewer):
    (start, end) of each, the spaces at a break left out."""
    lines: list[tuple[int, int]] = []
    limit = room - extra  # what is left on the line being filled
    start: int | None = None
    end = used = 0
    for word in _WORDS.finditer(text):
        pos, stop = word.span()
        size = cells(text[pos:stop])
        if start is not None:
            gap = cells(text[end:pos])
            if used + gap + size <= limit:
                used, end = used + gap + size, stop
                continue
            lines.append((start, end))
            start, limit = None, room
        while size > limit:  # a word longer than a line: cut it
            cut, taken = pos, 0
            while cut < stop and taken + _cell(text[cut]) <= limit:
                taken += _cell(text[cut])
                cut += 1
            cut = max(cut, pos + 1)
            lines.append((pos, cut))
            pos, limit = cut, room
            size = cells(text[pos:stop])
        if pos < stop:
            start, end, used = pos, stop, size
    if start is not None:
        lines.append((start, end))
    return lines or [(0, 0)]


def explanation(hit: Hit) -> list[str]:
    """Why ``hit`` is where it is, in a line or two."""
    lines = []
    found = {
        "all": "every word",
        "some": "some of the words, not all",
        "meaning": "meaning only: none of the words",
    }[hit.match]
    if hit.semantic is not None and hit.match != "meaning":
        found = f"words ({found}) and meaning"
    if hit.semantic is not None:
        found += f"; similarity {hit.semantic:.2f}"
    if hit.match != "all" or hit.semantic is not None:
        lines.append(f"found by {found}")
    if hit.exact:
        lines.append(f"first: exact {safe(hit.exact)} match")
    terms = hit.explain or ()
    if terms:
        parts = [f"{safe(t.term)} {t.score:.3g} [{', '.join(t.fields)}]" for t in terms]
        lines.append(f"score {hit.score:.3g} = " + " + ".join(parts))
    elif not hit.exact:
        lines.append("score 0: selected by its fields only")
    return lines
