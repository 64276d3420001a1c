"""A note's links, backlinks and similar notes, answered from the search index.

The same answers as :func:`papernotes.related.connections` gives over a list of papers, without
loading every note: links resolve through the index's keys (file name, then alias, then title,
as :class:`papernotes.links.LinkResolver` does), backlinks come from the links recorded in the
index, and similar notes are the best BM25 matches of a note's most distinctive words, ranked
by :func:`papernotes.related.rank` with document frequencies from the index. On 75,000 notes
``show`` stays well under a second."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from papernotes.links import link_key, outgoing
from papernotes.model import Paper
from papernotes.related import Connections, Match, Vocabulary, document, rank

if TYPE_CHECKING:
    from papernotes.kb import KnowledgeBase

TOP_WORDS = 30  # the target's most distinctive words, searched for candidates
CANDIDATES = 50  # the best BM25 matches of those words, then ranked
# names of a note looked for in the others' front matter before their links are read; a note
# with more (aliases) has every link read: Index.link_sources makes one LIKE of each name,
# and 1,000 of them are more than SQLite takes ("Expression tree is too large")
MAX_MENTIONED = 64


def resolve_link(kb: KnowledgeBase, target: str) -> Paper | None:
    """The note a ``related`` id or ``[[wikilink]]`` points to: by file name or id, then
    alias, then title."""
    key = link_key(target)
    if not key:
        return None
    for kind in ("id", "file", "alias", "title"):
        found = kb.lookup(kind, key)
        if found:
            return min(found, key=lambda p: p.id)
    return None


def _names(paper: Paper) -> set[str]:
    """What a link to ``paper`` can say (folded like :func:`link_key`)."""
    stem = PurePosixPath(paper.path).stem if paper.path else paper.id
    return {link_key(n) for n in (paper.id, stem, *paper.aliases, paper.title)}


def backlinks(kb: KnowledgeBase, paper: Paper) -> list[Paper]:
    """The notes linking to ``paper``, by id."""
    names = _names(paper)
    # only notes whose front matter mentions a name can link here (JSON escapes " and \)
    escaped = any('"' in n or "\\" in n for n in names)
    mentioned = () if escaped or len(names) > MAX_MENTIONED else names
    sources = sorted(
        {
            source
            for source, target in kb.index.link_sources(mentioned)
            if source != paper.id and link_key(target) in names and _points_to(kb, target, paper.id)
        }
    )
    return kb.get_many(sources, body=False)


def _points_to(kb: KnowledgeBase, target: str, paper_id: str) -> bool:
    found = resolve_link(kb, target)
    return found is not None and found.id == paper_id


def similar(
    kb: KnowledgeBase, paper: Paper, limit: int = 10, linking: list[Paper] | None = None
) -> list[Match]:
    """The indexed notes most similar to ``paper`` (which needs its body), best first.
    ``linking``: its backlinks, when already known."""
    words = document(paper)
    df = kb.index.document_frequencies(words)
    vocabulary = Vocabulary(max(len(kb), 1), df)
    mine = vocabulary.vector(words)
    top = sorted(mine, key=lambda w: (-mine[w], w))[:TOP_WORDS]
    ids = [p.id for p in kb.index.papers(kb.index.more_like(top, CANDIDATES), body=False)]
    linked = {p.id for p in _targets(kb, paper)}
    linked |= {p.id for p in (backlinks(kb, paper) if linking is None else linking)}
    candidates = kb.get_many(dict.fromkeys([*ids, *sorted(linked)]))
    candidates = [c for c in candidates if c.id != paper.id]
    all_words: set[str] = set()
    for candidate in candidates:
        all_words.update(document(candidate))
    vocabulary = Vocabulary(vocabulary.notes, kb.index.document_frequencies(all_words | set(df)))
    link_targets = {p.id: {t.id for t in _targets(kb, p)} for p in (paper, *candidates)}
    return rank(paper, candidates, vocabulary, link_targets, limit)


def _targets(kb: KnowledgeBase, paper: Paper) -> list[Paper]:
    found = (resolve_link(kb, t) for t in outgoing(paper))
    return list({p.id: p for p in found if p is not None}.values())


def connections(kb: KnowledgeBase, paper: Paper, limit: int = 5) -> Connections:
    """What ``show`` prints under ``paper``: its links (resolved, or None), its backlinks and
    the ``limit`` most similar notes."""
    links: list[tuple[str, Paper | None]] = []
    seen: set[str] = set()
    for target in outgoing(paper):
        found = resolve_link(kb, target)
        if found is not None:
            if found.id in seen:
                continue  # the same note named twice (its id in related, its title in a link)
            seen.add(found.id)
        links.append((target, found))
    linking = backlinks(kb, paper)
    near = similar(kb, paper, limit, linking) if limit > 0 else []
    return Connections(tuple(links), tuple(linking), tuple(near))
