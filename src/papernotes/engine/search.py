"""Ranked search over the index, and query-based selection.

    result = search(kb, 'dpo -survey', limit=10, exact=False, explain=False)
    result.hits          # Hit(paper, score, snippet, highlights, exact, explain), best first
    result.total         # how many notes match in all (None if count=False and > limit)
    result.corrected     # the query actually run after typo correction ("mixtral"), or None
    result.suggestions   # (id, title) of the closest titles when nothing matched
    ids_matching(kb, 'tag:rlhf year:2023..')   # every matching id, sorted: for list/export

Ranking: a note whose id, alias, arXiv id, DOI, file name or whole title equals the query
words comes first (id before alias before arXiv id ...). The rest are ordered by BM25 with
field weights (:data:`WEIGHTS`) plus bonuses for matches in the title or aliases and in
topics, tags or authors (:data:`BONUSES`), so that title and aliases rank far above topics,
tags and authors, and those above abstract and body; ties broken by id. Words also match
their inflections, and a word that matches no note is replaced by the closest word of the
index's vocabulary (:mod:`papernotes.engine.spelling`), unless ``exact``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from papernotes.engine.index import failure
from papernotes.engine.kb import KnowledgeBase
from papernotes.engine.query import (
    COLUMNS,
    And,
    Query,
    Text,
    free_words,
    fts,
    has_words,
    loose_plan,
    parse,
    plan,
    sql,
)
from papernotes.engine.snippets import Matcher, snippet
from papernotes.engine.spelling import prepare
from papernotes.engine.sqlerrors import is_corrupt
from papernotes.errors import UsageError
from papernotes.note.model import Paper

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
    "extra": 1.0,  # the keys papernotes does not know (paper_ref: Baker, et al., 2011)
}
# BM25 saturates: five mentions in the body score about as much as one in the title, whatever
# the weights. So a match in the title or an alias, and one in topics, tags or authors, also
# earn a bonus: the BM25 of those fields alone, times these factors.
BONUSES = ((2.0, ("title", "aliases")), (0.5, ("topics", "tags", "authors")))


def _bm25(weights: dict[str, float]) -> str:
    return f"bm25(fts, {', '.join(str(weights.get(c, 0.0)) for c in COLUMNS)})"


_BM25 = (
    "("
    + " + ".join(
        [_bm25(WEIGHTS), *(f"{k} * {_bm25(dict.fromkeys(cols, 1.0))}" for k, cols in BONUSES)]
    )
    + ")"
)
# BM25 weights of the ranked fallback (notes with some of the words): a title word counts
# little more than an abstract word there, or one common title word would outrank an abstract
# that has five of the query's words (measured on tests/eval: bench/evaluate.py).
LOOSE_WEIGHTS = {
    "title": 1.5,
    "aliases": 1.5,
    "authors": 1.0,
    "topics": 1.0,
    "tags": 1.0,
    "venue": 1.0,
    "org": 1.0,
    "abstract": 1.0,
    "body": 1.0,
    "extra": 1.0,
}
_LOOSE_BM25 = _bm25(LOOSE_WEIGHTS)
EXACT_KINDS = ("id", "alias", "arxiv", "doi", "file", "title")  # in order of precedence
SUGGESTIONS = 3
SUGGEST_CUTOFF = 60  # rapidfuzz token_set_ratio of a suggested title

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
    match: str = "all"  # "all": every word; "some": some of the words; "meaning": no word
    semantic: float | None = None  # cosine of the note's vector and the query's, when searched


@dataclass(frozen=True)
class SearchResult:
    query: str  # as typed
    hits: tuple[Hit, ...]
    total: int | None  # how many notes match every word; None when not counted (see search)
    corrected: str | None = None  # the query run instead, after typo correction
    suggestions: tuple[tuple[str, str], ...] = ()  # (id, title) when nothing matched
    mode: str = "lexical"  # how the hits were ranked: lexical, semantic or hybrid
    notices: tuple[str, ...] = ()  # worth telling the user (notes waiting for a vector)

    @property
    def partial(self) -> int:
        """How many hits do not have every word (the ranked fallback, or found by meaning)."""
        return sum(1 for hit in self.hits if hit.match != "all")


def search(
    kb: KnowledgeBase,
    text: str,
    limit: int = 10,
    exact: bool = False,
    explain: bool = False,
    count: bool = True,
    mode: str = "auto",
) -> SearchResult:
    """The ``limit`` best notes for query ``text`` (see the module docstring). Counting every
    match costs a second pass on a large index: with ``count=False``, ``total`` is None when
    there may be more than ``limit``. ``mode``: ``lexical`` (words only), ``semantic``
    (meaning only), ``hybrid`` (both, fused), ``auto`` (hybrid when the notes have vectors and
    the model is installed, else lexical)."""
    query = parse(text, kb.index.has_extra)
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    if mode not in MODES:
        raise UsageError(f"unknown search mode {mode!r} (expected one of {', '.join(MODES)})")
    return _guarded(
        kb, text, lambda conn: _search(kb, conn, query, limit, exact, explain, count, mode)
    )


MODES = ("auto", "lexical", "semantic", "hybrid")
# Reciprocal rank fusion: a note gets 1 / (FUSE_K + rank) from the word ranking and
# FUSE_MEANING / (FUSE_K + rank) from the meaning ranking, over the first FUSE_DEPTH of each.
# Measured on tests/eval (bench/evaluate.py, BENCHMARKS.md): meaning alone ranks worse than
# words on known-item queries over arXiv abstracts, so it counts half as much.
FUSE_DEPTH = 50
FUSE_K = 10
FUSE_MEANING = 0.5


def ids_matching(kb: KnowledgeBase, query: str | Query) -> list[str]:
    """The ids of every note matching ``query``, sorted: the notes a search would find,
    without ranking or typo correction (for ``set``/``tag`` on a query)."""
    where, params = matching(kb, query)
    sql = f"SELECT p.id FROM papers p WHERE {where} ORDER BY p.id"
    text = query if isinstance(query, str) else query.text
    return _guarded(kb, text, lambda conn: [str(i) for (i,) in conn.execute(sql, params)])


def matching(kb: KnowledgeBase, query: str | Query) -> tuple[str, tuple[object, ...]]:
    """The notes a search for ``query`` finds, without ranking or typo correction, as an SQL
    condition on ``papers p`` with its parameters (``list QUERY`` and ``export QUERY`` sort and
    page them in SQL: :mod:`papernotes.engine.selection`)."""
    parsed = parse(query, kb.index.has_extra) if isinstance(query, str) else query

    def run(conn: sqlite3.Connection) -> tuple[str, tuple[object, ...]]:
        prepared = prepare(conn, parsed, fix_typos=False)
        pl = plan(prepared)
        where, params = pl.where, pl.params
        if pl.match is not None:
            where = f"p.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?) AND ({where})"
            params = (pl.match, *params)
        firsts = _exact_matches(conn, prepared)
        if firsts:  # an exact name counts even when the words do not match it (an alias)
            where = f"(({where}) OR p.rowid IN (SELECT value FROM json_each(?)))"
            params = (*params, json.dumps(sorted(firsts)))
        return where, params

    return _guarded(kb, parsed.text, run)


def _guarded(kb: KnowledgeBase, text: str, run: Callable[[sqlite3.Connection], T]) -> T:
    """``run`` on the index; a damaged index is rebuilt and ``run`` tried once more."""
    for attempt in range(2):
        try:
            return run(kb.index.conn)
        except sqlite3.Error as exc:
            if attempt == 0 and is_corrupt(exc):
                kb.index = kb.index.heal(exc)  # rebuilt and filled again
                continue
            if isinstance(exc, sqlite3.OperationalError) and _is_query_error(exc):
                # the parser should have refused it; never blame the index for a query
                raise UsageError(
                    f"bad query: cannot run {text[:200]!r} (please report this)"
                ) from None
            raise failure(kb.index, exc) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _is_query_error(exc: sqlite3.OperationalError) -> bool:
    message = str(exc)
    return any(
        part in message
        for part in ("fts5", "syntax error", "parser stack overflow", "too large", "too many")
    )


def _search(
    kb: KnowledgeBase,
    conn: sqlite3.Connection,
    query: Query,
    limit: int,
    exact: bool,
    explain: bool,
    count: bool,
    mode: str = "lexical",
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
    complete = len(rows) < limit + len(firsts)  # every match is in rows
    missing = 0  # exact matches that the words do not match
    if firsts:
        ids = json.dumps(list(firsts))
        found = conn.execute(
            f"SELECT p.rowid, {score} {source}{pl.where} AND p.rowid IN "
            "(SELECT value FROM json_each(?))",
            (*params, ids),
        ).fetchall()
        missing = len(firsts) - len(found)
        scores = dict(found)
        rows = [(r, scores.get(r, 0.0)) for r in firsts] + [r for r in rows if r[0] not in firsts]
    total: int | None = None
    if complete:
        total = len(rows)
    elif count:
        total = conn.execute(f"SELECT count(*) {source}{pl.where}", params).fetchone()[0]
        total = int(total) + missing
    depth = limit if mode == "lexical" else max(limit, FUSE_DEPTH)
    rows = rows[:depth]
    matches = dict.fromkeys((int(r) for r, _ in rows), "all")
    if len(rows) < depth:
        more = _loose(conn, query, depth - len(rows), set(matches))
        matches.update(dict.fromkeys((r for r, _ in more), "some"))
        rows += more
    notices: list[str] = []
    cosines: dict[int, float] = {}
    ran = "lexical"
    if mode != "lexical" and not (mode == "auto" and firsts):  # a name needs no meaning
        meaning = _meaning(kb, query, mode, notices)
        if meaning is not None:
            ran = "semantic" if mode == "semantic" else "hybrid"
            cosines = dict(meaning)
            rows = _fuse(rows, meaning, list(firsts), semantic_only=ran == "semantic")
    rows = rows[:limit]
    rowids = [int(r) for r, _ in rows]
    papers = kb.index.papers(rowids)
    matcher = Matcher.of(query.texts())
    explained = _explain(conn, query, rowids) if explain else {}
    hits = []
    for paper, (rowid, raw) in zip(papers, rows):
        text, marks = snippet(paper, matcher)
        hits.append(
            Hit(
                paper,
                _score(raw) if ran == "lexical" else round(raw, 6),
                text,
                marks,
                firsts.get(rowid),
                explained.get(rowid, ()) if explain else None,
                matches.get(rowid, "meaning"),
                round(cosines[rowid], 4) if rowid in cosines else None,
            )
        )
    suggestions = () if hits else _closest_titles(conn, query)
    return SearchResult(typed, tuple(hits), total, corrected, suggestions, ran, tuple(notices))


def _meaning(
    kb: KnowledgeBase, query: Query, mode: str, notices: list[str]
) -> list[tuple[int, float]] | None:
    """The notes nearest in meaning to the query's free words, under its other conditions:
    (rowid, cosine), best first; None when there is nothing to search by meaning (no free
    word, no vectors, or the model is not installed, which only ``semantic`` and ``hybrid``
    asked for by name report)."""
    from papernotes.engine import semantic

    if mode == "auto" and not semantic.enabled(kb):
        return None
    split = free_words(query)
    if split is None:  # fields and operators only: nothing to mean
        if mode == "semantic":
            raise UsageError("a semantic search needs free words (and no AND): add some words")
        return None
    if mode in ("semantic", "hybrid") and not semantic.available():
        raise semantic.MissingModel("onnxruntime")
    free, where, params = split
    text = " ".join(leaf.value for leaf in free)
    found = semantic.nearest(kb, text, FUSE_DEPTH, where, params, notices=notices)
    if found is None and mode in ("semantic", "hybrid"):
        raise UsageError(
            f"the notes have no vectors yet: run papernotes index --embed ({kb.index.count()} "
            "notes), or search with --lexical"
        )
    return found


def _fuse(
    lexical: list[tuple[int, float]],
    meaning: list[tuple[int, float]],
    firsts: list[int],
    semantic_only: bool = False,
) -> list[tuple[int, float]]:
    """Exact matches first, then the notes of both rankings by reciprocal rank fusion: each
    ranking gives a note 1 / (FUSE_K + its rank) (``semantic_only``: only the meaning
    ranking counts). Ties keep the lexical order."""
    scores: dict[int, float] = {}
    rankings = [(meaning, 1.0)] if semantic_only else [(lexical, 1.0), (meaning, FUSE_MEANING)]
    for ranking, weight in rankings:
        for rank, (rowid, _) in enumerate(r for r in ranking if r[0] not in firsts):
            scores[rowid] = scores.get(rowid, 0.0) + weight / (FUSE_K + rank + 1)
    order = sorted(scores, key=lambda r: -scores[r])  # stable: lexical order breaks ties
    top = sum(weight for _, weight in rankings) / (FUSE_K + 1)
    return [(r, top + 1.0) for r in firsts] + [(r, scores[r]) for r in order]


def _loose(
    conn: sqlite3.Connection, query: Query, count: int, seen: set[int]
) -> list[tuple[int, float]]:
    """Up to ``count`` notes, not in ``seen``, that match some of the query's free words,
    best first by BM25 (:data:`LOOSE_WEIGHTS`), under the query's other conditions."""
    pl = loose_plan(query)
    if pl is None or pl.match is None:
        return []
    rows = conn.execute(
        f"SELECT p.rowid, {_LOOSE_BM25} AS score FROM fts JOIN papers p ON p.rowid = fts.rowid "
        f"WHERE fts MATCH ? AND {pl.where} ORDER BY score, p.id LIMIT ?",
        (pl.match, *pl.params, count + len(seen)),
    ).fetchall()
    return [(int(r), s) for r, s in rows if int(r) not in seen][:count]


def _exact_matches(conn: sqlite3.Connection, query: Query) -> dict[int, str]:
    """Notes whose id, alias, ... equals the query's words -> why (``alias 'DPO'``), in
    order of precedence. They must still pass the query's other conditions."""
    from papernotes.note import normalize

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
