"""``papernotes related REF``: the notes most similar to one note, and why."""

from __future__ import annotations

import click

from papernotes.cli.common import format_option, get_kb
from papernotes.cli.complete import complete_ref


@click.command("related")
@click.argument("ref", shell_complete=complete_ref)
@click.option(
    "--limit", type=click.IntRange(min=1), default=10, show_default=True,
    help="How many notes to list.",
)  # fmt: skip
@format_option("text", "json", "ids")
@click.pass_context
def related_cmd(ctx: click.Context, ref: str, limit: int, fmt: str) -> None:
    """List the notes most similar to REF, with a score and the reasons.

    The score adds the TF-IDF cosine of title, abstract and body to shared topics, tags,
    authors and links; the reasons name them, with the distinctive words both notes use.
    REF is resolved as by `papernotes show`. Exit 1 when nothing is similar.

    \b
    Examples:
      papernotes related dpo
      papernotes related flame --limit 3 --format json
    """
    from papernotes.engine.neighbours import similar
    from papernotes.engine.resolve import resolve_in_kb
    from papernotes.errors import NotFound
    from papernotes.render.related import print_related

    kb = get_kb(ctx)
    target = resolve_in_kb(kb, ref)
    matches = similar(kb, target, limit)
    print_related(target, matches, fmt)
    if not matches:
        raise NotFound(f"no note is similar to {target.id}")
