"""Search by meaning, measured (issue 17): embedding speed, query latency as a fresh process and
in a process that keeps the model loaded, size of the vectors, peak memory.

    .venv/bin/python bench/semantic.py                  # 10,000 arXiv notes (embeds them once)
    .venv/bin/python bench/semantic.py --runs 5 --size 1000

Every command runs as a whole process (start-up included), its median over ``--runs`` runs
after one untimed warm-up, beside ``rg -i -l`` for one word over the same files. The notes are
those of bench/corpus.py; index and vectors live under bench/_work/semantic-N/ and are kept
between runs (the embedding of 10,000 notes takes minutes). The size of the vectors of 74,728
notes, and a search over them, are measured on a file of that many random vectors written in
the real format (embedding 74,728 notes would take most of an hour). Prints a Markdown table
and writes it to bench/semantic-results.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import corpus

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
QUERIES = ROOT / "tests" / "eval" / "arxiv.toml"


def timed(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float, float]:
    """Median, min and max wall time (ms) of ``runs`` runs of ``argv``, after a warm-up."""
    subprocess.run(argv, env=env, capture_output=True, check=False)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1e3, min(seconds) * 1e3, max(seconds) * 1e3


EMBED_SIZE = 1000


def embed(pn: str, env: dict[str, str]) -> dict[str, Any]:
    """``papernotes index --embed --format json``: its report (the last JSON document)."""
    import json

    done = subprocess.run(
        [pn, "index", "--embed", "--format", "json"], env=env, capture_output=True, text=True
    )
    text, decoder, last = done.stdout, json.JSONDecoder(), None
    position = 0
    while (start := text.find("{", position)) != -1:
        last, position = decoder.raw_decode(text, start)
    if not isinstance(last, dict):
        raise SystemExit(f"index --embed failed: {done.stderr.strip()}")
    return last


def peak_rss_mib(argv: list[str], env: dict[str, str]) -> float:
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        return float("nan")
    done = subprocess.run(
        [gnu_time, "-f", "%M", *argv], env=env, capture_output=True, text=True, check=False
    )
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--papernotes", default=str(ROOT / ".venv" / "bin" / "papernotes"))
    args = parser.parse_args()

    rows = corpus.listings(corpus.ARXIV, limit=args.size)
    notes = corpus.build(args.size, rows, "arxiv")
    work = BENCH / "_work" / f"semantic-{args.size}"
    work.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PAPERNOTES_DIR")
    }
    env |= {
        "PAPERNOTES_DIR": str(notes),
        "PAPERNOTES_INDEX": str(work / "index.sqlite"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "NO_COLOR": "1",
        "PAPERNOTES_SEMANTIC": "auto",
    }
    pn = args.papernotes
    table: list[tuple[str, str, str, str]] = []

    # 1. embedding: the 10,000 notes once (kept), and EMBED_SIZE notes from scratch every run
    subprocess.run([pn, "index"], env=env, capture_output=True, check=True)
    report = embed(pn, env)
    small = corpus.build(EMBED_SIZE, rows[:EMBED_SIZE], "arxiv")
    small_work = BENCH / "_work" / f"semantic-embed-{EMBED_SIZE}"
    small_work.mkdir(parents=True, exist_ok=True)
    small_env = env | {
        "PAPERNOTES_DIR": str(small),
        "PAPERNOTES_INDEX": str(small_work / "index.sqlite"),
        "XDG_CACHE_HOME": str(small_work / "cache"),
    }
    subprocess.run([pn, "index"], env=small_env, capture_output=True, check=True)
    Path(f"{small_work / 'index.sqlite'}.vectors").unlink(missing_ok=True)
    started = time.perf_counter()
    fresh = embed(pn, small_env)
    elapsed = time.perf_counter() - started
    rate = fresh["embedded"] / fresh["seconds"]
    table.append(
        (
            f"index --embed, {fresh['embedded']:,} notes from scratch",
            f"{elapsed * 1e3:,.0f}",
            f"{rate:.1f} notes/s",
            ">= 30 notes/s",
        )
    )
    vectors = Path(report["location"])
    table.append(
        (
            f"vectors on disk, {args.size:,} notes",
            "",
            f"{vectors.stat().st_size / 2**20:.1f} MB",
            "",
        )
    )

    # 2. queries as fresh processes
    queries = tomllib.loads(QUERIES.read_text(encoding="utf-8"))["query"]
    query = queries[0]["q"]
    for label, extra in (
        ("search by words (--lexical)", ["--lexical"]),
        ("search by meaning (--semantic)", ["--semantic"]),
        ("hybrid search (default)", []),
    ):
        argv = [pn, "search", query, "--limit", "10", *extra]
        median, low, high = timed(argv, env, args.runs)
        rss = peak_rss_mib(argv, env)
        target = "<= 400 ms" if "meaning" in label else ""
        table.append(
            (
                f"{label}, fresh process: `{query}`",
                f"{median:.0f} ({low:.0f}–{high:.0f})",
                f"peak RSS {rss:.0f} MB",
                target,
            )
        )
    rg = shutil.which("rg")
    if rg:
        median, low, high = timed([rg, "-i", "-l", query.split()[0], str(notes)], env, args.runs)
        table.append(
            (f"rg -i -l {query.split()[0]}", f"{median:.0f} ({low:.0f}–{high:.0f})", "", "")
        )

    # 3. in a process that keeps the model loaded (the MCP server)
    os.environ.update({k: env[k] for k in ("PAPERNOTES_INDEX", "XDG_CACHE_HOME")})
    from papernotes.disk.store import open_store
    from papernotes.engine import semantic
    from papernotes.engine.kb import open_kb
    from papernotes.engine.search import search

    semantic.serve()
    kb = open_kb(open_store(notes))
    search(kb, "warm up", mode="semantic")
    for mode in ("lexical", "semantic", "hybrid"):
        seconds = []
        for q in queries[:50]:
            start = time.perf_counter()
            search(kb, q["q"], mode=mode)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds) * 1e3
        table.append(
            (
                f"{mode} search in a process with the model loaded (50 queries)",
                f"{median:.1f}",
                "",
                "<= 50 ms" if mode == "semantic" else "",
            )
        )

    # 4. 74,728 notes: a file of random vectors in the real format
    table += big_vectors(work)

    lines = [
        f"# Search by meaning, measured ({datetime.date.today()}, load "
        f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)",
        "",
        f"`.venv/bin/python bench/semantic.py --size {args.size} --runs {args.runs}`",
        "",
        "| measure | ms (median, min–max) | figure | target |",
        "|---|--:|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (BENCH / "semantic-results.md").write_text(text, encoding="utf-8")
    return 0


def big_vectors(work: Path, count: int = 74_728) -> list[tuple[str, str, str, str]]:
    import numpy as np

    from papernotes.engine.semantic.model import DIM
    from papernotes.engine.semantic.vectors import Vectors, read, write

    rng = np.random.default_rng(7)
    dense = rng.standard_normal((count, DIM)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    scales = (np.abs(dense).max(axis=1) / 127).astype(np.float32)
    matrix = np.round(dense / scales[:, None]).astype(np.int8)
    keys = [
        (f"a-typical-note-file-name-of-about-sixty-characters-{i:06d}.md", (3000, 1, 2, i))
        for i in range(count)
    ]
    vectors = Vectors(
        None,
        np.arange(count, dtype=np.int64),
        np.arange(count, dtype=np.int64),
        scales,
        matrix,
        keys=keys,
    )
    path = work / "big.vectors"
    write(path, vectors)
    size = path.stat().st_size / 2**20
    query = dense[123]
    seconds = []
    for _ in range(10):
        start = time.perf_counter()
        found = read(path)
        assert found is not None
        found.nearest(query, 50)
        seconds.append(time.perf_counter() - start)
    kept = read(path)
    assert kept is not None
    kept.densify()
    held = []
    for _ in range(10):
        start = time.perf_counter()
        kept.nearest(query, 50)
        held.append(time.perf_counter() - start)
    path.unlink()
    return [
        (
            f"vectors on disk, {count:,} notes (random, real format)",
            "",
            f"{size:.1f} MB",
            "< 60 MB",
        ),
        (
            f"read + nearest 50 of {count:,} vectors (a fresh search's share)",
            f"{statistics.median(seconds) * 1e3:.1f}",
            "",
            "",
        ),
        (
            f"nearest 50 of {count:,} vectors kept in memory",
            f"{statistics.median(held) * 1e3:.1f}",
            "",
            "",
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
