"""``papernotes edit REF`` (in the editor, then checked) and ``papernotes open REF`` (its web
page)."""

from __future__ import annotations

from pathlib import Path

import click

from papernotes.cli.common import get_kb
from papernotes.cli.complete import complete_ref


def edit_and_check(ctx: click.Context, path: Path) -> None:
    """Open ``path`` in the editor, wait, then report its problems (exit 1 on errors)."""
    from papernotes.edit.editor import edit
    from papernotes.engine.check import check, indexed_path
    from papernotes.errors import EXIT_NOT_FOUND
    from papernotes.render import safe

    edit(path)
    kb = get_kb(ctx, warn_skipped=False)  # the index brought up to date: this note parsed again
    rel = indexed_path(kb, path)
    report = check(kb, [rel]) if rel is not None else check(kb, [], [path])
    for diag in report.diagnostics:
        click.echo(safe(str(diag)), err=True)
    if report.failed():
        click.echo(f"{report.summary()}: fix the note and run papernotes check", err=True)
        ctx.exit(EXIT_NOT_FOUND)


@click.command("edit")
@click.argument("ref", shell_complete=complete_ref)
@click.pass_context
def edit_cmd(ctx: click.Context, ref: str) -> None:
    """Open a note in your editor, then check it.

    The editor is $VISUAL, else $EDITOR (never a setting of the notes folder); its value is
    split into words like a shell would and run directly, never through a shell. Exit 1 when the
    note has errors after editing.

    \b
    Examples:
      papernotes edit dpo
      EDITOR="code --wait" papernotes edit "direct preference"
    """
    from papernotes.engine.resolve import resolve_in_kb

    kb = get_kb(ctx)
    paper = resolve_in_kb(kb, ref)
    edit_and_check(ctx, kb.store.root / paper.path)


@click.command("open")
@click.argument("ref", shell_complete=complete_ref)
@click.option("--print", "print_only", is_flag=True, help="Print the address instead.")
@click.pass_context
def open_cmd(ctx: click.Context, ref: str, print_only: bool) -> None:
    """Open a paper's page in the web browser: its url, else its arXiv page, else its DOI.

    Only http and https addresses are opened.

    \b
    Examples:
      papernotes open dpo
      papernotes open flame --print
    """
    from papernotes.edit.editor import open_url
    from papernotes.engine.resolve import resolve_in_kb
    from papernotes.errors import NotFound
    from papernotes.note.model import paper_url
    from papernotes.render import safe

    paper = resolve_in_kb(get_kb(ctx), ref)
    url = paper_url(paper)
    if url is None:
        raise NotFound(f"{paper.id} has no url, arxiv or doi to open")
    if print_only:
        click.echo(safe(url))
        return
    open_url(url)
