"""Stat-ing every note, fast: what the index compares to see new, edited and deleted notes.

An in-place edit changes neither the folder's mtime nor the list of names, so every note is
stat'ed by every command. A stat costs about 3 µs a file from Python on the benchmark machine
(half of it the system call), which at 75,000 notes is more than the rest of a search; threads
do not help (the GIL serialises the Python around each call: bench/stat_strategies.py). So:

- from PARALLEL_STAT_MIN notes on, a forked child stats half of them and sends its half back
  marshalled; the digest is computed from the bytes, which are unmarshalled only when the
  digest differs from the one the index remembers (:class:`Scan`);
- the console script calls :func:`prefetch` before it imports click and the command (some
  50 ms): a child walks and stats the notes meanwhile; when the command gets to its scan, it
  takes half of what is left (:func:`scan` picks the work up).
"""

from __future__ import annotations

import marshal
import mmap
import os
import sys
import time

from papernotes.disk.notefiles import Snapshot, walk

TYPE_CHECKING = False  # not typing's: see below
if TYPE_CHECKING:
    from collections.abc import Callable

# Only os, marshal, mmap (and time, loaded with the interpreter) at run time: the console script
# imports this module before it forks the prefetching child, and every millisecond before the
# fork is one the child loses.
Root = str | os.PathLike[str]

PARALLEL_STAT_MIN = 2000  # notes: below this, forking costs more than it saves
PREFETCH_BYTES = 64 << 20  # shared memory for what the prefetching child hands over


class Scan:
    """The stats of the notes (see :func:`scan`): their digest at once, the mapping on demand
    (a forked child's part stays marshalled until it is asked for). ``started_ns``: the clock
    before the first stat (a note changed since then may change again unseen: see
    :mod:`papernotes.engine.indexing`)."""

    def __init__(
        self,
        parts: list[Snapshot | bytes],
        started_ns: int = 0,
        undecodable: list[str] | None = None,
    ) -> None:
        from papernotes.disk.digest import blake2b

        self._parts = parts
        self.started_ns = started_ns
        # note files and folders passed over, their names not UTF-8 (for check), in no order
        self.undecodable = undecodable
        # the hash of marshal.dumps(self.snapshot(), 2): format 2 has no back-references,
        # so a dict's bytes are "{", its items' bytes in order, and "0"
        digest = blake2b(b"{", digest_size=20)
        for part in parts:
            data = part if isinstance(part, bytes) else marshal.dumps(part, 2)
            digest.update(memoryview(data)[1:-1])
        digest.update(b"0")
        self.digest = digest.hexdigest()

    def snapshot(self) -> Snapshot:
        out: Snapshot = {}
        for part in self._parts:
            out.update(marshal.loads(part) if isinstance(part, bytes) else part)
        return out


def snapshot(root: Root) -> Snapshot:
    """Every note under ``root`` (as :func:`papernotes.disk.store.iter_notes` finds them) ->
    ``(size, mtime_ns, ctime_ns, inode)``, keyed by the path relative to ``root`` with ``/``.
    One ``stat`` per note; notes that vanish meanwhile are left out."""
    return scan(root).snapshot()


def scan(root: Root) -> Scan:
    """Stat every note under ``root`` (see :func:`snapshot`); the same digest whichever way."""
    prefetched = _take_prefetch(root)
    if prefetched is not None:
        return prefetched
    started = time.time_ns()
    unnamed: list[str] = []
    rels = _rels(root, unnamed)
    if len(rels) < PARALLEL_STAT_MIN or not _can_fork():
        return Scan([_stat(root, rels)], started, unnamed)
    half = len(rels) // 2
    child = _in_child(lambda: marshal.dumps(_stat(root, rels[half:]), 2))
    mine = _stat(root, rels[:half])
    theirs = child()
    return Scan(
        [mine, theirs if theirs is not None else _stat(root, rels[half:])], started, unnamed
    )


def _rels(root: Root, unnamed: list[str] | None = None) -> list[str]:
    walked = walk(root, ordered=False, undecodable=unnamed)
    return [prefix + name for _, prefix, names in walked for name in names]


def _stat(root: Root, rels: list[str]) -> Snapshot:
    """``(size, mtime_ns, ctime_ns, inode)`` of these notes, relative to ``root`` (symlinks
    followed)."""
    out: Snapshot = {}
    stat = os.stat
    if stat not in os.supports_dir_fd:  # pragma: no cover - Windows
        for rel in rels:
            try:
                st = stat(os.path.join(root, rel))
            except OSError:
                continue
            out[rel] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        return out
    # relative to an open directory: the kernel resolves a name, not the whole path again
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        for rel in rels:
            try:
                st = stat(rel, dir_fd=fd)
            except OSError:
                continue
            out[rel] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    finally:
        os.close(fd)
    return out


