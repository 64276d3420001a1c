"""Shared pieces of the command line: opening the notes directory, the output switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from papernotes.store import Store, open_store

F = TypeVar("F", bound=Callable[..., Any])


def get_store(ctx: click.Context) -> Store:
    """The notes directory for this invocation (``--notes-dir``, env, or discovery)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    store = obj.get("store")
    if store is None:
        store = open_store(obj.get("notes_dir"))
        obj["store"] = store
    assert isinstance(store, Store)
    return store


def format_option(*choices: str, default: str | None = None) -> Callable[[F], F]:
    """``--format`` with the given choices (the first is the default)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default or choices[0],
        show_default=True,
        help="Output format.",
    )
