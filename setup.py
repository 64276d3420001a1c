"""How papernotes installs its command (the rest is in pyproject.toml): a script of its own
(src/scripts/papernotes), which starts ~10 ms sooner than pip's wrapper of an entry point
(that imports re); on Windows, which runs no script without an .exe launcher, the entry point."""

import sys

from setuptools import setup

if sys.platform == "win32":
    setup(entry_points={"console_scripts": ["papernotes = papernotes.__main__:main"]})
else:
    setup(scripts=["src/scripts/papernotes"])
