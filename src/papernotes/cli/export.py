"""``papernotes export [QUERY]``: the selected notes as JSON, JSON Lines, CSV, BibTeX, CSL JSON
or a Markdown reading list."""

from __future__ import annotations

from typing import Any

import click

from papernotes.cli.common import format_option, get_kb
from papernotes.cli.list_ import checked_selection, filter_options

NEEDS_BODY = ("json", "jsonl", "bibtex", "csl-json")  # the others use the front matter only


@click.command("export")
@filter_options
@format_option("json", "jsonl", "csv", "bibtex", "csl-json", "markdown")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (replaced atomically; a FIFO or device is written into) instead "
    "of stdout.",
)  # fmt: skip
@click.pass_context
def export_cmd(ctx: click.Context, /, fmt: str, output: str | None, **filters: Any) -> None:
    """Export notes (all, or those matching QUERY and the filters), sorted by title.

    json: a list of whole notes (body included); jsonl: one note per line; csv: one row per
    note, lists joined by "; "; bibtex: @article/@misc entries with arXiv eprints; csl-json:
    CSL JSON for Zotero and pandoc (--citeproc); markdown: a reading list. Exit 1 when no note
    matches.

    \b
    Examples:
      papernotes export --format bibtex -o refs.bib
      papernotes export --format csl-json -o refs.json
      papernotes export --topic alignment --format markdown > reading-list.md
      papernotes export "year:2024" --format jsonl | jq -c '{id, title}'
    """
    from pathlib import Path

    from papernotes.cli.output import write_output
    from papernotes.engine.selection import json_texts, papers, rowids
    from papernotes.errors import NotFound
    from papernotes.interop.export import chunks, json_chunks

    kb = get_kb(ctx)
    ids = rowids(kb, checked_selection(kb, filters.pop("query"), filters))
    if not ids:
        raise NotFound("no notes match")
    if fmt in ("json", "jsonl"):  # every field as stored: no paper made
        text = json_chunks(json_texts(kb, ids), fmt)
    else:
        text = chunks(papers(kb, ids, body=fmt in NEEDS_BODY), fmt)
    if output is None:
        from papernotes.render import print_data

        pending: list[str] = []
        size = 0
        for chunk in text:  # written 64 kB at a time
            pending.append(chunk)
            size += len(chunk)
            if size >= 65536:
                print_data("".join(pending))
                pending, size = [], 0
        print_data("".join(pending))
        return
    write_output(Path(output), "".join(text), kb.store.root)
    noun = "note" if len(ids) == 1 else "notes"
    click.echo(f"{len(ids)} {noun} written to {output}", err=True)
