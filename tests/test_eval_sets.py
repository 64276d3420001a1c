"""The committed search-evaluation sets are well formed, and the metrics of bench/evaluate.py
give the values worked out by hand."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import tomllib
from types import ModuleType

import pytest

from conftest import ROOT, SHIPPED_NOTES, needs_shared_data
from papernotes.disk.store import open_store
from papernotes.engine.kb import open_kb

EVAL = ROOT / "tests" / "eval"
NATURAL = tomllib.loads((EVAL / "natural.toml").read_text(encoding="utf-8"))["query"]
ARXIV = tomllib.loads((EVAL / "arxiv.toml").read_text(encoding="utf-8"))["query"]
KINDS = {"paraphrase", "concept", "question", "acronym", "multi"}
ARXIV_NOTES = 10_000
STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "not",
        "no",
        "of",
        "on",
        "or",
        "than",
        "that",
        "the",
        "their",
        "then",
        "this",
        "to",
        "via",
        "with",
    }
)


def _bench_module(name: str) -> ModuleType:
    """``bench/<name>.py``, imported under another name (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


evaluate = _bench_module("evaluate")


def words(text: str) -> set[str]:
    """Lower-cased words of ``text`` (letters and digits), stop words left out."""
    return set(re.findall(r"[a-z0-9]+", text.lower())) - STOP_WORDS


def shipped_ids(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The ids of the shipped notes, as papernotes reads them (``id:`` or the file stem)."""
    monkeypatch.setenv("PAPERNOTES_INDEX", ":memory:")
    return {paper.id for paper in open_kb(open_store(SHIPPED_NOTES)).papers(body=False)}


# --- natural.toml ---


def test_natural_set_is_big_varied_and_points_at_shipped_notes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert len(NATURAL) >= 45
    assert {q["kind"] for q in NATURAL} == KINDS
    assert sum(1 for q in NATURAL if len(q["relevant"]) > 1) >= 8
    known = shipped_ids(monkeypatch)
    assert len(known) == 50
    unknown = [(q["q"], r) for q in NATURAL for r in q["relevant"] if r not in known]
    assert unknown == []
    texts = [q["q"].lower() for q in NATURAL]
    assert len(set(texts)) == len(texts)
    assert all(len(set(q["relevant"])) == len(q["relevant"]) >= 1 for q in NATURAL)


# --- arxiv.toml ---


def test_arxiv_set_is_big_and_well_formed() -> None:
    assert len(ARXIV) >= 100
    assert all(set(q) == {"q", "relevant", "arxiv"} for q in ARXIV)
    assert all(len(q["relevant"]) == 1 for q in ARXIV)
    assert len({q["arxiv"] for q in ARXIV}) == len({q["relevant"][0] for q in ARXIV}) == len(ARXIV)
    lengths = {q["q"]: len(q["q"].split()) for q in ARXIV}
    assert {q: n for q, n in lengths.items() if not 3 <= n <= 8} == {}


@pytest.fixture(scope="module")
def arxiv_titles() -> dict[str, tuple[int, str, str]]:
    """arXiv id -> (position, title, note id) of the first 10,000 listings, with the note ids
    (file stems) bench/corpus.py gives them."""
    source = needs_shared_data("arxiv", "arxiv-75k.jsonl.gz")
    corpus = _bench_module("corpus")
    rows = corpus.listings(source, limit=ARXIV_NOTES)
    assert len(rows) == ARXIV_NOTES
    stems = corpus.stems(rows)
    return {row["id"]: (i, row["title"], stems[i]) for i, row in enumerate(rows)}


def test_arxiv_queries_name_listings_of_the_10k_corpus(
    arxiv_titles: dict[str, tuple[int, str, str]],
) -> None:
    outside = [q["arxiv"] for q in ARXIV if q["arxiv"] not in arxiv_titles]
    assert outside == []
    wrong = [
        (q["arxiv"], q["relevant"][0])
        for q in ARXIV
        if arxiv_titles[q["arxiv"]][2] != q["relevant"][0]
    ]
    assert wrong == []
    positions = sorted(arxiv_titles[q["arxiv"]][0] for q in ARXIV)
    assert positions[0] < 500 and positions[-1] > 9_500  # spread over the whole corpus


def test_arxiv_queries_do_not_reuse_the_title(
    arxiv_titles: dict[str, tuple[int, str, str]],
) -> None:
    """At most one word of a query (stop words aside) appears in the title of its paper."""
    reused = {}
    for query in ARXIV:
        common = words(query["q"]) & words(arxiv_titles[query["arxiv"]][1])
        if len(common) > 1:
            reused[query["q"]] = sorted(common)
    assert reused == {}


def test_the_title_rule_counts_words_as_the_checker_means() -> None:
    assert words("The Curse of CoT: Chain-of-Thought") == {"curse", "cot", "chain", "thought"}
    assert words("step-by-step rationales on pattern tasks") == {
        "step",
        "rationales",
        "pattern",
        "tasks",
    }


# --- metrics ---

LOG3 = math.log2(3)


@pytest.mark.parametrize(
    ("ranked", "relevant", "mrr", "recall", "ndcg"),
    [
        (["a", "b", "c"], {"a"}, 1.0, 1.0, 1.0),
        (["x", "a", "y"], {"a"}, 0.5, 1.0, 1 / LOG3),
        (["x", "y", "a"], {"a"}, 1 / 3, 1.0, 0.5),
        ([], {"a"}, 0.0, 0.0, 0.0),
        (["x", "y"], {"a"}, 0.0, 0.0, 0.0),
        # two relevant notes, one found second: DCG 1/log2(3), ideal 1 + 1/log2(3)
        (["x", "a", "y"], {"a", "b"}, 0.5, 0.5, (1 / LOG3) / (1 + 1 / LOG3)),
        # both found, first and third: DCG 1 + 1/2
        (["a", "x", "b"], {"a", "b"}, 1.0, 1.0, 1.5 / (1 + 1 / LOG3)),
        (["b", "a"], {"a", "b"}, 1.0, 1.0, 1.0),
    ],
)
def test_metrics_on_hand_computed_cases(
    ranked: list[str], relevant: set[str], mrr: float, recall: float, ndcg: float
) -> None:
    assert evaluate.mrr_at(ranked, relevant) == pytest.approx(mrr)
    assert evaluate.recall_at(ranked, relevant) == pytest.approx(recall)
    assert evaluate.ndcg_at(ranked, relevant) == pytest.approx(ndcg)


def test_metrics_look_at_the_top_k_only() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert evaluate.mrr_at(ranked, ["a"]) == 0.0
    assert evaluate.recall_at(ranked, ["a"]) == 0.0
    assert evaluate.ndcg_at(ranked, ["a"]) == 0.0
    assert evaluate.mrr_at(ranked, ["a"], k=11) == pytest.approx(1 / 11)
    assert evaluate.recall_at(["a", "b"], ["a", "b", "c"], k=1) == pytest.approx(1 / 3)
    # 12 relevant notes: the ideal top 10 is all relevant, so ten hits in a row score 1
    many = [f"r{i}" for i in range(12)]
    assert evaluate.ndcg_at(many, many) == pytest.approx(1.0)


def test_keyword_set_loads_with_its_best_note_as_the_relevant_one() -> None:
    queries = evaluate.load_queries("keyword")
    assert len(queries) >= 30
    assert all(len(q.relevant) == 1 for q in queries)
    natural = evaluate.load_queries("natural")
    assert [q.q for q in natural] == [q["q"] for q in NATURAL]


def test_the_harness_runs_a_set_through_the_library_and_prints_a_table() -> None:
    report = evaluate.run_set("keyword", {})
    assert len(report.outcomes) == len(evaluate.load_queries("keyword"))
    assert all(len(o.ranked) <= 10 and o.error is None for o in report.outcomes)
    lines = evaluate.table([report], "default").splitlines()
    assert lines[2] == "| set | queries | MRR@10 | Recall@10 | nDCG@10 | empty | ms |"
    assert lines[4].startswith(f"| **keyword** | {len(report.outcomes)} | ")
    assert evaluate.misses([report]).startswith("\nkeyword: ")
