"""``papernotes show REF``: one note, with its links, backlinks and related notes."""

from __future__ import annotations

from pathlib import Path

import click

from papernotes.cli.common import format_option, get_kb
from papernotes.cli.complete import complete_ref


@click.command("show")
@click.argument("ref", shell_complete=complete_ref)
@click.option("--raw", is_flag=True, help="Print the note file exactly as it is.")
@click.option("--no-pager", is_flag=True, help="Never page long output on a terminal.")
@click.option(
    "--related", "related_limit", type=click.IntRange(min=0), default=5, show_default=True,
    help="How many similar notes to list at the end.",
)  # fmt: skip
@format_option("text", "json")
@click.pass_context
def show_cmd(
    ctx: click.Context, ref: str, raw: bool, no_pager: bool, related_limit: int, fmt: str
) -> None:
    """Show a note: header, body, links, backlinks and related notes.

    REF is an id, an alias (case-insensitive), an arXiv id or URL, a DOI, a unique id prefix
    or words of the title. Several close matches are listed (exit 2); none: the nearest are
    suggested (exit 1).

    \b
    Examples:
      papernotes show flame
      papernotes show 2305.18290
      papernotes show "direct preference"
      papernotes show dpo --raw > dpo.md
      papernotes show dpo --format json | jq .tags
    """
    from papernotes.disk.notefiles import display_path
    from papernotes.engine.neighbours import connections
    from papernotes.engine.resolve import resolve_in_kb
    from papernotes.render.paper import print_paper, show_json

    kb = get_kb(ctx)
    paper = resolve_in_kb(kb, ref)
    path = kb.store.root / paper.path
    if raw:
        _print_raw(path)
        return
    conn = connections(kb, paper, related_limit)
    if fmt == "json":
        show_json(paper, conn)
    else:
        print_paper(paper, conn, display_path(path), use_pager=not no_pager)


def _print_raw(path: Path) -> None:
    """The file's bytes on a pipe; on a terminal, with control characters made visible."""
    import sys

    from papernotes.errors import PapernotesError
    from papernotes.render import safe

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PapernotesError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if sys.stdout.isatty():
        text = data.decode("utf-8", "replace").replace("\r\n", "\n")
        click.echo(safe(text), nl=False)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
