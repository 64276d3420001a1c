"""How close ``related`` comes to its own score: Recall@10 of ``similar()`` against the exact
top 10 of the same score (:func:`papernotes.engine.related.rank`) over every note.

``similar()`` ranks a pool of candidates: the best BM25 matches of the note's most distinctive
words, and its links. A note outside the pool cannot be shown, however well it scores. This
measures what the pool costs: for a seeded sample of notes, the exact top 10 is what ``rank``
gives over every note that could reach it (a note's score is at most ``W_CONTENT`` times its
content similarity plus every other part at its most, so the others are left out). It judges a
change to the pool (which words, how many candidates): the same score, found faster or more
fully. The real collections hold too few links for an evaluation set of related notes, so this
judges the pool, not the score. ::

    PAPERNOTES_INDEX=/tmp/pn-work/arxiv-74728/index.sqlite \\
        .venv/bin/python bench/related_fidelity.py /tmp/pn-corpora/arxiv-74728/notes

About 7 s a sampled note at 74,728 notes (and 1 GB of memory): 60 notes take 8 minutes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import numpy as np

from papernotes.disk.store import open_store
from papernotes.engine import links
from papernotes.engine.index import Index
from papernotes.engine.kb import KnowledgeBase, open_kb
from papernotes.engine.neighbours import similar
from papernotes.engine.related import (
    W_AUTHORS,
    W_CONTENT,
    W_LINK,
    W_TAGS,
    W_TOPICS,
    Vocabulary,
    document,
    rank,
)

OTHER_PARTS = W_TOPICS + W_TAGS + W_AUTHORS + W_LINK  # a score's most, but for its content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notes", type=Path)
    parser.add_argument("--sample", type=int, default=60, help="notes to judge (default 60)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    store = open_store(args.notes)
    kb = open_kb(store)
    started = time.monotonic()
    papers = kb.papers(body=True)
    documents = {p.id: document(p) for p in papers}
    df = dict(kb.index.read(lambda conn: list(conn.execute("SELECT term, docs FROM words"))))
    vocabulary = Vocabulary(max(len(papers), 1), df)
    postings = Postings([vocabulary.vector(documents[p.id]) for p in papers])
    targets = links.targets(kb, [p.id for p in papers])
    print(f"{len(papers):,} notes read and weighed in {time.monotonic() - started:.0f} s")

    recall10, recall5, took = [], [], []
    for paper in random.Random(args.seed).sample(papers, min(args.sample, len(papers))):
        content = postings.dot(vocabulary.vector(documents[paper.id]))
        # a first top 10 among the notes most alike in content, then every note that could
        # beat its tenth
        first = rank(paper, [papers[k] for k in np.argsort(-content)[:300]], vocabulary,
                     targets, 10, documents)  # fmt: skip
        floor = first[-1].score if len(first) == 10 else 0.0
        # (rank rounds scores to 4 places: a note just under the floor may round onto it)
        possible = np.nonzero(W_CONTENT * content + OTHER_PARTS + 1e-4 >= floor)[0]
        exact = [m.paper.id for m in rank(paper, [papers[k] for k in possible], vocabulary,
                                          targets, 10, documents)]  # fmt: skip
        fresh = KnowledgeBase(store, Index.open(store))  # a command's connection: cold
        clock = time.perf_counter()
        found = [m.paper.id for m in similar(fresh, paper, 10)]
        took.append((time.perf_counter() - clock) * 1000)
        fresh.index.close()
        recall10.append(len(set(found) & set(exact)) / max(len(exact), 1))
        recall5.append(len(set(found[:5]) & set(exact[:5])) / max(min(5, len(exact)), 1))
    print(f"sample: {len(recall10)} notes (seed {args.seed})")
    print(f"Recall@10 of similar() against the exact top 10: {statistics.mean(recall10):.3f}")
    print(f"top 5 in the exact top 5 (what show prints): {statistics.mean(recall5):.3f}")
    # to compare two pools in one run: this process holds every note (1.5 GB at 74,728), so a
    # command's similar() is faster (see bench/run.py)
    print(f"similar(), median on a new connection: {statistics.median(took):.1f} ms")


class Postings:
    """Unit TF-IDF vectors of every note, by word: dot products with one vector at once."""

    def __init__(self, vectors: list[dict[str, float]]) -> None:
        self.words: dict[str, int] = {}
        notes, words, weights = [], [], []
        for k, vector in enumerate(vectors):
            for word, weight in vector.items():
                notes.append(k)
                words.append(self.words.setdefault(word, len(self.words)))
                weights.append(weight)
        order = np.argsort(np.array(words, dtype=np.int32), kind="stable")
        self.notes = np.array(notes, dtype=np.int32)[order]
        self.weights = np.array(weights)[order]
        self.starts = np.searchsorted(
            np.array(words, dtype=np.int32)[order], np.arange(len(self.words) + 1)
        )
        self.size = len(vectors)

    def dot(self, vector: dict[str, float]) -> np.ndarray:
        """Each note's content similarity with ``vector`` (as ``rank`` caps it: at most 1)."""
        out = np.zeros(self.size)
        for word, weight in vector.items():
            k = self.words.get(word)
            if k is not None:
                start, end = self.starts[k], self.starts[k + 1]
                out[self.notes[start:end]] += weight * self.weights[start:end]
        return np.minimum(out, 1.0)


if __name__ == "__main__":
    main()
