"""The command table: every command's name, where it is defined, and whether it reads the notes.

Kept apart from :mod:`papernotes.cli` (which imports click) so that the entry point
(:mod:`papernotes.__main__`) can tell, before any import, whether a command will bring the
index up to date, and start making sure it is fresh while click and the command are imported."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's would cost the console script an import
if TYPE_CHECKING:
    from typing import NoReturn

# The global option naming the notes folder, and the variable it falls back on.
NOTES_OPTION = "--notes-dir"
NOTES_VARIABLE = "PAPERNOTES_DIR"

# command name -> ("module:attribute" under papernotes.cli, reads the notes, served)
# "reads the notes": brings the index up to date (stats every note) before it answers.
# "served": a change watcher may run it for the process that was started (it only reads, and
# talks to nobody but its standard streams; see papernotes.watcher.forkrun): always, or
# "piped": only when its output is not a terminal (show may start a pager, which needs to
# be in the terminal's foreground, where the watcher's child is not).
TABLE: dict[str, tuple[str, bool, bool | str]] = {
    "add": ("add:add_cmd", True, False),
    "authors": ("facets:authors_cmd", True, True),
    "check": ("check:check_cmd", True, True),
    "cite": ("cite:cite_cmd", True, True),
    "completion": ("completion:completion_cmd", False, False),
    "edit": ("edit:edit_cmd", True, False),
    "export": ("export:export_cmd", True, True),
    "import": ("import_:import_cmd", False, False),
    "index": ("index:index_cmd", True, False),
    "list": ("list_:list_cmd", True, True),
    "mark": ("fields:mark_cmd", True, False),
    "mcp": ("mcp:mcp_cmd", True, False),
    "new": ("new:new_cmd", True, False),
    "open": ("edit:open_cmd", True, False),
    "rate": ("fields:rate_cmd", True, False),
    "related": ("related:related_cmd", True, True),
    "search": ("search:search_cmd", True, True),
    "set": ("fields:set_cmd", True, False),
    "show": ("show:show_cmd", True, "piped"),
    "stats": ("stats:stats_cmd", True, True),
    "tag": ("fields:tag_cmd", True, False),
    "tags": ("facets:tags_cmd", True, True),
    "topics": ("facets:topics_cmd", True, True),
    "unset": ("fields:unset_cmd", True, False),
    "watch": ("watch:watch_cmd", False, False),
}

COMMANDS: dict[str, str] = {name: target for name, (target, _, _) in TABLE.items()}
READERS: frozenset[str] = frozenset(name for name, (_, reads, _) in TABLE.items() if reads)
SERVED: dict[str, bool | str] = {name: served for name, (_, _, served) in TABLE.items() if served}


def exit_now(code: object) -> NoReturn:
    """End this process with the status ``sys.exit(code)`` gives (None: 0, a number: it, else
    the text on stderr and 1), at once: the standard streams flushed (a failure to flush is
    status 120, as in Python's own shutdown), nothing torn down and no atexit handler run
    (see ``papernotes.__main__._leave``; a child the watcher forked must never return)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        import contextlib

        with contextlib.suppress(BaseException):
            print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException:
            status = 120
    os._exit(status & 0xFF)
