"""Importing papers into a knowledge base, whatever their source.

An importer reads one file into a :class:`Source`: candidate papers (:class:`Candidate`), the
lines or entries it skipped and why, and warnings. Everything after that is shared::

    sources = [read_source(path) for path in files]          # dispatch on the file suffix
    plan = plan_import(candidates_of(sources), notes_root)    # nothing written yet
    report = apply_plan(plan)                                 # atomic writes, never an overwrite

(:func:`run_import` does the last two under a lock on the notes folder.)

**Matching.** A candidate is the paper of an existing note (or of one created earlier in the
same run) when they share an arXiv id or a DOI, or when their titles are equal after
normalisation (case, accents, punctuation and spacing ignored, so ``andInference`` matches
``and Inference``); a title match is ignored when the arXiv ids or DOIs contradict it, or when
both name authors and share no surname (one title, two works).

**Merging** (:mod:`.merge`) only adds what the note lacks: keys it does not
have, list items it does not have, body paragraphs whose text it does not already hold. It never
changes or removes what is there, edits the front matter in place (comments and key order are
kept) and says what it added. Importing the same thing twice changes nothing.

**Writing** uses :func:`papernotes.disk.write.write_batch`: a new note never replaces a file, and a
note that changed on disk since the plan read it is refused, not overwritten.

To add a source format, write ``read(path, display) -> Source`` in a module of this package and
register its suffixes in :data:`READERS`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from papernotes.disk.lock import folder_lock
from papernotes.disk.store import iter_notes
from papernotes.disk.trust import read_note
from papernotes.disk.write import Write, inside, slugify, write_batch
from papernotes.errors import Diagnostic, WriteRefused
from papernotes.interop.importers.merge import MergeRefused, compact_key, merge_note
from papernotes.note import normalize
from papernotes.note.dump import dump
from papernotes.note.model import Paper
from papernotes.note.parse import MAX_BYTES, parse_bytes

# file suffix (lower case, "" for none) -> "module:function" under papernotes.interop.importers,
# imported only when a file of that kind is imported. The function is a Reader.
READERS: dict[str, str] = {
    ".txt": "text:read",
    ".text": "text:read",
    "": "text:read",
    ".bib": "bibtex:read",
    ".bibtex": "bibtex:read",
    ".biblatex": "bibtex:read",
}

SLUG_LENGTH = 60
BATCH = 128  # notes written and synced together


@dataclass(frozen=True)
class Candidate:
    """A paper read from a source, before it is matched against the knowledge base.

    ``paper.id`` may be empty: the note's file name is then made from the title. ``path`` and
    ``line`` (``end``: the last line) say where it was read, for the report."""

    paper: Paper
    path: str = ""
    line: int = 0
    end: int = 0

    @property
    def origin(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Skipped:
    """Something of a source that became no paper: where, what it was, and why."""

    path: str
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Source:
    """What an importer read from one file."""

    path: str
    candidates: tuple[Candidate, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


Reader = Callable[[Path, str], Source]
ActionKind = Literal["create", "merge", "unchanged", "refused"]


@dataclass
class Action:
    """What the import does to one note. ``added`` says what a merge adds (``aliases: DPO``,
    ``Notes: 2 paragraphs``); ``candidates`` are the papers that went into the note."""

    kind: ActionKind
    path: Path
    title: str
    candidates: list[Candidate] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    text: str = ""
    expected: bytes | None = None  # the note's bytes as read; None for a new note
    reason: str = ""  # why a note was refused


@dataclass
class ImportPlan:
    """Every note an import would create or merge, computed without writing anything."""

    root: Path
    actions: list[Action] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)  # notes that could not be read

    def count(self, kind: ActionKind) -> int:
        return sum(1 for a in self.actions if a.kind == kind)


@dataclass
class ImportReport:
    """What :func:`apply_plan` wrote, and what it refused to write (path, why)."""

    written: list[Action] = field(default_factory=list)
    refused: list[tuple[Action, str]] = field(default_factory=list)


def reader_for(path: Path) -> Reader | None:
    """The importer for ``path``'s suffix, or None when papernotes cannot import it."""
    target = READERS.get(path.suffix.lower())
    if target is None:
        return None
    module_name, attr = target.split(":")
    module = importlib.import_module(f"papernotes.interop.importers.{module_name}")
    reader: Reader = getattr(module, attr)
    return reader


