"""Shell completion of note ids, tags and topics (click's completion calls these on every TAB).

They must be cheap and must never fail: any problem gives no candidates rather than an error
in the middle of the user's command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from papernotes.disk.store import Store
    from papernotes.engine.kb import KnowledgeBase

MAX_ITEMS = 200


def _store(ctx: click.Context) -> Store | None:
    from papernotes.disk.store import open_store

    root = ctx.find_root()
    try:
        return open_store(root.params.get("notes_dir"))
    except Exception:
        return None


def _kb(ctx: click.Context) -> KnowledgeBase | None:
    from papernotes.engine.kb import open_kb

    store = _store(ctx)
    if store is None:
        return None
    try:
        return open_kb(store)
    except Exception:
        return None


def complete_ref(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Note ids starting with what was typed, each with its title as help (zsh, fish)."""
    kb = _kb(ctx)
    if kb is None:
        return []
    want = incomplete.casefold()
    items = [
        CompletionItem(row.id, help=_help(row.title))
        for row in kb.index.headlines()
        if row.id.casefold().startswith(want) and _typable(row.id)
    ]
    return items[:MAX_ITEMS]


def _typable(value: str) -> bool:
    """Whether ``value`` may be offered to the shell: a candidate is inserted into the
    command line and listed as it is, so one with a control character (an escape sequence
    in a downloaded note's id or tag) is not offered; it can still be typed."""
    from papernotes.render import safe

    return safe(value) == value


def _help(title: str) -> str:
    from papernotes.render import safe

    return safe(" ".join(title.split())[:70])


def _values(ctx: click.Context, field: str, incomplete: str) -> list[CompletionItem]:
    from papernotes.engine.stats import facet_counts

    kb = _kb(ctx)
    if kb is None:
        return []
    want = incomplete.casefold().lstrip("#")
    rows = facet_counts(kb, field)
    return [
        CompletionItem(value, help=f"{count} notes")
        for value, count in rows
        if value.casefold().startswith(want) and _typable(value)
    ][:MAX_ITEMS]


def complete_tag(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return _values(ctx, "tags", incomplete)


def complete_topic(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return _values(ctx, "topics", incomplete)
