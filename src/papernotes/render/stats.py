"""Output of ``papernotes stats``: totals and bar charts (the same text on a pipe; coloured on a
terminal)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from papernotes.engine.stats import Stats
from papernotes.render import print_json, safe

BAR_WIDTH = 30
MAX_TOPICS = 15


def bar(count: int, largest: int, width: int = BAR_WIDTH) -> str:
    """``count`` as a bar of full blocks, at least one for a non-zero count."""
    if largest <= 0 or count <= 0:
        return ""
    return "█" * max(1, round(count * width / largest))


def chart(rows: Sequence[tuple[str, int]]) -> list[tuple[str, str, int]]:
    """(label padded, bar, count) for each row."""
    if not rows:
        return []
    width = max(len(label) for label, _ in rows)
    largest = max(count for _, count in rows)
    return [(label.ljust(width), bar(count, largest), count) for label, count in rows]


def stats_lines(stats: Stats) -> list[str]:
    """The report as plain lines; sections of bars are ``(label, bar, count)`` rows."""

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    lines = [f"{plural(stats.notes, 'note')}"]
    if stats.with_errors:
        lines[0] += f" ({stats.with_errors} more with errors, skipped: run papernotes check)"
    others = ", ".join(f"{s} {n}" for s, n in stats.by_status.items() if s != "read")
    lines.append(f"read {stats.read} · unread {stats.unread}" + (f" ({others})" if others else ""))
    lines.append(
        f"{plural(stats.topics, 'topic')}, {plural(stats.tags, 'tag')}, "
        f"{plural(stats.authors, 'author')}; {stats.with_arxiv} on arXiv, {stats.rated} rated"
    )
    lines = [line for line in lines if line]
    sections: list[tuple[str, list[tuple[str, int]], int]] = [
        ("Notes per year", [(str(y), n) for y, n in stats.by_year], stats.without_year),
        ("Notes per topic", [(safe(t), n) for t, n in stats.by_topic[:MAX_TOPICS]], 0),
        ("Notes read per month", list(stats.read_by_month), 0),
    ]
    for title, rows, without in sections:
        if not rows:
            continue
        lines += ["", title]
        lines += [f"  {label}  {count:>4}  {bars}" for label, bars, count in chart(rows)]
        if title == "Notes per topic" and len(stats.by_topic) > MAX_TOPICS:
            lines.append(f"  ... and {len(stats.by_topic) - MAX_TOPICS} more (papernotes topics)")
        if without:
            lines.append(f"  ({without} without a year)")
    return lines


def print_stats(stats: Stats, fmt: str) -> None:
    if fmt == "json":
        print_json(stats.to_dict())
        return
    lines = stats_lines(stats)
    if not sys.stdout.isatty():
        for line in lines:
            click.echo(line)
        return
    from rich.text import Text

    from papernotes.render import console

    con = console()
    for line in lines:
        text = Text(line)
        if line and not line.startswith(" "):
            text.stylize("bold")
        text.highlight_regex(r"█+", "blue")
        con.print(text)
