"""What papernotes takes from a notes folder, which may come from anyone (a clone, a download).

Besides notes (see :func:`papernotes.disk.notefiles.walk`), a folder gives its settings
(``papernotes.toml``) and the template of new notes (``template.md``). They are read only as
regular files inside the folder: a symlink may lead elsewhere inside it, not out (a
``template.md`` linked to a key file would be copied into a new note); never from a FIFO or a
device (which can block forever or never end); and only up to :data:`MAX_FOLDER_FILE`. A path
the settings name (``index``) must lie inside the folder or the user's cache folder: a cloned
folder once made ordinary commands write note text into ``~/.ssh/authorized_keys``. Nor do
they choose a program to run: ``editor`` is the user's alone (``$VISUAL``, ``$EDITOR``)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from papernotes.errors import ConfigError

MAX_FOLDER_FILE = 1 << 20  # settings and template: 1 MB is a hundred times what they need
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def read_folder_file(path: Path, folder: Path, limit: int = MAX_FOLDER_FILE) -> bytes | None:
    """The bytes of ``path``, a file that the folder ``folder`` provides; None when there is
    none. ConfigError when it leads out of the folder, is not a regular file or is too big."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    real = os.path.realpath(path)
    if not _within(real, folder):
        raise ConfigError(f"{path}: a symlink to {real}, outside {folder}; not read")
    try:
        found = os.stat(real)
        if not stat.S_ISREG(found.st_mode):  # decided before opening: opening a device acts
            raise ConfigError(
                f"{path}: not a regular file (a FIFO, a device or a folder); not read"
            )
        if found.st_size > limit:
            raise ConfigError(f"{path}: larger than {_size(limit)}; not read")
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_CLOEXEC)
    except FileNotFoundError:
        return None  # a dangling symlink: no file
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (found.st_dev, found.st_ino):
            raise ConfigError(f"{path}: replaced while it was read; not read")
        data = _read_up_to(fd, limit)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ConfigError(f"{path}: larger than {_size(limit)}; not read")
    return data


def _read_up_to(fd: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``fd`` (one more than allowed says it is too large)."""
    data = b""
    while len(data) <= limit:
        chunk = os.read(fd, limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_note(path: Path, limit: int) -> bytes:
    """The first ``limit + 1`` bytes of a note file, never waiting: a FIFO or a device put in
    the place of a note (after the walk that found it) is an OSError, not a read that blocks
    forever or never ends."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file (a FIFO or a device)")
        return _read_up_to(fd, limit)
    finally:
        os.close(fd)


def checked_settings(
    config: Mapping[str, Any], source: Path, root: Path
) -> tuple[dict[str, Any], list[str]]:
    """``config`` read from ``source`` for the notes folder ``root``, without the paths it may
    not name and the program it may not choose, and a warning for each one left out."""
    from papernotes.disk.store import cache_home
    from papernotes.errors import shown

    checked = dict(config)
    notices = []
    value = checked.get("index")
    if isinstance(value, str) and value.strip() and value != ":memory:":
        real = os.path.realpath(root / Path(value).expanduser())
        if not (_within(real, root) or _within(real, cache_home())):
            del checked["index"]
            notices.append(
                f"warning: {source}: index = {value!r} is outside the notes directory and the "
                "cache folder; ignored (the index is kept in the cache folder)"
            )
    if "editor" in checked:  # "editor = 'sh -c ...'" in a downloaded folder ran on `edit`
        value = str(checked.pop("editor"))
        quoted = repr(value) if len(value) <= 200 else shown(value)
        notices.append(
            f"warning: {source}: editor = {quoted} ignored: a notes folder does not choose a "
            "program to run (set $VISUAL or $EDITOR)"
        )
    return checked, notices


def _within(real: str, folder: Path) -> bool:
    base = os.path.realpath(folder)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit >> 10} kB"
