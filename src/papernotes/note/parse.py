"""Note file -> :class:`Paper`. Reports every problem as ``path:line: message``; raises nothing
but :class:`NoteError` (``parse_note``) on any input."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papernotes.disk.store import NOTE_SUFFIXES as NOTE_SUFFIXES  # which files are notes
from papernotes.errors import Diagnostic, NoteError, Severity
from papernotes.note import normalize, understand
from papernotes.note.frontmatter import FrontMatterError, Split, load, split
from papernotes.note.model import KNOWN_KEYS, Paper
from papernotes.note.model import PARSER_VERSION as PARSER_VERSION  # defined beside the model

MAX_BYTES = 5 * 1024 * 1024

# Singular forms Obsidian and others accept for the list keys.
SYNONYMS = {"alias": "aliases", "tag": "tags", "author": "authors", "topic": "topics"}

_WIKILINK = re.compile(
    r"(?P<embed>!?)\[\[(?P<target>[^\[\]|#^\n]+)(?:[#^][^\[\]|\n]*)?(?:\|[^\[\]\n]*)?\]\]"
)
# Files a vault keeps beside its notes (Obsidian's attachment formats and common documents):
# [[diagram.png]] and ![[paper.pdf]] link to a file, not to a note.
ATTACHMENTS = frozenset(
    (
        *("avif", "bmp", "gif", "heic", "jpeg", "jpg", "png", "svg", "tif", "tiff", "webp"),
        *("3gp", "flac", "m4a", "mkv", "mov", "mp3", "mp4", "ogg", "ogv", "wav", "webm"),
        *("pdf", "epub", "djvu", "csv", "tsv", "xls", "xlsx", "doc", "docx", "odt", "ppt"),
        *("pptx", "zip", "canvas", "excalidraw", "drawio", "base"),
    )
)
_SUFFIX = re.compile(r"\.([A-Za-z0-9]{1,10})$")
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
    """The Paper in ``path`` (read from disk unless ``data`` is given) as the reading commands
    see it (see :func:`parse_file`); NoteError otherwise."""
    if data is None:
        result = parse_file(path)
    else:
        result = parse_bytes(data, str(path), strict=False, understand=True)
    if result.paper is None:
        raise NoteError(result.errors)
    return result.paper


def parse_file(
    path: str | Path,
    display: str | None = None,
    *,
    strict: bool = False,
    understand: bool = True,
) -> ParseResult:
    """Read and parse one note file as the index, ``check`` and every reading command see
    it: understood and lenient (see :func:`parse_text`). ``display`` is the path shown in
    messages."""
    shown = display if display is not None else str(path)
    try:
        data = _read(path)
    except IsADirectoryError:
        return _fail(shown, 1, "is a directory, not a note file")
    except NotARegularFile:
        return _fail(shown, 1, "not a regular file (a FIFO, socket or device); not read")
    except OSError as exc:
        return _fail(shown, 1, f"cannot read file: {exc.strerror or exc}")
    stem = Path(path).stem
    return parse_bytes(data, shown, stem=stem, strict=strict, understand=understand)


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


def parse_bytes(
    data: bytes,
    path: str,
    stem: str | None = None,
    *,
    strict: bool = True,
    understand: bool = False,
) -> ParseResult:
    """Decode and parse a note's bytes; ``stem`` is the default id (the file name's stem).
    ``strict`` and ``understand``: see :func:`parse_text`."""
    if len(data) > MAX_BYTES:
        limit = MAX_BYTES // (1024 * 1024)
        return _fail(path, 1, f"file is larger than {limit} MB; not a note (skipped)")
    try:
        text = decode_text(data)
    except UndecodableText as exc:
        advice = ", not a Markdown note" if exc.binary else "; save as UTF-8"
        return _fail(path, exc.line, exc.reason + advice)
    return parse_text(text, path, stem=stem, strict=strict, understand=understand)


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


def parse_text(
    text: str,
    path: str,
    stem: str | None = None,
    *,
    strict: bool = True,
    understand: bool = False,
) -> ParseResult:
    """Parse a decoded note. The defaults check the front matter as written, as editors and
    validators need: a note reads back to what was written, a bad value is refused.

    ``strict=False``: a value a known key cannot use (``rating: 4.5``) is a warning, the note
    is read and the value kept as text among its extra keys (only front matter that cannot be
    read fails the note). ``understand=True``: the note as papernotes understands it beyond
    its front matter: Dataview inline fields, the ``## Abstract`` section as the abstract, a
    title from ``Title::`` or the first alias when the heading is a template's, a read date
    meaning read (see :mod:`papernotes.note.understand`). :func:`parse_file` reads with both, as
    the index, ``check`` and every reading command do."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    default_id = stem if stem is not None else Path(path).stem
    kept: list[FrontMatterError] = []  # values taken as text: warnings
    try:
        part = split(text)
        meta = load(part, kept)
    except FrontMatterError as exc:
        return _fail(path, exc.line, exc.message)
    draft = Draft(path, part, "error" if strict else "warning", key_lines(part))
    return _build(draft, meta, default_id, kept, understand)


