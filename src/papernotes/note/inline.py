"""Obsidian Dataview inline fields in a note's body: ``Title:: ...`` on a line of its own
(also in a callout, ``> **Year**:: 2010``, or a list item) and ``[key:: value]`` or
``(key:: value)`` within a line. Vaults keep ordinary metadata there (Zotero templates write
title, authors, year, DOI and abstract that way); the parser reads them as fields, below the
front matter. Code (fenced blocks, inline code) is not read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_KEY = 60  # characters of a key: "Year" or "Reading Status", not a sentence

# A key: letters, digits, spaces, "_", "-", "/", starting with a letter; bold or italic
# around it (** __ * _) is markup, not part of the name.
_KEY = rf"[^\W\d_][\w \t/-]{{0,{MAX_KEY}}}"
_LINE = re.compile(
    rf"""^(?:[ \t]*>)*[ \t]*               # callout or quote markers
    (?:[-*+][ \t]+|\d+[.)][ \t]+)?          # a list item
    (?P<mark>\*\*|__|\*|_)?(?P<key>{_KEY}?)(?P=mark)?
    ::(?:[ \t]+(?P<value>.*?))?[ \t]*$""",
    re.X,
)
_BRACKETED = re.compile(
    rf"""\[(?P<key>{_KEY}?)::[ \t]*(?P<value>(?:[^\[\]\n]|\[\[[^\[\]\n]*\]\])*?)[ \t]*\]
    |\((?P<pkey>{_KEY}?)::[ \t]*(?P<pvalue>[^()\n]*?)[ \t]*\)""",
    re.X,
)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_WIKILINK = re.compile(r"\[\[([^\[\]|#^\n]+)(?:[#^][^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")


@dataclass(frozen=True)
class InlineField:
    """``key:: value`` at body line ``line`` (1-based, of the body); key and value as
    written, markup around them removed."""

    key: str
    value: str
    line: int


def fields(body: str) -> list[InlineField]:
    """Every inline field of ``body`` with a value, in order. Cheap on a body without ``::``:
    only the lines that hold one are looked at (and, when the body has code fences, which
    lines are code)."""
    if "::" not in body:
        return []
    found: list[InlineField] = []
    for number, line in _lines_with_fields(body):
        whole = _LINE.match(line)
        if whole and "`" not in line[: whole.end("key")]:
            _add(found, whole.group("key"), whole.group("value") or "", number)
            continue
        for match in _BRACKETED.finditer(_CODE_SPAN.sub(_blank, line)):
            key = match.group("key") or match.group("pkey") or ""
            value = match.group("value") if match.group("key") else match.group("pvalue")
            _add(found, key, value or "", number)
    return found


def _lines_with_fields(body: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of each line of ``body`` with ``::`` outside fenced code."""
    if "```" in body or "~~~" in body:
        fence = ""
        for number, line in enumerate(body.split("\n"), 1):
            marker = line.lstrip(" \t")[:3]
            if marker in ("```", "~~~"):
                fence = "" if marker == fence else fence or marker
            elif not fence and "::" in line:
                yield number, line
        return
    number, counted = 1, 0
    pos = body.find("::")
    while pos != -1:
        start = body.rfind("\n", 0, pos) + 1
        end = body.find("\n", pos)
        end = len(body) if end == -1 else end
        number += body.count("\n", counted, start)
        counted = start
        yield number, body[start:end]
        pos = body.find("::", end)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _add(found: list[InlineField], key: str, value: str, line: int) -> None:
    key = " ".join(key.split())
    text = clean(value)
    if key and text:
        found.append(InlineField(key, text, line))


def clean(value: str) -> str:
    """An inline value without the Markdown around it: ``*New Media & Society*`` is the
    text, ``**`` alone is nothing."""
    text = value.strip()
    stripped = True
    while stripped:
        stripped = False
        for mark in ("**", "__", "*", "_"):
            size = len(mark)
            inner = text[size:-size]
            if len(text) > 2 * size and text[:size] == text[-size:] == mark and mark not in inner:
                text, stripped = inner.strip(), True
                break
    return "" if not text.strip("*_") else text


def link_targets(value: str) -> list[str] | None:
    """The targets of a value made of wikilinks only (``[[a]], [[b|B]]``), else None."""
    targets = [m.group(1).strip() for m in _WIKILINK.finditer(value)]
    rest = _WIKILINK.sub("", value).replace(",", "").strip()
    return targets if targets and not rest else None


def plain_links(value: str) -> str:
    """``value`` with each wikilink replaced by its label (``[[a|Label]]`` -> ``Label``)."""
    return _WIKILINK.sub(lambda m: (m.group(2) or m.group(1)).strip(), value)
