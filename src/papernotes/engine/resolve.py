"""A reference typed by a user (``dpo``, ``2305.18290``, ``"direct preference"``) -> one note.

Tried in order, the first kind that matches wins: the id; an alias (case-insensitive); an arXiv
id, arXiv URL or DOI; a note file name; a unique id prefix; a fuzzy title or alias match. Several
notes matching equally well raise :class:`Ambiguous`; none raises :class:`NotFound` with the
nearest titles as suggestions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from papernotes.errors import Ambiguous, NotFound, UsageError
from papernotes.note import normalize
from papernotes.note.model import Paper

if TYPE_CHECKING:
    from papernotes.engine.index import Headline
    from papernotes.engine.kb import KnowledgeBase

FUZZY_CUTOFF = 86  # a title this close (0-100) is a match
FUZZY_MARGIN = 4  # ...unless another is within this many points of it
BAG_FACTOR = 0.92  # words present out of order count a little less
SUGGEST_CUTOFF = 60
SUGGESTIONS = 3
MAX_CANDIDATES = 10
SHORTLIST = 300  # above this many notes, fuzzy-score only the closest titles


def describe(paper: Paper) -> str:
    """How a note is named in candidate lists: ``id  Title (year)``."""
    year = f" ({paper.year})" if paper.year else ""
    return f"{paper.id}  {paper.title}{year}"


def resolve(papers: Sequence[Paper], ref: str) -> Paper:
    """The one note ``ref`` names (see the module docstring for the order of the rules)."""
    ref = ref.strip()
    if not ref:
        raise UsageError("empty note reference")
    for rule in (_by_id, _by_alias, _by_identifier, _by_file, _by_prefix):
        found = rule(papers, ref)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise _ambiguous(ref, found)
    return _by_title(papers, ref)


def resolve_in_kb(kb: KnowledgeBase, ref: str) -> Paper:
    """:func:`resolve` over an indexed knowledge base: the exact rules (id, alias, arXiv id,
    DOI) through the index's keys, without loading every note; the others over the notes'
    front matter. The note is returned with its body."""
    ref = ref.strip()
    if not ref:
        raise UsageError("empty note reference")
    keys: list[tuple[str, str]] = [("id", ref), ("alias", ref)]
    for kind, normal in (("arxiv", normalize.arxiv_id), ("doi", normalize.doi)):
        try:
            keys.append((kind, normal(ref)))
            break
        except ValueError:
            continue
    for kind, value in keys:
        found = _unique(kb.lookup(kind, value))
        if len(found) > 1:
            raise _ambiguous(ref, sorted(found, key=lambda p: p.id))
        if found:
            return found[0]
    rows = kb.index.headlines()
    plausible = [
        Paper(id=r.id, title=r.title, year=r.year, path=r.path, aliases=r.aliases, url=r.url)
        for r in _plausible(rows, ref)
    ]
    paper = resolve(plausible, ref)
    return kb.get(paper.id) or paper


def _plausible(rows: Sequence[Headline], ref: str) -> list[Headline]:
    """The rows that could answer ``ref`` by url, file name or id prefix, and those whose title
    or an alias is most like it: :func:`resolve` over them answers as over every note."""
    key = ref.casefold()
    name = PurePosixPath(ref.replace("\\", "/")).name
    keep: set[int] = set()
    owners: list[int] = []
    names: list[str] = []
    for i, row in enumerate(rows):
        if (
            row.id.casefold().startswith(key)
            or (row.url and row.url.rstrip("/") == ref.rstrip("/"))
            or PurePosixPath(row.path).name == name
        ):
            keep.add(i)
        for text in (row.title, *row.aliases):
            owners.append(i)
            names.append(text)
    keep.update(owners[j] for j in _closest(names, normalize.title_key(ref)))
    return [rows[i] for i in sorted(keep)]


def _ambiguous(ref: str, found: Sequence[Paper]) -> Ambiguous:
    shown = [describe(p) for p in found[:MAX_CANDIDATES]]
    if len(found) > MAX_CANDIDATES:
        shown.append(f"... and {len(found) - MAX_CANDIDATES} more")
    return Ambiguous(f"{ref!r} matches {len(found)} notes; give an id or more words:", shown)


def _unique(papers: list[Paper]) -> list[Paper]:
    return list({p.id: p for p in papers}.values())


def _by_id(papers: Sequence[Paper], ref: str) -> list[Paper]:
    exact = [p for p in papers if p.id == ref]
    return exact or [p for p in papers if p.id.casefold() == ref.casefold()]


def _by_alias(papers: Sequence[Paper], ref: str) -> list[Paper]:
    key = normalize.fold(ref)
    return _unique([p for p in papers if any(normalize.fold(a) == key for a in p.aliases)])


def _by_identifier(papers: Sequence[Paper], ref: str) -> list[Paper]:
    try:
        arxiv = normalize.arxiv_id(ref)
    except ValueError:
        pass
    else:
        return [p for p in papers if p.arxiv == arxiv]
    try:
        doi = normalize.doi(ref).casefold()
    except ValueError:
        pass
    else:
        return [p for p in papers if p.doi is not None and p.doi.casefold() == doi]
    if re.match(r"^https?://", ref, re.IGNORECASE):
        url = ref.rstrip("/")
        return [p for p in papers if p.url and p.url.rstrip("/") == url]
    return []


def _by_file(papers: Sequence[Paper], ref: str) -> list[Paper]:
    """``notes/dpo.md`` or ``dpo.md`` (what shell completion of a path gives)."""
    if not ref.lower().endswith((".md", ".markdown")):
        return []
    name = PurePosixPath(ref.replace("\\", "/")).name
    return [p for p in papers if p.path and PurePosixPath(p.path).name == name]


def _by_prefix(papers: Sequence[Paper], ref: str) -> list[Paper]:
    if len(ref) < 2:
        return []
    key = ref.casefold()
    return [p for p in papers if p.id.casefold().startswith(key)]


def _plural(longer: str, shorter: str) -> bool:
    """``models`` / ``model``."""
    return len(shorter) >= 3 and longer == shorter + "s"


def _word(query: str, word: str) -> float:
    from rapidfuzz import fuzz

    if query == word:
        return 100.0
    if _plural(query, word) or _plural(word, query):
        return 99.0
    if len(word) < 3 or len(query) < 3:
        return 0.0  # "to", "of", "a": only an exact match counts
    if len(query) >= 3 and word.startswith(query):
        return 97.0
    return float(fuzz.ratio(query, word))


def _score(query: list[str], choice: str) -> float:
    """How well the query words name ``choice`` (0-100): best when they appear in it in order
    and next to each other (``direct preference``), a little less in any order, less again with
    typos (``preferance``)."""
    words = normalize.title_key(choice).split()
    if not words or not query:
        return 0.0
    sims = [[_word(q, w) for w in words] for q in query]
    n = len(query)
    window = max(
        (sum(sims[i][start + i] for i in range(n)) / n for start in range(len(words) - n + 1)),
        default=0.0,
    )
    bag = sum(max(row) for row in sims) / n * BAG_FACTOR
    return max(window, bag)


def _closest(names: Sequence[str], query: str) -> list[int]:
    """Indexes of the :data:`SHORTLIST` names most like ``query`` (rapidfuzz's token set
    ratio, in C: quick on 75,000 titles), for the word-by-word score to rank."""
    from rapidfuzz import fuzz, process, utils

    hits = process.extract(
        query, names, scorer=fuzz.token_set_ratio, processor=utils.default_process,
        limit=SHORTLIST,
    )  # fmt: skip
    return [i for _, _, i in hits]


def _shortlist(papers: Sequence[Paper], query: str) -> Sequence[Paper]:
    """On a large knowledge base, only the notes with a title or alias roughly like ``query``."""
    if len(papers) <= SHORTLIST:
        return papers
    owners = [p for p in papers for _ in (p.title, *p.aliases)]
    names = [n for p in papers for n in (p.title, *p.aliases)]
    return list({owners[i].id: owners[i] for i in _closest(names, query)}.values())


def _by_title(papers: Sequence[Paper], ref: str) -> Paper:
    query = normalize.title_key(ref).split()
    scored: list[tuple[float, Paper]] = []
    if query:
        for paper in _shortlist(papers, " ".join(query)):
            best = max(_score(query, name) for name in (paper.title, *paper.aliases))
            scored.append((best, paper))
    scored.sort(key=lambda item: (-item[0], item[1].id))
    if scored and scored[0][0] >= FUZZY_CUTOFF:
        top = scored[0][0]
        close = [p for s, p in scored if s >= FUZZY_CUTOFF and s >= top - FUZZY_MARGIN]
        if len(close) == 1:
            return close[0]
        raise _ambiguous(ref, close)
    suggestions = [describe(p) for s, p in scored[:SUGGESTIONS] if s >= SUGGEST_CUTOFF]
    raise NotFound(f"no note matches {ref!r}", suggestions)
