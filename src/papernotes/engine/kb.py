"""The knowledge base: a notes directory's valid papers, and how many notes were skipped.

Commands read papers through :func:`open_kb`, which first brings the persistent index up to
date (only new, changed and deleted notes are parsed; see :mod:`.index`) and then
serves papers from it, without parsing files. The read API over the index: search with
:func:`.search.search`; select, sort and page with :mod:`.selection`; a
reference with :func:`.resolve.resolve_in_kb`; links, backlinks and dangling links
with :mod:`.links`; similar notes with :mod:`.neighbours`; facets and
totals with :mod:`.stats`; per-file problems with :mod:`.check`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from papernotes.disk.store import Store
from papernotes.engine.index import Index, Progress, load
from papernotes.errors import Diagnostic
from papernotes.note.model import Paper


@dataclass
class KnowledgeBase:
    """The indexed notes of ``store``. Papers are loaded from the index on demand, all from
    the state it is in when this is made (what other processes write meanwhile is not seen:
    an id found by one query names the same note in the next)."""

    store: Store
    index: Index
    _problems: list[Diagnostic] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.index.renew()

    def papers(self, body: bool = True) -> list[Paper]:
        """Every note without errors, sorted by id. ``body=False`` loads faster and leaves
        ``Paper.body`` empty: for commands that only need the front matter. (Commands that
        list notes stream them instead: :mod:`.selection`.)"""
        return list(self.iter_papers(body=body))

    def iter_papers(self, body: bool = True) -> Iterator[Paper]:
        """Every note without errors, sorted by id, read a chunk at a time."""
        from papernotes.engine import selection

        return selection.papers(self, selection.rowids(self, sort="id"), body=body)

    def __len__(self) -> int:
        return self.index.count()

    def get(self, paper_id: str) -> Paper | None:
        """The paper with this exact id, or None."""
        found = self.get_many([paper_id])
        return found[0] if found else None

    def get_many(self, paper_ids: Iterable[str], body: bool = True) -> list[Paper]:
        """The papers with these ids, in this order (unknown ids left out)."""
        return self.index.papers(self.index.rowids(paper_ids), body=body)

    def lookup(self, kind: str, value: str) -> list[Paper]:
        """Papers whose ``kind`` (``id``, ``file``, ``alias``, ``title``, ``arxiv``, ``doi``)
        equals ``value``, compared the way the index folds it (case, accents; titles
        also ignore punctuation). For resolving references without loading every note."""
        from papernotes.note import normalize

        if kind == "title":
            key = normalize.title_key(value)
        elif kind in ("arxiv", "doi"):
            key = value.strip().lower()
        else:
            key = normalize.fold(value.strip())
        return self.index.papers(self.index.lookup(kind, key))

    def catch_up(self) -> None:
        """Read the notes as they are now: the index brought up to date again (a command that
        writes under the folder's lock then sees what another wrote while it waited)."""
        import sqlite3

        from papernotes.engine.index import failure

        try:
            self.index.refresh()
        except sqlite3.Error as exc:  # healed when the command opened it: not again now
            raise failure(self.index, exc) from None

    @property
    def problems(self) -> list[Diagnostic]:
        """Why notes were left out: one error per problem (``papernotes check`` says more)."""
        if self._problems is None:
            self._problems = self.index.problems()
        return self._problems

    @property
    def skipped(self) -> int:
        """Notes left out because they have errors."""
        return self.index.skipped()

    @property
    def notices(self) -> list[str]:
        """One-line messages about the index worth showing the user (it was rebuilt, ...)."""
        return self.index.notices


def open_kb(store: Store, progress: Progress | None = None) -> KnowledgeBase:
    """The knowledge base of ``store``, its index brought up to date first. ``progress`` is
    called as ``(done, total)`` while notes are being parsed."""
    return KnowledgeBase(store, load(store, progress))
