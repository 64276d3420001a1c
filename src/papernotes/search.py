"""Ranked search over the index, and query-based selection.

    result = search(kb, 'dpo -survey', limit=10, exact=False, explain=False)
    result.hits          # Hit(paper, score, snippet, highlights, exact, explain), best first
    result.total         # how many notes match in all
    result.corrected     # the query actually run after typo correction ("mixtral"), or None
    result.suggestions   # (id, title) of the closest titles when nothing matched
    ids_matching(kb, 'tag:rlhf year:2023..')   # every matching id, sorted: for list/export

Ranking: a note whose id, alias, arXiv id, DOI, file name or whole title equals the query
words comes first (id before alias before arXiv id ...). The rest are ordered by BM25 with
field weights (:data:`WEIGHTS`: title and aliases far above topics, tags and authors, those
above abstract and body), ties broken by id. A word that matches no note is replaced by the
closest word of the index's vocabulary (rapidfuzz), and words also match their plural or
singular form, unless ``exact``.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from papernotes.errors import UsageError
from papernotes.index import failure, is_corrupt
from papernotes.kb import KnowledgeBase
from papernotes.model import Paper
from papernotes.query import (
    COLUMNS,
    And,
    Query,
    Text,
    fts,
    has_words,
    parse,
    plan,
    sql,
)
from papernotes.spelling import prepare

# BM25 weight of a match in each field
WEIGHTS = {
    "title": 10.0,
    "aliases": 10.0,
    "authors": 4.0,
    "topics": 4.0,
    "tags": 4.0,
    "venue": 2.0,
    "org": 2.0,
    "abstract": 1.5,
    "body": 1.0,
}
_BM25 = f"bm25(fts, {', '.join(str(WEIGHTS[c]) for c in COLUMNS)})"
EXACT_KINDS = ("id", "alias", "arxiv", "doi", "file", "title")  # in order of precedence
SNIPPET_TOKENS = 24
SUGGESTIONS = 3
SUGGEST_CUTOFF = 60  # rapidfuzz token_set_ratio of a suggested title
HL_START, HL_END = "\x02", "\x03"  # highlight marks inside FTS5 snippets

T = TypeVar("T")


@dataclass(frozen=True)
class TermScore:
    """How much one query term added to a hit's score, and in which fields it matched."""

    term: str
    score: float
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    paper: Paper
    score: float  # BM25 (higher is better); 0 for notes selected by fields only
    snippet: str  # the best-matching passage of the abstract or body, one line
    highlights: tuple[tuple[int, int], ...]  # (start, end) of the matched words in snippet
    exact: str | None = None  # "alias 'DPO'" when an exact match put the note first
    explain: tuple[TermScore, ...] | None = None  # with explain=True


@dataclass(frozen=True)
class SearchResult:
    query: str  # as typed
    hits: tuple[Hit, ...]
    total: int
    corrected: str | None = None  # the query run instead, after typo correction
    suggestions: tuple[tuple[str, str], ...] = ()  # (id, title) when nothing matched


def search(
    kb: KnowledgeBase, text: str, limit: int = 10, exact: bool = False, explain: bool = False
) -> SearchResult:
    """The ``limit`` best notes for query ``text`` (see the module docstring)."""
    query = parse(text)
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    return _guarded(kb, text, lambda conn: _search(kb, conn, query, limit, exact, explain))


def ids_matching(kb: KnowledgeBase, query: str | Query) -> list[str]:
    """The ids of every note matching ``query`` (no ranking, no typo correction), sorted."""
    parsed = parse(query) if isinstance(query, str) else query

    def run(conn: sqlite3.Connection) -> list[str]:
        pl = plan(prepare(conn, parsed, fix_typos=False))
        if pl.match is not None:
            rows = conn.execute(
                "SELECT p.id FROM fts JOIN papers p ON p.rowid = fts.rowid "
                f"WHERE fts MATCH ? AND {pl.where} ORDER BY p.id",
                (pl.match, *pl.params),
            )
        else:
            rows = conn.execute(
                f"SELECT p.id FROM papers p WHERE {pl.where} ORDER BY p.id", pl.params
            )
        return [str(r) for (r,) in rows]

    return _guarded(kb, parsed.text, run)


