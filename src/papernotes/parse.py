"""Note file -> :class:`Paper`. Reports every problem as ``path:line: message``; raises nothing
but :class:`NoteError` (``parse_note``) on any input."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papernotes import normalize
from papernotes.errors import Diagnostic, NoteError
from papernotes.frontmatter import FrontMatterError, Split, load, split
from papernotes.model import KNOWN_KEYS, Paper
from papernotes.model import PARSER_VERSION as PARSER_VERSION  # defined beside the model
from papernotes.store import NOTE_SUFFIXES as NOTE_SUFFIXES  # which files are notes

MAX_BYTES = 5 * 1024 * 1024

# Singular forms Obsidian and others accept for the list keys.
SYNONYMS = {"alias": "aliases", "tag": "tags", "author": "authors", "topic": "topics"}

_WIKILINK = re.compile(r"\[\[([^\[\]|#^\n]+)(?:[#^][^\[\]|\n]*)?(?:\|[^\[\]\n]*)?\]\]")
# Written to run in linear time: "(.+?)\s*#*\s*$" took minutes on a heading with a few
# thousand spaces in it. The closing "#"s and spaces are stripped by heading_text().
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)
_YAML_KEY = re.compile(r"""^(?:"([^"]+)"\s*|'([^']+)'\s*|([^\s#'"\-?:][^:]*)):(?:\s|$)""")
_TOML_KEY = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""")


@dataclass(frozen=True)
class ParseResult:
    """A Paper when the note has no errors, and every diagnostic (warnings too)."""

    paper: Paper | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")


def parse_note(path: str | Path, data: bytes | None = None) -> Paper:
    """The Paper in ``path`` (read from disk unless ``data`` is given); NoteError otherwise."""
    result = parse_bytes(data, str(path)) if data is not None else parse_file(path)
    if result.paper is None:
        raise NoteError(result.errors)
    return result.paper


def parse_file(path: str | Path, display: str | None = None) -> ParseResult:
    """Read and parse one note file. ``display`` is the path shown in messages."""
    shown = display if display is not None else str(path)
    try:
        data = _read(path)
    except IsADirectoryError:
        return _fail(shown, 1, "is a directory, not a note file")
    except NotARegularFile:
        return _fail(shown, 1, "not a regular file (a FIFO, socket or device); not read")
    except OSError as exc:
        return _fail(shown, 1, f"cannot read file: {exc.strerror or exc}")
    return parse_bytes(data, shown, stem=Path(path).stem)


class NotARegularFile(OSError):
    """A FIFO, socket or device where a note was."""


def _read(path: str | Path) -> bytes:
    """The first MAX_BYTES + 1 bytes of ``path`` (all of a note). With os.open and os.read:
    five system calls where open() and a buffered read made eight, and a buffer the size of the
    file, not of MAX_BYTES (allocating and faulting in 5 MB a note was a quarter of a cold
    build). A file that grows meanwhile is read on. Opened without blocking, and only a regular
    file is read: a FIFO or a device put in a note's place after the walk is refused, never
    waited on."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(path)
            raise NotARegularFile(path)
        limit = MAX_BYTES + 1
        want = min(info.st_size, MAX_BYTES) + 1
        data = os.read(fd, want)
        while len(data) < limit:
            more = os.read(fd, (want if len(data) < want else limit) - len(data))
            if not more:
                break
            data += more
        return data
    finally:
        os.close(fd)


def parse_bytes(data: bytes, path: str, stem: str | None = None) -> ParseResult:
    """Decode and parse a note's bytes; ``stem`` is the default id (the file name's stem)."""
    if len(data) > MAX_BYTES:
        limit = MAX_BYTES // (1024 * 1024)
        return _fail(path, 1, f"file is larger than {limit} MB; not a note (skipped)")
    try:
        text = decode_text(data)
    except UndecodableText as exc:
        advice = ", not a Markdown note" if exc.binary else "; save as UTF-8"
        return _fail(path, exc.line, exc.reason + advice)
    return parse_text(text, path, stem=stem)


class UndecodableText(ValueError):
    """Bytes that are not UTF-8 text: ``reason`` at ``line`` (``binary`` when NULs show it)."""

    def __init__(self, line: int, reason: str, binary: bool) -> None:
        super().__init__(reason)
        self.line, self.reason, self.binary = line, reason, binary


def decode_text(data: bytes) -> str:
    """``data`` as UTF-8 text, or UndecodableText naming the line of the first bad byte.
    A NUL in the first 8 kB marks a binary file. Importers of text files use this too."""
    if b"\x00" in data[:8192]:
        raise UndecodableText(1, "binary file (contains NUL bytes)", binary=True)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reason = f"not valid UTF-8 (byte 0x{data[exc.start]:02x})"
        raise UndecodableText(line, reason, binary=False) from None


def parse_text(text: str, path: str, stem: str | None = None) -> ParseResult:
    """Parse a decoded note."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    default_id = stem if stem is not None else Path(path).stem
    kept: list[FrontMatterError] = []  # values taken as text: warnings
    try:
        part = split(text)
        meta = load(part, kept)
    except FrontMatterError as exc:
        return _fail(path, exc.line, exc.message)
    return _build(meta, part, path, default_id, kept)


