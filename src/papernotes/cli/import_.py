"""``papernotes import``."""

from __future__ import annotations

from pathlib import Path

import click

from papernotes.cli.common import format_option, get_store
from papernotes.errors import EXIT_NOT_FOUND, UsageError
from papernotes.interop.importers import candidates_of, plan_import, read_source, run_import
from papernotes.render.imports import import_summary, print_import


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--dry-run", is_flag=True, help="Print what would be created and merged; write nothing."
)
@click.option(
    "--into",
    type=click.Path(file_okay=False),
    help="The notes directory to import into (default: the notes directory).",
)
@format_option("text", "json")
@click.pass_context
def import_cmd(
    ctx: click.Context, files: tuple[str, ...], dry_run: bool, into: str | None, fmt: str
) -> None:
    """Import papers from reading notes into the notes directory.

    Plain-text reading notes (.txt) are recognised by their layout: title lines with
    Authors/Abstract/Arxiv lines, reading sessions (`read on:`, lists of titles with URLs
    and abstracts), `[Alias] Title` lines, title/abstract pairs. A paper that already has a
    note (same arXiv id, DOI or title) is merged into it: only what the note lacks is added,
    nothing the note says is changed. Running the same import twice changes nothing.

    \b
    Examples:
      papernotes import reading-notes.txt
      papernotes import seeds/*.txt --dry-run
      papernotes import seeds/*.txt --into notes/
    """
    root = Path(into) if into else get_store(ctx).root
    if into and not dry_run:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--into {into}: cannot create it: {exc.strerror or exc}") from None
    sources = [read_source(Path(name), name) for name in files]
    if dry_run:
        plan, report = plan_import(candidates_of(sources), root), None
    else:
        plan, report = run_import(candidates_of(sources), root, _waiting)
    print_import(sources, plan, report, fmt)
    summary = import_summary(sources, plan, report)
    if summary["refused"] or summary["errors"]:
        ctx.exit(EXIT_NOT_FOUND)


def _waiting() -> None:
    click.echo("waiting for another import into this notes directory to finish...", err=True)
