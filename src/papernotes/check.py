"""``papernotes check``: validate a knowledge base, note by note and across notes."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from papernotes.errors import Diagnostic
from papernotes.links import LinkResolver
from papernotes.model import KNOWN_KEYS, Paper
from papernotes.parse import SYNONYMS, ParseResult, parse_file

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


def display_path(path: Path) -> str:
    """A path as linters show it: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def check(
    files: Sequence[Path], universe: Iterable[Path] = (), undecodable: Sequence[Path] = ()
) -> CheckReport:
    """Check ``files``; cross-note rules (duplicates, links) also see the notes in ``universe``.
    ``undecodable``: note files and folders whose names are not valid UTF-8 (which the other
    commands pass over, see :func:`papernotes.notefiles.walk`), each reported."""
    named = [_undecodable(path) for path in undecodable]
    report = _check([path.resolve() for path in files], universe)
    unread = sum(1 for d in named if d.severity == "error")
    return CheckReport(
        report.notes + unread,
        report.with_errors + unread,
        tuple(_ordered([*report.diagnostics, *named])),
    )


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


def _check(files: list[Path], universe: Iterable[Path]) -> CheckReport:
    results: dict[Path, ParseResult] = {}
    for path in dict.fromkeys([*files, *(p.resolve() for p in universe)]):
        results[path] = parse_file(path, display_path(path))
    reported = {display_path(p) for p in files}
    papers = [r.paper for r in results.values() if r.paper is not None]
    diags: list[Diagnostic] = []
    for path in files:
        diags.extend(results[path].diagnostics)
    broken = [path.stem for path, r in results.items() if r.paper is None]
    for diag in [*_duplicates(papers), *_dangling(papers, broken), *_typos(papers)]:
        if diag.path in reported:
            diags.append(diag)
    bad = {d.path for d in diags if d.severity == "error"}
    return CheckReport(len(files), len(bad), tuple(_ordered(diags)))


def _ordered(diags: list[Diagnostic]) -> list[Diagnostic]:
    unique = dict.fromkeys(diags)
    return sorted(unique, key=lambda d: (d.path, d.line, d.severity, d.message))


def _duplicates(papers: list[Paper]) -> Iterable[Diagnostic]:
    rules: list[tuple[str, str, Callable[[Paper], list[str]]]] = [
        ("id", "id", lambda p: [p.id]),
        ("alias", "aliases", lambda p: [a.casefold() for a in p.aliases]),
        ("arXiv id", "arxiv", lambda p: [p.arxiv] if p.arxiv else []),
    ]
    for label, key, values in rules:
        seen: dict[str, list[Paper]] = defaultdict(list)
        for paper in papers:
            for value in dict.fromkeys(values(paper)):
                seen[value].append(paper)
        for value, owners in seen.items():
            if len(owners) < 2:
                continue
            for paper in owners:
                others = ", ".join(f"{o.path}:{o.line_of(key)}" for o in owners if o is not paper)
                yield Diagnostic(
                    paper.path,
                    paper.line_of(key),
                    "error",
                    f"duplicate {label} {value!r} (also in {others})",
                )


def _dangling(papers: list[Paper], broken_ids: list[str]) -> Iterable[Diagnostic]:
    """Links to nowhere. A link to a note that exists but has errors is not dangling."""
    resolver = LinkResolver(papers, broken_ids)
    for paper in papers:
        for target in paper.related:
            if resolver.resolve(target) is None:
                yield Diagnostic(
                    paper.path,
                    paper.line_of("related"),
                    "error",
                    f"related: no note with id {target!r}",
                )
        for target in paper.links:
            if resolver.resolve(target) is None:
                line = paper.body_line + paper.body.count("\n", 0, paper.body.find(target))
                yield Diagnostic(
                    paper.path, line, "warning", f"wikilink [[{target}]] points to no note"
                )


def _typos(papers: list[Paper]) -> Iterable[Diagnostic]:
    from rapidfuzz import fuzz, process

    choices = [*KNOWN_KEYS, *SYNONYMS]
    for paper in papers:
        for key in paper.extra:
            match = process.extractOne(
                key.lower(), choices, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
            )
            if match:
                suggestion = SYNONYMS.get(match[0], match[0])
                yield Diagnostic(
                    paper.path,
                    paper.line_of(key),
                    "warning",
                    f"unknown key {key!r}: did you mean {suggestion!r}?",
                )
