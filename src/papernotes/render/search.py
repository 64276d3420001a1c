"""Output of ``papernotes search``: a ranked list, JSON, CSV or ids.

The list is plain ``click`` output (styled on a terminal): a search must not pay for importing
rich. Note text goes through :func:`safe` and is never read as markup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from papernotes.render import print_data, print_json, safe, use_color
from papernotes.search import Hit, SearchResult


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

    from papernotes.export import CSV_COLUMNS, csv_row

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

    def style(text: str, **kwargs: Any) -> str:
        return click.style(text, **kwargs) if color else text

    for rank, hit in enumerate(result.hits, 1):
        paper = hit.paper
        year = f" ({paper.year})" if paper.year else ""
        click.echo(f"{rank:>2}. {style(_line(paper.title), bold=True)}{year}")
        meta = [style(_line(paper.id), fg="cyan")]
        if paper.authors:
            names = ", ".join(_line(a) for a in paper.authors[:3])
            meta.append(names + (" et al." if len(paper.authors) > 3 else ""))
        if paper.topics:
            meta.append(", ".join(_line(t) for t in paper.topics))
        if paper.tags:
            meta.append(" ".join(f"#{_line(t)}" for t in paper.tags))
        click.echo("    " + " · ".join(meta))
        if hit.snippet:
            click.echo("    " + _highlighted(hit, style))
        if explain:
            for line in explanation(hit):
                click.echo("    " + style(line, dim=True))
    last = footer(result)
    if last:
        click.echo(style(last, dim=True))


def footer(result: SearchResult) -> str:
    """The last line of a ranked list: how many notes have every word, how many of those are
    shown, and how many shown notes were found another way; "" when all is on screen."""
    shown = len(result.hits)
    partial = result.partial
    every = result.total if result.total is not None else shown - partial
    more = " (--limit to see more)" if every > shown - partial else ""
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


def _highlighted(hit: Hit, style: Callable[..., str]) -> str:
    out, pos = [], 0
    for start, end in hit.highlights:
        out.append(safe(hit.snippet[pos:start]))
        out.append(style(safe(hit.snippet[start:end]), bold=True, fg="yellow"))
        pos = end
    out.append(safe(hit.snippet[pos:]))
    return "".join(out)


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