def _guarded(kb: KnowledgeBase, text: str, run: Callable[[sqlite3.Connection], T]) -> T:
    """``run`` on the index; a damaged index is rebuilt and ``run`` tried once more."""
    for attempt in range(2):
        try:
            return run(kb.index.conn)
        except sqlite3.Error as exc:
            if attempt == 0 and is_corrupt(exc):
                kb.index = kb.index.heal(exc)
                kb.index.refresh()
                continue
            if isinstance(exc, sqlite3.OperationalError) and "fts5" in str(exc):
                raise UsageError(f"cannot run the query {text!r} (please report this)") from None
            raise failure(kb.index, exc) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _search(
    kb: KnowledgeBase,
    conn: sqlite3.Connection,
    query: Query,
    limit: int,
    exact: bool,
    explain: bool,
) -> SearchResult:
    typed = query.text
    query = prepare(conn, query, exact)
    corrected = query.text if query.text != typed else None
    pl = plan(query)
    firsts = _exact_matches(conn, query)
    if pl.match is not None:
        source = "FROM fts JOIN papers p ON p.rowid = fts.rowid WHERE fts MATCH ? AND "
        params: tuple[object, ...] = (pl.match, *pl.params)
        score = _BM25
    elif pl.rank is not None:
        source = (
            f"FROM papers p LEFT JOIN (SELECT rowid AS r, {_BM25} AS s FROM fts "
            "WHERE fts MATCH ?) ON r = p.rowid WHERE "
        )
        params = (pl.rank, *pl.params)
        score = "coalesce(s, 0.0)"
    else:
        source, params, score = "FROM papers p WHERE ", pl.params, "0.0"
    rows = conn.execute(
        f"SELECT p.rowid, {score} AS score {source}{pl.where} ORDER BY score, p.id LIMIT ?",
        (*params, limit + len(firsts)),
    ).fetchall()
    total = conn.execute(f"SELECT count(*) {source}{pl.where}", params).fetchone()[0]
    if firsts:
        ids = json.dumps(list(firsts))
        found = conn.execute(
            f"SELECT p.rowid, {score} {source}{pl.where} AND p.rowid IN "
            "(SELECT value FROM json_each(?))",
            (*params, ids),
        ).fetchall()
        total += len(firsts) - len(found)
        scores = dict(found)
        rows = [(r, scores.get(r, 0.0)) for r in firsts] + [r for r in rows if r[0] not in firsts]
    rows = rows[:limit]
    rowids = [int(r) for r, _ in rows]
    papers = kb.index.papers(rowids)
    snippets = _snippets(conn, pl.rank, rowids)
    explained = _explain(conn, query, rowids) if explain else {}
    hits = []
    for paper, (rowid, raw) in zip(papers, rows):
        snippet, marks = snippets.get(rowid) or _lead(paper)
        hits.append(
            Hit(
                paper,
                _score(raw),
                snippet,
                marks,
                firsts.get(rowid),
                explained.get(rowid, ()) if explain else None,
            )
        )
    suggestions = () if hits else _closest_titles(conn, query)
    return SearchResult(typed, tuple(hits), int(total), corrected, suggestions)


def _exact_matches(conn: sqlite3.Connection, query: Query) -> dict[int, str]:
    """Notes whose id, alias, ... equals the query's words -> why (``alias 'DPO'``), in
    order of precedence. They must still pass the query's other conditions."""
    from papernotes import normalize

    children = query.root.nodes if isinstance(query.root, And) else (query.root,)
    words = [c for c in children if isinstance(c, Text) and c.column is None and c.kind != "prefix"]
    if not words:
        return {}
    rest = [c for c in children if c not in words]
    key = " ".join(w.value for w in words)
    keys = {"id": normalize.fold(key), "alias": normalize.fold(key), "file": normalize.fold(key)}
    keys["title"] = normalize.title_key(key)
    for kind, clean in (("arxiv", normalize.arxiv_id), ("doi", normalize.doi)):
        with contextlib.suppress(ValueError):
            keys[kind] = clean(key).lower()
    params: list[object] = []
    condition = sql(And(tuple(rest)), params) if rest else "1"
    found: dict[int, str] = {}
    for kind in EXACT_KINDS:
        if kind not in keys or not keys[kind]:
            continue
        rows = conn.execute(
            "SELECT p.rowid FROM papers p WHERE p.rowid IN (SELECT paper FROM keys "
            f"WHERE kind = ? AND value = ?) AND {condition} ORDER BY p.id",
            (kind, keys[kind], *params),
        )
        for (rowid,) in rows:
            found.setdefault(int(rowid), f"{kind} {key!r}")
    return found


