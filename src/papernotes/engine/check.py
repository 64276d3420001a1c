"""``papernotes check``: validate a knowledge base, note by note and across notes.

Nothing is parsed again: each file's own problems are those the indexer recorded when it last
read it, and the rules across notes are SQL over the index (duplicates from its keys, links to
nowhere by the resolution rule of :mod:`papernotes.engine.links`, unknown keys from its extras)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from papernotes.disk.notefiles import display_path as display_path  # where it was
from papernotes.errors import Diagnostic
from papernotes.note.model import KNOWN_KEYS

if TYPE_CHECKING:
    import sqlite3

    from papernotes.engine.kb import KnowledgeBase

TYPO_CUTOFF = 80


@dataclass(frozen=True)
class CheckReport:
    notes: int
    with_errors: int
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> int:
        return self.notes - self.with_errors

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "warning")

    def failed(self, strict: bool = False) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)

    def summary(self) -> str:
        def plural(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        return (
            f"{plural(self.notes, 'note')}, {self.ok} ok, {self.with_errors} with errors, "
            f"{plural(self.warnings, 'warning')}"
        )


def check(
    kb: KnowledgeBase | None,
    only: Iterable[str] | None = None,
    files: Sequence[Path] = (),
    undecodable: Sequence[Path] = (),
) -> CheckReport:
    """Check the notes of ``kb`` (only the note files ``only``, paths as the index records
    them, when given): the problems the indexer recorded for each file, and the cross-note
    rules (duplicate ids, aliases and arXiv ids; links to nowhere; unknown keys like known
    ones), in SQL over the index. ``files``: note files the index does not hold (outside the
    notes directory, or named by a name it passes over), parsed here, their links resolved
    through the index. ``undecodable``: note files and folders whose names are not valid
    UTF-8 (which the other commands pass over, see :func:`papernotes.disk.notefiles.walk`), each
    reported."""
    diags: list[Diagnostic] = [_undecodable(path) for path in undecodable]
    checked = sum(1 for d in diags if d.severity == "error")  # a folder is not a note
    if kb is not None:
        wanted = set(only) if only is not None else None
        found = _indexed(kb, wanted)
        diags += found[1]
        checked += found[0]
    for path in files:
        diags += _parsed(kb, path)
    checked += len(files)
    bad = {d.path for d in diags if d.severity == "error"}
    return CheckReport(checked, len(bad), tuple(_ordered(diags)))


def indexed_path(kb: KnowledgeBase, path: Path) -> str | None:
    """``path`` as the index records it, when the index holds that note file (else None:
    outside the notes directory, a name it passes over)."""
    try:
        rel = path.resolve().relative_to(kb.store.root.resolve()).as_posix()
        rel.encode("utf-8")
    except ValueError:  # outside the notes directory, or a name that is not UTF-8
        return None
    sql = "SELECT 1 FROM files WHERE path = ?"
    return rel if kb.index.read(lambda conn: conn.execute(sql, (rel,)).fetchone()) else None


def _undecodable(path: Path) -> Diagnostic:
    """The report of a note file or folder whose name is not UTF-8 (its bytes are surrogates,
    ``\\udcff`` for 0xff, which :func:`papernotes.render.safe` prints as ``\\xff``)."""
    name = path.name
    code = next((ord(c) for c in name if 0xD800 <= ord(c) <= 0xDFFF), 0)
    byte = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
    shown = display_path(path)
    if path.is_dir() and not path.is_symlink():
        return Diagnostic(
            f"{shown}/",
            1,
            "warning",
            f"folder name is not valid UTF-8 ({byte}); its notes are not read (rename it)",
        )
    message = f"file name is not valid UTF-8 ({byte}); not read (rename it)"
    return Diagnostic(shown, 1, "error", message)


def _indexed(kb: KnowledgeBase, wanted: set[str] | None) -> tuple[int, list[Diagnostic]]:
    """How many of the index's note files are checked, and their problems."""
    from papernotes.engine.links import dangling

    root = kb.store.root

    def shown(rel: str) -> str:
        return display_path(root / rel)

    recorded = kb.index.diagnostics()
    seconds = {d.path: d.line for kind, d in recorded if kind == "duplicate"}
    out = [d for kind, d in recorded if kind != "duplicate"]  # said again, naming both files
    out += kb.index.read(lambda conn: list(_duplicates(conn, seconds, shown)))
    for link in dangling(kb):
        if link.related:
            out.append(
                Diagnostic(
                    link.path, link.line, "error", f"related: no note with id {link.target!r}"
                )
            )
        else:
            message = f"wikilink [[{link.target}]] points to no note"
            out.append(Diagnostic(link.path, link.line, "warning", message))
    out += _typos(kb)
    if wanted is None:  # every note file is indexed or skipped (counting files: 3 ms at 75k)
        count = kb.index.count() + kb.skipped
    else:
        files = kb.index.read(
            lambda conn: [str(p) for (p,) in conn.execute("SELECT path FROM files")]
        )
        count = len([f for f in files if f in wanted])
        out = [d for d in out if d.path in wanted]
    return count, [Diagnostic(shown(d.path), d.line, d.severity, d.message) for d in out]


