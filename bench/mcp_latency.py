"""``papernotes mcp`` through a real MCP client session (the SDK's ClientSession over stdio).

Two measures (issue 15), each the median of several runs:

- start-up, on the shipped notes: from spawning ``papernotes mcp`` to the answer of
  ``initialize``, of the first ``tools/list`` (both given by the front while the SDK is
  imported: :mod:`papernotes.assistant.mcp_front`), and of the first tool call (a search,
  the SDK's),
  index already built (as after any earlier command) and, separately, with no index yet; and
  the same with the front off (``PAPERNOTES_MCP_FRONT=0``: the SDK answers everything);
- warm calls, on the 10,000-note corpus of :mod:`corpus`: search (several kinds of query),
  get_note and list_notes in one session, timed from the client's request to its answer.

Prints a Markdown table::

    .venv/bin/python bench/mcp_latency.py                # about a minute
    .venv/bin/python bench/mcp_latency.py --runs 3 --calls 10 --size 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import corpus
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BENCH = Path(__file__).resolve().parent
SHIPPED = BENCH.parent / "notes"
QUERIES = ("transformer", "diffusion video", '"gaussian splatting"', "author:wang", "trasnformer")


def params(notes: Path, env: dict[str, str], papernotes: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=papernotes, args=["--notes-dir", str(notes), "mcp"], env=env
    )


async def startup(
    notes: Path, env: dict[str, str], papernotes: str, mode: str = "auto"
) -> tuple[float, float, float]:
    """ms from spawn to the answers of initialize, of tools/list and of the first search."""
    started = time.perf_counter()
    async with (
        stdio_client(params(notes, env, papernotes), errlog=sys.stderr) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        ready = time.perf_counter()
        await session.list_tools()
        listed = time.perf_counter()
        result = await session.call_tool("search", {"query": "dpo", "limit": 5, "mode": mode})
        answered = time.perf_counter()
        assert not result.is_error, result.content
    return (ready - started) * 1e3, (listed - started) * 1e3, (answered - started) * 1e3


async def warm_calls(
    notes: Path, env: dict[str, str], papernotes: str, calls: int
) -> dict[str, list[float]]:
    """ms per call, by label, in one session (after one call that brings the index up to date)."""
    times: dict[str, list[float]] = {}
    async with (
        stdio_client(params(notes, env, papernotes), errlog=sys.stderr) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        first = await session.call_tool("search", {"query": "warm up"})
        assert isinstance(first.structured_content, dict)
        print(f"search mode: {first.structured_content['mode']}", file=sys.stderr)
        some_id = (await session.call_tool("list_notes", {"limit": 1})).structured_content
        assert isinstance(some_id, dict)
        ref = some_id["notes"][0]["id"]
        measures: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("ping (the protocol alone, no tool)", session.send_ping),
        ]
        for query in QUERIES:
            measures.append(
                (f"search `{query}`", lambda q=query: session.call_tool("search", {"query": q}))
            )
        measures.append(("get_note ID", lambda: session.call_tool("get_note", {"ref": ref})))
        measures.append(
            (
                "list_notes topics=[nlp]",
                lambda: session.call_tool("list_notes", {"topics": ["nlp"]}),
            )
        )
        for _ in range(calls):
            for label, call in measures:
                started = time.perf_counter()
                result = await call()
                times.setdefault(label, []).append((time.perf_counter() - started) * 1e3)
                assert not getattr(result, "is_error", False), result
    return times


def row(label: str, values: list[float], target: str = "", limit: float | None = None) -> str:
    median = statistics.median(values)
    met = "" if limit is None else ("yes" if median < limit else "no")
    return (
        f"| {label} | {median:.1f} | {min(values):.1f}–{max(values):.1f} | {len(values)} | "
        f"{target} | {met} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="start-ups timed")
    parser.add_argument("--calls", type=int, default=30, help="rounds of warm calls")
    parser.add_argument("--size", type=int, default=10_000, help="notes in the warm corpus")
    parser.add_argument("--synthetic", action="store_true", help="ignore the arXiv data")
    parser.add_argument("--notes", type=Path, default=SHIPPED, help="notes for the start-up")
    bindir = Path(sys.executable).parent
    parser.add_argument("--papernotes", default=str(bindir / "papernotes"))
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="papernotes-mcp-bench-"))
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**base, "XDG_CACHE_HOME": str(work / "cache"), "NO_COLOR": "1"}
    env.pop("PAPERNOTES_DIR", None)
    env.pop("PAPERNOTES_INDEX", None)
    lines = [
        "| measure | ms (median) | min–max | runs | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    try:
        memory = {**env, "PAPERNOTES_INDEX": ":memory:"}
        cold = [
            asyncio.run(startup(args.notes, memory, args.papernotes, "lexical"))
            for _ in range(args.runs)
        ]
        asyncio.run(startup(args.notes, env, args.papernotes))  # builds the index and vectors
        shown = f"{sum(1 for _ in args.notes.glob('*.md'))} notes"
        alone = {**env, "PAPERNOTES_MCP_FRONT": "0"}
        kinds = {"lexical": (env, "lexical"), "auto": (env, "auto"), "alone": (alone, "lexical")}
        runs: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
        for _ in range(args.runs):  # interleaved, so that each kind meets the same load
            for kind, (environ, mode) in kinds.items():
                runs[kind].append(asyncio.run(startup(args.notes, environ, args.papernotes, mode)))
        for i, what in enumerate(("`initialize`", "first `tools/list`")):
            label = f"start-up to {what} answered ({shown}; by the front)"
            lines.append(row(label, [r[i] for r in runs["lexical"]], "< 300 ms", 300))
        for kind, how in (("lexical", "by words"), ("auto", "by words and meaning")):
            label = f"start-up to first search {how} answered ({shown}, index built)"
            lines.append(row(label, [r[2] for r in runs[kind]]))
        label = f"start-up to first search by words answered ({shown}, no index)"
        lines.append(row(label, [c[2] for c in cold]))
        for i, what in enumerate(("`initialize`", "first `tools/list`", "first search by words")):
            label = f"front off (`PAPERNOTES_MCP_FRONT=0`): start-up to {what} answered"
            lines.append(row(label, [r[i] for r in runs["alone"]]))

        use_arxiv = not args.synthetic and corpus.ARXIV.exists()
        source = "arxiv" if use_arxiv else "synthetic"
        data = corpus.listings(corpus.ARXIV if use_arxiv else None, limit=args.size)
        notes = corpus.build(args.size, data, source)
        print(f"warm calls on {args.size:,} notes in {notes}", file=sys.stderr)
        times = asyncio.run(warm_calls(notes, env, args.papernotes, args.calls))
        for label, values in times.items():
            target, limit = ("< 50 ms", 50.0) if label.startswith("search") else ("", None)
            lines.append(row(f"{args.size:,} notes, warm: {label}", values, target, limit))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
