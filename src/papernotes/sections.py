"""Sections of a note's body that mean something to papernotes: the ``## Abstract`` that
importers write (the paper's abstract when the front matter has none), and the importers'
``## Source`` list (where the note came from: provenance, not the reader's words).

Every search here is linear in the body: a heading is found line by line, never by a pattern
that backtracks over the text between headings."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANY_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)", re.MULTILINE)
_ABSTRACT = re.compile(r"^ {0,3}#{1,6}[ \t]+abstract[ \t]*:?[ \t]*#*[ \t]*$", re.I | re.M)
_SOURCE = re.compile(r"^ {0,3}##[ \t]+sources?[ \t]*$", re.I | re.M)
_ITEM = re.compile(r"[ \t]*[-*+][ \t]+\S")


@dataclass(frozen=True)
class Section:
    """A heading and the lines up to the next heading: ``body[start:end]``; ``text`` is what
    the section says (stripped)."""

    start: int
    end: int
    text: str


def _section(body: str, heading: re.Match[str]) -> Section:
    after = body.find("\n", heading.end())
    content_start = len(body) if after == -1 else after + 1
    following = _ANY_HEADING.search(body, content_start)
    end = following.start() if following else len(body)
    return Section(heading.start(), end, body[content_start:end].strip())


def abstract_section(body: str) -> Section | None:
    """The first ``# Abstract`` section (any level, any case) of ``body`` that says
    something, or None."""
    for heading in _ABSTRACT.finditer(body):
        found = _section(body, heading)
        if found.text:
            return found
    return None


def source_section(body: str) -> Section | None:
    """The importers' provenance list: a ``## Source`` section of list items only
    (``- 003_a607115246831834.txt: LLM Pretraining & Fine-tuning``)."""
    for heading in _SOURCE.finditer(body):
        found = _section(body, heading)
        lines = [line for line in found.text.split("\n") if line.strip()]
        if lines and all(_ITEM.match(line) for line in lines):
            return found
    return None


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
