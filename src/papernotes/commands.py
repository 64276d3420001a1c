"""The command table: every command's name, where it is defined, and whether it reads the notes.

Kept apart from :mod:`papernotes.cli` (which imports click) so that the entry point
(:mod:`papernotes.__main__`) can tell, before any import, whether a command will bring the
index up to date, and start making sure it is fresh while click and the command are imported."""

from __future__ import annotations

import errno
import io
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


# a failure to write the output: a full disk or quota, a file too large, an I/O error, standard
# output closed (a broken pipe is not one: the reader is done, and the command ends quietly)
OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF})


class ClosedOutput(io.TextIOBase):
    """Standard output when its descriptor is closed (``papernotes list >&-``: Python then
    leaves ``sys.stdout`` None, and the first ``sys.stdout.isatty()`` was a traceback): writing
    fails as writing to a closed descriptor does; a command that writes nothing works."""

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def standard_streams_closed() -> None:
    """For a process started with standard streams closed (Python leaves them None): each
    descriptor taken by the null device, so that no file opened later (the index) takes its
    number and gets what is meant for the stream, nor a pager or an editor started; reading
    stdin then finds its end, stderr writes nowhere, and writing the output fails
    (:class:`ClosedOutput`)."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if name == "stdout":
            sys.stdout = ClosedOutput()
        else:
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115


def leave_on_output_error(exc: OSError) -> None:
    """When ``exc`` is a failure to write the output (:data:`OUTPUT_ERRORS`; no file named):
    say so on stderr and end with status 1 at once, what the output still held dropped (a
    second failure to flush it would make the status 120). Returns for any other error."""
    if isinstance(exc, BrokenPipeError) or exc.filename is not None:
        return
    if exc.errno not in OUTPUT_ERRORS:
        return
    import contextlib

    sys.stdout = ClosedOutput()
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(f"Error: cannot write the output: {exc.strerror or exc}\n")
    exit_now(1)
