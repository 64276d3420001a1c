"""Adding text to a note under a heading: the note's other lines are never changed.

The text goes at the end of the section the heading starts (before the next heading of the
same or a higher level), after one blank line; a heading the note does not have is added at
the end as ``## Heading``. Headings are found in the body only, outside fenced code blocks, and
compared without case or accents. The note is rewritten atomically and only if it still holds
what was read (:func:`papernotes.disk.write.atomic_write`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from papernotes.disk.write import atomic_write, inside
from papernotes.errors import PapernotesError, UsageError, WriteRefused
from papernotes.note.normalize import fold

MAX_TEXT = 20_000  # characters added in one call
MAX_HEADING = 200
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Appended:
    """Where the text went: the heading it is under, whether that heading was added, and the
    file lines (1-based) the text now occupies."""

    path: Path
    heading: str
    new_heading: bool
    first_line: int
    last_line: int


def heading_key(text: str) -> str:
    """``## Key ideas`` and ``key ideas`` alike: the words, folded."""
    return " ".join(fold(text.strip().lstrip("#")).split())


def insert(note: str, body_line: int, heading: str, text: str) -> tuple[str, Appended]:
    """``note`` with ``text`` added under ``heading`` (see the module docstring); the body
    starts at line ``body_line``. The path in the answer is left empty."""
    newline = "\r\n" if "\r\n" in note else "\n"
    lines = note.replace("\r\n", "\n").split("\n")
    trailing = lines[-1] == ""
    if trailing:
        lines.pop()
    addition = text.replace("\r\n", "\n").strip("\n").split("\n")
    found = _find(lines, max(body_line - 1, 0), heading_key(heading))
    if found is None:
        title = " ".join(heading.strip().lstrip("#").split())
        end = len(lines)
        while end > 0 and not lines[end - 1].strip():
            end -= 1
        block = ["", f"## {title}", "", *addition] if end else [f"## {title}", "", *addition]
        lines[end:] = block
        first = end + len(block) - len(addition) + 1
        label, new = f"## {title}", True
    else:
        start, stop = found
        end = stop
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        after = [""] if stop < len(lines) else []
        lines[end:stop] = ["", *addition, *after]
        first = end + 2
        label, new = lines[start].strip(), False
    out = newline.join(lines) + newline
    return out, Appended(Path(), label, new, first, first + len(addition) - 1)


def append_to_note(root: Path, path: Path, heading: str, text: str) -> Appended:
    """Add ``text`` under ``heading`` in the note at ``path`` (inside ``root``, the notes
    directory), atomically, under the folder's lock (an edit by ``set`` or ``tag`` at the
    same time is made first, then this); refused if the note changes meanwhile otherwise."""
    from papernotes.disk.lock import folder_lock

    heading = heading.strip()
    if not heading.lstrip("#").strip():
        raise UsageError("the heading is empty")
    if len(heading) > MAX_HEADING or "\n" in heading or "\r" in heading:
        raise UsageError(f"the heading must be one line of at most {MAX_HEADING} characters")
    if not text.strip():
        raise UsageError("the text is empty")
    if len(text) > MAX_TEXT:
        raise UsageError(f"the text is {len(text):,} characters long; at most {MAX_TEXT:,}")
    if _CONTROL.search(text) or _CONTROL.search(heading):
        raise UsageError("the text has control characters; only tabs and line breaks are allowed")
    if not inside(root, path):
        raise WriteRefused(f"{path}: outside the notes directory; not written")
    with folder_lock(root):
        return _append(path, heading, text)


def _append(path: Path, heading: str, text: str) -> Appended:
    from papernotes.disk.trust import read_note
    from papernotes.note.frontmatter import FrontMatterError, split
    from papernotes.note.parse import MAX_BYTES

    try:
        original = read_note(path, MAX_BYTES)  # a FIFO put in its place: refused, not waited on
    except OSError as exc:
        raise PapernotesError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(original) > MAX_BYTES:
        raise WriteRefused(f"{path}: larger than {MAX_BYTES >> 20} MB; not a note, not changed")
    try:
        note = original.decode("utf-8")
    except UnicodeDecodeError:
        raise WriteRefused(f"{path}: not UTF-8 text; not changed") from None
    try:
        body_line = split(note.removeprefix("\ufeff").replace("\r\n", "\n")).body_line
    except FrontMatterError as exc:
        raise WriteRefused(f"{path}:{exc.line}: {exc.message}; not changed") from None
    changed, where = insert(note, body_line, heading, text)
    atomic_write(path, changed, expected=original)
    return Appended(path, where.heading, where.new_heading, where.first_line, where.last_line)


def _find(lines: list[str], start: int, key: str) -> tuple[int, int] | None:
    """``(heading line, end of its section)`` as 0-based indexes, for the first heading of the
    body whose words are ``key``."""
    fence: str | None = None
    found: tuple[int, int] | None = None  # (index, level)
    for i in range(start, len(lines)):
        line = lines[i]
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        match = _HEADING.match(line)
        if not match:
            continue
        level = len(match.group(1))
        if found is not None and level <= found[1]:
            return found[0], i
        if found is None and heading_key(match.group(2) or "") == key:
            found = (i, level)
    return None if found is None else (found[0], len(lines))
