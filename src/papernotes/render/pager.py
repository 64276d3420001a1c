"""Long output through a pager on a terminal, the way git does it: ``$PAGER`` (default
``less``, with ``LESS=FRX`` unless the user set ``LESS``), split into words and run without a
shell; output that fits the screen, a pipe, or a missing pager: printed directly."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

DEFAULT_PAGER = "less"


def pager_command() -> list[str] | None:
    """The pager's argv, or None for no pager (``PAGER=cat`` or an empty ``PAGER``)."""
    value = os.environ.get("PAPERNOTES_PAGER", os.environ.get("PAGER", DEFAULT_PAGER))
    try:
        argv = shlex.split(value)
    except ValueError:
        return None
    if not argv or os.path.basename(argv[0]) == "cat":
        return None
    if shutil.which(argv[0]) is None:
        return None
    return argv


def page(text: str, argv: list[str] | None = None) -> bool:
    """Send ``text`` to the pager; False when none could be run (the caller prints it)."""
    argv = argv if argv is not None else pager_command()
    if argv is None:
        return False
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # quit if one screen, keep colours, leave text on screen
    env.setdefault("LV", "-c")
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    assert process.stdin is not None
    try:
        process.stdin.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the user quit the pager before the end
    while True:
        try:
            process.wait()
            break
        except KeyboardInterrupt:
            continue  # less handles Ctrl-C itself; wait for it to exit
    return True


def should_page(lines: int, height: int) -> bool:
    """A terminal on both ends and more lines than the screen holds."""
    return sys.stdout.isatty() and sys.stdin.isatty() and lines > height
