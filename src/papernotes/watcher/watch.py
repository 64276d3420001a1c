"""Changes to a notes folder as the kernel reports them, through watchfiles (Rust's notify).

:class:`Watcher` watches a notes folder and its subfolders (inotify on Linux) and hands out
what changed, in batches: note paths and folders, relative to the folder. It is the event
source of ``papernotes watch`` (:mod:`papernotes.watcher.watchd`), and can be used alone:
:meth:`Watcher.changed` says whether anything that could touch a note changed since its last
call.

Two things a watcher must know to be trusted, and how this one knows them:

- *Every change made before a question has been reported.* The kernel queues an event when a
  write happens, but notify reads the queue in its own thread: a barrier is needed. The
  watcher also watches a private cookie folder in the user's runtime folder (never the notes
  folder); one inotify instance serves both, and its queue is in order, so once the event of
  a cookie file created after the question is seen, every earlier change has been reported.
  This is how Watchman and git's fsmonitor synchronise (their cookies are in the tree).
- *Nothing was lost.* When the kernel's queue overflows, notify reports a "rescan" event with
  no path, which watchfiles drops unless it runs in debug mode. A watcher made with
  ``tap=True`` runs it in debug mode and reads its debug output (the process's stderr, taken
  over by :class:`_Tap`) for that event alone; a batch then says ``rescan``. An error of the
  watcher (a watch limit reached on a new folder) also says ``rescan``.

inotify misses changes made by another machine on a network file system, so a folder is
watched only on a local file system, by its ``statfs`` type (:func:`local`); elsewhere (another
OS, NFS, SMB, FUSE, WSL's 9p mounts) :meth:`Watcher.start` returns None. Two more changes
inotify cannot see, both rare for notes: a write through a hard link kept in another folder,
and a write through a memory map.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import itertools
import os
import struct
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from papernotes.disk.notefiles import NOTE_SUFFIXES, walk

# statfs f_type of the file systems whose changes inotify always sees (all made by this kernel)
LOCAL_FILE_SYSTEMS = frozenset(
    (
        0xEF53,  # ext2/3/4
        0x58465342,  # xfs
        0x9123683E,  # btrfs
        0x01021994,  # tmpfs
        0x794C7630,  # overlayfs
        0x2FC12FC1,  # zfs
        0xF2F52010,  # f2fs
        0xCA451A4E,  # bcachefs
        0x52654973,  # reiserfs
        0x3153464A,  # jfs
        0x4D44,  # vfat
        0x2011BAB0,  # exfat
        0x7366746E,  # ntfs3
        0x482B,  # hfsplus
        0xF15F,  # ecryptfs
    )
)
_DELETED = 3  # watchfiles.Change.deleted
_RESCAN = b"Some(Rescan)"  # how notify's debug output shows a queue overflow


@dataclass
class Batch:
    """What changed: ``paths`` relative to the notes folder with ``/`` (notes, folders and
    other files; ``deleted`` those reported deleted), ``cookies`` seen, and ``rescan`` (why
    the paths cannot be trusted to be complete: walk everything again) or None."""

    paths: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    cookies: set[str] = field(default_factory=set)
    rescan: str | None = None

    def relevant(self, root: Path) -> bool:
        """Whether a note may have changed: a note path, a folder, something deleted that
        may have been a folder, or a rescan."""
        if self.rescan:
            return True
        for rel in self.paths:
            if rel.endswith(NOTE_SUFFIXES) or rel in self.deleted:
                return True
            if os.path.isdir(os.path.join(root, rel)):
                return True
        return False


class Watcher:
    """Watches a notes folder (see the module docstring)."""

    def __init__(self, root: Path, cookies: str, notify: object, tap: _Tap | None) -> None:
        self.root = root
        self.cookies = cookies
        self._notify = notify
        self._tap = tap
        self._overflows = tap.overflows if tap else 0
        self._numbers = itertools.count(1)
        self._prefix = os.path.join(str(root), "")
        self._cookie_prefix = os.path.join(cookies, "")

    @classmethod
    def start(
        cls, root: Path, *, tap: bool = False, cookies_in: str | None = None
    ) -> Watcher | None:
        """Watch ``root``; None where changes could go unseen or watchfiles cannot watch
        (another OS, a network file system, watchfiles not installed). ``tap``: see the
        module docstring. Raises OSError when a watch limit is reached."""
        if not sys.platform.startswith("linux") or not all_local(root):
            return None
        try:
            from watchfiles._rust_notify import RustNotify
        except ImportError:
            return None
        from papernotes.engine.watchclient import runtime_dir

        parent = cookies_in or runtime_dir()
        os.makedirs(parent, mode=0o700, exist_ok=True)
        cookies = tempfile.mkdtemp(prefix="cookies-", dir=parent)
        shared = _Tap.install() if tap else None
        try:
            notify = RustNotify([str(root), cookies], tap, False, 0, True, False)
        except BaseException:
            os.rmdir(cookies)
            raise
        return cls(root, cookies, notify, shared)

    def cookie(self) -> str:
        """Create a new cookie file: its event, once seen, is the barrier (see the module
        docstring). Returns its name."""
        name = str(next(self._numbers))
        os.close(os.open(os.path.join(self.cookies, name), os.O_CREAT | os.O_WRONLY, 0o600))
        return name

    def collect(self, timeout_ms: int, debounce_ms: int = 50, step_ms: int = 2) -> Batch:
        """The next batch of changes: waits up to ``timeout_ms`` for a first change, then
        gathers changes until none came for ``step_ms`` (at most ``debounce_ms``)."""
        from watchfiles._rust_notify import WatchfilesRustInternalError

        batch = Batch()
        try:
            found = self._notify.watch(debounce_ms, step_ms, timeout_ms, None)  # type: ignore[attr-defined]
        except (WatchfilesRustInternalError, OSError, RuntimeError) as exc:
            batch.rescan = f"the watcher failed ({_brief(exc)})"
            return batch
        if isinstance(found, set):
            for change, path in found:
                self._classify(batch, change, path)
        if self._tap is not None:
            if batch.cookies:  # the debug output up to each cookie must have been read
                self._tap.wait_for(self.cookies, batch.cookies)
            overflows = self._tap.overflows
            if overflows != self._overflows:
                self._overflows = overflows
                batch.rescan = "the kernel's event queue overflowed"
        return batch

    def overflowed(self) -> bool:
        """Whether the kernel's queue overflowed and no batch has said so yet (known as soon
        as notify reads the overflow, before the batches queued ahead of it are handed out)."""
        return self._tap is not None and self._tap.overflows != self._overflows

    def sync(self, timeout: float = 5.0) -> Batch | None:
        """Every change made before this call (one thread only: this one collects): the
        batches up to a new cookie's, merged; None when the cookie was not seen in time."""
        import time

        name = self.cookie()
        merged = Batch()
        deadline = time.monotonic() + timeout
        while name not in merged.cookies:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0:
                return None
            batch = self.collect(left, debounce_ms=10, step_ms=1)
            merged.paths |= batch.paths
            merged.deleted |= batch.deleted
            merged.cookies |= batch.cookies
            merged.rescan = merged.rescan or batch.rescan
        self.forget(merged.cookies)
        return merged

    def changed(self) -> bool:
        """Whether a note or folder may have changed since the last call (or the start);
        True when that cannot be known."""
        batch = self.sync()
        return batch is None or batch.relevant(self.root)

    def forget(self, cookies: set[str]) -> None:
        for name in cookies:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.cookies, name))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._notify.close()  # type: ignore[attr-defined]
        for name in os.listdir(self.cookies) if os.path.isdir(self.cookies) else ():
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.cookies, name))
        with contextlib.suppress(OSError):
            os.rmdir(self.cookies)

    def _classify(self, batch: Batch, change: int, path: str) -> None:
        if path.startswith(self._cookie_prefix):
            if change != _DELETED:
                batch.cookies.add(path[len(self._cookie_prefix) :])
            return
        if not path.startswith(self._prefix):
            if path == str(self.root) or path == self.cookies:
                batch.rescan = "the notes folder itself was moved or deleted"
            return
        rel = path[len(self._prefix) :]
        if os.sep != "/":  # pragma: no cover - Linux only
            rel = rel.replace(os.sep, "/")
        if any(part.startswith(".") for part in rel.split("/")):
            return  # hidden: never a note (an editor's swap file, .git, .obsidian)
        batch.paths.add(rel)
        if change == _DELETED:
            batch.deleted.add(rel)
        else:
            batch.deleted.discard(rel)