def heading_text(text: str) -> str:
    """A Markdown heading's text without its closing ``#``s and spaces (``C#`` gives ``C``,
    like the ATX rule; a heading of only ``#``s keeps its first)."""
    core = text.rstrip().rstrip("#").rstrip()
    return core or text[:1]


def _fail(path: str, line: int, message: str) -> ParseResult:
    return ParseResult(None, (Diagnostic(path, line, "error", message),))


def key_lines(part: Split) -> dict[str, int]:
    """The line where each top-level key of front matter ``part`` starts (the first, when
    one is written twice)."""
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


def _one_line(value: Any) -> str:
    clean = normalize.text(value)
    if "\n" in clean or not clean:
        raise ValueError("must be one line of text")
    return clean


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "id": _one_line,
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
    "abstract": normalize.text,
}


def field_name(key: str) -> str | None:
    """The known field a key names (``Title`` and ``tag`` too), or None."""
    lower = key.lower()
    return lower if lower in KNOWN_KEYS else SYNONYMS.get(lower)


@dataclass
class Draft:
    """A note being read: the fields found so far, the extra keys, where keys are, and what
    is wrong. A value a field cannot use is reported with ``severity``."""

    path: str
    part: Split
    severity: Severity
    key_lines: dict[str, int]
    fields: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    diags: list[Diagnostic] = field(default_factory=list)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.part.meta_line if self.part.kind != "none" else 1)

    def say(self, line: int, message: str, severity: Severity | None = None) -> None:
        self.diags.append(Diagnostic(self.path, line, severity or self.severity, message))

    def put(self, name: str, key: str, value: Any, line: int) -> bool:
        """Field ``name`` from ``value`` (written as ``key`` at ``line``), normalised; a value
        it cannot use is reported (and False returned)."""
        try:
            clean = _FIELDS[name](value)
        except ValueError as exc:
            self.say(line, f"{key}: {exc}")
            return False
        if name in self.fields and isinstance(clean, list):  # "tag:" and "tags:", say
            clean = list(dict.fromkeys([*self.fields[name], *clean]))
        self.fields[name] = clean
        return True


def _build(
    draft: Draft,
    meta: dict[Any, Any],
    default_id: str,
    kept: list[FrontMatterError],
    understood: bool,
) -> ParseResult:
    part = draft.part
    for raw_key, value in meta.items():
        key = str(raw_key)
        name = field_name(key)
        if name is None:
            draft.extra[key] = normalize.plain(value)
            continue
        if draft.line_of(key) != draft.line_of(name):
            draft.key_lines.setdefault(name, draft.line_of(key))
        if value is None or value == "" or value == []:
            continue  # an empty key says nothing
        if name == "arxiv" and isinstance(value, float):
            value = _raw_value(part, draft.line_of(key)) or repr(value)
        if not draft.put(name, key, value, draft.line_of(key)):
            draft.extra[key] = normalize.plain(value)  # kept as the user wrote it

    if kept:  # a field that could not use the text says why itself, on the same line
        said = {d.line for d in draft.diags}
        for k in kept:
            if k.line not in said:
                draft.say(k.line, k.message, "warning")
    if understood:
        understand.read_inline_fields(draft)
    title = understand.title(draft, default_id, understood)
    if understood:
        understand.derive(draft)
    if any(d.severity == "error" for d in draft.diags):
        return ParseResult(None, tuple(draft.diags))

    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in draft.fields.items() if k != "title"
    }
    values.setdefault("id", default_id)
    paper = Paper(
        title=title,
        **values,
        extra=draft.extra,
        body=part.body,
        links=links(part.body),
        path=draft.path,
        key_lines=draft.key_lines,
        body_line=part.body_line,
    )
    return ParseResult(paper, tuple(draft.diags))


def links(body: str) -> tuple[str, ...]:
    """The notes ``body`` links to with ``[[wikilinks]]`` (``![[embeds]]`` of notes too), in
    order, each once; links to attachments (``![[figure.png]]``, ``[[paper.pdf]]``) are not
    links between notes."""
    if "[[" not in body:
        return ()
    found: dict[str, None] = {}
    for match in _WIKILINK.finditer(body):
        target = match.group("target").strip()
        suffix = _SUFFIX.search(target)
        kind = suffix.group(1).lower() if suffix else "md"
        if kind not in ("md", "markdown") and (match.group("embed") or kind in ATTACHMENTS):
            continue
        found[target] = None
    return tuple(found)
