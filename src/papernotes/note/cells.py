"""A paper as plain-text cells: one line each, no tabs, harmless on a terminal.

``list`` prints :func:`line` for each note on a pipe; the index keeps it for every note when it
indexes it (the ``line`` column of ``papers``), so that a listing of 20,000 notes is read, not
made. Bump :data:`ROW_FORMAT` when :func:`row` would give another text for the same paper:
the index then rebuilds itself."""

from __future__ import annotations

import re

from papernotes.note.model import Paper

ROW_FORMAT = 1

# C0 and C1 controls, bidi overrides and isolates; lone surrogates too: the bytes of a file
# name that is not UTF-8 (os.fsdecode gives 0xff as \udcff), which no terminal can be sent
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def safe(text: str) -> str:
    """``text`` with control characters (ESC, ``\\r``, bidi overrides) shown as ``\\x1b``-style
    escapes, so a note cannot move the cursor, recolour or hyperlink the terminal; the bytes
    of a name that is not UTF-8 as ``\\xff``."""
    return CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode gives it
        return f"\\x{code - 0xDC00:02x}"
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def cell(text: str) -> str:
    """One line, harmless, no tabs (a table cell)."""
    return safe(" ".join(text.split()))


def first_authors(paper: Paper) -> str:
    if not paper.authors:
        return ""
    if len(paper.authors) > 2:
        return f"{cell(paper.authors[0])} et al."
    return " & ".join(cell(a) for a in paper.authors)


def row(paper: Paper) -> list[str]:
    """id, year, title, first authors, topics, tags, status, rating, read."""
    return [
        cell(paper.id),
        str(paper.year or ""),
        cell(paper.title),
        first_authors(paper),
        ", ".join(cell(t) for t in paper.topics),
        " ".join(f"#{cell(t)}" for t in paper.tags),
        paper.status or "",
        str(paper.rating) if paper.rating is not None else "",
        paper.read or "",
    ]


def line(paper: Paper) -> str:
    """:func:`row` as one tab-separated line, without its end."""
    return "\t".join(row(paper))