def _duplicates(
    conn: sqlite3.Connection, seconds: dict[str, int], shown: Callable[[str], str]
) -> Iterable[Diagnostic]:
    """Duplicate ids (the indexer keeps the first file and records the others, at the line
    ``seconds`` gives), aliases and arXiv ids: each note names the others, with their
    lines."""
    groups: dict[tuple[str, str], list[tuple[str, int]]] = {}
    rows = conn.execute(
        # the few duplicates by their index, not all files in path order (9 ms at 75k)
        "SELECT f.dup_of, f.path, p.path, r.data FROM files f INDEXED BY files_dup "
        "JOIN papers p ON p.id = f.dup_of "
        "JOIN records r ON r.rowid = p.rowid WHERE f.dup_of IS NOT NULL ORDER BY f.path"
    )
    for paper_id, path, owner, data in rows:
        group = groups.setdefault(("id", str(paper_id)), [(owner, _line(data, "id"))])
        group.append((str(path), seconds.get(str(path), 1)))
    for kind, label in (("alias", "aliases"), ("arxiv", "arxiv")):
        rows = conn.execute(
            "SELECT k.value, p.path, r.data FROM keys k JOIN papers p ON p.rowid = k.paper "
            "JOIN records r ON r.rowid = p.rowid "
            "WHERE k.kind = ? AND k.value IN (SELECT value FROM dupkeys WHERE kind = ?) "
            "ORDER BY k.value, p.path",  # a key once a note
            (kind, kind),
        )
        for value, path, data in rows:
            groups.setdefault((kind, str(value)), []).append((str(path), _line(data, label)))
    labels = {"id": "id", "alias": "alias", "arxiv": "arXiv id"}
    for (kind, value), owners in groups.items():
        for n, (path, line) in enumerate(owners):
            others = ", ".join(f"{shown(p)}:{x}" for m, (p, x) in enumerate(owners) if m != n)
            message = f"duplicate {labels[kind]} {value!r} (also in {others})"
            yield Diagnostic(path, line, "error", message)


def _line(data: object, key: str) -> int:
    """The line of front-matter ``key`` in a stored record (1 when unknown)."""
    try:
        line = json.loads(str(data))["key_lines"].get(key, 1)
    except (ValueError, KeyError, TypeError, AttributeError):
        return 1
    return line if type(line) is int else 1


def _body_line(data: object) -> int:
    """The first line of the body in a stored record (1 when unknown)."""
    try:
        line = json.loads(str(data))["body_line"]
    except (ValueError, KeyError, TypeError):
        return 1
    return line if type(line) is int else 1


def _typo_like(keys: Iterable[str]) -> dict[str, str]:
    """Each of ``keys`` that papernotes does not know but that looks like a key it knows
    (``autors``), with that key."""
    from rapidfuzz import fuzz, process

    from papernotes.note.parse import SYNONYMS

    choices = [*KNOWN_KEYS, *SYNONYMS]
    close: dict[str, str] = {}
    for key in keys:
        if key.lower() in choices:
            continue  # a known key whose value was kept as text: its own warning says why
        match = process.extractOne(
            key.lower(), choices, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
        )
        if match:
            close[key] = SYNONYMS.get(match[0], match[0])
    return close


def _typos(kb: KnowledgeBase) -> list[Diagnostic]:
    """Front-matter keys papernotes does not know that look like one it knows (``autors``).
    Inline fields of the body (``Publisher:: ...``) are the user's own keys, never typos: a
    key is in the front matter when its line is above the body."""
    names = kb.index.read(
        lambda conn: [str(n) for (n,) in conn.execute("SELECT DISTINCT name FROM extras")]
    )
    close = _typo_like(names)
    if not close:
        return []
    rows = kb.index.read(
        lambda conn: conn.execute(
            "SELECT e.name, p.path, r.data FROM extras e JOIN papers p ON p.rowid = e.paper "
            "JOIN records r ON r.rowid = p.rowid "
            "WHERE e.name IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(close)),),
        ).fetchall()
    )
    out: list[Diagnostic] = []
    for name, path, data in rows:
        line = _line(data, str(name))
        if line < _body_line(data):
            message = f"unknown key {name!r}: did you mean {close[str(name)]!r}?"
            out.append(Diagnostic(str(path), line, "warning", message))
    return out


def _parsed(kb: KnowledgeBase | None, path: Path) -> list[Diagnostic]:
    """The problems of a note file the index does not hold: its own, its unknown keys like
    known ones, and (with an index) its links to nowhere."""
    from papernotes.engine.links import resolve
    from papernotes.note.parse import parse_file

    result = parse_file(path, display_path(path))
    out = list(result.diagnostics)
    paper = result.paper
    if paper is None:
        return out
    front = [key for key in paper.extra if paper.line_of(key) < paper.body_line]
    for key, known in _typo_like(front).items():
        message = f"unknown key {key!r}: did you mean {known!r}?"
        out.append(Diagnostic(paper.path, paper.line_of(key), "warning", message))
    if kb is None:
        return out
    for target in paper.related:
        if target != paper.id and resolve(kb, target) is None:
            message = f"related: no note with id {target!r}"
            out.append(Diagnostic(paper.path, paper.line_of("related"), "error", message))
    for target in paper.links:
        if resolve(kb, target) is None:
            line = paper.body_line + paper.body.count("\n", 0, max(paper.body.find(target), 0))
            message = f"wikilink [[{target}]] points to no note"
            out.append(Diagnostic(paper.path, line, "warning", message))
    return out


def _ordered(diags: list[Diagnostic]) -> list[Diagnostic]:
    unique = dict.fromkeys(diags)
    return sorted(unique, key=lambda d: (d.path, d.line, d.severity, d.message))
