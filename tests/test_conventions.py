"""Conventions every command follows: finding the notes directory, configuration, exit codes,
no tracebacks, harmless error messages, colours, and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

from kbfactory import make_kb, run
from papernotes import __version__
from papernotes.cli import COMMANDS, cli
from papernotes.render import console


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def invoke(*args: str, env: dict[str, str] | None = None) -> object:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == f"papernotes, version {__version__}\n"


def test_notes_dir_from_environment(notes: Path) -> None:
    result = CliRunner().invoke(
        cli, ["list", "--format", "ids"], env={"PAPERNOTES_DIR": str(notes)},
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout.split()[0] == "attention"


def test_notes_dir_found_walking_up(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = notes.parent / "papers" / "2024" / "drafts"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = CliRunner().invoke(cli, ["show", "kto"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith("KTO: Model Alignment")
    assert f"Note: kto ({(notes / 'kto.md').resolve()})" in result.stdout


def test_option_beats_environment(notes: Path, tmp_path: Path) -> None:
    other = make_kb(tmp_path / "other", {"solo": "---\ntitle: Solo\n---\n"})
    result = CliRunner().invoke(
        cli, ["--notes-dir", str(other), "list", "--format", "ids"],
        env={"PAPERNOTES_DIR": str(notes)}, catch_exceptions=False,
    )  # fmt: skip
    assert result.stdout == "solo\n"


def test_no_notes_dir_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for command in ("list", "stats", "tags", "export"):
        result = CliRunner().invoke(cli, [command], catch_exceptions=False)
        assert result.exit_code == 2
        assert result.stderr == (
            "Error: no notes directory found: pass --notes-dir DIR, set PAPERNOTES_DIR, "
            "or run inside a folder that has a notes/ directory\n"
        )
    result = CliRunner().invoke(cli, ["--notes-dir", str(tmp_path / "nope"), "list"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("format = [", "invalid configuration"),
        ("format = 5\n", "papernotes.toml: format must be a non-empty string"),
        ("taxonomy = 3\n", "papernotes.toml: [taxonomy] must be a table"),
        ("[taxonomy]\ntopics = 'a'\n", "taxonomy.topics must be a list of strings"),
    ],
)
def test_bad_configuration_exits_2(notes: Path, config: str, message: str) -> None:
    (notes / "papernotes.toml").write_text(config, encoding="utf-8")
    result = run(notes, "list")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_config_beside_the_notes_dir(notes: Path) -> None:
    (notes.parent / "papernotes.toml").write_text('format = "ids"\n', encoding="utf-8")
    assert run(notes, "list", "--tag", "sft").stdout == "flame\n"
    assert run(notes, "list", "--tag", "sft", "--format", "json").stdout.startswith("[")


@pytest.mark.parametrize(
    "args",
    [
        ("show", ""),
        ("show", "\x00\x1b[31m"),
        ("show", "[bold]x[/]"),
        ("show", "-"),
        ("related", "*"),
        ("edit", "nothing-like-this"),
        ("open", "nothing-like-this"),
        ("list", "--year", "2024..2023"),
        ("list", '"unclosed'),
        ("list", "(", ")", "OR"),
        ("list", "--read-since", "2024-13-45"),
        ("export", "--format", "csv", "title:"),
        ("new", "\x00"),
        ("tags", "--limit", "0"),
    ],
)
def test_no_traceback_on_user_input(notes: Path, args: tuple[str, ...]) -> None:
    result = run(notes, *args)  # catch_exceptions=False: any exception fails the test
    assert result.exit_code in (0, 1, 2)
    assert "\x1b[" not in result.stderr  # nothing the user typed reaches the terminal raw


def test_error_messages_are_harmless(tmp_path: Path) -> None:
    evil = '---\ntitle: "Same \\e[2J[bold]title[/]"\n---\n'
    notes = make_kb(tmp_path, {"one": evil, "two": evil})
    result = run(notes, "show", "same title")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert "  one  Same \\x1b[2J[bold]title[/]\n" in result.stderr


def test_plain_output_on_a_pipe_has_no_escape_sequences(notes: Path) -> None:
    for args in (["show", "dpo"], ["list"], ["tags"], ["stats"], ["related", "dpo"]):
        result = run(notes, *args)
        assert "\x1b" not in result.stdout, args


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert console().no_color
    monkeypatch.delenv("NO_COLOR")
    assert not console().no_color


def completions(args: list[str], incomplete: str) -> list[str]:
    complete = ShellComplete(cli, {}, "papernotes", "_PAPERNOTES_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete)]


def test_completion_of_commands_and_options() -> None:
    assert completions([], "st") == ["stats"]
    assert set(completions([], "")) >= set(COMMANDS)
    assert completions(["list"], "--so") == ["--sort"]
    assert completions(["list", "--sort"], "") == ["title", "year", "read", "added", "rating"]


def test_completion_of_ids_tags_topics(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERNOTES_DIR", str(notes))
    assert completions(["show"], "") == [
        "attention", "direct-preference-optimization", "flame", "kto", "openelm",
    ]  # fmt: skip
    assert completions(["edit"], "di") == ["direct-preference-optimization"]
    assert completions(["list", "--tag"], "") == [
        "dpo", "preference-optimization", "open-source", "rlhf", "sft", "transformer",
    ]  # fmt: skip
    assert completions(["list", "--tag"], "#pre") == ["preference-optimization"]
    assert completions(["export", "--topic"], "al") == ["alignment"]
    assert completions(["new", "x", "--topic"], "lang") == ["language-models"]
    assert completions(["--notes-dir", str(notes), "related"], "k") == ["kto"]


def test_completion_never_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no notes directory anywhere
    assert completions(["show"], "") == []
    assert completions(["list", "--tag"], "") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script(shell: str) -> None:
    result = invoke("completion", shell)
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert "_PAPERNOTES_COMPLETE" in result.stdout  # type: ignore[attr-defined]


@pytest.mark.skipif(sys.platform == "win32", reason="bash")
def test_completion_through_the_real_entry_point(notes: Path) -> None:
    env = dict(os.environ)
    env.update(
        _PAPERNOTES_COMPLETE="bash_complete",
        COMP_WORDS="papernotes show fl",
        COMP_CWORD="2",
        PAPERNOTES_DIR=str(notes),
    )
    result = subprocess.run(
        [sys.executable, "-m", "papernotes"], env=env, capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip
    assert result.stdout.splitlines() == ["plain,flame"]
