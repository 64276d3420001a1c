"""The tools of ``papernotes mcp`` that change notes (offered only with ``--allow-write``),
over the library the commands use: every write is atomic, refused when the note changed on
disk since it was read, and inside the notes directory (:mod:`papernotes.disk.write`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from papernotes.errors import UsageError, WriteRefused

if TYPE_CHECKING:
    from papernotes.engine.kb import KnowledgeBase


def create_note(
    kb: KnowledgeBase,
    title: str,
    arxiv: str | None = None,
    authors: Sequence[str] = (),
    tags: Sequence[str] = (),
    topics: Sequence[str] = (),
    aliases: Sequence[str] = (),
    note_id: str | None = None,
) -> dict[str, Any]:
    """``papernotes new TITLE``: a new note from the template; never overwrites anything."""
    from papernotes.edit.newnote import NewNote, create
    from papernotes.note.normalize import fold

    spec = NewNote(
        title, note_id, arxiv, tuple(authors), tuple(tags), tuple(topics), tuple(aliases)
    )
    path = create(kb.store, kb.lookup, spec, catch_up=kb.catch_up)
    warnings = []
    taxonomy = kb.store.taxonomy()
    for kind, given in (("topics", spec.topics), ("tags", spec.tags)):
        known = {fold(v) for v in taxonomy.get(kind, ())}
        for value in given if known else ():
            if fold(value.lstrip("#")) not in known:
                warnings.append(f"{kind[:-1]} {value!r} is not in the taxonomy of papernotes.toml")
    return {"id": path.stem, "path": kb.store.relative(path), "warnings": warnings}


def append_to_note(kb: KnowledgeBase, ref: str, heading: str, text: str) -> dict[str, Any]:
    """Add ``text`` to a note under ``heading`` (added at the end when the note has none)."""
    from papernotes.edit.append import append_to_note as append
    from papernotes.engine.resolve import resolve_in_kb

    paper = resolve_in_kb(kb, ref)
    done = append(kb.store.root, kb.store.root / paper.path, heading, text)
    return {
        "id": paper.id,
        "path": paper.path,
        "heading": done.heading,
        "new_heading": done.new_heading,
        "first_line": done.first_line,
        "last_line": done.last_line,
    }


def add_arxiv(
    kb: KnowledgeBase, ids: Sequence[str], tags: Sequence[str] = (), topics: Sequence[str] = ()
) -> dict[str, Any]:
    """``papernotes add ARXIV...``: a note per paper from the arXiv API; a paper that has a
    note already gets the tags and topics instead."""
    from papernotes.interop.arxiv import add, settings

    if not 1 <= len(ids) <= 20:
        raise UsageError("give between 1 and 20 arXiv ids")
    api, timeout = settings(kb.store.config)
    results = add(
        kb.store.root, ids, kb.papers(), tags=tags, topics=topics, api=api, timeout=timeout
    )
    return {
        "results": [
            {
                "arxiv": r.arxiv,
                "result": r.kind,
                "path": kb.store.relative(r.path),
                "title": r.title,
                "added": list(r.added),
                "reason": r.reason or None,
            }
            for r in results
        ]
    }


def update_fields(
    kb: KnowledgeBase,
    ref: str,
    set_fields: Mapping[str, Any] | None = None,
    unset: Sequence[str] = (),
    add: Mapping[str, Sequence[str]] | None = None,
    remove: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """``papernotes set``, ``unset``, ``tag``, ``mark``, ``rate`` on one note: keys set or
    removed, items added to or removed from list keys, each value checked by the parser, the
    note edited in place (comments, key order, list style and body kept)."""
    import datetime as dt

    from papernotes.edit.fieldedit import LIST_KEYS, Op, canonical_key, edit_notes, item_ops, set_op
    from papernotes.engine.resolve import resolve_in_kb

    ops: list[Op] = []
    for key, value in (set_fields or {}).items():
        ops.append(set_op(canonical_key(key), value))
    ops += [Op("unset", canonical_key(key)) for key in unset]
    for sign, changes in (("+", add), ("-", remove)):
        for key, items in (changes or {}).items():
            name = canonical_key(key)
            if name not in LIST_KEYS:
                raise UsageError(f"{name} is not a list ({', '.join(LIST_KEYS)} are)")
            ops += item_ops(name, [sign + item for item in items])
    if not ops:
        raise UsageError("nothing to change: give set, unset, add or remove")
    marked = [op for op in ops if op.key == "status" and op.kind == "set"]
    if marked and marked[-1].value == "read" and not any(op.key == "read" for op in ops):
        ops.append(Op("default", "read", dt.date.today().isoformat()))  # as `mark read` does
    paper = resolve_in_kb(kb, ref)
    report = edit_notes(kb.store.root, [paper], ops, shown=kb.store.relative)
    (edit,) = report.edits
    if edit.error:
        raise WriteRefused(f"{edit.shown}: {edit.error}")
    return {
        "id": paper.id,
        "path": paper.path,
        "changed": edit.changed,
        "changes": list(edit.changes),
    }
