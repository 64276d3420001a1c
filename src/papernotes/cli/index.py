"""``papernotes index``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from papernotes.cli.common import format_option, get_store
from papernotes.errors import Interrupted

if TYPE_CHECKING:
    from papernotes.disk.store import Store
    from papernotes.engine.index import Index


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Forget the index and index every note again.")
@click.option("--status", is_flag=True, help="Print counts, size and location; change nothing.")
@click.option(
    "--embed",
    is_flag=True,
    help="Also give every note a vector for search by meaning (resumable; Ctrl-C keeps "
    "what is done).",
)
@format_option("text", "json")
@click.pass_context
def index_cmd(ctx: click.Context, rebuild: bool, status: bool, embed: bool, fmt: str) -> None:
    """Bring the search index up to date (every command does so by itself).

    Only new, changed and deleted notes are parsed; notes are never written. The index is a
    cache: $PAPERNOTES_INDEX, else `index = "path"` in papernotes.toml, else a file under
    $XDG_CACHE_HOME/papernotes (~/.cache/papernotes). It rebuilds itself when damaged or
    made by another version; --rebuild forces that.

    --embed gives every note a vector (papernotes[semantic]; about 30 notes/s on two
    cores), so that search finds notes by meaning too; after that, every search keeps the
    vectors up to date. A collection of up to 200 notes gets them by itself.

    \b
    Examples:
      papernotes index
      papernotes index --status
      papernotes index --rebuild
      papernotes index --embed
    """
    import time

    from papernotes.engine.index import Index, load
    from papernotes.render import safe
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
    shown = len(index.notices)
    try:
        for notice in index.notices:
            click.echo(safe(notice), err=True)
        if status:
            from papernotes.engine.watchclient import status as watcher_status

            print_status(index.status(), fmt, watcher_status(store.root))
        else:
            assert index.report is not None
            elapsed = time.perf_counter() - started
            print_refresh(index.report, index.status(pending=False), elapsed, fmt)
        if embed or (status and fmt == "text"):
            _vectors(store, index, embed, fmt)
    finally:
        for notice in index.notices[shown:]:  # the index healed by a read: said at the end
            click.echo(safe(notice), err=True)
        index.close()


def _vectors(store: Store, index: Index, embed: bool, fmt: str) -> None:
    """``--embed``: embed the notes without a vector; ``--status``: how many have one."""
    from papernotes.engine import semantic
    from papernotes.engine.kb import KnowledgeBase
    from papernotes.render.index import progress_bar
    from papernotes.render.semantic import print_embedded, print_vector_status

    kb = KnowledgeBase(store, index)
    if not embed:
        if semantic.enabled(kb):
            print_vector_status(semantic.status(kb))
        return
    if not semantic.available():
        raise semantic.MissingModel("onnxruntime")
    update, finish = progress_bar("Embedding notes", minimum=20)
    try:
        done = semantic.embed_all(kb, update)
    except KeyboardInterrupt:
        finish()
        now = semantic.status(kb)
        raise Interrupted(
            f"interrupted: {now.embedded} of {now.notes} notes have a vector; "
            "run papernotes index --embed again to go on"
        ) from None
    finally:
        finish()
    print_embedded(done, semantic.status(kb), fmt)
