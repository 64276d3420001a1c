"""Writing a new note from a template: the default one, or ``template.md`` in the notes directory.

A template is a note whose front matter gives defaults and whose body is the skeleton of the
notes. ``{{title}}``, ``{{id}}``, ``{{date}}``, ``{{arxiv}}`` and ``{{url}}`` are replaced in
the body and in text values of the front matter (Obsidian's Templates plugin uses the same
``{{title}}``/``{{date}}``). The options given on the command line win over the template."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papernotes.disk.notefiles import display_path
from papernotes.disk.store import TEMPLATE_NAME, Store
from papernotes.disk.write import atomic_write, inside, slugify
from papernotes.errors import ConfigError, Diagnostic, UsageError, WriteRefused
from papernotes.note import normalize
from papernotes.note.model import KNOWN_KEYS, Paper

DEFAULT_TEMPLATE = """\
---
title: "{{title}}"
authors: []
year:
arxiv:
url:
topics: []
tags: []
status: to-read
added: "{{date}}"
---

## Summary

## Key ideas

## Questions
"""

_PLACEHOLDER = re.compile(r"\{\{\s*(title|id|date|arxiv|url)\s*\}\}")


@dataclass(frozen=True)
class NewNote:
    """What the user asked for. Empty values leave the template's."""

    title: str
    id: str | None = None
    arxiv: str | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


def note_id(spec: NewNote) -> str:
    """The id (and file stem) of the new note: ``--id`` if given, else the title's slug."""
    if spec.id is None:
        return slugify(spec.title)
    if slugify(spec.id) != spec.id:
        raise UsageError(
            f"not a valid id: {spec.id!r} (use lowercase letters, digits and dashes, "
            f"like {slugify(spec.id)!r})"
        )
    return spec.id


def _year_of(arxiv: str) -> int | None:
    """The submission year of a new-style arXiv id (``2305.18290`` -> 2023)."""
    match = re.match(r"^(\d{2})\d{2}\.", arxiv)
    return 2000 + int(match.group(1)) if match else None


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], value)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _front_matter(meta: dict[str, Any]) -> str:
    """YAML for ``meta``; an empty value is written as a bare ``key:`` to fill in later."""
    from papernotes.note.dump import dump_meta

    known = [k for k in KNOWN_KEYS if k in meta]
    order = [*known, *(k for k in meta if k not in known)]
    parts = []
    for key in order:
        value = meta[key]
        parts.append(f"{key}:\n" if value is None or value == "" else dump_meta({key: value}))
    return "".join(parts)


def render(
    spec: NewNote,
    template: str | None = None,
    today: dt.date | None = None,
    source: str = TEMPLATE_NAME,
) -> str:
    """The text of the new note for ``spec`` from ``template`` (the default one if None;
    ``source`` names it in messages)."""
    from papernotes.note.frontmatter import FrontMatterError, load, split

    title = " ".join(spec.title.split())
    if not title:
        raise UsageError("the title is empty")
    arxiv = None
    if spec.arxiv:
        try:
            arxiv = normalize.arxiv_id(spec.arxiv)
        except ValueError as exc:
            raise UsageError(f"--arxiv: {exc}") from None
    ident = note_id(spec)
    url = f"https://arxiv.org/abs/{arxiv}" if arxiv else ""
    values = {
        "title": title,
        "id": ident,
        "date": (today or dt.date.today()).isoformat(),
        "arxiv": arxiv or "",
        "url": url,
    }
    text = (template if template is not None else DEFAULT_TEMPLATE).replace("\r\n", "\n")
    try:
        part = split(text.removeprefix("\ufeff"))
        if part.kind == "toml":
            raise FrontMatterError(1, "use YAML front matter (---) in a template")
        meta = {str(k): _fill(v, values) for k, v in load(part).items()}
    except FrontMatterError as exc:
        raise ConfigError(f"{source}:{exc.line}: {exc.message}") from None
    meta = {k: normalize.plain(v) for k, v in meta.items()}
    meta.pop("id", None)  # the file name is the id
    meta["title"] = title
    lists = {
        "aliases": spec.aliases,
        "authors": spec.authors,
        "topics": spec.topics,
        "tags": tuple(t.lstrip("#") for t in spec.tags),
    }
    for key, given in lists.items():
        if given:
            old = meta.get(key)
            kept = [v for v in old if isinstance(v, str) and v] if isinstance(old, list) else []
            meta[key] = list(dict.fromkeys([*kept, *given]))
    if arxiv:
        meta["arxiv"] = arxiv
        if not meta.get("url"):
            meta["url"] = url
        if not meta.get("year"):
            meta["year"] = _year_of(arxiv)
    for key in ("published", "read", "added"):
        value = meta.get(key)
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            with contextlib.suppress(ValueError):  # no such day: the note's check says so
                meta[key] = dt.date.fromisoformat(value)  # written as a YAML date, unquoted
    body = _fill(part.body, values)
    return f"---\n{_front_matter(meta)}---\n{body}"


