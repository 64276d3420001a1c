"""``papernotes check``."""

from __future__ import annotations

from pathlib import Path

import click

from papernotes.cli.common import format_option, get_store
from papernotes.disk.notefiles import undecodable
from papernotes.disk.store import iter_notes
from papernotes.engine.check import check, indexed_path
from papernotes.errors import EXIT_NOT_FOUND, ConfigError
from papernotes.render.check import print_check


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--strict", is_flag=True, help="Count warnings as errors.")
@format_option("text", "json")
@click.pass_context
def check_cmd(ctx: click.Context, paths: tuple[str, ...], strict: bool, fmt: str) -> None:
    """Validate notes: front matter, duplicates, links and likely typos.

    Prints `path:line: error|warning: message` for each problem, then a summary.
    Exits 1 when there are errors (or warnings, with --strict).

    \b
    Examples:
      papernotes check
      papernotes check notes/direct-preference-optimization.md --strict
      papernotes check --format json | jq '.diagnostics[0]'
    """
    from papernotes.cli.common import get_kb

    files: list[Path] = []
    unnamed: list[Path] = []  # names that are not UTF-8: the other commands pass them over
    store = None
    try:
        store = get_store(ctx)
    except ConfigError:
        if not paths:
            raise
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(iter_notes(path))
            unnamed.extend(path / rel for rel in undecodable(path))
        else:
            files.append(path)
    kb = get_kb(ctx, warn_skipped=False) if store is not None else None
    if store is not None and not paths:
        # the scan that made the index fresh saw them, or the watcher that vouched for it;
        # else (a watcher that did not say) walk again
        refreshed = kb.index.report if kb is not None else None
        seen = refreshed.undecodable if refreshed is not None else None
        if seen is None:
            seen = undecodable(store.root)
        unnamed = [store.root / rel for rel in seen]  # the report orders them
    only: list[str] | None = None
    outside: list[Path] = []
    if kb is not None and paths:
        only = []
        for path in files:
            rel = indexed_path(kb, path)
            if rel is None:
                outside.append(path)
            else:
                only.append(rel)
    elif kb is None:
        outside = files
    report = check(kb, only, outside, unnamed)
    print_check(report, fmt)
    if report.failed(strict):
        ctx.exit(EXIT_NOT_FOUND)
