"""The console-script entry point: ``--version`` without importing the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from papernotes import __version__
from papernotes.__main__ import main
from papernotes.cli import cli


def test_version_fast_path_prints_what_click_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["papernotes", "--version"])
    main()
    fast = capsys.readouterr().out
    assert fast == CliRunner().invoke(cli, ["--version"], catch_exceptions=False).output
    assert fast == f"papernotes, version {__version__}\n"


def test_version_does_not_import_click() -> None:
    code = (
        "import sys; sys.argv = ['papernotes', '--version'];"
        "from papernotes.__main__ import main; main();"
        "print(sorted(m for m in ('click', 'yaml', 'rich', 'sqlite3') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [f"papernotes, version {__version__}", "[]"]


def test_other_arguments_go_to_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["papernotes", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 0
    assert "Usage: papernotes" in capsys.readouterr().out


def test_parser_imports_pyyaml_only_when_a_note_is_parsed() -> None:
    code = (
        "import sys; import papernotes.parse as p; before = 'yaml' in sys.modules;"
        "p.parse_text('---\\ntitle: T\\n---\\n', 'x.md'); print(before, 'yaml' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]
