"""Sections of a note's body that mean something to papernotes: the ``## Abstract`` that
importers write (the paper's abstract when the front matter has none), and the importers'
``## Source`` list (where the note came from: provenance, not the reader's words).

Every search here is linear in the body: a heading is found line by line, never by a pattern
that backtracks over the text between headings. A heading starts its line (no indentation)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_ITEM = re.compile(r"[ \t]*[-*+][ \t]+\S")


@dataclass(frozen=True)
class Section:
    """A heading and the lines up to the next heading: ``body[start:end]``; ``text`` is what
    the section says (stripped)."""

    start: int
    end: int
    text: str


def _headings(body: str) -> Iterator[tuple[int, int, int, str]]:
    """Each ATX heading line of ``body``: (start, end of line, level, text). Found with
    ``str.find`` on "\n#": a multi-line regex anchored at "^" cost six times as much."""
    pos = 0 if body.startswith("#") else body.find("\n#")
    while pos != -1:
        start = pos if body[pos] == "#" else pos + 1
        end = body.find("\n", start)
        end = len(body) if end == -1 else end
        line = body[start:end]
        level = len(line) - len(line.lstrip("#"))
        if level <= 6 and (level == len(line) or line[level] in " \t"):
            yield start, end, level, line[level:].strip().rstrip("#").strip()
        pos = body.find("\n#", end)


def _section(body: str, name: str, levels: range) -> Section | None:
    """The first section of heading ``name`` (any case, a colon allowed) at one of ``levels``
    that says something."""
    found: tuple[int, int] | None = None
    for start, end, level, text in _headings(body):
        if found is not None:
            section = Section(found[0], start, body[found[1] : start].strip())
            if section.text:
                return section
            found = None
        if level in levels and text.rstrip(":").strip().lower() == name:
            found = (start, end)
    if found is not None:
        section = Section(found[0], len(body), body[found[1] :].strip())
        return section if section.text else None
    return None


def abstract_section(body: str) -> Section | None:
    """The first ``# Abstract`` section (any level, any case) of ``body`` that says
    something, or None."""
    return _section(body, "abstract", range(1, 7))


def source_section(body: str) -> Section | None:
    """The importers' provenance list: a ``## Source`` section of list items only
    (``- 003_a607115246831834.txt: LLM Pretraining & Fine-tuning``)."""
    found = _section(body, "source", range(2, 3))
    if found is None:
        return None
    lines = [line for line in found.text.split("\n") if line.strip()]
    return found if all(_ITEM.match(line) for line in lines) else None


def without(body: str, sections: list[Section | None]) -> str:
    """``body`` with ``sections`` cut out (the text around them kept as it is)."""
    cuts = sorted((s.start, s.end) for s in sections if s is not None)
    if not cuts:
        return body
    out, pos = [], 0
    for start, end in cuts:
        if start < pos:  # overlapping sections: the later one is inside the earlier
            continue
        out.append(body[pos:start])
        pos = end
    out.append(body[pos:])
    return "".join(out)
