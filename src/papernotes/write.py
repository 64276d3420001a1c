"""Writing notes safely: readable slugs, no overwrites, atomic replacement.

Every write goes to a temporary file in the same directory, is flushed to disk and renamed into
place, so a crash leaves the old file or the new one, never half of one. A note that changed on
disk since it was read is never overwritten."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from papernotes.errors import WriteRefused

MAX_SLUG = 60
_RESERVED = {
    "con", "prn", "aux", "nul", "clock$",
    *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10)),
}  # fmt: skip


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


def atomic_write(
    path: Path, text: str, *, expected: bytes | None = None, create: bool = False
) -> None:
    """Replace ``path`` with ``text`` atomically.

    ``create=True``: the file must not exist yet. Otherwise ``expected`` is the content the caller
    read; if the file now holds something else (an edit made meanwhile) nothing is written. A
    symlink's target is replaced, not the link (which would leave two notes for one paper).
    """
    if not create and path.is_symlink():
        path = Path(os.path.realpath(path))
    if create and path.exists():
        raise WriteRefused(f"{path}: already exists; not overwritten")
    if expected is not None:
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            raise WriteRefused(f"{path}: was deleted since it was read; not rewritten") from None
        if current != expected:
            raise WriteRefused(f"{path}: changed on disk since it was read; not overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if create:
            try:
                os.link(tmp_name, path)  # fails if path appeared meanwhile: never clobbers
            except FileExistsError:
                raise WriteRefused(f"{path}: already exists; not overwritten") from None
            except OSError:
                os.replace(tmp_name, path)  # filesystems without hard links
            else:
                os.unlink(tmp_name)
        else:
            os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
