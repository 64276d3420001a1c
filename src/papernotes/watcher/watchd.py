"""``papernotes watch``: a process that keeps the index of one notes folder fresh as its files
change, and vouches for it to commands (the way git's fsmonitor daemon and Watchman serve
``git status``).

It watches the folder (:class:`papernotes.watcher.watch.Watcher`), applies each batch of changes to
the index as it comes (:mod:`papernotes.watcher.watchapply`: debounced, one transaction per batch of
notes, the parser and writer of a refresh) and counts the batches in a token. A command asks
it over a Unix socket (:mod:`papernotes.engine.watchclient`); for each question it sets a barrier,
applies what is pending and answers with the index's write count. What it never does:
vouch while starting, restarting, lagging (a burst of more than :data:`LAG_PATHS` changes
being applied), after the kernel's queue overflowed or the watcher failed (until a full
refresh, which it then does at once), for an index that another process wrote meanwhile
(until it has checked every note again), or for a folder it cannot watch; then commands scan.

One per notes folder (a lock in the runtime folder); it exits by itself after ``idle``
seconds without a question, removes its socket and cookies, rebuilds an index that was
deleted or replaced, and never writes into the notes folder.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from papernotes.disk import notefiles
from papernotes.disk.store import Store
from papernotes.engine import watchclient
from papernotes.engine.index import Index
from papernotes.engine.indexing import _generation, refresh, write
from papernotes.engine.schema import clean_runs
from papernotes.engine.sqlerrors import is_damage
from papernotes.watcher import watchapply
from papernotes.watcher.watch import Batch, Watcher, local
from papernotes.watcher.watchsocket import AlreadyWatching, CannotWatch, Listener, identity

__all__ = ["AlreadyWatching", "CannotWatch", "Service", "refused"]

IDLE = 3600.0  # seconds without a question before the watcher exits (0: never)
LAG_PATHS = 500  # a batch this large is applied while commands scan for themselves
RETRY = 30.0  # seconds between attempts to watch again after the watcher could not
# after an overflow, seconds without another before every note is checked again: a program
# reading every note (rg) overflows the queue; a second or third pass would do it again, and
# commands, which scan meanwhile, get the processor to themselves
RESCAN_QUIET = 0.5
LOG_BATCHES = 1000  # batches remembered for "what changed since this token"
RUNS_STEP = 8  # runs of cells written at a time once nothing changes (a few ms each)
# seconds a command run by the watcher waits for the barrier while the watcher applies a
# batch (it is told so: papernotes.watcher.forkrun); other questions wait TIMEOUT (0.25 s)
APPLYING_WAIT = 3.0


class Service:
    """The watcher of ``store``'s notes folder (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        idle: float = IDLE,
        log: Callable[[str], None] = print,
        command: Callable[[], None] | None = None,
    ):
        self.store = store
        self.root = store.root
        self.idle = idle
        self.say = log
        self.base = watchclient.base_path(self.root)
        self.state = "starting"
        self.reason = "indexing the notes"
        self.epoch = os.urandom(4).hex()
        self.seq = 0
        self.history: deque[tuple[int, list[str]]] = deque(maxlen=LOG_BATCHES)
        self.generation: int | None = None
        self.started = time.time()
        self.last_question = time.monotonic()
        self.pending = 0  # paths seen and not applied yet
        self.applied = 0  # batches applied: a barrier that is late while this grows says "wait"
        self.runs_due = True  # runs of cells may wait to be written (schema.clean_runs)
        self.stopping = threading.Event()
        self.parent: int | None = None  # exit when this process is gone
        self.blind: str | None = None  # why a folder cannot be watched (never vouch)
        self.index: Index | None = None
        self.watcher: Watcher | None = None
        self.tap = True  # notify's debug output read for overflows (see papernotes.watcher.watch)
        self._cond = threading.Condition()
        self._reached: dict[str, int] = {}  # cookies whose batch was applied -> its paths
        self._rescan_due: float | None = None  # when to check every note (after an overflow)
        self._recent: set[str] = set()  # folders made since the last barrier
        # note files and folders whose names are not UTF-8 (for check), as of the last full
        # refresh or walk; watchfiles fails on such a name, and the watcher then refreshes
        self.undecodable: list[str] | None = None
        # held while this process works on the index: a command's child is forked only
        # between two pieces of that work (papernotes.watcher.forkrun)
        self.busy = threading.Lock()
        self.command = command  # the command line a child runs (None: commands run themselves)
        self.preload: Callable[[], None] | None = None  # imports done once for those children
        self.code = watchclient.code_stamp()  # which papernotes this is
        self.listener = Listener(self.base, self.answer, self._run if command else None)

    # ----------------------------------------------------------------- life

    def run(self) -> None:
        """Serve until stopped, idle or a fatal error; cleans up after itself."""
        try:
            self.open()
            self.serve_forever()
        finally:
            self.close()

    def open(self) -> None:
        """Take the folder's lock, listen on the socket (questions are answered "starting"
        from now on), watch, and index."""
        self.listener.open(self.root)
        self._start_watcher()
        with self.busy, watchclient.exempt():
            self._reopen("indexing the notes")
            if self.command is not None and self.preload is not None:
                self.preload()  # in no other thread: a child forked meanwhile could hang

    def serve_forever(self) -> None:
        while not self.stopping.is_set():
            if self.idle and time.monotonic() - self.last_question > self.idle:
                self.say(f"no question for {self.idle:g} s: exiting")
                return
            if self.parent is not None and os.getppid() != self.parent:
                self.say("the process it served is gone: exiting")
                return
            if self.watcher is None:
                self.stopping.wait(RETRY)
                with self.busy, watchclient.exempt():
                    if self._start_watcher() is not None:
                        self._reopen("watching again")
                continue
            # look at the changes every 1 ms while commands ask (a barrier takes two looks:
            # 4.0 ms, against 4.8 every 2 ms), less often when none has for a while (each
            # look wakes the process up)
            quiet = time.monotonic() - self.last_question
            step = 1 if quiet < 5 else 10 if quiet < 60 else 25
            wait = 250 if self._rescan_due is None else 50
            batch = self.watcher.collect(timeout_ms=wait, step_ms=step)
            try:
                with self.busy, watchclient.exempt():
                    if batch.paths or batch.rescan or self._rescan_due is not None:
                        self.runs_due = True
                    elif self.runs_due and not batch.cookies:
                        self._clean_runs()  # nothing changed since the last look
                    self._handle(batch)
            except Exception as exc:  # "busy" for a minute, a full disk: vouch again later
                self.say(f"cannot keep the index fresh ({exc}); trying again")
                self.generation = None
                self._set_state("restarting", f"an error: {exc}")
                self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.stopping.set()
        self._set_state("stopping", "exiting")
        self.listener.close()
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None
        if self.index is not None:
            with contextlib.suppress(sqlite3.Error):
                self.index.close()
            self.index = None

    # ----------------------------------------------------------------- changes

    def _handle(self, batch: Batch) -> None:
        """Apply one batch (or refresh everything), then release the barriers it carried."""
        assert self.index is not None
        if self.index.location is None:  # an index in memory: nothing to vouch for
            batch.paths.clear()
            batch.rescan = None
        if batch.cookies and self._recent:  # made since the last barrier: list them again
            batch.paths |= self._recent
            self._recent = set()
        try:
            if self._replaced():
                self._reopen("the index was deleted or replaced; rebuilding it")
            elif batch.rescan and "failed" in batch.rescan:
                self._restart_watcher(batch.rescan)
            elif batch.rescan or self._rescan_due is not None:
                due = self._rescan_due
                if batch.rescan:  # changes were lost: every note is checked, a little later
                    self._set_state("restarting", batch.rescan)
                    self.generation = None
                    due = self._rescan_due = time.monotonic() + RESCAN_QUIET
                if due is not None and time.monotonic() >= due:
                    self._rescan_due = None
                    self._full("the kernel's event queue overflowed")
            elif batch.paths:
                self._apply(batch)
            if self.index.location is None or self._rescan_due is not None:
                pass
            elif self.generation is None or _generation(self.index.conn) != self.generation:
                self._full("another process wrote to the index")  # it may have read an older note
        except sqlite3.Error as exc:
            if not is_damage(exc):
                raise
            self._reopen(f"the index was damaged ({exc}); rebuilding it")
        if batch.cookies:
            assert self.watcher is not None
            self.watcher.forget(batch.cookies)
            with self._cond:
                self._reached.update(dict.fromkeys(batch.cookies, len(batch.paths)))
                self._cond.notify_all()

    def _clean_runs(self) -> None:
        """Write a few of the runs of cells that the batches applied left to write
        (:func:`~papernotes.engine.schema.clean_runs`): one short transaction, so that a
        command waits for one step at most."""
        assert self.index is not None
        if self.index.location is None:
            self.runs_due = False
            return
        conn = self.index.conn
        (timeout,) = conn.execute("PRAGMA busy_timeout").fetchone()
        conn.execute("PRAGMA busy_timeout = 0")  # another writer: not now
        try:
            with write(conn):
                self.runs_due = clean_runs(conn, RUNS_STEP)
        except sqlite3.Error:
            pass  # busy, or damage, which the next batch's checks see to
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")

    def _apply(self, batch: Batch) -> None:
        assert self.index is not None
        conn = self.index.conn
        candidates, folders = watchapply.expand(conn, str(self.root), batch.paths, batch.deleted)
        self._recent |= folders
        if folders or self._under_undecodable(batch.deleted):
            # a folder's notes come and go without an event each: see its names again
            self.undecodable = notefiles.undecodable(self.root)
        mounted = [f for f in folders if not local(self.root / f)]
        if mounted:  # a network or FUSE file system mounted in the notes folder
            self.blind = f"{mounted[0]} is on a file system without events"
            self._serve()
            return
        if not candidates:
            return
        if self.generation is None or _generation(conn) != self.generation:
            self._full("another process wrote to the index")  # it may have read an older note
            return
        self.pending = len(candidates)
        lagging = len(candidates) > LAG_PATHS
        if lagging:
            self._set_state("lagging", f"applying {len(candidates)} changes")
        started = time.perf_counter()
        report, alone = watchapply.apply(conn, self.root, candidates)
        self.pending = 0
        self.applied += 1
        self.seq += 1
        self.history.append((self.seq, sorted(candidates)))
        if report.changed:
            ms = (time.perf_counter() - started) * 1000
            self.say(
                f"{report.added} added, {report.updated} updated, {report.removed} removed "
                f"in {ms:.0f} ms (token {self.token})"
            )
        if not alone:
            self._full("another process wrote to the index meanwhile")
            return
        self.generation = _generation(conn)
        if lagging:
            _trim()
            self._serve()

    def _full(self, why: str, state: str = "restarting") -> None:
        """Refresh from a scan of every note (as a command does) until a pass finds nothing
        to write and nobody else wrote meanwhile; then serve again (else try again later)."""
        assert self.index is not None
        conn = self.index.conn
        self._set_state(state, why)
        if state == "restarting":
            self.say(f"{why}: checking every note again")
        self.generation = None
        self.seq += 1
        self.history.clear()  # what changed before is no longer known path by path
        self._recent = set()
        for _ in range(3):
            before = _generation(conn)
            report = refresh(conn, self.root)
            self.undecodable = report.undecodable
            if report.changed:
                self.say(
                    f"{report.added} added, {report.updated} updated, {report.removed} removed"
                )
            if _generation(conn) == before:
                self.generation = before
                _trim()  # a full refresh holds every note's stat for a moment: give it back
                self._serve()
                return
        self._set_state("restarting", "other processes keep writing to the index")

    def _reopen(self, why: str) -> None:
        """Open the index anew (rebuilt when it is missing, damaged or stale), refresh it."""
        state = "restarting" if self.index is not None else "starting"
        self._set_state(state, why)
        if self.index is not None:
            with contextlib.suppress(sqlite3.Error):
                self.index.close()
            self.index = None
        self.generation = None
        index = Index.open(self.store)
        index._unpin()  # a rebuild leaves it pinned: this process writes
        for notice in index.notices:
            self.say(notice)
        if index.location is None:
            self.index = index
            self._set_state("unwatchable", "the index cannot be written")
            return
        self.index = index
        self._full(why, state)
        self.say(f"serving {self.root} ({index.count()} notes; index {index.location})")

    def _under_undecodable(self, deleted: set[str]) -> bool:
        """Whether a deleted path held a name that is not UTF-8 (a folder gone with it)."""
        known = self.undecodable
        return bool(known) and any(u.startswith(d + "/") for d in deleted for u in known or ())

    def _replaced(self) -> bool:
        assert self.index is not None
        location = self.index.location
        return location is not None and identity(str(location)) != self.index.identity

    def _start_watcher(self) -> Watcher | None:
        try:
            watcher = Watcher.start(self.root, tap=self.tap, cookies_in=watchclient.runtime_dir())
        except OSError as exc:
            if self.index is None:
                raise CannotWatch(f"cannot watch {self.root}: {exc}") from None
            watcher = None
            self._set_state("unwatchable", f"cannot watch ({exc}); trying again in {RETRY:g} s")
        if watcher is None and self.index is None:
            raise CannotWatch(
                f"cannot watch {self.root}: changes there are not reported to this machine "
                "(a network or FUSE file system, or not Linux); commands scan it"
            )
        if watcher is None:
            self._set_state("unwatchable", "a folder is on a file system without events")
        self.watcher = watcher
        return watcher

    def _restart_watcher(self, why: str) -> None:
        self._set_state("restarting", why)
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None
        if self._start_watcher() is not None:
            self._full(why)

    # ----------------------------------------------------------------- questions

    def _run(self, conn: Any, payload: str, fds: list[int]) -> None:
        """Run a command for a client in a child (:mod:`papernotes.watcher.forkrun`)."""
        from papernotes.watcher import forkrun

        assert self.command is not None
        forkrun.serve(self, conn, payload, fds, self.command)

    @property
    def token(self) -> str:
        return f"{self.epoch}:{self.seq}"

    def answer(self, request: str, on_wait: Callable[[], None] | None = None) -> dict[str, Any]:
        """The answer to one question (``sync [TOKEN]``, ``status``, ``stop``). ``on_wait``:
        called when a sync's barrier was not reached in time while this process is applying
        changes; the barrier is then given up to :data:`APPLYING_WAIT` seconds in all."""
        self.last_question = time.monotonic()
        words = request.split()
        op = words[0] if words else ""
        if op == "stop":
            self.stop()
            return {"state": "stopping", "pid": os.getpid()}
        if op not in ("sync", "status"):
            return {"state": "error", "reason": f"unknown question {op!r}"}
        waited, behind, cut_short = self._barrier(
            watchclient._timeout() if op == "sync" else 5.0, on_wait if op == "sync" else None
        )
        index = self.index
        location = index.location if index is not None else None
        identity = index.identity if index is not None else None
        with self._cond:
            reply: dict[str, Any] = {
                "state": cut_short or (self.state if waited else "lagging"),
                "reason": "the kernel's event queue overflowed"
                if cut_short
                else self.reason
                if waited
                else "the barrier was not reached in time",
                "root": os.fsdecode(self.root),
                "index": os.path.realpath(location) if location is not None else None,
                "identity": list(identity) if identity else None,
                "generation": self.generation,
                "token": self.token,
                "undecodable": self.undecodable,
                "pid": os.getpid(),
            }
            if reply["generation"] is None and reply["state"] == "serving":
                reply["state"] = "starting"
            if len(words) > 1:
                reply["changed"] = self._since(words[1])
        if op == "status":
            reply["behind"] = behind  # changes seen or queued, not applied, when asked
            reply["uptime"] = round(time.time() - self.started, 1)
            reply["idle"] = self.idle
        return reply

    def _barrier(
        self, timeout: float, on_wait: Callable[[], None] | None = None
    ) -> tuple[bool, int, str | None]:
        """Wait until every change made before now has been applied: whether it was in time
        (True also when there is nothing to wait for: the state says why it does not vouch),
        how many changed paths were applied on the way (how far behind it was), and the
        state to answer when the wait was cut short (an overflow seen meanwhile)."""
        watcher = self.watcher
        if watcher is None or self.state != "serving":
            return True, self.pending, None
        try:
            name = watcher.cookie()
        except OSError:
            return False, self.pending, None
        asked = time.monotonic()
        deadline = asked + timeout
        applied = self.applied
        with self._cond:
            while name not in self._reached:
                if self.state != "serving":  # another writer, say: it says so at once
                    return True, self.pending, None
                if watcher.overflowed():  # the pump has not got there yet: no need to wait
                    return True, self.pending, "restarting"
                now = time.monotonic()
                left = deadline - now
                if (
                    on_wait is not None
                    and now >= asked + timeout / 2
                    and (self.busy.locked() or self.applied != applied)
                ):
                    # applying changes (100 new notes: 0.3-3 s at 75,000, by the page cache),
                    # a batch now or one since the question (between two, collecting the
                    # next): waiting beats a scan of every note, which would write them too.
                    # Said at half the time: the command's own clock started before it asked
                    on_wait()
                    on_wait = None
                    deadline = asked + APPLYING_WAIT
                    continue
                if left <= 0 or self.stopping.is_set():
                    return False, self.pending, None
                self._cond.wait(min(left, 0.01))
            return True, self._reached.pop(name), None

    def _since(self, token: str) -> list[str] | None:
        """The note paths changed after ``token`` (None: not known, take everything)."""
        epoch, _, seq = token.partition(":")
        if epoch != self.epoch or not seq.isdigit():
            return None
        after = int(seq)
        if after == self.seq:
            return []
        if not self.history or self.history[0][0] > after + 1:
            return None
        return sorted({p for s, paths in self.history if s > after for p in paths})

    def _serve(self) -> None:
        """Serve again, unless a folder cannot be watched (until the watcher restarts)."""
        if self.blind:
            self._set_state("unwatchable", self.blind)
        else:
            self._set_state("serving", "")

    def _set_state(self, state: str, reason: str) -> None:
        with self._cond:
            self.state, self.reason = state, reason
            self._cond.notify_all()


def _trim() -> None:
    """Give the memory freed by a large piece of work back to the system (glibc keeps it)."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def refused(store: Store, why: str) -> None:
    """Remember that this folder cannot be watched (a command then does not start a watcher
    for it again for ten minutes)."""
    base = watchclient.base_path(store.root)
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(base), mode=0o700, exist_ok=True)
        Path(base + ".refused").write_text(why + "\n", encoding="utf-8")
