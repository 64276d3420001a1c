"""Output of ``papernotes related``: similar notes with their score and reasons."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from papernotes.engine.related import Match
from papernotes.note.model import Paper
from papernotes.render import print_json, safe


def _title(paper: Paper) -> str:
    year = f" ({paper.year})" if paper.year else ""
    return safe(" ".join(paper.title.split())) + year


def related_lines(target: Paper, matches: Sequence[Match]) -> list[str]:
    lines = [f"Notes like {safe(target.id)}: {_title(target)}"]
    for m in matches:
        lines.append(f"{m.score:.2f}  {safe(m.paper.id)}  {_title(m.paper)}")
        lines += [f"      {safe(reason)}" for reason in m.reasons()]
    return lines


def print_related(target: Paper, matches: Sequence[Match], fmt: str) -> None:
    if fmt == "json":
        print_json(
            [
                {
                    "id": m.paper.id,
                    "title": m.paper.title,
                    "score": m.score,
                    "content": m.content,
                    "terms": list(m.terms),
                    "topics": list(m.topics),
                    "tags": list(m.tags),
                    "authors": list(m.authors),
                    "links": list(m.links),
                }
                for m in matches
            ]
        )
        return
    if fmt == "ids":
        for m in matches:
            click.echo(safe(m.paper.id))
        return
    if not matches:
        return  # the command says so on stderr
    if not sys.stdout.isatty():
        for line in related_lines(target, matches):
            click.echo(line)
        return
    from rich.table import Table
    from rich.text import Text

    from papernotes.render import console

    con = console()
    con.print(Text.assemble("Notes like ", (_title(target), "bold")))
    table = Table(box=None, header_style="bold", pad_edge=False, show_lines=False)
    table.add_column("Score", style="yellow", justify="right")
    table.add_column("Note", ratio=2, overflow="fold")
    table.add_column("Why", ratio=3, overflow="fold", style="dim")
    for m in matches:
        note = Text.assemble((_title(m.paper), "bold"), "\n", (safe(m.paper.id), "dim"))
        table.add_row(Text(f"{m.score:.2f}"), note, Text("\n".join(safe(r) for r in m.reasons())))
    con.print(table)
