"""The ``papernotes`` console script and ``python -m papernotes``.

``papernotes --version`` is answered here, before click and the command line are imported
(about 25 ms of imports on a small machine), so it starts about as fast as Python itself; every
other invocation goes to :func:`papernotes.cli.main`."""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        from papernotes import __version__

        # the same line click's version_option prints
        sys.stdout.write(f"papernotes, version {__version__}\n")
        return
    import gc

    # A command is a short-lived process that makes almost no reference cycles: collecting
    # every 100,000 allocations instead of 700 spares a search ~5 ms spent traversing what its
    # imports created; a long command (a rebuild, a large import) still collects.
    gc.set_threshold(100_000, 50, 100)
    from papernotes.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