def heading_text(text: str) -> str:
    """A Markdown heading's text without its closing ``#``s and spaces (``C#`` gives ``C``,
    like the ATX rule; a heading of only ``#``s keeps its first)."""
    core = text.rstrip().rstrip("#").rstrip()
    return core or text[:1]


def _fail(path: str, line: int, message: str) -> ParseResult:
    return ParseResult(None, (Diagnostic(path, line, "error", message),))


def _key_lines(part: Split) -> dict[str, int]:
    pattern = _TOML_KEY if part.kind == "toml" else _YAML_KEY
    lines: dict[str, int] = {}
    for offset, line in enumerate(part.meta_text.split("\n")):
        match = pattern.match(line)
        if match:
            key = next(g for g in match.groups() if g is not None).strip()
            lines.setdefault(key, part.meta_line + offset)
    return lines


def _raw_value(part: Split, line: int) -> str | None:
    """The literal text after ``key:`` on ``line`` (YAML turns 2310.10640 into a float)."""
    source = part.meta_text.split("\n")[line - part.meta_line]
    sep = "=" if part.kind == "toml" else ":"
    value = source.partition(sep)[2].split(" #")[0].strip().strip("'\"")
    return value or None


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "title": normalize.text,
    "aliases": normalize.string_list,
    "authors": normalize.authors,
    "year": normalize.year,
    "published": normalize.date,
    "read": normalize.date,
    "added": normalize.date,
    "arxiv": normalize.arxiv_id,
    "doi": normalize.doi,
    "url": normalize.text,
    "venue": normalize.text,
    "org": normalize.text,
    "topics": normalize.string_list,
    "tags": lambda v: normalize.string_list(v, split_spaces=True, strip_hash=True),
    "status": normalize.status,
    "rating": normalize.rating,
    "related": lambda v: normalize.string_list(v, strip_hash=False),
}


def _build(
    meta: dict[Any, Any],
    part: Split,
    path: str,
    default_id: str,
    kept: list[FrontMatterError],
) -> ParseResult:
    diags: list[Diagnostic] = []
    key_lines = _key_lines(part)
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}

    def line_of(key: str) -> int:
        return key_lines.get(key, part.meta_line if part.kind != "none" else 1)

    def error(key: str, message: str) -> None:
        diags.append(Diagnostic(path, line_of(key), "error", message))

    for raw_key, value in meta.items():
        key = str(raw_key)
        name = key.lower() if key.lower() in KNOWN_KEYS else SYNONYMS.get(key.lower())
        if name is None:
            extra[key] = normalize.plain(value)
            continue
        if line_of(key) != line_of(name):
            key_lines.setdefault(name, line_of(key))
        if value is None or value == "" or value == []:
            continue  # an empty key says nothing
        if name == "arxiv" and isinstance(value, float):
            value = _raw_value(part, line_of(key)) or repr(value)
        clean: Any
        try:
            if name == "id":
                clean = normalize.text(value)
                if "\n" in clean or not clean:
                    raise ValueError("must be one line of text")
            elif name == "abstract":
                clean = normalize.text(value)
            else:
                clean = _FIELDS[name](value)
        except ValueError as exc:
            error(key, f"{key}: {exc}")
            continue
        if name in fields and isinstance(clean, list):  # "tag:" and "tags:", say
            clean = list(dict.fromkeys([*fields[name], *clean]))
        fields[name] = clean

    if kept:  # a field that could not use the text says why itself, on the same line
        said = {d.line for d in diags}
        diags += [
            Diagnostic(path, k.line, "warning", k.message) for k in kept if k.line not in said
        ]
    body = part.body
    title = fields.get("title")
    if not title:
        heading = _HEADING.search(body)
        if heading and heading_text(heading.group(1)).strip():
            title = heading_text(heading.group(1)).strip()
            heading_line = part.body_line + body.count("\n", 0, heading.start())
            why = "no front matter" if part.kind == "none" else "no title in the front matter"
            diags.append(
                Diagnostic(path, heading_line, "warning", f"{why}; title taken from the heading")
            )
        else:
            if part.kind == "none":
                error("title", "no front matter and no '# heading': missing title")
            else:
                error("title", "missing title (add 'title:' to the front matter)")
    if any(d.severity == "error" for d in diags):
        return ParseResult(None, tuple(diags))

    links = tuple(dict.fromkeys(m.group(1).strip() for m in _WIKILINK.finditer(body)))
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in fields.items() if k != "title"
    }
    values.setdefault("id", default_id)
    paper = Paper(
        title=str(title),
        **values,
        extra=extra,
        body=body,
        links=links,
        path=path,
        key_lines=key_lines,
        body_line=part.body_line,
    )
    return ParseResult(paper, tuple(diags))
