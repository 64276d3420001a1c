"""Resolving ``related`` ids and ``[[wikilinks]]`` to notes, in the index: one rule, written
once in SQL (:data:`RESOLVE`), for ``show`` (a note's links), backlinks, ``related`` and
``check`` (links that point nowhere).

Obsidian resolves a link by file name: ``[[direct-preference-optimization]]``,
``[[papers/direct-preference-optimization.md]]``, ``[[Direct-Preference-Optimization#Method]]``
(case-insensitive, the folder, the ``.md``, a ``#heading`` or ``^block`` part and a ``|label``
ignored). papernotes does the same, then also accepts an alias and then a title, so that
``[[DPO]]`` works in the terminal; in Obsidian an alias only *suggests* the link, which it
writes as ``[[direct-preference-optimization|DPO]]`` (see :func:`wikilink`). In front matter
Obsidian writes links as quoted ``"[[kto]]"`` strings; those resolve too. Case and accents are
ignored (``[[cafe]]`` finds the alias ``Café``): a link is folded by
:func:`papernotes.engine.schema.link_keys` when its note is indexed, and the same way when one is
looked up. Among notes that match alike, the first by id wins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from papernotes.engine.schema import link_keys, link_names
from papernotes.note.model import Paper

if TYPE_CHECKING:
    import sqlite3

    from papernotes.engine.kb import KnowledgeBase

MatchKind = Literal["file", "alias", "title"]
_KINDS: tuple[MatchKind, ...] = ("file", "alias", "title")


_RANK = "CASE k.kind WHEN 'alias' THEN 1 WHEN 'title' THEN 2 ELSE 0 END"


def _matching(key: str, title_key: str) -> str:
    """The keys a link matches, the best first: the rule itself."""
    return (
        "FROM keys k JOIN papers t ON t.rowid = k.paper "
        f"WHERE (k.kind IN ('id', 'file', 'alias') AND k.value = {key}) "
        f"OR (k.kind = 'title' AND k.value = {title_key}) ORDER BY {_RANK}, t.id LIMIT 1"
    )


def resolve_sql(key: str, title_key: str) -> str:
    """The rule, as an SQL expression: the rowid of the note a link resolves to (NULL: none),
    for a link whose folded keys are the SQL expressions ``key`` and ``title_key`` (bound
    parameters, or the columns of ``links l``). A note's id or file name first, then an alias,
    then a title; among equals the first id."""
    return f"(SELECT k.paper {_matching(key, title_key)})"


RESOLVE = resolve_sql("l.key", "l.title_key")  # for the rows of ``links l``


@dataclass(frozen=True)
class LinkMatch:
    """Where a link target leads: the note id, and what of the note it matched (its file name,
    which Obsidian also resolves, or an alias or title, which only papernotes resolves)."""

    id: str
    kind: MatchKind


def link_key(target: str) -> str:
    """The part of a link target that names the note, folded for comparison:
    ``"[[Papers/DPO.md#Method|the DPO paper]]"`` -> ``dpo``."""
    return link_keys(target)[0]


def match(kb: KnowledgeBase, target: str) -> LinkMatch | None:
    """The note ``target`` points to and how it was found, or None."""
    key, title = link_keys(target)
    if not key and not title:
        return None
    sql = f"SELECT t.id, {_RANK} {_matching('?', '?')}"
    row = kb.index.read(lambda conn: conn.execute(sql, (key, title)).fetchone())
    return None if row is None else LinkMatch(str(row[0]), _KINDS[int(row[1])])


def resolve(kb: KnowledgeBase, target: str) -> Paper | None:
    """The note a ``related`` id or ``[[wikilink]]`` points to, or None."""
    key, title = link_keys(target)
    if not key and not title:
        return None
    sql = f"SELECT {resolve_sql('?', '?')}"
    rowid = kb.index.read(lambda conn: conn.execute(sql, (key, title)).fetchone()[0])
    return None if rowid is None else kb.index.papers([rowid])[0]


def outgoing(kb: KnowledgeBase, paper: Paper) -> list[tuple[str, Paper | None]]:
    """The links of ``paper`` (its ``related`` ids, then its wikilinks, each once), each with
    the note it points to or None; a note named twice (its id in related, its title in a
    link) is listed once."""

    def run(conn: sqlite3.Connection) -> list[tuple[str, int | None]]:
        rows = conn.execute(
            f"SELECT l.target, {RESOLVE} FROM links l JOIN papers p ON p.rowid = l.paper "
            "WHERE p.id = ? ORDER BY l.pos",
            (paper.id,),
        )
        return [(str(t), r) for t, r in rows]

    found = kb.index.read(run)
    rowids = list(dict.fromkeys(r for _, r in found if r is not None))
    names = dict(zip(rowids, kb.index.papers(rowids, body=False)))
    out: list[tuple[str, Paper | None]] = []
    seen_targets: set[str] = set()
    seen: set[int] = set()
    for target, rowid in found:
        if target in seen_targets or (rowid is not None and rowid in seen):
            continue
        seen_targets.add(target)
        if rowid is not None:
            seen.add(rowid)
        out.append((target, names.get(rowid) if rowid is not None else None))
    return out


def backlinks(kb: KnowledgeBase, paper: Paper) -> list[Paper]:
    """The notes whose ``related`` ids or wikilinks point to ``paper``, by id."""
    keys = sorted({v for column, v in link_names(paper) if column == "key" and v})
    titles = sorted({v for column, v in link_names(paper) if column == "title_key" and v})

    def run(conn: sqlite3.Connection) -> list[int]:
        me = conn.execute("SELECT rowid FROM papers WHERE id = ?", (paper.id,)).fetchone()
        if me is None:
            return []
        rows = conn.execute(
            "SELECT DISTINCT src.rowid, src.id FROM links l JOIN papers src ON src.rowid = l.paper "
            "WHERE (l.key IN (SELECT value FROM json_each(?)) "
            "OR l.title_key IN (SELECT value FROM json_each(?))) "
            f"AND src.rowid != ? AND {RESOLVE} = ? ORDER BY src.id",
            (json.dumps(keys), json.dumps(titles), me[0], me[0]),
        )
        return [int(r) for r, _ in rows]

    return kb.index.papers(kb.index.read(run), body=False)


def targets(kb: KnowledgeBase, paper_ids: list[str]) -> dict[str, set[str]]:
    """For each of ``paper_ids``: the ids of the notes its links point to."""

    def run(conn: sqlite3.Connection) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {i: set() for i in paper_ids}
        rows = conn.execute(
            f"SELECT p.id, t.id FROM links l JOIN papers p ON p.rowid = l.paper "
            f"JOIN papers t ON t.rowid = {RESOLVE} "
            "WHERE p.id IN (SELECT value FROM json_each(?))",
            (json.dumps(paper_ids),),
        )
        for source, target in rows:
            out[str(source)].add(str(target))
        return out

    return kb.index.read(run)


@dataclass(frozen=True)
class Dangling:
    """A link that points to no note: where it is written (the note's path and line)."""

    path: str
    line: int
    target: str
    related: bool  # in the ``related`` key (else a wikilink in the body)


def dangling(kb: KnowledgeBase) -> list[Dangling]:
    """Every link that points to no note, by path and line. A link to a note file that exists
    but has errors (by its file name) is not dangling."""

    def run(conn: sqlite3.Connection) -> list[tuple[str, int, str, int, str]]:
        rows = conn.execute(
            "SELECT p.path, l.line, l.target, l.related, l.key FROM links l "
            f"JOIN papers p ON p.rowid = l.paper WHERE {RESOLVE} IS NULL ORDER BY p.path, l.pos"
        )
        return [(str(a), int(b), str(c), int(d), str(e)) for a, b, c, d, e in rows]

    found = kb.index.read(run)
    if not found:
        return []
    broken = {link_key(PurePosixPath(d.path).stem) for d in kb.problems}
    return [Dangling(p, n, t, bool(r)) for p, n, t, r, key in found if key not in broken]


def wikilink(paper: Paper, label: str | None = None) -> str:
    """A link to ``paper`` that Obsidian and papernotes both resolve: the file name, with
    ``label`` (an alias, say) as the text shown: ``[[direct-preference-optimization|DPO]]``."""
    name = PurePosixPath(paper.path).stem if paper.path else paper.id
    return f"[[{name}|{label}]]" if label and label != name else f"[[{name}]]"