Lookup = Callable[[str, str], Sequence[Paper]]


def in_papers(papers: Sequence[Paper]) -> Lookup:
    """A :data:`Lookup` over a list of papers (``kind`` is ``id`` or ``arxiv``)."""

    def find(kind: str, value: str) -> list[Paper]:
        if kind == "id":
            return [p for p in papers if p.id.casefold() == value.casefold()]
        return [p for p in papers if getattr(p, kind) == value]

    return find


def create(
    store: Store,
    find: Lookup,
    spec: NewNote,
    today: dt.date | None = None,
    *,
    catch_up: Callable[[], object] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Path:
    """Write the new note into the notes directory; refuse when its file, id or arXiv id is
    taken (``find(kind, value)``: the notes with that ``id`` or ``arxiv``, such as
    :meth:`papernotes.engine.kb.KnowledgeBase.lookup`). Returns the path written.

    The checks and the write are made under the folder's lock, as an import's and an edit's
    (:func:`papernotes.disk.lock.folder_lock`; ``on_wait`` is called if another holds it), after
    ``catch_up()`` has brought what ``find`` reads up to date (such as
    :meth:`papernotes.engine.kb.KnowledgeBase.catch_up`): two ``new`` at once for one paper, or a
    ``new`` beside an import of it, cannot both write a note."""
    from papernotes.disk.lock import folder_lock
    from papernotes.note.parse import parse_text

    ident = note_id(spec)
    path = store.root / f"{ident}.md"
    if not inside(store.root, path):  # the slug cannot escape, but be sure
        raise WriteRefused(f"{path}: outside the notes directory; not written")
    template = _template(store)
    source = display_path(store.root / TEMPLATE_NAME)
    text = render(spec, template, today, source)
    result = parse_text(text, f"{ident}.md", stem=ident)
    if result.paper is None:
        raise ConfigError(_invalid(result.errors, text, template, source))
    with folder_lock(store.root, on_wait):
        if catch_up is not None:
            catch_up()
        for paper in find("id", ident):
            raise WriteRefused(
                f"a note with id {ident!r} exists ({paper.path}); choose another with --id"
            )
        if result.paper.arxiv:
            for paper in find("arxiv", result.paper.arxiv):
                message = f"arXiv:{paper.arxiv} already has a note: {paper.id} ({paper.path})"
                raise WriteRefused(message)
        atomic_write(path, text, create=True)
    return path


def _invalid(errors: Sequence[Diagnostic], text: str, template: str | None, source: str) -> str:
    """Why the note made from the template ``source`` is not valid, at the template's lines
    (its keys are written in another order, its comments left out): a value of the template
    that its key cannot use (``read: 2024-02-30``) is the template's problem."""
    from papernotes.note.frontmatter import FrontMatterError, split
    from papernotes.note.parse import key_lines

    where: dict[str, int] = {}
    if template is not None:
        with contextlib.suppress(FrontMatterError):  # render() read it: it can be split
            where = key_lines(split(template.removeprefix("\ufeff").replace("\r\n", "\n")))
    written = {line: key for key, line in key_lines(split(text)).items()}
    problems = []
    for error in errors:
        line = where.get(written.get(error.line, ""))
        if line is not None:
            problems.append(f"{source}:{line}: {error.message}")
        else:  # not a value of the template: the title or an option
            problems.append(f"the new note would be invalid: line {error.line}: {error.message}")
    return "; ".join(problems) + "; no note written"


def _template(store: Store) -> str | None:
    """The text of the folder's ``template.md``, or None when there is none."""
    from papernotes.disk.trust import read_folder_file

    template_path = store.root / TEMPLATE_NAME
    data = read_folder_file(template_path, store.root)  # not through a symlink out, no FIFO
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{template_path}: cannot read the template: {exc}") from None
