"""Shared pieces of the command line: opening the notes directory, the output switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from papernotes.disk.store import Store, open_store
from papernotes.errors import ConfigError
from papernotes.render import safe

if TYPE_CHECKING:
    from papernotes.engine.kb import KnowledgeBase

F = TypeVar("F", bound=Callable[..., Any])


def get_store(ctx: click.Context) -> Store:
    """The notes directory for this invocation (``--notes-dir``, env, or discovery)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    store = obj.get("store")
    if store is None:
        store = open_store(obj.get("notes_dir"))
        obj["store"] = store
        for notice in store.notices:  # a setting left out: once per command
            click.echo(safe(notice), err=True)  # it quotes papernotes.toml
    assert isinstance(store, Store)
    return store


def get_kb(ctx: click.Context, warn_skipped: bool = True) -> KnowledgeBase:
    """The knowledge base, its index brought up to date (a progress bar on a terminal for a
    large build), after one line on stderr for each notice of the index and (unless the
    command reports it itself) if some notes were skipped for errors."""
    from papernotes.engine.kb import open_kb
    from papernotes.render.index import progress_bar

    update, finish = progress_bar()  # drawn only on a terminal, for a large (re)build
    try:
        kb = open_kb(get_store(ctx), update)
    finally:
        finish()
    for notice in kb.notices:  # the index was rebuilt, or works from memory
        click.echo(safe(notice), err=True)  # it names a path that papernotes.toml may set
    shown = len(kb.notices)

    def later() -> None:  # a read that finds the index damaged heals it: said at the end
        for notice in kb.notices[shown:]:
            click.echo(safe(notice), err=True)

    ctx.call_on_close(later)
    if warn_skipped and kb.skipped:
        noun = "note" if kb.skipped == 1 else "notes"
        click.echo(f"{kb.skipped} {noun} skipped: run papernotes check", err=True)
    return kb


def format_option(*choices: str, default: str | None = None) -> Callable[[F], F]:
    """``--format`` with the given choices. The default is ``format`` in papernotes.toml when
    the command offers it, else ``default``, else the first choice."""
    fallback = default or choices[0]

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
        if value is not None:
            return value
        try:
            store = get_store(ctx)
        except ConfigError:
            return fallback  # the command itself reports a missing notes directory
        configured = store.setting("format")
        return configured if configured in choices else fallback

    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=None,
        callback=resolve,
        help=f"Output format [default: {fallback}, or format in papernotes.toml].",
    )
