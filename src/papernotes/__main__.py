"""The ``papernotes`` console script and ``python -m papernotes``.

``papernotes --version`` is answered here, before click and the command line are imported
(about 25 ms of imports on a small machine), so it starts about as fast as Python itself; every
other invocation goes to :func:`papernotes.cli.main`."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs ~8 ms, too much for --version
if TYPE_CHECKING:
    from typing import NoReturn


def main() -> None:
    """Console-script entry point."""
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        from papernotes.commands import standard_streams_closed

        standard_streams_closed()
    if getattr(sys.stdout, "errors", None) == "strict" and sys.stdout.encoding != "utf-8":
        # a stream of another encoding (PYTHONIOENCODING=latin-1) gets what it cannot encode
        # as escapes, not a traceback (click already writes UTF-8 to one that says ASCII)
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    if sys.argv[1:] == ["--version"]:
        from papernotes import __version__

        try:  # the same line click's version_option prints
            sys.stdout.write(f"papernotes, version {__version__}\n")
            sys.stdout.flush()
        except OSError as exc:
            from papernotes.commands import leave_on_output_error

            leave_on_output_error(exc)
            raise
        return
    import gc

    # A command is a short-lived process that makes almost no reference cycles: collecting
    # every 100,000 allocations instead of 700 spares a search ~5 ms spent traversing what its
    # imports created; a long command (a rebuild, a large import) still collects.
    gc.set_threshold(100_000, 50, 100)
    status = _start_scan(sys.argv[1:])
    if status is not None:  # a change watcher ran the command (papernotes.watcher.forkrun)
        _leave(status)
    from papernotes.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _start_scan(args: list[str]) -> int | None:
    """For a command that reads the notes, have the change watcher run it when one serves
    the folder (:func:`papernotes.engine.watchclient.run`: the command's exit status), else
    ask the watcher now whether the index is fresh (:func:`papernotes.engine.watchclient.
    ask`), or when none listens, start stat-ing them in a child process
    (:func:`papernotes.disk.freshness.prefetch`): importing click and the command takes some
    50 ms that either can use. Anything unusual in the arguments is left to click alone."""
    from papernotes.commands import NOTES_OPTION, NOTES_VARIABLE, READERS

    explicit = None
    command = None
    words = iter(args)
    for word in words:
        if word == NOTES_OPTION:
            explicit = next(words, None)
            if explicit is None:
                return None
        elif word.startswith(NOTES_OPTION + "="):
            explicit = word.partition("=")[2]
        elif word.startswith("-") or word not in READERS:
            return None  # --help, an option not known here, a command that reads no notes
        else:
            command = word
            break
    else:
        return None
    if "--help" in args:
        return None
    from papernotes.disk import freshness
    from papernotes.engine import watchclient

    given = explicit or os.environ.get(NOTES_VARIABLE)  # what store.find_root takes first
    if given:  # the quick case: no other import before the fork
        if not os.path.isdir(given):
            return None  # the command will say what is wrong
        root: str | os.PathLike[str] = given
    else:
        from papernotes.disk.store import find_root
        from papernotes.errors import PapernotesError

        try:
            root = find_root()  # found the way git finds its repository
        except PapernotesError:
            return None  # the command will say so
    if _served(command):
        status = watchclient.run(root, args)
        if status is not None:
            return status
    if not watchclient.ask(root):  # a watcher answers while the command imports: no stats
        freshness.prefetch(root)
    return None


def _served(command: str) -> bool:
    """Whether a watcher may run ``command`` here (see ``SERVED`` in papernotes.commands);
    ``PAPERNOTES_WATCH_RUN=0`` says never."""
    from papernotes.commands import SERVED

    served = SERVED.get(command, False)
    if not served or os.environ.get("PAPERNOTES_WATCH_RUN", "").strip() in ("0", "off", "no"):
        return False
    if served == "piped":
        try:
            return not os.isatty(1)
        except OSError:
            return False
    return True


def _leave(code: str | int | None) -> NoReturn:
    """Exit as ``sys.exit(code)`` would, without tearing the interpreter down: freeing every
    module and object costs a command 6-13 ms here and achieves nothing in a process that is
    about to end. By now every file papernotes wrote is closed and every transaction
    committed (an uncaught exception does not come here: it exits the usual way); only the
    standard streams still need flushing, and a failure to flush is exit status 120, as in
    Python's own shutdown. No atexit handler runs, so none may be relied on; under a profiler,
    a debugger or coverage (which report at exit) the usual exit is taken."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    from papernotes.commands import exit_now

    exit_now(code)


if __name__ == "__main__":
    main()
