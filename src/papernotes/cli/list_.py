"""``papernotes list [QUERY]``: a table of notes, filtered and sorted."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from papernotes.cli.common import format_option, get_kb
from papernotes.cli.complete import complete_tag, complete_topic
from papernotes.note.model import STATUSES

if TYPE_CHECKING:
    from papernotes.engine.kb import KnowledgeBase
    from papernotes.engine.selection import Selection

F = TypeVar("F", bound=Callable[..., Any])
SORT_KEYS = ("title", "year", "read", "added", "rating")  # papernotes.engine.selection.SORT_KEYS


def filter_options(func: F) -> F:
    """The selection options shared by ``list`` and ``export``."""
    options = [
        click.argument("query", nargs=-1),
        click.option(
            "--topic", "topics", multiple=True, shell_complete=complete_topic,
            help="Only notes with this topic (repeat: all of them).",
        ),
        click.option(
            "--tag", "tags", multiple=True, shell_complete=complete_tag,
            help="Only notes with this tag, or a tag nested under it (repeat: all of them).",
        ),
        click.option(
            "--author", "authors", multiple=True,
            help="Only notes with these words in an author's name, as author: finds them "
            "(any case or accents; rafail* for a prefix).",
        ),
        click.option("--year", help="A year (2023) or a range (2020..2023, 2021.., ..2019)."),
        click.option("--read-since", help="Read on or after this date (2024-02-01, 2024-02)."),
        click.option("--read-until", help="Read on or before this date."),
        click.option("--status", type=click.Choice(STATUSES), help="Only notes with this status."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def selection_of(query: tuple[str, ...], filters: dict[str, Any]) -> Selection:
    """The QUERY words and filter options of ``list`` and ``export`` as one selection."""
    from papernotes.engine.selection import Selection

    return Selection(
        query=" ".join(query),
        topics=tuple(filters.get("topics") or ()),
        tags=tuple(filters.get("tags") or ()),
        authors=tuple(filters.get("authors") or ()),
        year=filters.get("year"),
        read_since=filters.get("read_since"),
        read_until=filters.get("read_until"),
        status=filters.get("status"),
    )


def checked_selection(
    kb: KnowledgeBase, query: tuple[str, ...], filters: dict[str, Any]
) -> Selection:
    """The QUERY and every filter option as one selection (unknown topic or tag: NotFound
    with the closest known ones)."""
    from papernotes.engine.selection import check_known

    chosen = selection_of(query, filters)
    check_known(kb, chosen)
    return chosen


@click.command("list")
@filter_options
@click.option(
    "--sort", type=click.Choice(SORT_KEYS), default="title", show_default=True,
    help="Order of the notes (notes without the value go last).",
)  # fmt: skip
@click.option("--reverse", is_flag=True, help="Reverse the order.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many notes.")
@format_option("table", "json", "csv", "ids")
@click.pass_context
def list_cmd(
    ctx: click.Context, /, sort: str, reverse: bool, limit: int | None, fmt: str, **filters: Any
) -> None:
    """List notes, filtered by fields and by an optional search QUERY.

    QUERY uses the syntax of `papernotes search` (words, "phrases", -word, field:value); each
    option is its field (--topic X is topic:X, --read-since D is read:>=D).
    A table on a terminal; on a pipe, one tab-separated line per note: id, year, title,
    authors, topics, tags, status, rating, read date. Exit 1 when no note matches.

    \b
    Examples:
      papernotes list --topic alignment --sort year --reverse
      papernotes list --tag dpo --tag rlhf --format ids
      papernotes list --author rafailov --year 2023..2024
      papernotes list --read-since 2024-02 --status read --format csv > read.csv
      papernotes list "tag:dpo -survey"
    """
    from papernotes.engine.selection import Listing
    from papernotes.errors import NotFound
    from papernotes.render.tables import print_papers

    kb = get_kb(ctx)
    chosen = checked_selection(kb, filters.pop("query"), filters)
    if not print_papers(Listing(kb, chosen, sort, reverse, limit), fmt):
        raise NotFound("no notes match")
