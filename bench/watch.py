"""papernotes with and without the change watcher (issue 16), beside ripgrep, on arXiv corpora.

The same method as ``bench/run.py`` (whose timing, corpora and table it uses): every figure is
the median of ``--runs`` runs of the installed ``papernotes`` command as a whole process, the
same query run by ``rg -i -l`` over the same files interleaved run by run. Each corpus is
measured first without a watcher (as today), then with ``papernotes watch`` serving it: warm
searches, a search right after an in-place edit of one note, a search right after 100 new
notes were written, ``list`` and ``show``; then the watcher's resident memory (now and peak,
from /proc). Every timed command with the watcher is checked to have been vouched for (it did
not stat the notes). Writes ``bench/watch-results.md``::

    .venv/bin/python bench/watch.py                        # 10,000 and 74,728 notes
    .venv/bin/python bench/watch.py --sizes 1000 --runs 3  # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import corpus
import run
from run import QUERIES, Row, Sample, compare, output_of, run_once

BENCH = Path(__file__).resolve().parent


def measure(
    size: int, notes: Path, args: argparse.Namespace, env: dict[str, str], tag: str
) -> list[Row]:
    """The searches, the edit, the 100 new notes, list and show, under the label ``tag``.

    With the watcher, rg is run after papernotes' runs, not between them: rg opens every note,
    and notify reports each open; 75,000 of them at once overflow the kernel's queue, after
    which the watcher checks every note again (and commands scan meanwhile). The cost of that
    is measured on its own (the last row of each corpus)."""
    pn, runs, rows = args.papernotes, args.runs, []
    label = f"{size:,}"
    rg = shutil.which("rg")
    apart = tag == "watcher"

    def rg_argv(template: list[str]) -> list[str] | None:
        return None if rg is None else [str(notes) if p == "{d}" else p for p in template]

    def timed(
        ours: list[str], template: list[str] | None, before: Any = None, after: Any = None
    ) -> tuple[Sample, Sample | None]:
        theirs = rg_argv(template) if template else None
        if not apart:
            return compare(ours, theirs, env, runs, before=before, after=after)
        settle(env, pn)
        mine, _ = compare(ours, None, env, runs, before=before, after=after)
        other = compare(theirs, None, env, runs)[0] if theirs else None
        return mine, other

    queries = QUERIES if apart else QUERIES[:1]
    for name, query, template in queries:
        ours, theirs = timed([pn, "search", *query], template)
        row = Row(label, f"{tag}: search, {name}: `{' '.join(query)}`", ours, theirs)
        if apart and size == 74_728 and theirs:
            row.target, row.met = "<= 0.3x rg", ours.median_ms <= 0.3 * theirs.median_ms
        rows.append(row)

    name, query, template = QUERIES[0]
    victim = sorted(notes.glob("*.md"))[size // 2]
    original = victim.read_bytes()

    def edit(i: int) -> None:
        with open(victim, "ab") as handle:  # in place: the folder's mtime does not change
            handle.write(f"\nEdited by the benchmark: zqxedit{i}.\n".encode())

    edited, theirs = timed([pn, "search", *query], template, before=edit)
    found = output_of([pn, "search", f"zqxedit{runs}", "--format", "ids"], env).split()
    victim.write_bytes(original)
    run_once([pn, "index"], env, Sample([]), ok=(0,))
    row = Row(label, f"{tag}: search right after editing 1 note", edited, theirs)
    row.note = "edit seen" if found == [victim.stem] else f"EDIT NOT SEEN ({found})"
    if apart and size == 74_728 and theirs:
        row.target = "<= 0.5x rg"
        row.met = edited.median_ms <= 0.5 * theirs.median_ms and found == [victim.stem]
    rows.append(row)

    extra = corpus.synthetic(100 * (runs + 1), seed=size)
    added: list[Path] = []

    def add(i: int) -> None:
        batch = [next(extra) for _ in range(100)]
        for n, listing in enumerate(batch):
            listing["id"] = f"2513.{i:02d}{n:03d}"
        added.extend(corpus.write_notes(notes, batch, [f"zz-added-{i}-{n}" for n in range(100)]))

    def remove(_: int) -> None:
        for path in added:
            path.unlink()
        added.clear()
        run_once([pn, "index"], env, Sample([]), ok=(0,))

    grown, theirs = timed([pn, "search", *query], template, before=add, after=remove)
    row = Row(label, f"{tag}: search right after 100 new notes", grown, theirs)
    if apart and size == 74_728 and theirs:
        row.target, row.met = "<= 0.5x rg", grown.median_ms <= 0.5 * theirs.median_ms
    rows.append(row)

    if apart:
        for measure_name, argv, theirs_argv, _, _ in run.read_commands(victim, "transformer"):
            settle(env, pn)  # rg apart, after: its reads overflow the watcher's queue
            other = theirs_argv if theirs_argv and theirs_argv[0] == "cat" else None
            if other is None and theirs_argv is not None:
                other = rg_argv(theirs_argv)
            mine, _ = compare([pn, *argv], None, env, runs)
            beside = compare(other, None, env, runs)[0] if other else None
            row = Row(label, f"{tag}: {measure_name}", mine, beside)
            if size == 74_728:
                row.target, row.met = "<= 100 ms", mine.median_ms <= 100
            rows.append(row)
        if rg is not None:  # interleaved as bench/run.py does: rg's reads overflow the queue
            settle(env, pn)
            after_rg, theirs = compare([pn, "search", *query], rg_argv(template), env, runs)
            row = Row(label, f"{tag}: search right after rg read every note", after_rg, theirs)
            row.note = "interleaved with rg"
            rows.append(row)
    return rows


def settle(env: dict[str, str], pn: str, timeout: float = 120) -> None:
    """Wait until the watcher serves (after rg's reads overflowed its queue, it checks every
    note again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = output_of([pn, "index", "--status", "--format", "json"], env)
        if '"state": "serving"' in out:
            return
        time.sleep(0.2)
    raise RuntimeError("the watcher does not serve")


def vouched(env: dict[str, str], pn: str) -> str:
    """What the last question to the watcher came to, for one search (``vouched`` expected),
    and whether the watcher ran it."""
    traced = {**env, "PAPERNOTES_WATCH_TRACE": "1"}
    proc = subprocess.run(
        [pn, "search", "transformer", "--format", "ids"], env=traced, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    lines = [line for line in proc.stderr.splitlines() if line.startswith("watcher: ")]
    outcome = lines[-1].removeprefix("watcher: ") if lines else "not asked"
    if any(line.startswith("watcher: runs the command") for line in lines):
        outcome += " (run by the watcher)"  # papernotes.watcher.forkrun
    return outcome


def memory(pid: int) -> tuple[float, float]:
    """The resident memory of ``pid`` now and at its peak, in MB (VmRSS, VmHWM)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def bench_corpus(size: int, notes: Path, args: argparse.Namespace) -> tuple[list[Row], str]:
    """Without a watcher, then with one (:func:`with_watcher`)."""
    work = args.work / f"arxiv-{size}"
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **run.bench_env(),
        "PAPERNOTES_DIR": str(notes),
        "PAPERNOTES_INDEX": str(work / "index.sqlite"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "NO_COLOR": "1",
    }
    run_once([args.papernotes, "index"], env, Sample([]), ok=(0,))  # built (once), and fresh
    rows = measure(size, notes, args, env, "no watcher")
    watched = with_watcher(size, notes, args, env)
    return rows + watched[:-1], watched[-1].note


def with_watcher(
    size: int, notes: Path, args: argparse.Namespace, env: dict[str, str]
) -> list[Row]:
    """``papernotes watch`` started on the corpus, :func:`measure` with it serving, its memory;
    the last row (no timing) says what the searches before and after came to."""
    pn = args.papernotes
    work = args.work / f"arxiv-{size}"
    runtime = Path(tempfile.mkdtemp(prefix="pn-bench-", dir="/tmp"))  # a short socket path
    env = {**env, "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("PAPERNOTES_WATCH", None)
    run_once([pn, "index"], env, Sample([]), ok=(0,))  # built (once), and fresh
    log = open(work / "watch.log", "w", encoding="utf-8")  # noqa: SIM115
    watcher = subprocess.Popen(
        [pn, "watch", "--idle", "0"], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 300
        while "serving" not in (work / "watch.log").read_text(encoding="utf-8"):
            if time.monotonic() > deadline or watcher.poll() is not None:
                raise RuntimeError((work / "watch.log").read_text(encoding="utf-8"))
            time.sleep(0.1)
        outcome = vouched(env, pn)
        rows = measure(size, notes, args, env, "watcher")
        after = vouched(env, pn)
        rss, peak = memory(watcher.pid)
        lines = output_of([pn, "index", "--status"], env).splitlines()
        status = next((line for line in lines if line.startswith("watcher:")), "?")
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(30)
        log.close()
        shutil.rmtree(runtime, ignore_errors=True)
    memory_row = Row(f"{size:,}", "watcher: resident memory (now / peak)", Sample([]))
    memory_row.note = f"{rss:.0f} MB / {peak:.0f} MB"
    if size == 74_728:
        memory_row.target, memory_row.met = "< 100 MB", peak < 100
    checks = Row(f"{size:,}", "watcher: checks", Sample([]))
    checks.note = (
        f"- {size:,} notes: a search before the timed runs with the watcher: {outcome}; after "
        f"them: {after}; `index --status`: `{status}`"
    )
    return [*rows, memory_row, checks]


def table(rows: list[Row]) -> str:
    """bench/run.py's table, with the memory rows (no timing) in it."""
    lines = run.table([]).splitlines()
    columns = lines[0].count("|") - 1
    for r in rows:
        if r.ours.seconds:
            lines.append(run.table([r]).splitlines()[-1])
            continue
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        cells = [r.corpus, r.measure] + [""] * (columns - 5) + [r.note, r.target, met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,74728", help="comma-separated note counts")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per measure")
    parser.add_argument("--corpora", type=Path, default=corpus.CORPORA)
    parser.add_argument("--work", type=Path, default=BENCH / "_work", help="indexes and caches")
    parser.add_argument("--out", type=Path, default=BENCH / "watch-results.md")
    parser.add_argument("--papernotes", default=str(Path(sys.executable).parent / "papernotes"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    use_arxiv = corpus.ARXIV.exists()
    load = [os.getloadavg()[0]]
    started = time.time()
    data = corpus.listings(corpus.ARXIV if use_arxiv else None, limit=max(sizes))
    rows: list[Row] = []
    checks: list[str] = []
    for size in sizes:
        notes = corpus.build(size, data, "arxiv" if use_arxiv else "synthetic", args.corpora)
        print(f"benchmarking {size:,} notes in {notes}", file=sys.stderr)
        found, check = bench_corpus(size, notes, args)
        rows += found
        checks.append(check)
        load.append(os.getloadavg()[0])
    text = table(rows)
    print(text)
    print("\n".join(checks))
    when = datetime.datetime.now().isoformat(timespec="minutes")
    given = " ".join(argv if argv is not None else sys.argv[1:])
    header = (
        f"# The change watcher: benchmark results\n\n`bench/watch.py {given}`".rstrip()
        + f" — {when}, {(time.time() - started) / 60:.1f} min\n\n"
        f"Machine: {run.machine()}.\n"
        f"Load average (1 min) before and after each corpus: "
        f"{', '.join(f'{x:.2f}' for x in load)}.\n"
        f"{args.runs} runs per measure (median).\n\n"
    )
    args.out.write_text(header + text + "\n\n" + "\n".join(checks) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
