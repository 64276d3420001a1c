"""Which files are notes, and finding them fast.

Kept apart from :mod:`papernotes.disk.store` and free of heavy imports: the console script starts
walking the notes (:mod:`papernotes.disk.freshness`) before anything else is loaded.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing's would import typing, this module is for the first milliseconds
if TYPE_CHECKING:
    from collections.abc import Iterator

NOTE_SUFFIXES = (".md", ".markdown")
TEMPLATE_NAME = "template.md"  # in the notes directory itself: the template, not a note

# note path relative to the root, with "/" -> (size, mtime_ns, ctime_ns, inode): what the
# index compares (ctime and inode see a note replaced by one of the same size and mtime)
Snapshot = dict[str, tuple[int, int, int, int]]


def walk(
    root: str | os.PathLike[str], *, ordered: bool, undecodable: list[str] | None = None
) -> Iterator[tuple[str, str, list[str]]]:
    """``(directory, its path relative to root with a trailing /, its note file names)`` for
    every directory under ``root`` that is walked, parents before children (the rules: see
    :func:`papernotes.disk.store.iter_notes`). Written for speed: there may be 100,000 notes.

    A note file or folder whose name is not valid UTF-8 (Python gives it as a string with
    surrogates, ``\udcff`` for the byte 0xff) is passed over: the index cannot store its
    name, a terminal cannot print it. Its relative path (a folder's with a trailing ``/``) is
    added to ``undecodable``, when given, for ``check`` to report."""
    real_root: str | None = None
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            scan = os.scandir(directory)
        except OSError:
            continue
        names: list[str] = []
        subdirs: list[tuple[str, str]] = []
        try:
            with scan:
                # unordered, one entry at a time: the memory of each is reused (a list of
                # 75,000 entries is ~25 MB of fresh pages, ~10 ms of page faults here)
                for entry in sorted(scan, key=_name) if ordered else scan:
                    name = entry.name
                    if name[0] == ".":
                        continue
                    if not name.isascii() and not _decodable(name):
                        if undecodable is not None:
                            _note_undecodable(entry, prefix, undecodable)
                        continue
                    try:
                        if name.endswith(NOTE_SUFFIXES) and entry.is_file(follow_symlinks=False):
                            if prefix or name != TEMPLATE_NAME:
                                names.append(name)
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            subdirs.append((entry.path, f"{prefix}{name}/"))
                            continue
                        if not name.endswith(NOTE_SUFFIXES) or (
                            not prefix and name == TEMPLATE_NAME
                        ):
                            continue
                        if not entry.is_symlink():
                            continue  # a FIFO, socket or device: reading one can block forever
                        if real_root is None:
                            real_root = os.path.realpath(root)
                        target = os.path.realpath(entry.path)
                        inside = target.startswith(real_root + os.sep)
                        if not inside or not os.path.isfile(target):
                            continue
                        names.append(name)
                    except OSError:
                        continue
        except OSError:  # the directory could not be read to its end: skipped, as before
            continue
        yield directory, prefix, names
        stack.extend(reversed(subdirs))


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _decodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _note_undecodable(entry: os.DirEntry[str], prefix: str, found: list[str]) -> None:
    """Add ``entry`` to ``found`` if it is a folder or would be a note (see :func:`walk`)."""
    name = entry.name
    try:
        if entry.is_dir(follow_symlinks=False):
            found.append(f"{prefix}{name}/")
        elif name.endswith(NOTE_SUFFIXES) and (entry.is_file() or entry.is_symlink()):
            found.append(prefix + name)
    except OSError:
        pass


def undecodable(root: str | os.PathLike[str]) -> list[str]:
    """The note files and folders under ``root`` that :func:`walk` passes over because their
    names are not valid UTF-8, relative to ``root``, sorted (the folder read in the order it
    comes: sorting 75,000 entries would take longer than the walk)."""
    found: list[str] = []
    for _ in walk(root, ordered=False, undecodable=found):
        pass
    return sorted(found)


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as linters show it: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel
