"""Every piece of terminal output: human text (with rich, on a terminal) and machine formats.

Text from notes is always printed as text: never interpreted as rich markup, and with terminal
control characters made visible (see :func:`safe`)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import click

from papernotes.note.cells import CONTROL as _CONTROL
from papernotes.note.cells import safe as safe

if TYPE_CHECKING:
    from rich.console import Console


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def console(stderr: bool = False) -> Console:
    """A rich console: colours on a terminal, plain text on a pipe or with NO_COLOR. Whatever
    it prints is made harmless last (see :func:`_safe_console`)."""
    return _safe_console()(
        stderr=stderr, highlight=False, soft_wrap=False, emoji=False, markup=False
    )


@cache
def _safe_console() -> type[Console]:
    """A rich Console that passes the text of every segment it renders through :func:`safe`,
    after every renderable has done its work: the Markdown renderer decodes ``&#x202E;`` and
    ``&#x2066;`` in a note's body (after the body was sanitised), and a cell someone forgot
    to sanitise cannot reach the terminal either. Its own controls (cursor moves of a
    progress bar) are segments of their own, kept; colours and hyperlinks are styles."""
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def render(self, renderable: Any, options: Any = None) -> Iterator[Segment]:
            for segment in super().render(renderable, options):
                if segment.control is None and _CONTROL.search(segment.text):
                    segment = Segment(safe(segment.text), segment.style)
                yield segment

    return SafeConsole


# JSON escapes C0 controls itself; these it would print raw (C1 controls such as the 8-bit CSI
# \x9b, bidi overrides): written as \u escapes instead, which decode to the same data.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def print_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def print_json_list(items: Iterable[Any]) -> None:
    """A JSON array, written item by item: what :func:`print_json` prints for ``list(items)``,
    without holding them all (``list`` and ``export`` of 75,000 notes)."""
    first = True
    for item in items:
        text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        click.echo(("[\n  " if first else ",\n  ") + text, nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def on_terminal() -> bool:
    return sys.stdout.isatty()


def print_data(text: str) -> None:
    """Machine output (CSV, an export) exactly as it is on a pipe or into a file; on a
    terminal with control characters made visible (as ``show --raw`` does), so a note printed
    with ``--format csv`` cannot drive the terminal."""
    if on_terminal():
        text = safe(text.replace("\r\n", "\n"))
    click.echo(text, nl=False, color=True)  # else click drops "\x1b[...m" from the data


def print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)
