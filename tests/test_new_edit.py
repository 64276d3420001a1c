"""``papernotes new``, ``edit`` and ``open``: templates, refusals, the editor run without a shell,
and the browser."""

from __future__ import annotations

import datetime as dt
import stat
import sys
from pathlib import Path

import pytest

from kbfactory import make_kb, run
from papernotes.disk.store import open_store
from papernotes.edit.editor import editor_command
from papernotes.edit.newnote import NewNote, create, in_papers, render
from papernotes.engine.kb import open_kb
from papernotes.errors import ConfigError, UsageError, WriteRefused
from papernotes.note.parse import parse_text

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake editors are shell scripts")

TODAY = dt.date.today().isoformat()


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def fake_editor(tmp_path: Path, script: str, name: str = "fake editor") -> Path:
    """An executable that edits the file given as its last argument (``$last``)."""
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\nfor last; do :; done\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_new_writes_the_default_template(notes: Path) -> None:
    result = run(
        notes, "new", "Mixtral", "of", "Experts", "--arxiv", "arXiv:2401.04088v1",
        "--author", "Albert Q. Jiang", "--author", "Alexandre Sablayrolles",
        "--tag", "#moe", "--topic", "architectures", "--alias", "Mixtral",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    path = notes / "mixtral-of-experts.md"
    assert result.stdout.strip().endswith("mixtral-of-experts.md")
    assert (
        path.read_text(encoding="utf-8")
        == f"""\
---
title: Mixtral of Experts
aliases:
- Mixtral
authors:
- Albert Q. Jiang
- Alexandre Sablayrolles
year: 2024
added: {TODAY}
arxiv: '2401.04088'
url: https://arxiv.org/abs/2401.04088
topics:
- architectures
tags:
- moe
status: to-read
---

## Summary

## Key ideas

## Questions
"""
    )
    shown = run(notes, "show", "mixtral")
    assert shown.exit_code == 0
    assert shown.stdout.startswith("Mixtral of Experts\nAlbert Q. Jiang, Alexandre Sablayrolles\n")


def test_new_without_options_leaves_fields_to_fill(notes: Path) -> None:
    result = run(notes, "new", "A Paper: With a Colon")
    assert result.exit_code == 0
    text = (notes / "a-paper-with-a-colon.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: 'A Paper: With a Colon'\nauthors: []\nyear:\n")
    parsed = parse_text(text, "a-paper-with-a-colon.md")
    assert parsed.paper is not None and parsed.errors == ()
    assert parsed.paper.status == "to-read"


def test_new_uses_template_md(notes: Path) -> None:
    (notes / "template.md").write_text(
        '---\ntitle: x\ntags: [inbox]\nstatus: reading\nsource: "{{url}}"\n---\n'
        "# {{title}}\n\nNoted on {{date}} as {{id}} ({{arxiv}}).\n",
        encoding="utf-8",
    )
    result = run(notes, "new", "Some Paper", "--tag", "new", "--arxiv", "2401.00001")
    assert result.exit_code == 0, result.output
    text = (notes / "some-paper.md").read_text(encoding="utf-8")
    assert text == (
        "---\ntitle: Some Paper\nyear: 2024\narxiv: '2401.00001'\n"
        "url: https://arxiv.org/abs/2401.00001\ntags:\n- inbox\n- new\nstatus: reading\n"
        "source: https://arxiv.org/abs/2401.00001\n---\n"
        f"# Some Paper\n\nNoted on {TODAY} as some-paper (2401.00001).\n"
    )
    assert run(notes, "list", "--format", "ids").stdout.count("\n") == 6  # template.md not a note


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("KTO",), 1, "Error: a note with id 'kto' exists (kto.md); choose another with --id\n"),
        (("Another", "--arxiv", "2402.01306"), 1,
         "Error: arXiv:2402.01306 already has a note: kto (kto.md)\n"),
        (("X", "--id", "../../etc/passwd"), 2,
         "Error: not a valid id: '../../etc/passwd' (use lowercase letters, digits and dashes, "
         "like 'etc-passwd')\n"),
        (("X", "--id", "CON"), 2,
         "Error: not a valid id: 'CON' (use lowercase letters, digits and dashes, like "
         "'con-note')\n"),
        (("X", "--arxiv", "nonsense"), 2,
         "Error: --arxiv: not an arXiv id or URL: 'nonsense' (expected like 2305.18290)\n"),
        (("   ",), 2, "Error: the title is empty\n"),
    ],
)  # fmt: skip
def test_new_refuses(notes: Path, args: tuple[str, ...], code: int, message: str) -> None:
    before = sorted(p.name for p in notes.iterdir())
    result = run(notes, "new", *args)
    assert result.exit_code == code
    assert result.stderr == message
    assert sorted(p.name for p in notes.iterdir()) == before


