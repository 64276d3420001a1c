"""``papernotes tags``, ``topics`` and ``authors``: values with the number of notes."""

from __future__ import annotations

import click

from papernotes.cli.common import format_option, get_kb

_EXAMPLES = {
    "tags": "papernotes tags\n  papernotes tags --sort name --format csv",
    "topics": "papernotes topics\n  papernotes topics --format json | jq '.[0]'",
    "authors": "papernotes authors --limit 10\n  papernotes authors --sort name",
}


def _facet_command(facet: str, label: str) -> click.Command:
    @click.command(facet)
    @click.option(
        "--sort", type=click.Choice(("count", "name")), default="count", show_default=True,
        help="Most used first, or alphabetical.",
    )  # fmt: skip
    @click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
    @format_option("table", "json", "csv")
    @click.pass_context
    def command(ctx: click.Context, sort: str, limit: int | None, fmt: str) -> None:
        from papernotes.engine.stats import Counts
        from papernotes.errors import NotFound
        from papernotes.render.tables import print_counts

        kb = get_kb(ctx)
        extra = kb.store.taxonomy().get(facet, ()) if facet != "authors" else ()
        if not print_counts(Counts(kb, facet, sort, tuple(extra), limit), label, fmt):
            raise NotFound(f"no {facet} in the notes")

    command.help = (
        f"List the {facet} used in the notes, with how many notes have each.\n\n"
        f"Spellings that differ only in case or accents count as one."
        + (" Topics and tags listed under [taxonomy] in papernotes.toml are shown even when no"
           " note has them yet." if facet != "authors" else "")
        + f"\n\n\\b\nExamples:\n  {_EXAMPLES[facet]}"
    )  # fmt: skip
    return command


tags_cmd = _facet_command("tags", "tag")
topics_cmd = _facet_command("topics", "topic")
authors_cmd = _facet_command("authors", "author")
