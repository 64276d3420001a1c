"""Readable search output (issue 14): lines fit the terminal's width, broken between words;
``-n`` is ``--limit``, an unknown short option is refused while ``-word`` stays a negated
word; a script is told on stderr when ``--limit`` cut its list; a mistyped command gets a
suggestion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from papernotes.cli import cli
from papernotes.render.search import cells, wrapped
from tests.test_search_cli import NOTES

LONG = " ".join(["preference"] + [f"word{i}" for i in range(40)] + ["supercalifragilistic" * 4])


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    for name, text in NOTES.items():
        (root / f"{name}.md").write_text(text, encoding="utf-8")
    (root / "long.md").write_text(
        f"---\ntitle: {' '.join(['A Very Long Title About Preference'] * 4)}\n"
        "authors: [Ann Lee, Bo Chen, Cy Dee, Di Eve]\ntopics: [alignment, evaluation]\n"
        f"tags: [one, two, three]\n---\n{LONG}\n",
        encoding="utf-8",
    )
    return root


def run(notes: Path, *args: str, columns: str | None = None) -> Result:
    env = {"COLUMNS": columns} if columns else {}
    return CliRunner().invoke(
        cli, ["--notes-dir", str(notes), *args], env=env, catch_exceptions=False
    )


@pytest.mark.parametrize("width", [40, 80, 120])
def test_lines_fit_the_width_and_break_between_words(notes: Path, width: int) -> None:
    result = run(notes, "search", "preference", "--explain", columns=str(width))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert all(cells(line) <= width for line in lines), [x for x in lines if cells(x) > width]
    words = set(re.findall(r"\S+", run(notes, "search", "preference", "--explain").stdout))
    # every word of a wrapped line is a word of the unwrapped output, except a word longer
    # than a line, cut where the line ends
    for line in lines:
        for word in line.split():
            assert word in words or "supercalifragilistic" in word, word


def test_on_a_pipe_without_columns_lines_are_as_long_as_they_are(notes: Path) -> None:
    lines = run(notes, "search", "preference").stdout.splitlines()
    assert any(len(line) > 120 for line in lines)


def test_wrapping_keeps_styles_and_counts_wide_characters() -> None:
    def style(text: str, **kwargs: object) -> str:
        return f"<{text}>" if kwargs else text

    segments = [("中文中文 bold words", {"bold": True}), (" plain tail here", {})]
    assert wrapped(segments, 24, "1. ", "   ", style) == [
        "1. <中文中文 bold words>",
        "   plain tail here",
    ]
    assert wrapped([("中" * 15, {})], 24, "", "") == ["中" * 12, "中" * 3]
    assert wrapped([("x" * 50, {})], 24, "", "") == ["x" * 24, "x" * 24, "xx"]
    assert wrapped([("a b", {})], None, "> ", "") == ["> a b"]


def test_n_is_the_limit(notes: Path) -> None:
    limited = run(notes, "search", "preference", "-n", "1", "--format", "ids")
    assert limited.stdout.count("\n") == 1
    assert run(notes, "search", "preference", "-n1", "--format", "ids").stdout == limited.stdout
    assert run(notes, "search", "-n", "1", "preference", "--format", "ids").stdout == (
        limited.stdout
    )


@pytest.mark.parametrize("option", ["-x", "-q", "-N"])
def test_an_unknown_short_option_is_refused(notes: Path, option: str) -> None:
    result = run(notes, "search", "dpo", option)
    assert result.exit_code == 2
    assert f"No such option '{option}'" in result.stderr


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (("alignment -rlhf",), "kto\nlong\n"),  # quoted: one argument
        (("alignment", "-rlhf"), "kto\nlong\n"),
        (("alignment", "-nlp", "-rlhf"), "kto\nlong\n"),  # not "-n lp"
        (("alignment", "-tag:rlhf"), "kto\nlong\n"),
        (("alignment", "--", "-rlhf"), "kto\nlong\n"),
        (("-2", "mixture"), "hostile\nmixtral\n"),  # a digit is a word
    ],
)
def test_a_dash_word_is_a_negated_word(notes: Path, args: tuple[str, ...], ids: str) -> None:
    result = run(notes, "search", "--format", "ids", *args)
    assert result.exit_code == 0
    assert sorted(result.stdout.splitlines()) == ids.splitlines()


def test_h_is_help(notes: Path) -> None:
    assert "Query language" in run(notes, "search", "-h").stdout
    assert "Query language" in run(notes, "search", "dpo", "-h").stdout


@pytest.mark.parametrize("fmt", ["ids", "json", "csv"])
def test_a_script_is_told_on_stderr_when_the_limit_cut_the_list(notes: Path, fmt: str) -> None:
    result = run(notes, "search", "preference", "--limit", "1", "--format", fmt)
    assert result.exit_code == 0
    assert result.stderr == "1 of 3 notes (--limit to see more)\n"
    assert "--limit" not in result.stdout
    whole = run(notes, "search", "preference", "--format", fmt)
    assert whole.stderr == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("serch", "Error: No such command 'serch'. Did you mean 'search'?"),
        ("lst", "Error: No such command 'lst'. Did you mean 'list' or 'set'?"),
        ("frobnicate", "Error: No such command 'frobnicate'."),
    ],
)
def test_a_mistyped_command_suggests_the_right_one(notes: Path, typed: str, message: str) -> None:
    result = run(notes, typed, "dpo")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message