def read_source(path: Path, display: str | None = None) -> Source:
    """Read one file with the importer for its suffix; problems are reported in the Source."""
    shown = display if display is not None else str(path)
    reader = reader_for(path)
    if reader is None:
        known = ", ".join(sorted(s for s in READERS if s))
        message = f"cannot import {path.suffix or 'files without a suffix'} files (known: {known})"
        return Source(shown, diagnostics=(Diagnostic(shown, 1, "error", message),))
    if path.is_dir():
        return Source(shown, diagnostics=(Diagnostic(shown, 1, "error", "is a directory"),))
    return reader(path, shown)


def candidates_of(sources: Iterable[Source]) -> list[Candidate]:
    return [c for source in sources for c in source.candidates]


class _Target:
    """A note being planned: its current text and paper, and what happened to it so far."""

    def __init__(self, path: Path, paper: Paper, text: str, original: bytes | None) -> None:
        self.path = path
        self.paper = paper
        self.text = text
        self.original = original
        self.candidates: list[Candidate] = []
        self.added: list[str] = []
        self.refused = ""


def plan_import(candidates: Iterable[Paper | Candidate], root: Path) -> ImportPlan:
    """Match each candidate against the notes under ``root`` (and against the notes planned for
    the candidates before it) and compute the text of every note to create or merge."""
    plan = ImportPlan(root)
    index = _Index()
    for note_path in iter_notes(root):
        target = _load(note_path, root, plan.problems)
        if target is not None:
            index.add(target)
    order: dict[_Target, None] = {}
    for item in candidates:
        candidate = item if isinstance(item, Candidate) else Candidate(item)
        target = index.match(candidate.paper)
        if target is None:
            target = _new_target(candidate.paper, root, index)
            index.add(target)
        elif not target.refused:
            try:
                merged = merge_note(target.text, target.paper, candidate.paper, str(target.path))
            except MergeRefused as exc:
                target.refused = exc.message
            else:
                if merged.added:
                    target.text, target.paper = merged.text, merged.paper
                    target.added.extend(a for a in merged.added if a not in target.added)
                    index.add(target)
        target.candidates.append(candidate)
        order[target] = None  # its first place (a list searched for it: minutes on 100,000)
    plan.actions = [_action(t) for t in order]
    return plan


def apply_plan(plan: ImportPlan) -> ImportReport:
    """Write the plan's new and merged notes. A note that changed on disk since the plan read
    it, or a new note whose file appeared meanwhile, is refused and the rest still written.

    Notes are written :data:`BATCH` at a time (:func:`papernotes.disk.write.write_batch`): each to a
    temporary file, all of them fsynced, then each renamed into place and the folder fsynced
    once, so that a ``SIGKILL`` at any moment leaves every note whole, for one fsync of the
    folder per batch rather than per note."""
    report = ImportReport()
    pending: list[Action] = []
    for action in plan.actions:
        if action.kind not in ("create", "merge"):
            continue
        if not inside(plan.root, action.path):
            message = f"{action.path}: outside the notes directory; not written"
            report.refused.append((action, message))
            continue
        pending.append(action)
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        writes = [
            Write(a.path, a.text, expected=a.expected, create=a.kind == "create") for a in batch
        ]
        for action, error in zip(batch, write_batch(writes), strict=True):
            if error is None:
                report.written.append(action)
            elif isinstance(error, WriteRefused):
                report.refused.append((action, error.message))
            else:
                report.refused.append((action, f"{action.path}: {error.strerror or error}"))
    position = {id(action): number for number, action in enumerate(plan.actions)}
    report.refused.sort(key=lambda item: position[id(item[0])])
    return report


def run_import(
    candidates: Iterable[Paper | Candidate], root: Path, on_wait: Callable[[], None] | None = None
) -> tuple[ImportPlan, ImportReport]:
    """Plan and write an import under the lock of the notes folder
    (:func:`papernotes.disk.lock.folder_lock`): a second import at the same time waits, then plans
    against the notes the first wrote (it used to make ``title-2.md`` beside ``title.md``)."""
    with folder_lock(root, on_wait):
        plan = plan_import(candidates, root)
        return plan, apply_plan(plan)


