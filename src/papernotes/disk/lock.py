"""The lock of a notes folder: an import plans and writes under it, so that two imports at
once see each other's notes (each used to plan against the folder as it was when it started,
and two made ``title.md`` and ``title-2.md`` for one paper)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def folder_lock(root: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the notes folder ``root`` (an import plans and writes under
    it, so that two imports at once see each other's notes). The lock is the folder's own
    (``flock`` on the directory): nothing is created in it, and every path to the folder takes
    the same lock. Where a directory cannot be locked (NFS), a lock file in the cache folder
    named after the folder's real path serves; where neither can, no lock (a best effort).
    ``on_wait`` is called once if another process holds the lock."""
    fd = -1
    for opener in (_open_folder, _open_cache_lock):
        fd = opener(root)
        if fd < 0:
            continue
        try:
            _flock(fd, on_wait)
        except OSError:  # ENOLCK, EBADF: this kind of lock is not available here
            os.close(fd)
            fd = -1
            continue
        break
    try:
        yield
    finally:
        if fd >= 0:
            os.close(fd)  # releases the lock


def _flock(fd: int, on_wait: Callable[[], None] | None) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: link() and the checks before each rename still hold
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if on_wait is not None:
            on_wait()
        fcntl.flock(fd, fcntl.LOCK_EX)


def _open_folder(root: Path) -> int:
    try:
        return os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC)
    except OSError:
        return -1


def _open_cache_lock(root: Path) -> int:
    from papernotes.disk.digest import sha256
    from papernotes.disk.store import cache_home

    real = os.path.realpath(root)
    digest = sha256(os.fsencode(real)).hexdigest()[:16]
    path = cache_home() / "papernotes" / "locks" / f"{Path(real).name or 'notes'}-{digest}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | _O_CLOEXEC, 0o600)
    except OSError:
        return -1
