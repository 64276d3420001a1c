"""``papernotes stats``: totals and bar charts of the knowledge base."""

from __future__ import annotations

import click

from papernotes.cli.common import format_option, get_kb


@click.command("stats")
@format_option("text", "json")
@click.pass_context
def stats_cmd(ctx: click.Context, fmt: str) -> None:
    """Show totals: notes, read and unread, notes per year, per topic and read per month,
    and how many notes have errors.

    \b
    Examples:
      papernotes stats
      papernotes stats --format json | jq .by_year
    """
    from papernotes.engine.stats import compute
    from papernotes.render.stats import print_stats

    kb = get_kb(ctx, warn_skipped=False)  # the count of notes with errors is in the report
    print_stats(compute(kb), fmt)
