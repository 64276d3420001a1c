"""Changing notes' front matter from the command line: set and unset keys, add and remove
list items (tags, topics, aliases), mark a status, rate.

A value is checked by the parser itself before any note is touched (``year=twenty`` is refused
with the parser's message), so a note only ever gets values it reads back. Each note is edited
as text by :mod:`papernotes.note.frontedit` (its comments, key order, quoting, list style, line
endings, BOM and body stay as they are); the result must parse back to exactly the paper
intended (the note's other fields unchanged), or the key is rewritten more plainly, or the note
is refused. Notes are read and written under the folder's lock, and each is replaced
atomically only if it still holds what was read (:func:`papernotes.disk.write.write_batch`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from papernotes.errors import NotFound, UsageError, shown
from papernotes.note import normalize
from papernotes.note.frontedit import EditError, KeyEdit, edit_text
from papernotes.note.model import KNOWN_KEYS, Paper

if TYPE_CHECKING:
    from papernotes.engine.kb import KnowledgeBase

OpKind = Literal["set", "unset", "add", "remove", "default"]
LIST_KEYS = ("aliases", "authors", "topics", "tags", "related")
DATE_KEYS = ("published", "read", "added")
_SYNONYMS = {"alias": "aliases", "tag": "tags", "author": "authors", "topic": "topics"}
_KEY_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"


@dataclass(frozen=True)
class Op:
    """One change: ``set`` a key to ``value``, ``unset`` it, ``add`` or ``remove`` the items
    of ``value`` (a tuple) in a list key, or set it by ``default`` when the note lacks it.
    ``key`` is canonical for a known key (``tags``), as typed for another."""

    kind: OpKind
    key: str
    value: Any = None

    @property
    def known(self) -> bool:
        return self.key in KNOWN_KEYS

    def describe(self) -> str:
        if self.kind == "unset":
            return f"-{self.key}"
        if self.kind in ("add", "remove"):
            sign = "+" if self.kind == "add" else "-"
            return " ".join(f"{sign}{v}" for v in self.value)
        value = self.value
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        text = str(value)
        return f"{self.key}={text if len(text) <= 60 else text[:57] + '...'}"


# -- building operations from command-line words -------------------------------------------------


def canonical_key(key: str) -> str:
    """``Tags``, ``tag`` -> ``tags``; a key papernotes does not know stays as typed. A name
    that cannot be a front-matter key is refused."""
    import re

    if not re.fullmatch(_KEY_NAME, key):
        raise UsageError(f"not a key name: {shown(key)} (letters, digits, _ - .)")
    low = key.lower()
    if low in KNOWN_KEYS:
        return low
    return _SYNONYMS.get(low, key)


def assignment(text: str) -> Op:
    """``key=value`` -> a checked ``set`` operation."""
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"expected KEY=VALUE, got {shown(text)}")
    name = canonical_key(key.strip())
    if not value.strip():
        raise UsageError(f"{name}: empty value (to remove the key: papernotes unset {name})")
    return set_op(name, value)


def set_op(name: str, value: Any) -> Op:
    """Set known key ``name`` (or another key) to ``value``, given as typed (text) or typed."""
    if name not in KNOWN_KEYS:
        return Op("set", name, command_value(value) if isinstance(value, str) else value)
    if isinstance(value, str) and value.strip().startswith("[") and name in LIST_KEYS:
        value = command_value(value)
    return Op("set", name, normalised(name, value))


def item_ops(name: str, words: Sequence[str]) -> list[Op]:
    """``+x``, ``-x`` or ``x`` (add) for the list key ``name``: one add and one remove op."""
    adds: list[str] = []
    removes: list[str] = []
    for word in words:
        sign, text = (word[0], word[1:]) if word[:1] in "+-" else ("+", word)
        if not text.strip():
            raise UsageError(f"{name}: empty item {shown(word)}")
        (adds if sign == "+" else removes).append(text)
    ops = []
    if adds:
        ops.append(Op("add", name, tuple(normalised(name, adds))))
    if removes:
        ops.append(Op("remove", name, tuple(w.strip() for w in removes)))
    return ops


def normalised(name: str, value: Any) -> Any:
    """``value`` of known key ``name`` as the parser reads it, by parsing a note that holds
    it: the same normalisation, and the parser's message (UsageError, exit 2) when it is
    not a value of that key."""
    from papernotes.note.dump import dump_meta
    from papernotes.note.parse import parse_text

    meta = {name: value} if name == "title" else {"title": "t", name: value}
    result = parse_text(f"---\n{dump_meta(meta)}---\n", "value")
    if result.paper is None:
        raise UsageError(result.errors[0].message)
    return getattr(result.paper, name)


def command_value(text: str) -> Any:
    """A value typed for a key papernotes does not know, read as YAML would read it after
    ``key:`` (``3`` a number, ``[a, b]`` a list, ``2024-02-08`` a date), else the text."""
    import yaml

    stripped = text.strip()
    try:
        loaded = yaml.safe_load(f"k: {stripped}")
    except yaml.YAMLError:
        return stripped
    if not isinstance(loaded, dict) or list(loaded) != ["k"] or "\n" in stripped:
        return stripped
    value = loaded["k"]
    if isinstance(value, dict) or (isinstance(value, str) and value != stripped):
        return stripped  # "a: b" or "see #3": the text
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return stripped
    return value


def _item(name: str, word: str) -> str:
    """How an item of list ``name`` compares (case, accents and ``#`` ignored)."""
    text = word.strip()
    if name == "tags":
        text = text.lstrip("#").strip()
    return " ".join(normalize.fold(text).split()) if name != "related" else text


# -- editing one note ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteEdit:
    """What an edit does to one note: its text before and after, and what changed (empty:
    nothing to do). ``error``: why it was refused."""

    path: Path
    shown: str
    before: str = ""
    after: str = ""
    changes: tuple[str, ...] = ()
    error: str = ""

    @property
    def changed(self) -> bool:
        return not self.error and self.after != self.before


def edit_note(text: str, ops: Sequence[Op], shown: str, stem: str) -> tuple[str, tuple[str, ...]]:
    """``text`` (a whole note) with ``ops`` made, and what changed. Raises EditError when the
    note cannot be edited (it does not parse, or would not read back as intended)."""
    from papernotes.note.parse import parse_text

    result = parse_text(text, shown, stem=stem)
    if result.paper is None:
        first = result.errors[0]
        raise EditError(first.line, f"{first.message}; not changed")
    paper = result.paper
    intended = paper
    edits: list[tuple[KeyEdit, KeyEdit]] = []  # (in place, plainer fallback)
    changes: list[str] = []
    for op in ops:
        new_paper, edit, what = _plan(intended, op)
        if edit is None or new_paper == intended:
            continue
        intended = new_paper
        edits.append((edit, _fallback(edit, new_paper)))
        key, _, items = what.partition(" ")
        if changes and op.kind in ("add", "remove") and changes[-1].startswith(key + " "):
            changes[-1] += " " + items  # "tags +rlhf -survey"
        else:
            changes.append(what)
    if not edits:
        return text, ()
    for attempt in (0, 1):
        new_text = _rewrite(text, [pair[attempt] for pair in edits])
        check = parse_text(new_text, shown, stem=stem).paper
        if check == intended:
            return new_text, tuple(changes)
    raise EditError(1, "the edited note would not read back as intended; not changed")


def _plan(paper: Paper, op: Op) -> tuple[Paper, KeyEdit | None, str]:
    """The paper after ``op``, the text edit that makes it, and how to say it."""
    key = op.key
    if not op.known:
        return _plan_extra(paper, op)
    names = (key, *(s for s, k in _SYNONYMS.items() if k == key))
    where = {"names": names, "rank": KNOWN_KEYS.index(key), "order": KNOWN_KEYS}
    split_spaces = key == "tags"
    current = getattr(paper, key)
    if op.kind == "default" and current not in (None, ()):
        return paper, None, ""
    if op.kind in ("set", "default"):
        value = op.value
        written = list(value) if isinstance(value, tuple) else _written(key, value)
        edit = KeyEdit("set", key, value=written, split_spaces=split_spaces, **where)  # type: ignore[arg-type]
        return _replace(paper, key, value), edit, op.describe()
    if op.kind == "unset":
        if key == "title":
            raise UsageError("title: a note needs its title; it cannot be unset")
        default = Path(paper.path).stem if key == "id" else () if key in LIST_KEYS else None
        edit = KeyEdit("delete", key, **where)  # type: ignore[arg-type]
        return _replace(paper, key, default), edit, op.describe()
    have = list(current)
    if op.kind == "add":
        seen = {_item(key, v) for v in have}
        new = [v for v in op.value if _item(key, v) not in seen]
        if not new:
            return paper, None, ""
        edit = KeyEdit("add", key, value=new, split_spaces=split_spaces, **where)  # type: ignore[arg-type]
        return (
            _replace(paper, key, tuple(have + new)),
            edit,
            f"{key} " + " ".join(f"+{v}" for v in new),
        )
    targets = {_item(key, w) for w in op.value}
    gone = [v for v in have if _item(key, v) in targets]
    if not gone:
        return paper, None, ""

    def drop(item: Any) -> bool:
        return item is not None and _item(key, str(normalize.plain(item))) in targets

    edit = KeyEdit("remove", key, drop=drop, split_spaces=split_spaces, **where)  # type: ignore[arg-type]
    kept = tuple(v for v in have if _item(key, v) not in targets)
    return _replace(paper, key, kept), edit, f"{key} " + " ".join(f"-{v}" for v in gone)


def _plan_extra(paper: Paper, op: Op) -> tuple[Paper, KeyEdit | None, str]:
    extra = dict(paper.extra)
    have = [k for k in extra if k == op.key] or [k for k in extra if k.lower() == op.key.lower()]
    raw = have[0] if len(have) == 1 else op.key
    if op.kind == "unset":
        if raw not in extra:
            return paper, None, ""
        del extra[raw]
        return (
            dataclasses.replace(paper, extra=extra),
            KeyEdit("delete", raw, exact=True),
            op.describe(),
        )
    if op.kind == "default" and extra.get(raw) is not None:
        return paper, None, ""
    if op.kind not in ("set", "default"):
        raise UsageError(f"{op.key}: items are added to tags, topics, aliases, authors, related")
    extra[raw] = normalize.plain(op.value)
    edit = KeyEdit("set", raw, exact=True, value=op.value)
    return dataclasses.replace(paper, extra=extra), edit, op.describe()


def _written(key: str, value: Any) -> Any:
    """A normalised value as it is best written: a full date as a YAML/TOML date."""
    if key in DATE_KEYS and isinstance(value, str) and len(value) == 10:
        return dt.date.fromisoformat(value)
    return value


def _replace(paper: Paper, key: str, value: Any) -> Paper:
    return dataclasses.replace(paper, **{key: value})


def _fallback(edit: KeyEdit, paper: Paper) -> KeyEdit:
    """The plainer edit: the key's whole intended value, written anew."""
    if edit.action in ("add", "remove"):
        value = list(getattr(paper, edit.key))
        return dataclasses.replace(edit, action="set", value=value, plain_rewrite=True)
    return dataclasses.replace(edit, plain_rewrite=True)


def _rewrite(text: str, edits: Sequence[KeyEdit]) -> str:
    """``text`` with ``edits`` made to its front matter; the body's bytes, BOM and line
    endings kept (the front matter keeps its own line endings)."""
    from papernotes.note.frontmatter import FrontMatterError, split

    bom = "\ufeff" if text.startswith("\ufeff") else ""
    plain = text[len(bom) :]
    try:
        part = split(plain.replace("\r\n", "\n"))
    except FrontMatterError as exc:
        raise EditError(exc.line, exc.message) from None
    offset = 0
    for _ in range(part.body_line - 1):
        offset = plain.index("\n", offset) + 1
    head, body = plain[:offset], plain[offset:]
    crlf = (head or body).count("\r\n") * 2 > (head or body).count("\n") > 0
    new_head = edit_text(head.replace("\r\n", "\n"), edits)
    if crlf:
        new_head = new_head.replace("\n", "\r\n")
    return bom + new_head + body


# -- notes on disk -------------------------------------------------------------------------------


@dataclass
class EditReport:
    """Every selected note and what the edit did to it."""

    edits: list[NoteEdit]
    written: bool = False

    @property
    def changed(self) -> list[NoteEdit]:
        return [e for e in self.edits if e.changed]

    @property
    def unchanged(self) -> list[NoteEdit]:
        return [e for e in self.edits if not e.error and not e.changed]

    @property
    def refused(self) -> list[NoteEdit]:
        return [e for e in self.edits if e.error]


def edit_notes(
    root: Path,
    papers: Sequence[Paper],
    ops: Sequence[Op],
    *,
    dry_run: bool = False,
    shown: Callable[[Path], str] = str,
) -> EditReport:
    """Make ``ops`` in the notes of ``papers`` (under ``root``); with ``dry_run`` only say
    what would change. A note that cannot be edited, or that changes on disk meanwhile, is
    refused and the others still written."""
    from papernotes.disk.lock import folder_lock
    from papernotes.disk.trust import read_note
    from papernotes.disk.write import Write, inside, write_batch
    from papernotes.note.parse import MAX_BYTES

    with folder_lock(root):
        edits: list[NoteEdit] = []
        originals: list[bytes] = []
        for paper in papers:
            path = root / paper.path
            name = shown(path)
            data = b""
            try:
                if not inside(root, path):
                    raise EditError(1, "outside the notes directory; not changed")
                data = read_note(path, MAX_BYTES)
                text = data.decode("utf-8")
                after, changes = edit_note(text, ops, name, path.stem)
            except OSError as exc:
                edits.append(NoteEdit(path, name, error=f"cannot read: {exc.strerror or exc}"))
            except UnicodeDecodeError:
                edits.append(NoteEdit(path, name, error="not UTF-8 text; not changed"))
            except EditError as exc:
                edits.append(NoteEdit(path, name, error=exc.message))
            else:
                edits.append(NoteEdit(path, name, text, after, changes))
            originals.append(data)
        report = EditReport(edits)
        if dry_run:
            return report
        pending = [n for n, e in enumerate(edits) if e.changed]
        writes = [Write(edits[n].path, edits[n].after, expected=originals[n]) for n in pending]
        for n, error in zip(pending, write_batch(writes), strict=True):
            if error is not None:
                if isinstance(error, OSError):
                    message = f"cannot write: {error.strerror or error}"
                else:
                    message = error.message
                message = message.removeprefix(f"{edits[n].path}: ")
                edits[n] = dataclasses.replace(edits[n], error=message)
        report.written = True
        return report


def diff(edit: NoteEdit) -> str:
    """A unified diff of what ``edit`` changes, as ``git diff`` shows it."""
    import difflib

    before = edit.before.removeprefix("\ufeff").replace("\r\n", "\n").splitlines(keepends=True)
    after = edit.after.removeprefix("\ufeff").replace("\r\n", "\n").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"a/{edit.shown}", f"b/{edit.shown}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# -- which notes ---------------------------------------------------------------------------------


def select(kb: KnowledgeBase, target: str) -> tuple[list[Paper], bool]:
    """The notes ``target`` names, and whether it was a query. A reference (anything
    ``show`` takes) unless it is a query with a field, ``OR`` or a negation
    (``topic:alignment``, ``dpo OR kto``); a query that matches nothing is NotFound."""
    from papernotes.engine.resolve import resolve_in_kb

    if not _is_query(target):
        return [resolve_in_kb(kb, target)], False
    from papernotes.engine.search import ids_matching

    ids = ids_matching(kb, target)
    if not ids:
        raise NotFound(f"no notes match {target!r}")
    return kb.get_many(ids, body=False), True


def _is_query(text: str) -> bool:
    from papernotes.engine.filters import Filter
    from papernotes.engine.query import And, Not, Or, Text, parse

    for normaliser in (normalize.arxiv_id, normalize.doi):
        try:
            normaliser(text)
        except ValueError:
            continue
        return False
    try:
        root = parse(text).root
    except UsageError:
        return False

    def fielded(node: Any) -> bool:
        if isinstance(node, (Filter, Or, Not)):
            return True
        if isinstance(node, Text):
            return node.column is not None
        if isinstance(node, And):
            return any(fielded(n) for n in node.nodes)
        return True  # a kind of node added later: a query

    return fielded(root)
