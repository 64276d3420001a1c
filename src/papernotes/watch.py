"""Knowing, without stat-ing every note, that no note changed: for a long-running process.

A command brings the index up to date by stat-ing every note (:mod:`papernotes.freshness`):
about 60 ms at 10,000 notes here, more than a whole search. A process that answers many calls,
like ``papernotes mcp``, asks the kernel instead: Linux's inotify reports every change to the
notes folder's directories (a note written, replaced by an editor's atomic save, touched,
moved or deleted, a folder added), so when nothing was reported since the last refresh the
index is already up to date and the refresh can be skipped.

inotify misses changes made by another machine on a network file system, so :meth:`Watcher.start`
watches only folders on local file systems (by their ``statfs`` type); elsewhere (another OS,
NFS, SMB, FUSE, WSL's 9p mounts, a watch limit reached) it returns None and every call
refreshes the usual way. Two more things inotify cannot see, both rare for notes: a write
through a hard link kept in another folder, and a write through a memory map.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from pathlib import Path

from papernotes.notefiles import NOTE_SUFFIXES, walk

# <sys/inotify.h>
_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x01000000
_IN_ISDIR = 0x40000000
_MASK = (
    _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
    | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR
)  # fmt: skip
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name

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


class Watcher:
    """inotify watches on a notes folder and its subfolders (those :func:`walk` visits)."""

    def __init__(self, root: Path, fd: int, libc: ctypes.CDLL) -> None:
        self.root = root
        self._fd = fd
        self._libc = libc

    @classmethod
    def start(cls, root: Path) -> Watcher | None:
        """Watch ``root``; None where changes could go unseen or inotify is not available."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter uses
            fd = int(libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
        except (OSError, AttributeError):
            return None
        if fd < 0:
            return None
        watcher = cls(root, fd, libc)
        if not watcher._watch_all():
            watcher.close()
            return None
        return watcher

    def changed(self) -> bool:
        """Whether a note or folder may have changed since the last call (or the start). New
        folders are watched from now on. False only when the kernel reported nothing that
        could touch a note (an editor's swap file, the index's own files are ignored)."""
        changed = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                return True
            if not data:
                break
            changed = self._relevant(data) or changed
        if changed and not self._watch_all():
            return True  # a folder could not be watched: the caller refreshes every time
        return changed

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _relevant(self, data: bytes) -> bool:
        offset = 0
        while offset + _EVENT.size <= len(data):
            _, mask, _, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
            offset += _EVENT.size + length
            if mask & _IN_IGNORED:
                continue  # a watch removed: its folder's deletion was reported already
            if mask & (_IN_Q_OVERFLOW | _IN_ISDIR | _IN_DELETE_SELF | _IN_MOVE_SELF) or not name:
                return True
            if name.decode(errors="replace").endswith(NOTE_SUFFIXES):
                return True
        return False

    def _watch_all(self) -> bool:
        """Watch every folder (again: a folder already watched keeps its watch, a new one,
        or one deleted and made again, gets one); False if one cannot be watched (a watch
        limit, a network file system)."""
        for directory, _, _ in walk(self.root, ordered=False):
            if not _local(self._libc, directory):
                return False
            wd = int(self._libc.inotify_add_watch(self._fd, os.fsencode(directory), _MASK))
            if wd < 0:
                return False
        return True


def _local(libc: ctypes.CDLL, directory: str) -> bool:
    """Whether ``directory`` is on a file system whose every change this kernel sees."""
    buffer = ctypes.create_string_buffer(512)  # struct statfs; f_type comes first
    if int(libc.statfs(os.fsencode(directory), buffer)) != 0:
        return False
    (kind,) = struct.unpack_from("l", buffer)
    return (kind & 0xFFFFFFFF) in LOCAL_FILE_SYSTEMS
