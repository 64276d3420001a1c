"""A knowledge base kept open by a long-running process (``papernotes mcp``).

Each command opens the index, brings it up to date and exits. A server answers many calls, so
it keeps one index open and brings it up to date before every call, as a command would: a
note edited in an editor meanwhile is seen by the next call. With ``watch`` (the default),
it starts a change watcher for the notes folder when none serves it (``papernotes watch``, as
its child: :func:`papernotes.watcher.watchrun.start_child`), so that a call skips the stat of every
note whenever the watcher vouches for the index (:mod:`papernotes.engine.watchclient`), and stats
them as before whenever it cannot. Calls are served one at a time (they come from worker
threads; the index is one connection)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import TypeVar

from papernotes.disk.store import Store
from papernotes.engine import watchclient
from papernotes.engine.index import Index, load
from papernotes.engine.kb import KnowledgeBase

T = TypeVar("T")


class LiveKnowledgeBase:
    """The notes of ``store``, refreshed before each :meth:`call`."""

    def __init__(self, store: Store, watch: bool = True, defer_watcher: bool = False) -> None:
        """With ``defer_watcher``, the watcher is started by :meth:`start_watcher` (by
        ``papernotes mcp`` once the SDK is imported: a Python starting beside that import
        slows it on two cores, and a client that leaves at once need not wait for it)."""
        self.store = store
        self._lock = threading.Lock()
        self._watch = watch
        self._child: subprocess.Popen[bytes] | None = None
        self._index: Index | None = None
        self._reported = 0  # notices of the index already handed out
        if not defer_watcher:
            self.start_watcher()

    def start_watcher(self) -> None:
        """Start a watcher of the notes as this process's child (``watch``), unless one
        serves them already."""
        if not self._watch:
            return
        from papernotes.watcher.watchrun import start_child

        with self._lock:
            if self._child is None:
                self._child = start_child(self.store)

    @property
    def watched(self) -> bool:
        """Whether the last refresh was vouched for by a watcher (else it stat'ed every note)."""
        return self._watch and watchclient.last_outcome == "vouched"

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
        from papernotes.engine import semantic

        semantic.serve()  # the optimised model, the vectors kept in memory
        with suppress(Exception):
            wanted, _ = self.call(_wants_model)
            if wanted:
                semantic.get_model(optimize=True).embed(["warm up"])  # the first is the slowest

    def close(self) -> None:
        with self._lock:
            if self._child is not None:
                from papernotes.watcher.watchrun import stop_child

                stop_child(self.store, self._child)
                self._child = None
            if self._index is not None:
                with suppress(sqlite3.Error):
                    self._index.close()
                self._index = None

    def _refreshed(self) -> KnowledgeBase:
        with self._asking():
            if self._index is None:
                self._index = load(self.store)
                self._reported = 0
            else:
                try:
                    self._index.refresh()  # skips the scan when a watcher vouches
                except sqlite3.Error:  # damaged, or unwritable: what opening anew handles
                    old, self._index = self._index, None
                    with suppress(sqlite3.Error):
                        old.close()
                    self._index = load(self.store)
                    self._reported = 0
        return KnowledgeBase(self.store, self._index)

    @contextlib.contextmanager
    def _asking(self) -> Iterator[None]:
        """Ask a watcher (``watch``), or scan without asking."""
        if self._watch:
            yield
            return
        with watchclient.exempt():
            yield


def _wants_model(kb: KnowledgeBase) -> bool:
    """Whether searches will embed their query: meaning is on, the model installed, and the
    notes have vectors or few enough to get them at the first search."""
    from papernotes.engine import semantic

    if not semantic.enabled(kb) or not semantic.available():
        return False
    return kb.index.count() <= semantic.AUTO_EMBED or semantic.status(kb).embedded > 0
