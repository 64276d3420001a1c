"""A knowledge base kept open by a long-running process (``papernotes mcp``).

Each command opens the index, brings it up to date and exits. A server answers many calls, so
it keeps one index open and brings it up to date before every call, as a command would: a
note edited in an editor meanwhile is seen by the next call. Where the kernel reports changes
(:mod:`papernotes.watch`), a call made when nothing changed skips the stat of every note. Calls
are served one at a time (they come from worker threads; the index is one connection)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

from papernotes.index import Index, load
from papernotes.kb import KnowledgeBase
from papernotes.store import Store
from papernotes.watch import Watcher

T = TypeVar("T")


class LiveKnowledgeBase:
    """The notes of ``store``, refreshed before each :meth:`call`."""

    def __init__(self, store: Store, watch: bool = True) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._watcher = Watcher.start(store.root) if watch else None  # before the first refresh
        self._index: Index | None = None
        self._stale = True
        self._reported = 0  # notices of the index already handed out

    @property
    def watched(self) -> bool:
        """Whether changes are reported by the kernel (else every call stats every note)."""
        return self._watcher is not None

    def call(self, work: Callable[[KnowledgeBase], T]) -> tuple[T, list[str]]:
        """``work`` on the up-to-date knowledge base, and the index's new notices (it was
        rebuilt, works from memory, ...). One call at a time."""
        with self._lock:
            kb = self._refreshed()
            result = work(kb)
            notices = kb.notices[self._reported :]
            self._reported = len(kb.notices)
            return result, notices

    def warm(self) -> None:
        """Bring the index up to date now, as the first call would (for a thread started
        while the server starts; a failure is left for the first call to report)."""
        with suppress(Exception):
            self.call(lambda kb: None)

    def load_model(self) -> None:
        """Load the model that searches by meaning, if searches will use it, so that the first
        such search does not wait for it. Outside the lock: a call by words does not wait
        either. A failure is left for the first search that needs the model to report."""
        from papernotes import semantic

        semantic.serve()  # the optimised model, the vectors kept in memory
        with suppress(Exception):
            wanted, _ = self.call(_wants_model)
            if wanted:
                semantic.get_model(optimize=True).embed(["warm up"])  # the first is the slowest

    def close(self) -> None:
        with self._lock:
            if self._watcher is not None:
                self._watcher.close()
            if self._index is not None:
                with suppress(sqlite3.Error):
                    self._index.close()
                self._index = None

    def _refreshed(self) -> KnowledgeBase:
        changed = self._watcher is None or self._watcher.changed()
        if self._index is None:
            self._index = load(self.store)
            self._reported = 0
        elif changed or self._stale:
            try:
                self._index.refresh()
            except sqlite3.Error:  # damaged, or unwritable: what opening anew handles
                old, self._index = self._index, None
                with suppress(sqlite3.Error):
                    old.close()
                self._index = load(self.store)
                self._reported = 0
        self._stale = False
        return KnowledgeBase(self.store, self._index)


def _wants_model(kb: KnowledgeBase) -> bool:
    """Whether searches will embed their query: meaning is on, the model installed, and the
    notes have vectors or few enough to get them at the first search."""
    from papernotes import semantic

    if not semantic.enabled(kb) or not semantic.available():
        return False
    return kb.index.count() <= semantic.AUTO_EMBED or semantic.status(kb).embedded > 0
