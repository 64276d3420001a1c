"""Search quality, measured: the mean reciprocal rank of the expected note over the queries
of relevance.toml on the shipped notes must stay at 0.9 or above."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import SHIPPED_NOTES
from papernotes.disk.store import open_store
from papernotes.engine.kb import KnowledgeBase, open_kb
from papernotes.engine.search import search

RELEVANCE = Path(__file__).with_name("relevance.toml")
MIN_MRR = 0.9
QUERIES = tomllib.loads(RELEVANCE.read_text(encoding="utf-8"))["query"]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    if not SHIPPED_NOTES.is_dir():
        pytest.skip("the shipped notes are absent")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAPERNOTES_INDEX", ":memory:")
        return open_kb(open_store(SHIPPED_NOTES))


def reciprocal_rank(kb: KnowledgeBase, query: str, best: str) -> float:
    ids = [hit.paper.id for hit in search(kb, query, limit=10).hits]
    return 1 / (ids.index(best) + 1) if best in ids else 0.0


def test_the_relevance_set_is_big_and_varied(kb: KnowledgeBase) -> None:
    assert len(QUERIES) >= 30
    kinds = {q["kind"] for q in QUERIES}
    assert kinds == {"name", "phrase", "topic", "author", "typo", "field"}
    known = {p.id for p in kb.papers()}
    assert [q["best"] for q in QUERIES if q["best"] not in known] == []


def test_mean_reciprocal_rank(kb: KnowledgeBase) -> None:
    ranks = {q["q"]: reciprocal_rank(kb, q["q"], q["best"]) for q in QUERIES}
    mrr = sum(ranks.values()) / len(ranks)
    misses = {q: round(r, 2) for q, r in ranks.items() if r < 1}
    assert mrr >= MIN_MRR, f"MRR {mrr:.3f} < {MIN_MRR}; not first: {misses}"


@pytest.mark.parametrize("kind", ["name", "typo", "field"])
def test_names_typos_and_fields_find_their_note_first(kb: KnowledgeBase, kind: str) -> None:
    """Exact names, corrected typos and field filters leave no room for doubt."""
    for query in (q for q in QUERIES if q["kind"] == kind):
        assert reciprocal_rank(kb, query["q"], query["best"]) == 1.0, query["q"]