def _can_fork() -> bool:
    """Whether forking is available and safe (one CPU is no help; a process with other
    threads is not forked)."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _in_child(work: Callable[[], bytes]) -> Callable[[], bytes | None]:
    """Run ``work`` in a forked child; the returned function waits for the bytes it returns
    (None when the child failed: the caller then does the work itself)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no cleanup of the parent's state (open index, buffers) on exit
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(work())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)

    def result() -> bytes | None:
        try:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
        finally:
            _, status = os.waitpid(pid, 0)
        return data if status == 0 else None

    return result


# -- prefetch ------------------------------------------------------------------------------------

# The child walks, puts the note list in shared memory (writing there never blocks, unlike a
# pipe whose reader is still importing) and says so on a pipe: b"L <length>\n". Then it stats
# the notes in order. When the command gets to its scan it asks for a share (a byte on a
# second pipe); the child answers b"M <index>\n": it stops at that index, half of what is
# left, and the command stats the rest. Last, the child's stats: b"S <offset> <length>\n".
_pending: tuple[str, int, int, int, mmap.mmap, int] | None = None  # root, pid, pipes, memory, start
_STEP = 256  # notes the child stats between two looks at the command's request


def prefetch(root: Root) -> None:
    """Start stat-ing the notes under ``root`` in a forked child (see the module docstring).
    Cheap to call; the next :func:`scan` of the same folder takes the result."""
    global _pending
    if _pending is not None or not _can_fork():
        return
    try:
        shared = mmap.mmap(-1, PREFETCH_BYTES)
        report_r, report_w = os.pipe()
        request_r, request_w = os.pipe()
    except OSError:
        return
    real = os.path.realpath(root)
    started = time.time_ns()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(report_r)
            os.close(request_w)
            _prefetch_child(real, shared, report_w, request_r)
            status = 0
        finally:
            os._exit(status)
    os.close(report_w)
    os.close(request_r)
    _pending = (real, pid, report_r, request_w, shared, started)


def _prefetch_child(root: Root, shared: mmap.mmap, report: int, request: int) -> None:
    unnamed: list[str] = []
    rels = _rels(root, unnamed)
    listing = marshal.dumps(rels) + marshal.dumps(unnamed)  # the second: short, read always
    shared[: len(listing)] = listing
    os.write(report, f"L {len(listing)} {len(listing) - len(marshal.dumps(unnamed))}\n".encode())
    os.set_blocking(request, False)
    out: Snapshot = {}
    done, stop, asked = 0, len(rels), False
    while done < stop:
        following = min(done + _STEP, stop)
        out.update(_stat(root, rels[done:following]))
        done = following
        if not asked:
            try:
                asked = os.read(request, 1) != b""
            except BlockingIOError:
                continue
            if asked:
                stop = done + (stop - done) // 2
                os.write(report, f"M {stop}\n".encode())
    stats = marshal.dumps(out, 2)
    shared[len(listing) : len(listing) + len(stats)] = stats
    os.write(report, f"S {len(listing)} {len(stats)}\n".encode())


def _take_prefetch(root: Root) -> Scan | None:
    """The prefetched scan of ``root``, if one was started for it and it worked."""
    global _pending
    if _pending is None:
        return None
    real, pid, report, request, shared, started = _pending
    _pending = None
    try:
        if real != os.path.realpath(root):
            return None
        with os.fdopen(os.dup(report), "rb") as messages:
            listed = messages.readline().split()
            if listed[:1] != [b"L"]:
                return None  # the child failed before it had the list
            try:  # noqa: SIM105 - contextlib would be one more import
                os.write(request, b"?")
            except BrokenPipeError:
                pass  # the child is done already
            answer = messages.readline().split()
            end, split = int(listed[1]), int(listed[2])
            unnamed: list[str] = marshal.loads(shared[split:end])
            if answer[:1] == [b"S"]:  # it had stat'ed every note before the question came
                return Scan([_shared_bytes(shared, answer)], started, unnamed)
            rels: list[str] = marshal.loads(shared[:split])
            stop = int(answer[1]) if answer[:1] == [b"M"] else 0
            mine = _stat(root, rels[stop:])
            last = messages.readline().split()
            theirs = _shared_bytes(shared, last) if last[:1] == [b"S"] else None
            parts = [theirs if theirs is not None else _stat(root, rels[:stop]), mine]
            return Scan(parts, started, unnamed)
    except (OSError, ValueError, EOFError, IndexError):
        return None
    finally:
        _end_prefetch(pid, report, request, shared)


def _shared_bytes(shared: mmap.mmap, message: list[bytes]) -> bytes:
    start, length = int(message[1]), int(message[2])
    return shared[start : start + length]


def _end_prefetch(pid: int, report: int, request: int, shared: mmap.mmap) -> None:
    import signal

    os.close(report)
    os.close(request)
    os.kill(pid, signal.SIGKILL)  # done, or no longer wanted: either way, gone
    os.waitpid(pid, 0)
    shared.close()
