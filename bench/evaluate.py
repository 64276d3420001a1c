"""Search quality on the committed evaluation sets (issue 17): MRR@10, Recall@10 and nDCG@10.

Sets: ``natural`` (tests/eval/natural.toml, natural-language queries over the shipped notes),
``arxiv`` (tests/eval/arxiv.toml, known-item queries over the first 10,000 arXiv listings, built
by bench/corpus.py under bench/corpora/ and reused) and ``keyword`` (tests/relevance.toml, the
short names and phrases of the relevance test). Every query runs through the library, with the
index in a temporary folder (never the user's cache). Prints a Markdown table for BENCHMARKS.md,
then the queries whose relevant notes are not all in the top 10::

    .venv/bin/python bench/evaluate.py                          # every set, default search
    .venv/bin/python bench/evaluate.py --sets natural --mode semantic
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
EVAL = ROOT / "tests" / "eval"
SHIPPED = ROOT / "notes"
SETS = ("natural", "arxiv", "keyword")
EVAL_CACHE = BENCH / "corpora" / "eval-cache"
ARXIV_SIZE = 10_000
K = 10


# --- metrics: a ranked list of ids against the set of relevant ids ---


def mrr_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Reciprocal rank of the first relevant id within the top ``k`` (0 if none)."""
    wanted = set(relevant)
    for rank, paper_id in enumerate(ranked[:k], start=1):
        if paper_id in wanted:
            return 1 / rank
    return 0.0


def recall_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Share of the relevant ids found in the top ``k``."""
    wanted = set(relevant)
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def ndcg_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Binary-gain nDCG: the discounted gain of the top ``k`` over that of an ideal ranking."""
    wanted = set(relevant)
    dcg = sum(1 / math.log2(i + 2) for i, paper_id in enumerate(ranked[:k]) if paper_id in wanted)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(wanted), k)))
    return dcg / ideal if ideal else 0.0


# --- sets ---


@dataclass(frozen=True)
class Query:
    q: str
    relevant: tuple[str, ...]
    kind: str = ""


@dataclass
class Outcome:
    query: Query
    ranked: list[str]
    seconds: float
    error: str | None = None  # the message when search refused the query


@dataclass
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)


def load_queries(name: str, arxiv_ids: dict[str, str] | None = None) -> list[Query]:
    """The queries of set ``name``; for ``arxiv``, relevant notes found by arXiv id through
    ``arxiv_ids`` (arXiv id -> note id) when given, so that a change of stems costs nothing."""
    if name == "keyword":
        rows = _toml(ROOT / "tests" / "relevance.toml")
        return [Query(r["q"], (r["best"],), r["kind"]) for r in rows]
    rows = _toml(EVAL / f"{name}.toml")
    if name == "arxiv" and arxiv_ids is not None:
        return [Query(r["q"], (arxiv_ids[r["arxiv"]],), "known-item") for r in rows]
    return [Query(r["q"], tuple(r["relevant"]), r.get("kind", "")) for r in rows]


def _toml(path: Path) -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["query"]
    return queries


def notes_and_queries(name: str) -> tuple[Path, list[Query]]:
    """The notes folder set ``name`` runs over (building the arXiv corpus if needed)."""
    if name != "arxiv":
        return SHIPPED, load_queries(name)
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import corpus

    if not corpus.ARXIV.exists():
        raise SystemExit(f"the arxiv set needs {corpus.ARXIV}")
    rows = corpus.listings(corpus.ARXIV, limit=ARXIV_SIZE)
    notes = corpus.build(ARXIV_SIZE, rows, "arxiv")
    ids = {row["id"]: stem for row, stem in zip(rows, corpus.stems(rows), strict=True)}
    return notes, load_queries(name, ids)


# --- running ---


def search_options(mode: str | None) -> dict[str, Any]:
    """``mode=...`` for :func:`papernotes.engine.search.search`, which may not take one yet."""
    from papernotes.engine.search import search

    if mode is None:
        return {}
    if "mode" not in inspect.signature(search).parameters:
        raise SystemExit(f"--mode {mode}: this papernotes' search() has no mode parameter")
    return {"mode": mode}


