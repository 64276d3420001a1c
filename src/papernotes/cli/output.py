"""Writing a file the user named (``export -o FILE``) without harming anything else.

The name is resolved before it is checked: a symlink, or a folder on the way, that leads into
the notes directory is seen for what it is. A regular file is replaced atomically (its mode
kept); a FIFO or a character device (``/dev/stdout``, ``/dev/null``, a terminal) is written into
as a stream, like a shell's ``>`` would, never replaced by a regular file; a block device is
refused."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from papernotes.disk.notefiles import NOTE_SUFFIXES, TEMPLATE_NAME
from papernotes.disk.write import atomic_write, inside
from papernotes.errors import PapernotesError, WriteRefused

# names of a stream the process already has open: written where it points, never replaced
_OWN_STREAM = re.compile(r"/dev/(?:stdout|stderr|fd/\d+)|/proc/self/fd/\d+")


def write_output(path: Path, text: str, root: Path) -> None:
    """Write ``text`` to ``path``, an output file the user named, never onto a file of the
    notes directory ``root`` reached through a symlink, nor onto a note or its settings."""
    from papernotes.disk.store import CONFIG_NAME

    data = text.encode("utf-8")
    try:
        found = os.stat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise PapernotesError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if found is not None and (
        not stat.S_ISREG(found.st_mode) or _OWN_STREAM.fullmatch(os.path.abspath(path))
    ):
        _stream(path, data)
        return
    real = Path(os.path.realpath(path))
    if inside(root, real):
        shown = "" if real == Path(os.path.abspath(path)) else f" ({real})"
        if real.name.endswith(NOTE_SUFFIXES):
            what = "the template of new notes" if real == root / TEMPLATE_NAME else "a note"
            if os.path.islink(path):
                raise WriteRefused(
                    f"{path}: a symlink to {real}, {what} in the notes directory; not written"
                )
            raise WriteRefused(
                f"{path}: would become a note in the notes directory{shown}; not written"
            )
        if found is not None and (os.path.islink(path) or real.name == CONFIG_NAME):
            raise WriteRefused(
                f"{path}: a symlink to {real}, a file in the notes directory; not written"
                if os.path.islink(path)
                else f"{path}: the settings of the notes directory; not written"
            )
    if not real.parent.is_dir():
        raise PapernotesError(f"{path}: no such directory: {path.parent}")
    try:
        atomic_write(real, text)
    except OSError as exc:
        raise PapernotesError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _stream(path: Path, data: bytes) -> None:
    """Write ``data`` into a FIFO, a character device or an open stream of ours (appending,
    like ``>>``: ``-o /dev/stdout >> log`` must not overwrite the log)."""
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        found = os.stat(path)
        if stat.S_ISDIR(found.st_mode):
            raise WriteRefused(f"{path}: is a directory; not written")
        if stat.S_ISBLK(found.st_mode):
            raise WriteRefused(f"{path}: a block device; not written")
        fd = os.open(path, flags)  # a FIFO: waits for a reader, as a shell's > does
    except OSError as exc:
        raise PapernotesError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        opened = os.fstat(fd)
        if stat.S_ISBLK(opened.st_mode) or (
            stat.S_ISREG(opened.st_mode) and not _OWN_STREAM.fullmatch(os.path.abspath(path))
        ):  # replaced between the check and the open
            raise WriteRefused(f"{path}: changed while it was opened; not written")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise PapernotesError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