def note_slug(title: str) -> str:
    """The file-name stem for a new note: the title up to its first ``:``, ``?`` or ``!``
    (``Direct Preference Optimization: ...`` -> ``direct-preference-optimization``)."""
    head = title
    for mark in (": ", "? ", "! "):
        cut = head.find(mark)
        if cut > 0:
            head = head[: cut + 1]
    return slugify(head, SLUG_LENGTH)


class _Index:
    """Targets by arXiv id, DOI and title key (titles and title-like aliases)."""

    def __init__(self) -> None:
        self.arxiv: dict[str, _Target] = {}
        self.doi: dict[str, _Target] = {}
        self.title: dict[str, list[_Target]] = {}  # one title, several works at times
        self.stems: set[str] = set()

    def add(self, target: _Target) -> None:
        paper = target.paper
        self.stems.add(target.path.stem.casefold())
        if paper.arxiv:
            self.arxiv.setdefault(paper.arxiv, target)
        if paper.doi:
            self.doi.setdefault(paper.doi.casefold(), target)
        for key in _title_keys(paper):
            targets = self.title.setdefault(key, [])
            if target not in targets:
                targets.append(target)

    def match(self, paper: Paper) -> _Target | None:
        if paper.arxiv and paper.arxiv in self.arxiv:
            return self.arxiv[paper.arxiv]
        if paper.doi and paper.doi.casefold() in self.doi:
            return self.doi[paper.doi.casefold()]
        key = compact_key(paper.title)
        for target in self.title.get(key, []) if key else []:
            if not _contradicts(target.paper, paper):
                return target
        return None


def _title_keys(paper: Paper) -> list[str]:
    # aliases of three words or more are other titles of the paper; shorter ones are names
    # (DPO) that another paper's title could equal
    keys = [compact_key(paper.title)]
    keys += [compact_key(a) for a in paper.aliases if len(normalize.title_key(a).split()) >= 3]
    return [k for k in keys if k]


def _contradicts(a: Paper, b: Paper) -> bool:
    arxiv = bool(a.arxiv and b.arxiv and a.arxiv != b.arxiv)
    doi = bool(a.doi and b.doi and a.doi.casefold() != b.doi.casefold())
    return arxiv or doi or _other_authors(a, b)


def _other_authors(a: Paper, b: Paper) -> bool:
    """Both name authors and share no surname: two works with one title (reference managers
    hold many ``Online reference`` or ``Deep learning`` entries by different people)."""

    def surnames(paper: Paper) -> set[str]:
        return {normalize.fold(name.split()[-1]) for name in paper.authors if name.split()}

    first, second = surnames(a), surnames(b)
    return bool(first and second and not first & second)


def _load(path: Path, root: Path, problems: list[Diagnostic]) -> _Target | None:
    display = path.relative_to(root).as_posix() if inside(root, path) else str(path)
    try:
        data = read_note(path, MAX_BYTES)
    except OSError as exc:
        problems.append(Diagnostic(display, 1, "error", f"cannot read: {exc.strerror or exc}"))
        return None
    result = parse_bytes(data, display, stem=path.stem)
    if result.paper is None:
        problems.extend(result.errors)
        return None
    text = data.decode("utf-8")  # parse_bytes accepted it, so it is UTF-8
    return _Target(path, result.paper, text, data)


def _new_target(paper: Paper, root: Path, index: _Index) -> _Target:
    stem = paper.id if paper.id and slugify(paper.id) == paper.id else note_slug(paper.title)
    candidate, number = stem, 2
    while candidate.casefold() in index.stems or (root / f"{candidate}.md").exists():
        candidate = f"{stem}-{number}"
        number += 1
    path = root / f"{candidate}.md"
    paper = dataclasses.replace(paper, id=candidate, path=str(path))
    return _Target(path, paper, dump(paper), None)


def _action(target: _Target) -> Action:
    kind: ActionKind
    if target.refused:
        kind = "refused"
    elif target.original is None:
        kind = "create"
    elif target.added:
        kind = "merge"
    else:
        kind = "unchanged"
    return Action(
        kind,
        target.path,
        target.paper.title,
        candidates=target.candidates,
        added=target.added if kind == "merge" else [],
        text=target.text,
        expected=target.original,
        reason=target.refused,
    )