def run_set(name: str, options: dict[str, Any]) -> Report:
    """Every query of set ``name`` through ``search(kb, q, limit=10, **options)``."""
    from papernotes.disk.store import open_store
    from papernotes.engine.kb import open_kb
    from papernotes.engine.search import search
    from papernotes.errors import PapernotesError

    notes, queries = notes_and_queries(name)
    started = time.perf_counter()
    kb = open_kb(open_store(notes))
    print(
        f"{name}: {len(kb):,} notes indexed in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    if options.get("mode") in ("semantic", "hybrid", "auto"):
        from papernotes.engine import semantic

        started = time.perf_counter()
        done = semantic.embed_all(kb)
        print(
            f"{name}: {done.embedded:,} notes embedded in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    report = Report(name)
    for query in queries:
        start = time.perf_counter()
        try:
            ranked = [hit.paper.id for hit in search(kb, query.q, limit=K, **options).hits]
            error = None
        except PapernotesError as exc:  # a query the syntax rejects counts as no result
            ranked, error = [], exc.message.splitlines()[0]
        seconds = time.perf_counter() - start
        report.outcomes.append(Outcome(query, ranked, seconds, error))
    return report


# --- output ---


Metric = Callable[[Sequence[str], Iterable[str]], float]


def _row(label: str, outcomes: list[Outcome]) -> str:
    def mean(metric: Metric) -> float:
        return statistics.fmean(metric(o.ranked, o.query.relevant) for o in outcomes)

    empty = sum(1 for o in outcomes if not o.ranked)
    ms = statistics.median(o.seconds for o in outcomes) * 1e3
    return (
        f"| {label} | {len(outcomes)} | {mean(mrr_at):.2f} | {mean(recall_at):.2f} | "
        f"{mean(ndcg_at):.2f} | {empty} | {ms:.1f} |"
    )


def table(reports: list[Report], mode: str) -> str:
    """The Markdown table: a row per set, and per kind for the natural set."""
    lines = [
        f"Search mode: {mode}. Metrics at {K}; empty = queries with no result at all; "
        "ms = median time of one search call (warm, in process).",
        "",
        "| set | queries | MRR@10 | Recall@10 | nDCG@10 | empty | ms |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for report in reports:
        lines.append(_row(f"**{report.name}**", report.outcomes))
        if report.name == "natural":
            kinds = dict.fromkeys(o.query.kind for o in report.outcomes)
            for kind in kinds:
                chosen = [o for o in report.outcomes if o.query.kind == kind]
                lines.append(_row(f"{report.name} · {kind}", chosen))
    return "\n".join(lines)


def misses(reports: list[Report]) -> str:
    """The queries whose relevant notes are not all in the top 10, per set."""
    lines = []
    for report in reports:
        missed = [o for o in report.outcomes if recall_at(o.ranked, o.query.relevant) < 1]
        lines.append(f"\n{report.name}: {len(missed)} of {len(report.outcomes)} queries miss")
        for o in missed:
            found = len(set(o.query.relevant) & set(o.ranked[:K]))
            share = f" ({found}/{len(o.query.relevant)} found)" if len(o.query.relevant) > 1 else ""
            got = f"error: {o.error}" if o.error else f"{len(o.ranked)} results"
            lines.append(f"- {o.query.q!r}{share}: {got}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS)
    )
    parser.add_argument("--mode", help="passed to search(mode=...) when it takes one")
    parser.add_argument("--no-misses", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = [name for name in names if name not in SETS]
    if unknown:
        parser.error(f"unknown set(s): {', '.join(unknown)}; choose from {', '.join(SETS)}")
    options = search_options(args.mode)
    # Each notes folder gets its own index (and note vectors, which take minutes to make for
    # the arXiv set) under a cache of the benchmark's own, kept between runs (git-ignored).
    EVAL_CACHE.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CACHE_HOME"] = str(EVAL_CACHE)
    os.environ.pop("PAPERNOTES_INDEX", None)
    os.environ["PAPERNOTES_SEMANTIC"] = "off" if args.mode in (None, "lexical") else "auto"
    reports = [run_set(name, options) for name in names]
    print(table(reports, args.mode or "default"))
    if not args.no_misses:
        print(misses(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
