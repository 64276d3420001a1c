"""Every command documents itself: ``--help`` with an example, and a section in README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from papernotes.cli import COMMANDS, cli

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_has_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"papernotes {name} --help shows no example"
    assert f"papernotes {name}" in result.stdout.split("Example", 1)[1]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_in_readme(name: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert re.search(rf"^#+ .*`papernotes {re.escape(name)}\b", text, re.MULTILINE), (
        f"README.md has no heading for papernotes {name}"
    )


def test_readme_documents_exit_codes_and_completion() -> None:
    text = README.read_text(encoding="utf-8")
    assert "Exit codes" in text
    assert "papernotes completion" in text
    assert "NO_COLOR" in text
