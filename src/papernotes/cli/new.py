"""``papernotes new TITLE``: write a new note from a template."""

from __future__ import annotations

import click

from papernotes.cli.common import get_kb, get_store
from papernotes.cli.complete import complete_tag, complete_topic


@click.command("new")
@click.argument("title", nargs=-1, required=True)
@click.option("--arxiv", help="arXiv id or URL (also fills url and year).")
@click.option("--author", "authors", multiple=True, help="An author (repeat for each).")
@click.option(
    "--tag", "tags", multiple=True, shell_complete=complete_tag, help="A tag (repeatable)."
)
@click.option(
    "--topic", "topics", multiple=True, shell_complete=complete_topic, help="A topic (repeatable)."
)
@click.option("--alias", "aliases", multiple=True, help="Another name, like DPO (repeatable).")
@click.option("--id", "note_id", help="The id and file name (default: a slug of the title).")
@click.option("--edit", is_flag=True, help="Open the new note in $VISUAL/$EDITOR, then check it.")
@click.pass_context
def new_cmd(
    ctx: click.Context,
    title: tuple[str, ...],
    arxiv: str | None,
    authors: tuple[str, ...],
    tags: tuple[str, ...],
    topics: tuple[str, ...],
    aliases: tuple[str, ...],
    note_id: str | None,
    edit: bool,
) -> None:
    """Write a new note for a paper and print its path.

    The note comes from template.md in the notes directory when there is one, else from the
    default template; {{title}}, {{id}}, {{date}}, {{arxiv}} and {{url}} are filled in. The
    file name is a slug of the title. An existing file, id or arXiv id is never overwritten
    (exit 1).

    \b
    Examples:
      papernotes new "Direct Preference Optimization" --arxiv 2305.18290 --alias DPO
      papernotes new "KTO: Model Alignment as Prospect Theoretic Optimization" \\
          --topic alignment --tag preference-optimization --edit
    """
    from papernotes.disk.notefiles import display_path
    from papernotes.edit.newnote import NewNote, create
    from papernotes.render import safe

    store = get_store(ctx)
    kb = get_kb(ctx)
    spec = NewNote(" ".join(title), note_id, arxiv, authors, tags, topics, aliases)
    _warn_outside_taxonomy(ctx, spec.topics, spec.tags)
    path = create(store, kb.lookup, spec, catch_up=kb.catch_up, on_wait=_waiting)
    click.echo(safe(display_path(path)))
    if edit:
        from papernotes.cli.edit import edit_and_check

        edit_and_check(ctx, path)


def _waiting() -> None:
    click.echo("waiting for another command writing into this notes directory...", err=True)


def _warn_outside_taxonomy(
    ctx: click.Context, topics: tuple[str, ...], tags: tuple[str, ...]
) -> None:
    from papernotes.note.normalize import fold

    taxonomy = get_store(ctx).taxonomy()
    for kind, given in (("topics", topics), ("tags", tags)):
        known = {fold(v) for v in taxonomy.get(kind, ())}
        if not known:
            continue
        for value in given:
            if fold(value.lstrip("#")) not in known:
                click.echo(
                    f"warning: {kind[:-1]} {value!r} is not in the taxonomy of papernotes.toml",
                    err=True,
                )
