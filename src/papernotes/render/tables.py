"""Tables of notes (``list``) and of values with counts (``tags``, ``topics``, ``authors``).

On a terminal: a rich table. On a pipe: one tab-separated line per row and no header (like
``gh``), so ``cut -f1`` and ``awk -F'\\t'`` work; ``--format json|csv|ids`` for the rest."""

from __future__ import annotations

import codecs
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import click

from papernotes.note import cells
from papernotes.note.model import Paper
from papernotes.render import print_data, print_json, print_json_list, safe

if TYPE_CHECKING:
    from rich.table import Table

    from papernotes.engine.selection import Listing
    from papernotes.engine.stats import Counts


def _surnames(paper: Paper) -> str:
    names = [cells.cell(a).split(" ")[-1] for a in paper.authors]
    if len(names) > 2:
        return f"{names[0]} et al."
    return " & ".join(names)


def print_papers(listing: Listing, fmt: str) -> int:
    """The notes of ``listing`` as a table (rich, or the tab-separated lines the index keeps),
    JSON, CSV or ids; a note at a time, except the rich table, which needs them all to size
    its columns. How many notes it printed (none: the rich table is not printed; JSON and
    CSV print an empty list)."""
    if fmt == "table" and not sys.stdout.isatty():
        return _print_lines(listing.lines())
    ids = listing.rowids()
    papers = listing.papers(ids)
    if fmt == "ids":
        for paper in papers:
            click.echo(safe(paper.id))
    elif fmt == "json":
        print_json_list({k: v for k, v in p.to_dict().items() if k != "body"} for p in papers)
    elif fmt == "csv":
        from papernotes.interop.export import chunks

        for chunk in chunks(papers, "csv"):
            print_data(chunk)
    else:
        shown = list(papers)
        if shown:
            _rich_papers(shown)
    return len(ids)


def _print_lines(chunks: Iterable[bytes]) -> int:
    """Lines of UTF-8 text on stdout, each chunk flushed as it comes (as click.echo does); how
    many. Written as they are on a UTF-8 stream, else through click.echo, as every other
    output (which writes UTF-8 to a stream that says it is ASCII)."""
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    if out is None or codecs.lookup(sys.stdout.encoding or "ascii").name != "utf-8":
        out = None
    printed = 0
    for chunk in chunks:
        printed += chunk.count(b"\n")
        if out is not None:
            out.write(chunk)
            out.flush()
        else:
            click.echo(chunk.decode("utf-8"), nl=False)
    return printed


def papers_table(papers: Sequence[Paper]) -> Table:
    """The rich table of ``list``: the title (with the id under it) gets the room; read notes
    are ticked."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False, expand=False)
    table.add_column("Year", style="dim", no_wrap=True, min_width=4)
    table.add_column("Title · id", ratio=1, min_width=24, overflow="fold")
    table.add_column("Authors", style="cyan", no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_column("Topics", style="green", overflow="fold", max_width=18)
    for paper in papers:
        row = cells.row(paper)
        title = Text()
        if paper.status == "read":
            title.append("✓ ", style="yellow")
        title.append(row[2], style="bold")
        title.append("\n" + row[0], style="dim")
        table.add_row(Text(row[1]), title, Text(_surnames(paper)), Text(row[4]))
    return table


def _rich_papers(papers: Sequence[Paper]) -> None:
    from papernotes.render import console

    console().print(papers_table(papers))


def print_counts(counts: Counts, label: str, fmt: str) -> int:
    """Values with the number of notes having them; how many values were printed."""
    if fmt == "table" and not sys.stdout.isatty():  # at once: 175,000 authors are 175,000 lines
        text = "".join(counts.lines())
        click.echo(text, nl=False)
        return text.count("\n")
    rows = counts.rows()
    if fmt == "json":
        print_json([{label: value, "notes": count} for value, count in rows])
    elif fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([label, "notes"])
        writer.writerows(rows)
        print_data(out.getvalue())
    else:
        from rich.table import Table
        from rich.text import Text

        from papernotes.render import console

        table = Table(box=None, header_style="bold", pad_edge=False)
        table.add_column("Notes", justify="right", style="yellow")
        table.add_column(label.capitalize())
        for value, count in rows:
            table.add_row(Text(str(count)), Text(cells.cell(value)))
        console().print(table)
    return len(rows)