def _snippets(
    conn: sqlite3.Connection, rank: str | None, rowids: Sequence[int]
) -> dict[int, tuple[str, tuple[tuple[int, int], ...]]]:
    """The best passage of each hit's abstract or body, with the matched words marked."""
    if rank is None or not rowids:
        return {}
    columns = [COLUMNS.index("abstract"), COLUMNS.index("body")]
    parts = ", ".join(
        f"snippet(fts, {c}, '{HL_START}', '{HL_END}', '…', {SNIPPET_TOKENS})" for c in columns
    )
    rows = conn.execute(
        f"SELECT rowid, {parts} FROM fts WHERE fts MATCH ? AND rowid IN "
        "(SELECT value FROM json_each(?))",
        (rank, json.dumps(list(rowids))),
    )
    out = {}
    for rowid, *texts in rows:
        best = max(texts, key=lambda t: (t or "").count(HL_START))
        if best and HL_START in best:
            out[int(rowid)] = _marked(best)
    return out


_HEADING = re.compile(r"(?m)^\s{0,3}#{1,6}\s+")


def _marked(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Snippet text with its highlight marks turned into spans, on one line."""
    text = " ".join(_HEADING.sub("", text).split())
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    for i, part in enumerate(re.split(f"[{HL_START}{HL_END}]", text)):
        if i % 2 and part:
            spans.append((length, length + len(part)))
        plain.append(part)
        length += len(part)
    return "".join(plain), tuple(spans)


def _lead(paper: Paper) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The start of the abstract or body, for hits without a matched passage."""
    text = " ".join(_HEADING.sub("", paper.abstract or paper.body).split())
    words = text.split(" ")
    lead = " ".join(words[:SNIPPET_TOKENS])
    return (lead + "…" if len(words) > SNIPPET_TOKENS else lead), ()


def _explain(
    conn: sqlite3.Connection, query: Query, rowids: Sequence[int]
) -> dict[int, tuple[TermScore, ...]]:
    """For each hit, each positive query term: its share of the BM25 score and its fields."""
    ids = json.dumps(list(rowids))
    out: dict[int, list[TermScore]] = {r: [] for r in rowids}
    for leaf in query.texts():
        scores = dict(
            conn.execute(
                f"SELECT rowid, {_BM25} FROM fts WHERE fts MATCH ? AND rowid IN "
                "(SELECT value FROM json_each(?))",
                (fts(leaf), ids),
            ).fetchall()
        )
        fields: dict[int, list[str]] = {r: [] for r in rowids}
        bare = Text(leaf.value, leaf.kind)
        for column in (leaf.column,) if leaf.column else COLUMNS:
            expr = f"{{{column}}} : ({fts(bare)})"
            matched = conn.execute(
                "SELECT rowid FROM fts WHERE fts MATCH ? AND rowid IN "
                "(SELECT value FROM json_each(?))",
                (expr, ids),
            )
            for (rowid,) in matched:
                fields[rowid].append(column)
        label = _label(leaf)
        for rowid in rowids:
            if rowid in scores:
                out[rowid].append(TermScore(label, _score(scores[rowid]), tuple(fields[rowid])))
    return {r: tuple(v) for r, v in out.items()}


def _score(bm25: float) -> float:
    """A BM25 value as a score: higher is better, six significant digits. (FTS5 gives a word
    found in half the notes or more a weight of about 1e-6.)"""
    return float(f"{-float(bm25):.6g}") + 0.0


def _label(leaf: Text) -> str:
    value = f'"{leaf.value}"' if leaf.kind == "phrase" else leaf.value
    if leaf.kind == "prefix":
        value += "*"
    return f"{leaf.column}:{value}" if leaf.column else value


def _closest_titles(conn: sqlite3.Connection, query: Query) -> tuple[tuple[str, str], ...]:
    """The titles nearest to the query's words, for "did you mean" when nothing matched."""
    words = " ".join(t.value for t in query.texts())
    if not has_words(words):
        return ()
    from rapidfuzz import fuzz, process, utils

    rows = conn.execute("SELECT id, title FROM papers").fetchall()
    matches = process.extract(
        words,
        [title for _, title in rows],
        scorer=fuzz.token_set_ratio,
        processor=utils.default_process,
        limit=SUGGESTIONS,
        score_cutoff=SUGGEST_CUTOFF,
    )
    return tuple((str(rows[i][0]), str(rows[i][1])) for _, _, i in matches)
