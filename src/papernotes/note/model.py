"""The typed paper model: what a note file means once parsed and normalised."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from papernotes.note import sections

# Bump when the same file would parse differently (parse.py); the index then rebuilds itself.
# It lives here, not in parse.py, so that checking the index needs no YAML import.
PARSER_VERSION = 3

STATUSES = ("to-read", "reading", "read", "skimmed")

# Front-matter keys papernotes understands, in the order ``dump`` writes them.
KNOWN_KEYS = (
    "id",
    "title",
    "aliases",
    "authors",
    "year",
    "published",
    "read",
    "added",
    "arxiv",
    "doi",
    "url",
    "venue",
    "org",
    "topics",
    "tags",
    "status",
    "rating",
    "related",
    "abstract",
)


@dataclass(frozen=True)
class Paper:
    """One note, normalised.

    Dates are ISO strings (``2024-02-08``, or ``2024-02`` when only the month is known).
    ``links`` are the targets of ``[[wikilinks]]`` in the body. ``extra`` keeps every
    front-matter key papernotes does not know, with JSON-compatible values.
    ``path``, ``key_lines`` and ``body_line`` say where things are in the file; they are
    not part of a paper's identity (``==`` ignores them).
    """

    id: str
    title: str
    aliases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    year: int | None = None
    published: str | None = None
    read: str | None = None
    added: str | None = None
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None
    venue: str | None = None
    org: str | None = None
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    status: str | None = None
    rating: int | None = None
    related: tuple[str, ...] = ()
    abstract: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    body: str = ""
    links: tuple[str, ...] = ()
    path: str = field(default="", compare=False)
    key_lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    body_line: int = field(default=1, compare=False)

    def line_of(self, key: str) -> int:
        """The line where front-matter ``key`` starts (1 when unknown)."""
        return self.key_lines.get(key, 1)

    def abstract_in_body(self) -> bool:
        """Whether the abstract is the body's ``## Abstract`` section (the section, not a
        front-matter ``abstract``, says it): show it once, search it once."""
        if not self.abstract:
            return False
        found = sections.abstract_section(self.body)
        return found is not None and found.text == self.abstract

    def body_text(self) -> str:
        """The body as the reader's text, for search and snippets: without the ``## Abstract``
        section when it is the abstract (a field of its own) and without the importers'
        ``## Source`` list (provenance: seed file names are not note text)."""
        abstract = sections.abstract_section(self.body) if self.abstract else None
        if abstract is not None and abstract.text != self.abstract:
            abstract = None
        return sections.without(self.body, [abstract, sections.source_section(self.body)])

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-compatible data (lists, not tuples)."""
        out: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            kind = type(value)
            if kind is tuple:
                value = list(value)
            elif kind is not str and value is not None and isinstance(value, Mapping):
                value = dict(value)
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], strict: bool = False) -> Paper:
        """Inverse of :meth:`to_dict` (the index adds ``key_lines`` and ``body_line``).
        ``strict``: every field must be there with its type, else ValueError (for data read
        back from a cache, which is never trusted)."""
        if strict:
            _check(data)
        kwargs = {name: data[name] for name in _INVERSE if name in data}
        for name in _LISTS:
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        return cls(**kwargs)


# what to_dict gives; the body last: a stored record is the rest (see engine.schema.json_of)
_FIELDS = (*KNOWN_KEYS, "extra", "links", "path", "body")
_INVERSE = (*_FIELDS, "key_lines", "body_line")  # what from_dict takes
_LISTS = ("aliases", "authors", "topics", "tags", "related", "links")
_TEXTS = ("id", "title", "path", "body")
_NUMBERS = ("year", "rating")
_OPTIONAL_TEXTS = tuple(n for n in _FIELDS if n not in (*_LISTS, *_TEXTS, *_NUMBERS, "extra"))


def as_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """What ``Paper.from_dict(data, strict=True).to_dict()`` gives, without making the paper:
    for streaming many stored records out (``export --format json``). ValueError as
    :meth:`Paper.from_dict` raises it."""
    _check(data)
    return {name: data[name] for name in _FIELDS}


def _check(data: Mapping[str, Any]) -> None:
    """ValueError unless ``data`` has every field of :meth:`Paper.to_dict` with its type (and
    ``key_lines``, ``body_line``, if present, theirs). The types of many values are gathered
    by ``set(map(type, ...))``, in C: this runs once a note read from the index."""
    if type(data) is not dict or not _FIELD_SET <= data.keys() <= _INVERSE_SET:
        raise ValueError("not the fields of a paper")
    get = data.__getitem__
    if (
        set(map(type, map(get, _TEXTS))) != _STR
        or not set(map(type, map(get, _OPTIONAL_TEXTS))) <= _STR_OR_NONE
        or not set(map(type, map(get, _NUMBERS))) <= _INT_OR_NONE
        or type(data["extra"]) is not dict
    ):
        raise ValueError("not what a paper holds")
    lists = list(map(get, _LISTS))
    if set(map(type, lists)) != _LIST or not set(map(type, chain.from_iterable(lists))) <= _STR:
        raise ValueError("a list: not what a paper holds")
    lines = data.get("key_lines", {})
    if type(lines) is not dict or (lines and set(map(type, lines.values())) != _INT):
        raise ValueError("key_lines: not what a paper holds")
    if type(data.get("body_line", 1)) is not int:
        raise ValueError("body_line: not what a paper holds")


_FIELD_SET = frozenset(_FIELDS)
_INVERSE_SET = frozenset(_INVERSE)
_STR, _INT, _LIST = {str}, {int}, {list}
_STR_OR_NONE, _INT_OR_NONE = {str, type(None)}, {int, type(None)}


_WEB = re.compile(r"^https?://[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+$", re.I)


def is_web_url(text: str) -> bool:
    """An ``http(s)`` address without spaces or control characters: safe to link and open
    (a note could hold ``javascript:``, ``file:`` or an escape sequence)."""
    return bool(_WEB.match(text))


def paper_url(paper: Paper) -> str | None:
    """The page of a paper: its ``url``, else its arXiv page, else its DOI."""
    if paper.url and is_web_url(paper.url):
        return paper.url
    if paper.arxiv:
        return f"https://arxiv.org/abs/{paper.arxiv}"
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    return None
