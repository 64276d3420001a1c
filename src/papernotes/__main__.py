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
    from papernotes.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
