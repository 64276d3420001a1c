"""``papernotes index``."""

from __future__ import annotations

import click

from papernotes.cli.common import format_option, get_store


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Forget the index and index every note again.")
@click.option("--status", is_flag=True, help="Print counts, size and location; change nothing.")
@format_option("text", "json")
@click.pass_context
def index_cmd(ctx: click.Context, rebuild: bool, status: bool, fmt: str) -> None:
    """Bring the search index up to date (every command does so by itself).

    Only new, changed and deleted notes are parsed; notes are never written. The index is a
    cache: $PAPERNOTES_INDEX, else `index = "path"` in papernotes.toml, else a file under
    $XDG_CACHE_HOME/papernotes (~/.cache/papernotes). It rebuilds itself when damaged or
    made by another version; --rebuild forces that.

    \b
    Examples:
      papernotes index
      papernotes index --status
      papernotes index --rebuild
    """
    import time

    from papernotes.index import Index, load
    from papernotes.render.index import print_refresh, print_status, progress_bar

    if status and rebuild:
        raise click.UsageError("--status and --rebuild cannot be combined", ctx)
    store = get_store(ctx)
    started = time.perf_counter()
    if status:
        index = Index.open(store)
    else:
        update, finish = progress_bar()
        try:
            index = load(store, update, rebuild=rebuild)
        finally:
            finish()
    try:
        for notice in index.notices:
            click.echo(notice, err=True)
        if status:
            print_status(index.status(), fmt)
        else:
            assert index.report is not None
            elapsed = time.perf_counter() - started
            print_refresh(index.report, index.status(pending=False), elapsed, fmt)
    finally:
        index.close()
