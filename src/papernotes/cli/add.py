"""``papernotes add ARXIV...``: a note for a paper, fetched from the arXiv API."""

from __future__ import annotations

import click

from papernotes.cli.common import get_kb, get_store


@click.command("add")
@click.argument("refs", nargs=-1, required=True, metavar="ARXIV...")
@click.option("--tag", "tags", multiple=True, help="A tag for the note (repeatable).")
@click.option("--topic", "topics", multiple=True, help="A topic for the note (repeatable).")
@click.pass_context
def add_cmd(
    ctx: click.Context, refs: tuple[str, ...], tags: tuple[str, ...], topics: tuple[str, ...]
) -> None:
    """Add papers by arXiv id: fetch title, authors, abstract, dates and categories from the
    arXiv API and write a note for each.

    ARXIV is an id (2305.18290, arXiv:2305.18290v2, hep-th/9901001) or an arxiv.org abs/pdf
    URL. A paper that already has a note is reported, not added again; --tag and --topic are
    then added to that note. The API address is $PAPERNOTES_ARXIV_API, else `api` under
    [arxiv] in papernotes.toml (with `timeout`, in seconds). Offline, on a timeout or an HTTP
    error: one line on stderr and exit 1.

    \b
    Examples:
      papernotes add 2305.18290
      papernotes add https://arxiv.org/abs/2307.09288 --topic pretraining --tag llama
    """
    from papernotes.disk.notefiles import display_path
    from papernotes.interop.arxiv import add, settings
    from papernotes.render import safe

    store = get_store(ctx)
    api, timeout = settings(store.config)
    papers = get_kb(ctx).papers()
    results = add(store.root, refs, papers, tags=tags, topics=topics, api=api, timeout=timeout)
    failed = False
    for result in results:
        where = safe(display_path(result.path))
        title = safe(result.title)
        if result.kind == "created":
            click.echo(f"added {where}: {title}")
        elif result.kind == "merged":
            click.echo(f"already in {where}; added {safe('; '.join(result.added))}")
        elif result.kind == "unchanged":
            click.echo(f"already in {where}: {title}")
        else:
            failed = True
            click.echo(f"Error: arXiv:{result.arxiv}: {safe(result.reason)}", err=True)
    if failed:
        ctx.exit(1)
