"""A note's links, backlinks and similar notes, answered from the index.

Links and backlinks resolve by the one rule of :mod:`papernotes.engine.links`. Similar notes are
the notes that hold the most of a note's most distinctive words (weighed by TF-IDF), plus the
notes it links to or from, ranked by :func:`papernotes.engine.related.rank` with document
frequencies from the index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from papernotes.engine import links
from papernotes.engine.related import Connections, Match, Vocabulary, document, rank
from papernotes.note.model import Paper

if TYPE_CHECKING:
    from papernotes.engine.kb import KnowledgeBase

TOP_WORDS = 30  # the target's most distinctive words, searched for candidates
CANDIDATES = 50  # the notes that hold the most of those words, then ranked
# words in more notes than this share (and more than COMMON_MIN notes) are not searched for
# candidates (they still count in the score): at 75,000 notes, "video" or "long" (7,000
# notes each) made the candidate search 2-5 times slower and pulled in generic notes
COMMON_SHARE = 0.05
COMMON_MIN = 100


def similar(
    kb: KnowledgeBase, paper: Paper, limit: int = 10, linking: list[Paper] | None = None
) -> list[Match]:
    """The indexed notes most similar to ``paper`` (which needs its body), best first.
    ``linking``: its backlinks, when already known."""
    words = document(paper)
    df = kb.index.document_frequencies(words)
    vocabulary = Vocabulary(max(len(kb), 1), df)
    mine = vocabulary.vector(words)
    common = max(vocabulary.notes * COMMON_SHARE, COMMON_MIN)
    distinctive = [w for w in sorted(mine, key=lambda w: (-mine[w], w)) if df[w] <= common]
    found = kb.index.papers(
        kb.index.more_like({w: mine[w] for w in distinctive[:TOP_WORDS]}, CANDIDATES),
        body=False,
    )
    linked = {p.id for _, p in links.outgoing(kb, paper) if p is not None}
    linked |= {p.id for p in (links.backlinks(kb, paper) if linking is None else linking)}
    more = kb.get_many(sorted(linked - {p.id for p in found}), body=False)
    candidates = [c for c in (*found, *more) if c.id != paper.id]
    # the candidates' words as counted when they were indexed: cutting their texts again
    # took ~15 ms of ~60
    documents = {**kb.index.terms([c.id for c in candidates]), paper.id: words}
    all_words = set().union(*documents.values())
    vocabulary = Vocabulary(vocabulary.notes, kb.index.document_frequencies(all_words))
    link_targets = links.targets(kb, [paper.id, *(c.id for c in candidates)])
    return rank(paper, candidates, vocabulary, link_targets, limit, documents)


def connections(kb: KnowledgeBase, paper: Paper, limit: int = 5) -> Connections:
    """What ``show`` prints under ``paper``: its links (resolved, or None), its backlinks and
    the ``limit`` most similar notes."""
    linking = links.backlinks(kb, paper)
    near = similar(kb, paper, limit, linking) if limit > 0 else []
    return Connections(tuple(links.outgoing(kb, paper)), tuple(linking), tuple(near))
