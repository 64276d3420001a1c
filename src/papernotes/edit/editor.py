"""Running the user's editor and browser: never through a shell.

The editor is ``$VISUAL``, else ``$EDITOR``: the user's choice, never a notes folder's (its
``papernotes.toml`` may come from anyone; see :mod:`papernotes.disk.trust`). Its value is split into
words the way a shell would (``code --wait``, ``"/Applications/My Editor/bin/edit" -w``) and
run directly, so ``vim; rm -rf ~`` is a program name that does not exist, not two commands."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from papernotes.errors import ConfigError, PapernotesError, UsageError


def editor_command() -> list[str]:
    """The editor's argv (without the file), from the environment."""
    for origin, value in (
        ("$VISUAL", os.environ.get("VISUAL")),
        ("$EDITOR", os.environ.get("EDITOR")),
    ):
        if value and value.strip():
            try:
                argv = shlex.split(value)
            except ValueError as exc:
                raise ConfigError(f"cannot read {origin} ({value!r}): {exc}") from None
            if argv:
                return argv
    raise ConfigError("no editor: set $VISUAL or $EDITOR (for example EDITOR=nano)")


def edit(path: Path) -> None:
    """Open ``path`` in the editor and wait for it to finish."""
    argv = [*editor_command(), str(path)]
    try:
        completed = subprocess.run(argv, check=False)
    except FileNotFoundError:
        raise ConfigError(f"editor not found: {argv[0]!r} (check $VISUAL / $EDITOR)") from None
    except PermissionError:
        raise ConfigError(f"editor cannot be run: {argv[0]!r} (permission denied)") from None
    except OSError as exc:
        raise ConfigError(f"editor cannot be run: {argv[0]!r}: {exc.strerror or exc}") from None
    if completed.returncode != 0:
        raise PapernotesError(f"the editor exited with status {completed.returncode}")


def open_url(url: str, opener: Callable[[str], bool] | None = None) -> None:
    """Open a web page in the browser. Only ``http(s)`` URLs: a note could hold ``file:`` or
    ``javascript:`` ones."""
    from papernotes.note.model import is_web_url

    if not is_web_url(url):
        raise UsageError(f"not a web address, not opened: {url!r}")
    if opener is None:
        import webbrowser

        opener = webbrowser.open
    if not opener(url):
        raise PapernotesError(f"no browser could be started; the address is {url}")
