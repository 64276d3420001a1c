"""Output of ``papernotes index``, and the progress bar of a large index build."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from papernotes.engine.index import IndexStatus, RefreshReport
from papernotes.render import print_json, safe

PROGRESS_MIN = 500  # notes to parse before a progress bar is worth showing


def progress_bar(
    label: str = "Indexing notes", minimum: int = PROGRESS_MIN
) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A ``(done, total)`` callback drawing a rich progress bar on stderr when it is a
    terminal and the job is big (``minimum``), and a function to call when the job ends."""
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            if total < minimum or not sys.stderr.isatty():
                state["bar"] = None
                return
            from rich.progress import Progress

            from papernotes.render import console

            bar = Progress(console=console(stderr=True), transient=True)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task(label, total=total)
        if state["bar"] is not None:
            state["bar"].update(state["task"], completed=done)

    def finish() -> None:
        if state.get("bar") is not None:
            state["bar"].stop()

    return update, finish


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def print_refresh(report: RefreshReport, status: IndexStatus, seconds: float, fmt: str) -> None:
    """One line: what ``papernotes index`` changed, and the index now."""
    if fmt == "json":
        print_json(
            {
                "added": report.added,
                "updated": report.updated,
                "removed": report.removed,
                "seconds": round(seconds, 3),
                **_status_record(status),
            }
        )
        return
    changes = f"{report.added} added, {report.updated} updated, {report.removed} removed"
    click.echo(
        f"{changes} in {seconds:.2f} s; {status.notes} notes indexed, {status.skipped} skipped "
        f"({_size(status.size)}, {safe(status.location)})"
    )


def print_status(status: IndexStatus, fmt: str, watcher: dict[str, Any] | None = None) -> None:
    """``papernotes index --status``; ``watcher``: what the change watcher said, if one
    answered."""
    if fmt == "json":
        print_json({**_status_record(status), "watcher": watcher})
        return
    state = "up to date"
    if status.pending:
        state = f"{status.pending} note files changed since the last refresh"
    skipped = f", {status.skipped} skipped (run papernotes check)" if status.skipped else ""
    click.echo(f"location: {safe(status.location)}")
    click.echo(f"size:     {_size(status.size)}")
    click.echo(f"notes:    {status.notes} indexed{skipped}")
    click.echo(f"state:    {state}")
    click.echo(f"versions: schema {status.schema_version}, parser {status.parser_version}")
    click.echo(f"watcher:  {_watcher_line(watcher)}")


def _watcher_line(watcher: dict[str, Any] | None) -> str:
    if watcher is None:
        return "none (every command stats every note; see papernotes watch)"
    state = safe(str(watcher.get("state")))
    where = f"pid {watcher.get('pid')}, token {safe(str(watcher.get('token')))}"
    if state != "serving":
        return f"{state}: {safe(str(watcher.get('reason')))} ({where}); commands stat every note"
    behind = watcher.get("behind", 0)
    noun = "change" if behind == 1 else "changes"
    return (
        f"serving ({where}); {behind} {noun} behind, caught up in {watcher.get('answered_ms')} ms"
    )


def _status_record(status: IndexStatus) -> dict[str, Any]:
    return {
        "location": status.location,
        "size": status.size,
        "notes": status.notes,
        "skipped": status.skipped,
        "pending": status.pending,
        "schema_version": status.schema_version,
        "parser_version": status.parser_version,
    }
