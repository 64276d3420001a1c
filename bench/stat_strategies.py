"""Micro-benchmark: the fastest way to see every added, deleted and in-place-edited note.

The index's freshness check must notice an in-place edit (same name, new size or mtime), so
directory mtimes alone cannot answer it: every note is stat'ed on every command. This script
times the candidate strategies over a corpus, in this process, round-robin, ``--runs`` times::

    .venv/bin/python bench/stat_strategies.py bench/corpora/arxiv-74728/notes --runs 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from papernotes.disk.freshness import scan, snapshot

# relative path -> (size, mtime_ns), the shape the index compares against
Snapshot = dict[str, tuple[int, int]]


def walk_names(root: str) -> list[str]:
    """Listing only (the floor for any walk): relative paths of the notes."""
    out: list[str] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel) if rel else root) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(f"{rel}{entry.name}/")
                elif entry.name.endswith((".md", ".markdown")):
                    out.append(rel + entry.name)
    return out


def scandir_entry_stat(root: str) -> Snapshot:
    """One scandir walk; ``DirEntry.stat()`` per note (a stat call on Linux, cached)."""
    out: Snapshot = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel) if rel else root) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(f"{rel}{entry.name}/")
                elif entry.name.endswith((".md", ".markdown")):
                    st = entry.stat()
                    out[rel + entry.name] = (st.st_size, st.st_mtime_ns)
    return out


def listdir_os_stat(root: str) -> Snapshot:
    """Walk for names, then ``os.stat(full path)`` per note."""
    out: Snapshot = {}
    for rel in walk_names(root):
        st = os.stat(os.path.join(root, rel))
        out[rel] = (st.st_size, st.st_mtime_ns)
    return out


def stat_dir_fd(root: str) -> Snapshot:
    """Walk for names, then ``os.stat(name, dir_fd=...)``: the kernel resolves one component
    instead of the whole path."""
    out: Snapshot = {}
    by_dir: dict[str, list[str]] = {}
    for rel in walk_names(root):
        head, _, name = rel.rpartition("/")
        by_dir.setdefault(head, []).append(name)
    for head, names in by_dir.items():
        fd = os.open(os.path.join(root, head) if head else root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            prefix = f"{head}/" if head else ""
            stat = os.stat
            for name in names:
                st = stat(name, dir_fd=fd, follow_symlinks=False)
                out[prefix + name] = (st.st_size, st.st_mtime_ns)
        finally:
            os.close(fd)
    return out


def known_list_only(root: str, known: list[str]) -> Snapshot:
    """No listing at all (possible when every directory's mtime is unchanged since the last
    refresh, so no file was added, removed or renamed): stat the index's known paths."""
    out: Snapshot = {}
    stat = os.stat
    join = os.path.join
    for rel in known:
        st = stat(join(root, rel))
        out[rel] = (st.st_size, st.st_mtime_ns)
    return out


