"""Writing notes safely: readable slugs, no overwrites, atomic replacement.

Every write goes to a temporary file in the same directory, is flushed to disk and renamed into
place, so a crash leaves the old file or the new one, never half of one. A note that changed on
disk since it was read is never overwritten: it is compared again just before the rename, and on
Linux the rename swaps the two files and checks the old text after the swap, so an edit saved
at any moment is put back. A batch of writes is synced together (:func:`write_batch`): every
temporary file, then every rename, then each directory once."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from papernotes.errors import WriteRefused

MAX_SLUG = 60
_RESERVED = {
    "con", "prn", "aux", "nul", "clock$",
    *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10)),
}  # fmt: skip
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


def slugify(text: str, max_length: int = MAX_SLUG) -> str:
    """A short file-name-safe slug: ``Direct Preference Optimization: ...`` ->
    ``direct-preference-optimization``. ASCII letters, digits and single dashes only; never
    empty, never a Windows-reserved name, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    if not slug:
        slug = words[0][:max_length] if words else "note"
    if slug in _RESERVED:
        slug = f"{slug}-note"
    return slug


def free_path(directory: Path, slug: str, suffix: str = ".md") -> Path:
    """``directory/slug.md``, or ``slug-2.md``, ... when that name is taken."""
    candidate = directory / f"{slug}{suffix}"
    number = 2
    while candidate.exists():
        candidate = directory / f"{slug}-{number}{suffix}"
        number += 1
    return candidate


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` resolves to a place inside ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Write:
    """One file to write. ``create``: it must not exist yet. Otherwise ``expected`` is the
    content the caller read (None: replace whatever is there)."""

    path: Path
    text: str
    expected: bytes | None = None
    create: bool = False


@dataclass
class _Staged:
    path: Path  # where the text goes (a symlinked note: its target)
    tmp: str
    fd: int
    data: bytes
    write: Write


def atomic_write(
    path: Path, text: str, *, expected: bytes | None = None, create: bool = False
) -> None:
    """Replace ``path`` with ``text`` atomically.

    ``create=True``: the file must not exist yet. Otherwise ``expected`` is the content the caller
    read; if the file holds something else (an edit made meanwhile) nothing is written. A
    symlink's target is replaced, not the link (which would leave two notes for one paper). An
    existing file keeps its mode (and group, and owner when run as root); a new one follows the
    umask.
    """
    (error,) = write_batch([Write(path, text, expected, create)])
    if error is not None:
        raise error


def write_batch(writes: Sequence[Write]) -> list[WriteRefused | OSError | None]:
    """Write every file of ``writes`` atomically, syncing them together: each text goes to a
    temporary file, all of them are fsynced, then each is renamed into place (after the check
    that its note is unchanged), then each directory is fsynced once. A ``SIGKILL`` at any point
    leaves every file whole, old or new. Returns, for each write, None or why it was not made;
    one refusal does not stop the others."""
    results: list[WriteRefused | OSError | None] = [None] * len(writes)
    staged: list[tuple[int, _Staged]] = []
    try:
        for number, wanted in enumerate(writes):
            try:
                staged.append((number, _stage(wanted)))
            except (WriteRefused, OSError) as exc:
                results[number] = exc
        for number, error in _sync([s.fd for _, s in staged]):
            results[staged[number][0]] = error
        directories: set[str] = set()
        for number, item in staged:
            os.close(item.fd)
            item.fd = -1
            if results[number] is not None:
                continue
            try:
                _commit(item)
            except (WriteRefused, OSError) as exc:
                results[number] = exc
            else:
                directories.add(str(item.path.parent))
        for directory in sorted(directories):
            _sync_directory(directory)
    finally:
        for _, item in staged:
            if item.fd >= 0:
                os.close(item.fd)
            if item.tmp and os.path.lexists(item.tmp):
                os.unlink(item.tmp)
    return results


def _stage(item: Write) -> _Staged:
    """Check ``item`` and write its text to a temporary file beside the target (not synced)."""
    path = item.path
    if not item.create and path.is_symlink():
        path = Path(os.path.realpath(path))
    existing: os.stat_result | None = None
    if item.create:
        if os.path.lexists(path):
            raise WriteRefused(f"{path}: already exists; not overwritten")
    elif item.expected is not None:
        existing = _unchanged(path, item.expected)
    else:
        try:
            existing = os.stat(path)
        except FileNotFoundError:
            existing = None
    path.parent.mkdir(parents=True, exist_ok=True)
    data = item.text.encode("utf-8")
    fd, tmp = _temporary(path)
    staged = _Staged(path, tmp, fd, data, item)
    try:
        if existing is not None:
            _keep_mode(fd, existing)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return staged


def _temporary(path: Path) -> tuple[int, str]:
    """A new ``.name.XXXXXXXX.tmp`` beside ``path``, created with mode 0666 less the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC | _O_BINARY
    while True:
        tmp = os.path.join(path.parent, f".{path.name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _keep_mode(fd: int, existing: os.stat_result) -> None:
    """Give the new file the mode of the one it replaces, and its owner and group as far as we
    may (a group-shared 0664 note stays 0664 and in its group)."""
    if hasattr(os, "fchown"):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)
        except OSError:
            with contextlib.suppress(OSError):
                os.fchown(fd, -1, existing.st_gid)  # any group we are a member of
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(existing.st_mode))


def _unchanged(path: Path, expected: bytes) -> os.stat_result:
    """The stat of ``path`` if it still holds ``expected``; else WriteRefused. Never blocks (a
    FIFO put in the note's place is a change, not something to read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_CLOEXEC | _O_BINARY)
    except FileNotFoundError:
        raise WriteRefused(f"{path}: was deleted since it was read; not rewritten") from None
    try:
        found = os.fstat(fd)
        same = stat.S_ISREG(found.st_mode) and found.st_size == len(expected)
        if same:
            current = b""
            while len(current) <= len(expected):
                more = os.read(fd, len(expected) + 1 - len(current))
                if not more:
                    break
                current += more
            same = current == expected
    finally:
        os.close(fd)
    if not same:
        raise WriteRefused(f"{path}: changed on disk since it was read; not overwritten")
    return found


def _sync(fds: list[int]) -> list[tuple[int, OSError]]:
    """Make the files of ``fds`` durable; the (position, error) of those that may not be.

    One file: its fsync. A batch, on Linux: one ``syncfs`` per file system, a single journal
    commit where an fsync per file made one each (an import of 2,373 notes: 2.8 s instead of
    12.9 s here, under load); it reports write-back errors (Linux 5.8 and later), and then
    the whole batch counts as failed. Elsewhere an fsync per file, several at once (a journal
    commits them together)."""
    if len(fds) <= 1:
        return _fsync_each(fds)
    syncfs = _libc_function("syncfs", "c_int")
    if syncfs is None:
        return _fsync_each(fds, threads=8)
    import ctypes

    devices: dict[int, list[int]] = {}
    for number, fd in enumerate(fds):
        devices.setdefault(os.fstat(fd).st_dev, []).append(number)
    failed: list[tuple[int, OSError]] = []
    for numbers in devices.values():
        if syncfs(fds[numbers[0]]) == 0:
            continue
        errno = ctypes.get_errno()
        if errno == 38:  # ENOSYS: a kernel without syncfs
            failed += [(numbers[n], e) for n, e in _fsync_each([fds[i] for i in numbers])]
        else:
            failed += [(n, OSError(errno, os.strerror(errno))) for n in numbers]
    return failed


def _fsync_each(fds: list[int], threads: int = 1) -> list[tuple[int, OSError]]:
    def sync(fd: int) -> OSError | None:
        try:
            os.fsync(fd)
        except OSError as exc:
            return exc
        return None

    if threads > 1 and len(fds) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(threads, len(fds))) as pool:
            errors = list(pool.map(sync, fds))
    else:
        errors = [sync(fd) for fd in fds]
    return [(number, error) for number, error in enumerate(errors) if error is not None]


def _sync_directory(directory: str) -> None:
    """Make the renames into ``directory`` durable (a best effort: not every platform and file
    system can sync a directory, and the files themselves are already whole)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit(item: _Staged) -> None:
    """Put the synced temporary file of ``item`` in place."""
    path, tmp = item.path, item.tmp
    if item.write.create:
        try:
            os.link(tmp, path)  # fails if path appeared meanwhile: never clobbers
        except FileExistsError:
            raise WriteRefused(f"{path}: already exists; not overwritten") from None
        except OSError:  # file systems without hard links
            if not _rename(tmp, path, _RENAME_NOREPLACE):
                if os.path.lexists(path):
                    raise WriteRefused(f"{path}: already exists; not overwritten") from None
                os.replace(tmp, path)
        else:
            os.unlink(tmp)
        return
    expected = item.write.expected
    if expected is None:
        os.replace(tmp, path)
        return
    _unchanged(path, expected)  # again, now that the slow part (fsync) is done
    if not _rename(tmp, path, _RENAME_EXCHANGE):
        os.replace(tmp, path)  # the window: from the check above to here, microseconds
        return
    # swapped: tmp now holds what was the note. An edit saved between the check and the swap
    # is there, not lost: swap it back.
    try:
        _unchanged(Path(tmp), expected)
    except WriteRefused:
        _rename(tmp, path, _RENAME_EXCHANGE)
        message = f"{path}: changed on disk since it was read; not overwritten"
        try:
            _unchanged(Path(tmp), item.data)
        except WriteRefused:  # yet another save came in: keep it where it is
            item.tmp = ""
            message += f" (another version of it is in {tmp})"
        raise WriteRefused(message) from None
    os.unlink(tmp)


# -- renameat2 (Linux): swap two files, or rename without replacing, in one step -----------------

_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _rename(src: str, dst: Path, flag: int) -> bool:
    """``renameat2(src, dst, flag)``; False when the platform or file system cannot (then
    nothing was done)."""
    function = _libc_function("renameat2", "c_int", "c_char_p", "c_int", "c_char_p", "c_uint")
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flag) == 0:
        return True
    import ctypes

    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not on this file system
        return False
    raise OSError(errno, os.strerror(errno), str(dst))


_LIBC: dict[str, Callable[..., int] | None] = {}


def _libc_function(name: str, *argtypes: str) -> Callable[..., int] | None:
    """A function of the C library (Linux only: ``renameat2`` needs glibc 2.28, ``syncfs``
    2.14), or None."""
    if name not in _LIBC:
        _LIBC[name] = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                function = getattr(ctypes.CDLL(None, use_errno=True), name)
            except (ImportError, OSError, AttributeError):
                return None
            function.argtypes = [getattr(ctypes, t) for t in argtypes]
            function.restype = ctypes.c_int
            _LIBC[name] = function
    return _LIBC[name]
