"""papernotes against ripgrep on arXiv corpora of 1,000, 10,000 and 74,728 notes (issues 7, 13).

Every figure is the median of ``--runs`` runs of the installed ``papernotes`` command as a whole
process (start-up included), timed from spawn to exit, with the same query run by ``rg -i -l``
over the same files interleaved run by run; peak RSS is each child's ``ru_maxrss`` from
``wait4``. Searches first; then every other read command (``show``, ``related``, ``list`` by
topic, by tag sorted by year and by a query, ``tags``, ``topics``, ``authors``, ``stats``,
``check``, ``export --format json``), each beside an rg command over the same files and beside
the warm one-word search of the same run, with the targets of issue 13. Prints a Markdown table
and writes it to ``bench/results.md``::

    .venv/bin/python bench/run.py                       # the full run (about 15 minutes)
    .venv/bin/python bench/run.py --sizes 1000 --runs 3  # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import corpus

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass
class Sample:
    """Wall times (s) and peak RSS (KiB) of repeated runs of one command."""

    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1e3

    @property
    def spread(self) -> str:
        return f"{min(self.seconds) * 1e3:.0f}–{max(self.seconds) * 1e3:.0f}"

    @property
    def peak_mib(self) -> float:
        return max(self.rss_kib) / 1024


@dataclass
class Row:
    corpus: str
    measure: str
    ours: Sample
    rg: Sample | None = None
    note: str = ""  # notes/s, index size, ...
    target: str = ""
    met: bool | None = None
    beside: float | None = None  # warm search's median (ms), for the read commands


class CommandFailed(RuntimeError):
    pass


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time, for peak RSS


def run_once(
    argv: Sequence[str], env: dict[str, str], sample: Sample, ok: Sequence[int], rss: bool = False
) -> None:
    """Run ``argv`` once, output discarded, and add its wall time to ``sample`` (``rss``: its
    peak RSS instead). A child's ``ru_maxrss`` includes the memory of the process it was forked
    from (this one holds the listings), so RSS runs go through GNU time, which is tiny, and
    are separate runs that are not timed."""
    with tempfile.NamedTemporaryFile("r") as report:
        command = list(argv)
        if rss and TIME:
            command = [TIME, "-f", "%M", "-o", report.name, *command]
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if code not in ok:
            raise CommandFailed(f"{' '.join(argv)} exited {code}:\n{stderr}")
        if not rss:
            sample.seconds.append(elapsed)
        elif TIME:
            sample.rss_kib.append(int(report.read().split()[-1]))
        else:  # no GNU time: an upper bound
            sample.rss_kib.append(usage.ru_maxrss)


def compare(
    ours: list[str],
    theirs: list[str] | None,
    env: dict[str, str],
    runs: int,
    before: Callable[[int], None] | None = None,
    after: Callable[[int], None] | None = None,
    beside: Sample | None = None,
) -> tuple[Sample, Sample | None]:
    """Time ``ours`` (and ``theirs``, interleaved) ``runs`` times after one untimed warm-up
    each; ``before(i)``/``after(i)`` prepare and undo the state of run ``i``. ``beside``: a
    third command (its ``argv``), timed interleaved too, into that sample: the warm search
    a read command is compared with, under the same load."""
    print(f"  {' '.join(Path(a).name if '/' in a else a for a in ours)}", file=sys.stderr)
    mine, other = Sample(ours), Sample(theirs) if theirs else None
    scratch = Sample(ours)
    if before is None:
        run_once(ours, env, scratch, ok=(0, 1))
        if theirs:
            run_once(theirs, env, Sample(theirs), ok=(0, 1))
    for i in range(runs + 1):
        rss = i == runs  # one more run, through GNU time, for the peak RSS
        if before:
            before(i)
        run_once(ours, env, mine, ok=(0, 1), rss=rss)
        if after:
            after(i)
        if theirs and other is not None:
            run_once(theirs, env, other, ok=(0, 1), rss=rss)
        if beside is not None and not rss:
            run_once(beside.argv, env, beside, ok=(0, 1))
    return mine, other


def output_of(argv: list[str], env: dict[str, str]) -> str:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False).stdout


# (label, papernotes search arguments, the rg command over the notes folder {d})
QUERIES: list[tuple[str, list[str], list[str]]] = [
    ("one word", ["transformer"], ["rg", "-i", "-l", "transformer", "{d}"]),
    (
        "two words",
        ["diffusion", "video"],
        ["sh", "-c", 'rg -i -l -0 diffusion "$0" | xargs -0 -r rg -i -l video', "{d}"],
    ),
    ("phrase", ['"gaussian splatting"'], ["rg", "-i", "-l", "-F", "gaussian splatting", "{d}"]),
    ("field filter", ["author:wang"], ["rg", "-i", "-l", "^- .*wang", "{d}"]),
    ("typo", ["trasnformer"], ["rg", "-i", "-l", "trasnformer", "{d}"]),
]


def bench_corpus(size: int, notes: Path, args: argparse.Namespace, rows_out: list[Row]) -> None:
    pn = args.papernotes
    work = args.work / f"arxiv-{size}"
    work.mkdir(parents=True, exist_ok=True)
    index = work / "index.sqlite"
    env = {
        **bench_env(),
        "PAPERNOTES_DIR": str(notes),
        "PAPERNOTES_INDEX": str(index),
        "XDG_CACHE_HOME": str(work / "cache"),
        "NO_COLOR": "1",
    }
    label = f"{size:,}"
    runs = args.runs
    rg = shutil.which("rg")

    def rg_argv(template: list[str]) -> list[str] | None:
        if rg is None:
            return None
        return [str(notes) if part == "{d}" else part for part in template]

    def drop_index(_: int = 0) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{index}{suffix}").unlink(missing_ok=True)

    # 1. cold build, then its size
    build_runs = max(1, min(runs, args.build_runs))
    cold, _ = compare([pn, "index"], None, env, build_runs, before=drop_index)
    run_once([pn, "index"], env, Sample([]), ok=(0,))
    db_bytes = sum(
        Path(f"{index}{s}").stat().st_size for s in ("", "-wal") if Path(f"{index}{s}").exists()
    )
    rate = size / statistics.median(cold.seconds)
    row = Row(
        label,
        "cold index build",
        cold,
        note=f"{rate:,.0f} notes/s; index {db_bytes / 2**20:.1f} MB",
    )
    if size == 10_000:
        row.target, row.met = ">= 2,000 notes/s", rate >= 2000
    if size == 74_728:
        row.target, row.met = "peak RSS < 500 MB", cold.peak_mib < 500
    rows_out.append(row)

    refresh, _ = compare([pn, "index"], None, env, runs)
    rows_out.append(Row(label, "index refresh, nothing changed", refresh))

    # 2. warm searches
    warm: dict[str, float] = {}
    for name, query, template in QUERIES:
        ours, theirs = compare([pn, "search", *query], rg_argv(template), env, runs)
        warm[name] = ours.median_ms
        row = Row(label, f"search, {name}: `{' '.join(query)}`", ours, theirs)
        if size == 10_000 and theirs:
            row.target = "<= 100 ms and <= 2x rg"
            row.met = ours.median_ms <= 100 and ours.median_ms <= 2 * theirs.median_ms
        if size == 74_728 and theirs:
            row.target = "< rg; peak RSS < 150 MB"
            row.met = ours.median_ms < theirs.median_ms and ours.peak_mib < 150
        rows_out.append(row)

    # 3. right after an in-place edit of one note, and after 100 notes were added
    name, query, template = QUERIES[0]
    victim = sorted(notes.glob("*.md"))[size // 2]
    original = victim.read_bytes()

    def edit(i: int) -> None:
        with open(victim, "ab") as handle:  # in place: the folder's mtime does not change
            handle.write(f"\nEdited by the benchmark: zqxedit{i}.\n".encode())

    edited, theirs = compare([pn, "search", *query], rg_argv(template), env, runs, before=edit)
    found = output_of([pn, "search", f"zqxedit{runs}", "--format", "ids"], env).split()
    victim.write_bytes(original)
    run_once([pn, "index"], env, Sample([]), ok=(0,))
    row = Row(label, "search after editing 1 note", edited, theirs)
    row.note = "edit seen" if found == [victim.stem] else f"EDIT NOT SEEN ({found})"
    if size == 10_000:
        row.target = "<= 1.3x warm"
        row.met = edited.median_ms <= 1.3 * warm[name] and found == [victim.stem]
    rows_out.append(row)

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

    grown, theirs = compare(
        [pn, "search", *query], rg_argv(template), env, runs, before=add, after=remove
    )
    rows_out.append(Row(label, "search after adding 100 notes", grown, theirs))

    # 4. every other read command, each beside an rg command over the same files and the
    # warm one-word search, all three interleaved run by run
    word = "transformer"
    for measure, argv, theirs_argv, _, bound in read_commands(victim, word):
        rg_cmd = theirs_argv if theirs_argv and theirs_argv[0] == "cat" else None
        if rg_cmd is None and theirs_argv is not None:
            rg_cmd = rg_argv(theirs_argv)
        searched = Sample([pn, "search", word])  # interleaved: the same load as the command
        ours, theirs = compare([pn, *argv], rg_cmd, env, runs, beside=searched)
        search_ms = searched.median_ms
        row = Row(label, measure, ours, theirs, beside=search_ms)
        row.note = f"{ours.median_ms / search_ms:.2f}x warm search"
        if size == 74_728 and bound is not None:
            row.target = f"<= {bound}x warm search; peak RSS < 150 MB"
            row.met = ours.median_ms <= bound * search_ms and ours.peak_mib < 150
        elif size == 74_728:
            row.target, row.met = "peak RSS < 150 MB", ours.peak_mib < 150
        if size == 10_000:
            row.target, row.met = "<= 100 ms", ours.median_ms <= 100
        rows_out.append(row)

    searched = Sample([pn, "search", word])
    exported, theirs = compare(
        [pn, "export", "--format", "json"],
        ["sh", "-c", 'find "$0" -name "*.md" -print0 | xargs -0 cat', str(notes)],
        env,
        max(1, min(runs, args.build_runs)),
        beside=searched,
    )
    search_ms = searched.median_ms
    rate = size / statistics.median(exported.seconds)
    row = Row(label, "export --format json, every note", exported, theirs, beside=search_ms)
    row.note = f"{rate:,.0f} notes/s"
    if size == 74_728:
        row.target = ">= 20,000 notes/s; peak RSS < 150 MB"
        row.met = rate >= 20_000 and exported.peak_mib < 150
    rows_out.append(row)

    # 5. the same with a change watcher serving (issue 16)
    if args.watch:
        import watch

        rows_out.extend(watch.with_watcher(size, notes, args, env))


def read_commands(
    victim: Path, word: str
) -> list[tuple[str, list[str], list[str] | None, str, float | None]]:
    """Every read command of issue 13 but search and export: (label, papernotes argv, the
    command beside it (rg over the notes, ``{d}``; cat), kind, at most how many times the warm
    search at 74,728 notes)."""
    stem = victim.stem
    return [
        ("show ID (beside: cat FILE)", ["show", stem], ["cat", str(victim)], "show", 1.2),
        ("related ID", ["related", stem], ["rg", "-i", "-l", word, "{d}"], "related", 1.2),
        ("list --topic nlp, first page", ["list", "--topic", "nlp", "--limit", "20"],
         ["rg", "-l", "^- nlp$", "{d}"], "list", 1.3),
        ("list --topic nlp, all", ["list", "--topic", "nlp"], ["rg", "-l", "^- nlp$", "{d}"],
         "list", None),
        ("list --tag cs.CL --sort year, first page",
         ["list", "--tag", "cs.CL", "--sort", "year", "--limit", "20"],
         ["rg", "-l", "^- cs.CL$", "{d}"], "list", 1.3),
        (f"list {word}, first page", ["list", word, "--limit", "20"],
         ["rg", "-i", "-l", word, "{d}"], "list", 1.3),
        ("tags", ["tags"], ["rg", "-l", "^tags:", "{d}"], "facets", 1.5),
        ("topics", ["topics"], ["rg", "-l", "^topics:", "{d}"], "facets", 1.5),
        ("authors", ["authors"], ["rg", "-l", "^authors:", "{d}"], "facets", 1.5),
        ("stats", ["stats"], ["rg", "-l", "^year:", "{d}"], "facets", 1.5),
        ("check", ["check"], ["rg", "-l", "^title:", "{d}"], "check", 2.0),
    ]  # fmt: skip


def bench_env() -> dict[str, str]:
    """The environment of every timed command: bytecode caching on, as for an installed
    package (this sandbox sets PYTHONDONTWRITEBYTECODE, which would recompile papernotes'
    modules from source in every process), and nothing that points papernotes elsewhere."""
    drop = {"PYTHONDONTWRITEBYTECODE", "PAPERNOTES_DIR", "PAPERNOTES_INDEX"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def startup_rows(args: argparse.Namespace) -> list[Row]:
    env = bench_env()
    version, python = compare(
        [args.papernotes, "--version"], [args.python, "-c", "pass"], env, max(args.runs, 10)
    )
    assert python is not None
    ratio = version.median_ms / python.median_ms
    return [
        Row(
            "-",
            "`papernotes --version` (beside: `python -c pass`)",
            version,
            python,
            target="<= 2x python",
            met=ratio <= 2,
        ),
    ]


def table(rows: list[Row]) -> str:
    lines = [
        "| notes | measure | papernotes ms (median) | min–max | warm search ms | rg ms | ratio "
        "| peak RSS MB (rg) | notes | target | met |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        if not r.ours.seconds:  # a figure that is no timing (the watcher's memory)
            met = "" if r.met is None else ("yes" if r.met else "**no**")
            lines.append(f"| {r.corpus} | {r.measure} |{' |' * 6} {r.note} | {r.target} | {met} |")
            continue
        rg_ms = f"{r.rg.median_ms:.1f}" if r.rg else ""
        ratio = f"{r.ours.median_ms / r.rg.median_ms:.2f}x" if r.rg else ""
        rss = f"{r.ours.peak_mib:.0f}" + (f" ({r.rg.peak_mib:.0f})" if r.rg else "")
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        beside = f"{r.beside:.1f}" if r.beside is not None else ""
        lines.append(
            f"| {r.corpus} | {r.measure} | {r.ours.median_ms:.1f} | {r.ours.spread} | {beside} "
            f"| {rg_ms} | {ratio} | {rss} | {r.note} | {r.target} | {met} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rg = subprocess.run(["rg", "--version"], capture_output=True, text=True, check=False)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "src"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    tree = f" ({len(changed)} files of src/ modified)" if changed else ""
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {rg.stdout.splitlines()[0] if rg.stdout else 'no rg'}"
        f", papernotes at commit {commit or '?'}{tree}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,74728", help="comma-separated note counts")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per measure")
    parser.add_argument("--build-runs", type=int, default=3, help="timed cold builds per size")
    parser.add_argument("--synthetic", action="store_true", help="ignore the arXiv data")
    parser.add_argument("--corpora", type=Path, default=corpus.CORPORA)
    parser.add_argument("--work", type=Path, default=BENCH / "_work", help="indexes and caches")
    parser.add_argument("--out", type=Path, default=BENCH / "results.md")
    parser.add_argument(
        "--no-watch", dest="watch", action="store_false", help="skip the runs with a watcher"
    )
    bindir = Path(sys.executable).parent
    parser.add_argument("--papernotes", default=str(bindir / "papernotes"))
    parser.add_argument("--python", default=sys.executable, help="for the start-up baseline")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    use_arxiv = not args.synthetic and corpus.ARXIV.exists()
    source = "arxiv" if use_arxiv else "synthetic"
    load = [os.getloadavg()[0]]
    started = time.time()
    rows = startup_rows(args)
    data = corpus.listings(corpus.ARXIV if use_arxiv else None, limit=max(sizes))
    for size in sizes:
        notes = corpus.build(size, data, source, args.corpora)
        print(f"benchmarking {size:,} notes in {notes}", file=sys.stderr)
        bench_corpus(size, notes, args, rows)
        load.append(os.getloadavg()[0])
    elapsed = time.time() - started

    checks = [r.note for r in rows if r.measure == "watcher: checks"]
    text = table([r for r in rows if r.measure != "watcher: checks"])
    if checks:
        text += "\n\n" + "\n".join(checks)
    print(text)
    when = datetime.datetime.now().isoformat(timespec="minutes")
    given = " ".join(argv if argv is not None else sys.argv[1:])
    header = (
        f"# Benchmark results\n\n`bench/run.py {given}`".rstrip()
        + f" — {when}, {elapsed / 60:.1f} min\n\n"
        f"Machine: {machine()}.\n"
        f"Load average (1 min) before and after each corpus: "
        f"{', '.join(f'{x:.2f}' for x in load)}.\n"
        f"Source: {'arXiv listings' if use_arxiv else 'synthetic listings'}; "
        f"{args.runs} runs per measure (median), {args.build_runs} cold builds.\n\n"
    )
    args.out.write_text(header + text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