def threaded(workers: int) -> Callable[[str], Snapshot]:
    """Walk for names, then stat in ``workers`` threads, one chunk each (stat releases the GIL,
    the Python around it does not)."""

    def run(root: str) -> Snapshot:
        names = walk_names(root)
        size = max(1, len(names) // (workers * 4))
        chunks = [names[i : i + size] for i in range(0, len(names), size)]

        def work(chunk: list[str]) -> Snapshot:
            part: Snapshot = {}
            stat = os.stat
            join = os.path.join
            for rel in chunk:
                st = stat(join(root, rel))
                part[rel] = (st.st_size, st.st_mtime_ns)
            return part

        out: Snapshot = {}
        with ThreadPoolExecutor(workers) as pool:
            for part in pool.map(work, chunks):
                out.update(part)
        return out

    run.__doc__ = f"Walk, then os.stat in {workers} threads."
    return run


def changed_in(root: str, known: Snapshot, names: list[str]) -> list[str]:
    """The names among ``names`` whose (size, mtime) differ from ``known`` (or that vanished)."""
    changed = []
    stat = os.stat
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for rel in names:
            try:
                st = stat(rel, dir_fd=fd)
            except FileNotFoundError:
                changed.append(rel)
                continue
            if known.get(rel) != (st.st_size, st.st_mtime_ns):
                changed.append(rel)
    finally:
        os.close(fd)
    return changed


def forked(workers: int) -> Callable[[str, Snapshot], list[str]]:
    """Compare against the index's snapshot in ``workers`` processes: ``fork`` shares the
    snapshot for free, each child stats its slice and sends back only the changed names."""

    def run(root: str, known: Snapshot) -> list[str]:
        names = list(known)
        slices = [names[i::workers] for i in range(workers)]
        children = []
        for part in slices[1:]:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # child: stat, report, leave without running any cleanup
                os.close(read_end)
                try:
                    data = "\0".join(changed_in(root, known, part)).encode()
                    with os.fdopen(write_end, "wb") as pipe:
                        pipe.write(data)
                finally:
                    os._exit(0)
            os.close(write_end)
            children.append((pid, read_end))
        changed = changed_in(root, known, slices[0])
        for pid, read_end in children:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            os.waitpid(pid, 0)
            changed.extend(n for n in data.decode().split("\0") if n)
        return changed

    return run


def find_printf(root: str) -> Snapshot:
    """GNU find does the walk and the stats in C; Python parses its output."""
    data = subprocess.run(
        [
            "find",
            root,
            "-name",
            ".*",
            "-prune",
            "-o",
            "-type",
            "f",
            "-name",
            "*.md",
            "-printf",
            "%P\\0%s\\0%T@\\0",
        ],
        capture_output=True,
        check=True,
    ).stdout
    parts = data.split(b"\0")
    out: Snapshot = {}
    for i in range(0, len(parts) - 2, 3):
        out[parts[i].decode()] = (int(parts[i + 1]), int(float(parts[i + 2]) * 1e9))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="a notes directory (e.g. bench/corpora/arxiv-74728/notes)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    known = walk_names(root)
    count = len(known)
    reference = scandir_entry_stat(root)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("scandir walk, names only (floor)", lambda: walk_names(root)),
        ("scandir walk + DirEntry.stat()", lambda: scandir_entry_stat(root)),
        ("scandir walk + os.stat(path)", lambda: listdir_os_stat(root)),
        ("scandir walk + os.stat(name, dir_fd=)", lambda: stat_dir_fd(root)),
        ("no walk: os.stat of the known paths", lambda: known_list_only(root, known)),
        *(
            (f"scandir walk + os.stat in {n} threads", lambda n=n: threaded(n)(root))
            for n in (2, 4, 8)
        ),
        ("find -printf (subprocess; mtimes rounded)", lambda: find_printf(root)),
        ("freshness.snapshot: walk, half in a forked child", lambda: snapshot(Path(root))),
        ("freshness.scan().digest (the digest path, no prefetch)", lambda: scan(Path(root)).digest),
        *(
            (
                f"no walk: compare known in {n} forked processes",
                lambda n=n: forked(n)(root, reference),
            )
            for n in (1, 2, 3)
        ),
    ]
    print(
        f"{count} notes in {args.root}, {os.cpu_count()} cores, median of {args.runs} runs, "
        f"load average (1 min) before: {os.getloadavg()[0]:.2f}"
    )
    print("| strategy | median ms | best ms | µs per note |\n|---|---:|---:|---:|")
    for label, func in cases:
        result = func()
        if isinstance(result, dict) and sorted(result) != sorted(reference):
            print(f"  {label}: other notes than the reference snapshot", file=sys.stderr)
        elif (
            isinstance(result, dict)
            and "rounded" not in label
            and {k: v[:2] for k, v in result.items()} != reference  # freshness adds ctime, inode
        ):
            print(f"  {label}: differs from the reference snapshot", file=sys.stderr)
    # round-robin, so that a burst of load elsewhere hits every strategy alike
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    for _ in range(args.runs):
        for label, func in cases:
            start = time.perf_counter()
            func()
            times[label].append(time.perf_counter() - start)
    for label, _ in cases:
        median, best = statistics.median(times[label]), min(times[label])
        print(f"| {label} | {median * 1e3:.1f} | {best * 1e3:.1f} | {median / count * 1e6:.2f} |")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
