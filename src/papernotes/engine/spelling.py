"""Which spellings a query word matches: its plural or singular form, and, for a word that
no note contains, the closest word of the index's vocabulary (a typo correction)."""

from __future__ import annotations

import sqlite3

from papernotes.engine.query import Query, Text, fts, stem, variants

RARE_FORM = 0.2  # a plural/singular form rarer than this share of the typed one is left out


def prepare(
    conn: sqlite3.Connection, query: Query, exact: bool = False, fix_typos: bool = True
) -> Query:
    """Choose the spellings each word matches (:func:`_forms`: its inflections); a word no
    note contains is replaced by the closest word of the vocabulary (:func:`closest_word`)
    when ``fix_typos``. With ``exact``, words are taken as typed."""
    if exact:
        return query
    changed = query
    positive = {id(t) for t in query.texts()}
    for leaf in reversed(query.texts(positive_only=False)):  # right to left: offsets hold
        if leaf.kind != "word" or not leaf.value.isalnum():
            continue
        forms = _forms(conn, leaf.value)
        if not forms and fix_typos and id(leaf) in positive and len(leaf.value) >= 4:
            fixed = closest_word(conn, leaf.value)
            if fixed is not None:
                changed = changed.replace(leaf, _leaf(leaf, fixed, _forms(conn, fixed)))
            continue
        if forms:
            changed = changed.replace(leaf, _leaf(leaf, leaf.value, forms))
    return changed


def _leaf(leaf: Text, value: str, forms: tuple[str, ...]) -> Text:
    return Text(value, leaf.kind, leaf.column, leaf.start, leaf.end, forms)


def _forms(conn: sqlite3.Connection, word: str) -> tuple[str, ...]:
    """What ``word`` should match; () when no note contains any of it. A long word matches
    itself and every word starting with its stem (``benchmark*``: ``benchmarks``,
    ``benchmarking``): one FTS5 prefix term, whose weight is that of all those words
    together. A short one matches itself and its plural or singular, unless that form is
    rare (searched as a separate term, its rarity would inflate its BM25 weight)."""
    from papernotes.note.normalize import fold

    typed = fold(word).lower()
    base = stem(typed)
    if base is not None:
        forms: tuple[str, ...] = (typed, base + "*")
        expr = fts(Text(typed, "word", forms=forms))
        found = conn.execute("SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (expr,)).fetchone()
        return forms if found else ()
    typed, *others = variants(typed)
    counts = {f: _doc_count(conn, f) for f in (typed, *others)}
    floor = counts[typed] * RARE_FORM
    return tuple(f for f, n in counts.items() if n and (f == typed or n >= floor))


def _doc_count(conn: sqlite3.Connection, term: str) -> int:
    row = conn.execute("SELECT doc FROM fts_vocab WHERE term = ?", (term,)).fetchone()
    return int(row[0]) if row else 0


def closest_word(conn: sqlite3.Connection, word: str) -> str | None:
    """The index's word nearest to ``word`` (at most 1 edit for short words, 2 for longer;
    swapping two letters is one edit), the most frequent among equals. Words starting with
    the same letter are tried first: those of the notes' titles, abstracts and bodies (the
    index's ``words``, a range of one table: ~3 ms at 74,728 notes), then, when none is
    near, every word of the full-text index (names too; reading how many notes hold each
    word of a letter's range there takes ~60 ms); all words only in smaller indexes (it is
    slow)."""
    from rapidfuzz.distance import OSA

    from papernotes.engine.related import STOPWORDS
    from papernotes.note.normalize import fold

    word = fold(word)
    first = word[0]
    bounds = (first, chr(ord(first) + 1))
    texts = "SELECT term, docs FROM words WHERE term >= ? AND term < ?"
    rows = conn.execute(texts, bounds).fetchall()
    # and the words ``words`` leaves out as too common to tell notes apart ("models"): those
    # near enough, with how many notes hold them
    limit = _edits(word)
    rows += [
        (common, _doc_count(conn, common))
        for common in sorted(STOPWORDS)
        if common.startswith(first) and OSA.distance(word, common) <= limit
    ]
    best = _nearest(word, rows)
    if best is not None and _forms(conn, best):
        return best
    rows = conn.execute(
        "SELECT term, doc FROM fts_vocab WHERE term >= ? AND term < ?", bounds
    ).fetchall()
    best = _nearest(word, rows)
    if best is None and conn.execute("SELECT count(*) FROM papers").fetchone()[0] <= FULL_SCAN:
        best = _nearest(word, conn.execute("SELECT term, doc FROM fts_vocab").fetchall())
    return best


FULL_SCAN = 20_000  # notes up to which a typo in the first letter is looked for


def _edits(word: str) -> int:
    """How many edits a correction of ``word`` may take."""
    return 1 if len(word) <= 5 else 2


def _nearest(word: str, rows: list[tuple[str, int]]) -> str | None:
    if not rows:
        return None
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    limit = _edits(word)
    terms = [t for t, _ in rows]
    matches = process.extract(word, terms, scorer=OSA.distance, score_cutoff=limit, limit=None)
    candidates = [(d, -rows[i][1], t) for t, d, i in matches if len(t) >= 3 and t != word]
    return min(candidates)[2] if candidates else None