class _Tap:
    """This process's stderr (file descriptor 2) taken over by a pipe, read by a thread:
    notify's debug lines are counted (overflows, cookies) and dropped, anything else is
    passed on to the stderr of before. One per process, installed by the first watcher
    that asks for it."""

    _installed: _Tap | None = None

    def __init__(self, read_end: int, out: int) -> None:
        self.overflows = 0
        self._read = read_end
        self._out = out
        self._seen: dict[str, set[str]] = {}  # cookie folder -> cookie names read
        self._cond = threading.Condition()
        threading.Thread(target=self._run, name="papernotes-tap", daemon=True).start()

    @classmethod
    def install(cls) -> _Tap:
        if cls._installed is None:
            read_end, write_end = os.pipe()
            for size in (4 << 20, 1 << 20):  # F_SETPIPE_SZ: room for a burst of events
                try:
                    fcntl.fcntl(write_end, 1031, size)
                    break
                except OSError:
                    continue
            sys.stderr.flush()
            saved = os.dup(2)
            os.dup2(write_end, 2)
            os.close(write_end)
            sys.stderr = open(saved, "w", buffering=1, closefd=False)  # noqa: SIM115
            cls._installed = cls(read_end, saved)
        return cls._installed

    def wait_for(self, folder: str, names: set[str], timeout: float = 5.0) -> None:
        """Wait until notify's debug output about these cookies has been read (so that an
        overflow reported before them is counted)."""
        with self._cond:
            self._cond.wait_for(lambda: names <= self._seen.get(folder, set()), timeout)
            self._seen.get(folder, set()).difference_update(names)

    def _run(self) -> None:
        # notify prints a line per event (a folder read by rg: one per note): the lines are
        # counted and searched in bulk, never split unless something else was written
        tail = b""
        debug = (b"raw-event=", b"raw-error=", b"watcher: ")
        while True:
            try:
                # 64 KiB at a time: reads of 1 MiB (each copied twice below) raised the
                # watcher's peak by 8-10 MB when rg read every note (88-89 MB against 79-81)
                chunk = os.read(self._read, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            lines, tail = data[:cut], data[cut:]
            if not lines:
                continue
            self.overflows += lines.count(_RESCAN)
            found = _cookies(lines) if b"/cookies-" in lines else []
            if found:
                with self._cond:
                    for folder, name in found:
                        self._seen.setdefault(folder, set()).add(name)
                    self._cond.notify_all()
            if lines.count(b"\n") != sum(lines.count(b"\n" + d) for d in debug) + (
                lines.startswith(debug)
            ):
                kept = [line + b"\n" for line in lines.split(b"\n")[:-1]]
                kept = [line for line in kept if not line.startswith(debug)]
                with contextlib.suppress(OSError):
                    os.write(self._out, b"".join(kept))


def _cookies(lines: bytes) -> list[tuple[str, str]]:
    """``(cookie folder, cookie name)`` named in debug lines of notify."""
    out = []
    for part in lines.split(b'"')[1::2]:
        folder, _, name = part.rpartition(b"/")
        if b"/cookies-" in folder and name.isdigit():
            out.append((os.fsdecode(folder), name.decode()))
    return out


def all_local(root: Path) -> bool:
    """Whether every folder of ``root`` (those :func:`walk` visits) is on a local file system."""
    return all(local(directory) for directory, _, _ in walk(root, ordered=False))


def local(directory: str | os.PathLike[str]) -> bool:
    """Whether ``directory`` is on a file system whose every change this kernel sees."""
    if not sys.platform.startswith("linux"):
        return False
    buffer = ctypes.create_string_buffer(512)  # struct statfs; f_type comes first
    if int(_libc().statfs(os.fsencode(directory), buffer)) != 0:
        return False
    (kind,) = struct.unpack_from("l", buffer)
    return (kind & 0xFFFFFFFF) in LOCAL_FILE_SYSTEMS


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)  # the C library the interpreter uses


def _brief(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"
