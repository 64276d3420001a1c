"""Resolving ``related`` ids and ``[[wikilinks]]`` to notes, the way Obsidian does: by file
name (the id), then alias, then title, case-insensitively."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from papernotes.model import Paper


class LinkResolver:
    """Maps link targets to note ids."""

    def __init__(self, papers: Iterable[Paper], other_ids: Iterable[str] = ()) -> None:
        self._by_key: dict[str, str] = {}
        papers = list(papers)
        # later loops must not override earlier, stronger kinds of match
        for paper in papers:
            self._by_key.setdefault(paper.id.casefold(), paper.id)
            if paper.path:
                self._by_key.setdefault(Path(paper.path).stem.casefold(), paper.id)
        for paper in papers:
            for alias in paper.aliases:
                self._by_key.setdefault(alias.casefold(), paper.id)
        for other in other_ids:
            self._by_key.setdefault(other.casefold(), other)
        for paper in papers:
            self._by_key.setdefault(paper.title.casefold(), paper.id)

    def resolve(self, target: str) -> str | None:
        """The id of the note ``target`` points to, or None."""
        key = target.strip()
        if key.lower().endswith(".md"):
            key = key[:-3]
        key = key.rsplit("/", 1)[-1]
        return self._by_key.get(key.casefold())


def outgoing(paper: Paper) -> tuple[str, ...]:
    """Link targets of a note: its ``related`` ids, then its wikilinks, each once."""
    return tuple(dict.fromkeys((*paper.related, *paper.links)))