def test_new_never_overwrites_a_file(notes: Path) -> None:
    (notes / "sub").mkdir()
    (notes / "broken-note.md").write_text("---\nnot a note: [\n---\n", encoding="utf-8")
    result = run(notes, "new", "Broken Note")
    assert result.exit_code == 1
    assert "already exists; not overwritten" in result.stderr
    assert (notes / "broken-note.md").read_text(encoding="utf-8") == "---\nnot a note: [\n---\n"


def test_new_slug_of_hostile_title_stays_inside(notes: Path) -> None:
    result = run(notes, "new", "../../../tmp/x \x1b[31m [bold]NUL")
    assert result.exit_code == 0
    assert (notes / "tmp-x-31m-bold-nul.md").is_file()


def test_new_warns_outside_taxonomy(notes: Path) -> None:
    (notes / "papernotes.toml").write_text('[taxonomy]\ntopics = ["alignment"]\n', "utf-8")
    result = run(notes, "new", "P", "--topic", "aligment")
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: topic 'aligment' is not in the taxonomy of papernotes.toml\n"
    )


def test_new_edit_runs_editor_then_checks(
    notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = fake_editor(tmp_path, 'printf "\\nMy notes.\\n" >> "$last"')
    monkeypatch.setenv("EDITOR", f"'{editor}' --wait")
    result = run(notes, "new", "Edited Paper", "--edit")
    assert result.exit_code == 0, result.output
    assert (notes / "edited-paper.md").read_text(encoding="utf-8").endswith("My notes.\n")
    assert result.stderr == ""


def test_new_edit_reports_errors(
    notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = fake_editor(tmp_path, 'printf -- "---\\nyear: [twenty\\n---\\n" > "$last"')
    monkeypatch.setenv("VISUAL", f"'{editor}'")
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")  # VISUAL wins
    result = run(notes, "new", "Soon Broken", "--edit")
    assert result.exit_code == 1
    assert "invalid YAML front matter" in result.stderr
    assert "fix the note and run papernotes check" in result.stderr


def test_edit_existing_note(notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "args.txt"
    editor = fake_editor(tmp_path, f'printf "%s\\n" "$*" > "{log}"')
    monkeypatch.setenv("EDITOR", f"'{editor}' -n")
    result = run(notes, "edit", "direct preference")
    assert result.exit_code == 0, result.output
    assert log.read_text(encoding="utf-8") == f"-n {notes / 'direct-preference-optimization.md'}\n"
    assert result.stderr.endswith("wikilink [[missing-note]] points to no note\n")


def test_a_folders_editor_setting_is_never_run(
    notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: a downloaded folder's papernotes.toml chose the program ``edit`` and ``new
    --edit`` ran. It is ignored, with a notice on every command; $VISUAL/$EDITOR choose."""
    marker = tmp_path / "pwned"
    evil = fake_editor(tmp_path, f'touch "{marker}"', name="evil")
    log = tmp_path / "args.txt"
    editor = fake_editor(tmp_path, f'printf "%s\\n" "$*" > "{log}"')
    config = notes / "papernotes.toml"
    config.write_text(f"editor = \"'{evil}' -n\"\n", encoding="utf-8")
    notice = (
        f"warning: {config}: editor = \"'{evil}' -n\" ignored: a notes folder does not choose "
        "a program to run (set $VISUAL or $EDITOR)\n"
    )
    assert (run(notes, "list", "--format", "ids").stderr) == notice
    monkeypatch.setenv("EDITOR", f"'{editor}'")
    result = run(notes, "edit", "kto")
    assert (result.exit_code, result.stderr) == (0, notice)
    assert log.read_text(encoding="utf-8") == f"{notes / 'kto.md'}\n"
    result = run(notes, "new", "Fresh Paper", "--edit")
    assert (result.exit_code, result.stderr) == (0, notice)
    assert log.read_text(encoding="utf-8") == f"{notes / 'fresh-paper.md'}\n"
    monkeypatch.delenv("EDITOR")
    result = run(notes, "edit", "kto")
    assert (result.exit_code, result.stderr) == (
        2,
        f"{notice}Error: no editor: set $VISUAL or $EDITOR (for example EDITOR=nano)\n",
    )
    assert not marker.exists()


def test_editor_value_never_goes_through_a_shell(
    notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "pwned"
    monkeypatch.setenv("EDITOR", f"true; touch {marker}")
    result = run(notes, "edit", "kto")
    assert result.exit_code == 2
    assert result.stderr == "Error: editor not found: 'true;' (check $VISUAL / $EDITOR)\n"
    monkeypatch.setenv("EDITOR", f"true $(touch {marker}) `touch {marker}`")
    assert run(notes, "edit", "kto").exit_code == 0  # `true` ran, with odd arguments
    assert not marker.exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"EDITOR": "vim"}, ["vim"]),
        ({"VISUAL": "code --wait", "EDITOR": "vim"}, ["code", "--wait"]),
        ({"EDITOR": '"/Applications/My Editor/edit" -w'}, ["/Applications/My Editor/edit", "-w"]),
        ({"VISUAL": "  ", "EDITOR": "nano"}, ["nano"]),
    ],
)
def test_editor_command(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: list[str]
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert editor_command() == expected


def test_no_editor_is_a_clear_error(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="no editor"):
        editor_command()
    monkeypatch.setenv("EDITOR", "'unbalanced")
    with pytest.raises(ConfigError, match="cannot read"):
        editor_command()
    monkeypatch.delenv("EDITOR")
    result = run(notes, "edit", "kto")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no editor: set $VISUAL or $EDITOR")


def test_editor_failure_exits_1(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "false")
    result = run(notes, "edit", "kto")
    assert result.exit_code == 1
    assert result.stderr == "Error: the editor exited with status 1\n"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []

    def fake_open(url: str, *args: object, **kwargs: object) -> bool:
        urls.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    return urls


@pytest.mark.parametrize(
    ("ref", "url"),
    [
        ("dpo", "https://arxiv.org/abs/2305.18290"),
        ("openelm", "https://machinelearning.apple.com/research/openelm"),
    ],
)
def test_open(notes: Path, opened: list[str], ref: str, url: str) -> None:
    result = run(notes, "open", ref)
    assert result.exit_code == 0
    assert opened == [url]
    assert run(notes, "open", ref, "--print").stdout == url + "\n"


def test_open_refuses_other_schemes(tmp_path: Path, opened: list[str]) -> None:
    notes = make_kb(
        tmp_path,
        {
            "js": "---\ntitle: JS\nurl: 'javascript:alert(1)'\n---\n",
            "doi": "---\ntitle: D\nurl: 'file:///etc/passwd'\ndoi: 10.1000/xyz\n---\n",
        },
    )
    result = run(notes, "open", "js")
    assert result.exit_code == 1
    assert result.stderr == "Error: js has no url, arxiv or doi to open\n"
    assert run(notes, "open", "doi").exit_code == 0
    assert opened == ["https://doi.org/10.1000/xyz"]


def test_open_without_browser(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: False)
    result = run(notes, "open", "kto")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no browser could be started; the address is https://arxiv.org/abs/2402.01306\n"
    )


def test_render_rejects_toml_template() -> None:
    with pytest.raises(ConfigError, match="use YAML front matter"):
        render(NewNote("T"), "+++\ntitle = 'x'\n+++\n")
    with pytest.raises(UsageError):
        render(NewNote("T", id="Not Valid"))


def test_create_with_a_list_of_papers(tmp_path: Path) -> None:
    store = open_store(make_kb(tmp_path, {"a": "---\ntitle: A\narxiv: 2401.00001\n---\n"}))
    papers = open_kb(store).papers()
    with pytest.raises(WriteRefused, match=r"arXiv:2401\.00001 already has a note: a"):
        create(store, in_papers(papers), NewNote("B", arxiv="2401.00001"))
    with pytest.raises(WriteRefused, match="a note with id 'a' exists"):
        create(store, in_papers(papers), NewNote("Other", id="a"))
    assert create(store, in_papers(papers), NewNote("B")).name == "b.md"
