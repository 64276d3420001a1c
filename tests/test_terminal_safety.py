"""What reaches the terminal (issue 12): text from a note is made harmless last, after any
decoding. Holes found: the ids of related notes in ``show`` went out raw (an OSC 52 clipboard
write in a downloaded note's id or file name), the Markdown renderer decoded ``&#x202E;`` in a
body after it had been sanitised, the index's notices (which name a path a notes folder's
papernotes.toml can choose) and the paths ``add`` and ``new`` print were not sanitised, and
shell completion offered ids and titles with control characters to the shell."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import tty
from pathlib import Path

import pytest

from kbfactory import make_kb, run
from test_hostile_input import FORBIDDEN, STYLING

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # puts "echo pwned" on the clipboard
EVIL_ID = f"evil{OSC52}"
ENTITIES = "&#x202E;gnp.exe &#x2066;isolated&#x2069; &#13;CR &#12;FF &#x9b;31m &#27;[2J"


def hostile_kb(tmp_path: Path) -> Path:
    """The knowledge base of the tests, with a note whose id and body are hostile (it links to
    DPO and shares its words, so that ``show dpo`` lists it three times: a backlink, a link
    and a related note) and a note whose file name is."""
    notes = make_kb(tmp_path)
    (notes / "evil.md").write_text(
        "---\n"
        f"id: {json.dumps(EVIL_ID)}\n"
        "title: Preference Optimization Evil\n"
        "aliases: [EVIL]\n"
        "tags: [dpo, rlhf, preference-optimization]\n"
        "topics: [alignment]\n"
        "related: [direct-preference-optimization]\n"
        "---\n"
        "DPO reward model policy preference pairs classification loss.\n\n"
        f"{ENTITIES}\n\n`code {ENTITIES}`\n\n[a link &#x202E;](https://example.org/&#x202E;)\n",
        encoding="utf-8",
    )
    (notes / f"file{OSC52}.md").write_text(
        "---\ntitle: Evil File Name\ntags: [dpo]\n---\nDPO reward model policy preference pairs.\n",
        encoding="utf-8",
    )
    dpo = notes / "direct-preference-optimization.md"
    linked = f"related: [kto, {json.dumps(EVIL_ID)}]"
    dpo.write_text(dpo.read_text("utf-8").replace("related: [kto]", linked), "utf-8")
    return notes


def terminal_output(notes: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """stdout of papernotes on a pseudo-terminal (colours on, like a user's), and its
    stderr: everything the user's terminal would receive."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environ.update(TERM="xterm-256color", COLUMNS="120", LINES="500", PAGER="cat", **(env or {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=environ,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    stderr = proc.stderr.read() if proc.stderr else b""
    assert proc.wait(timeout=60) in (0, 1), stderr
    assert b"Traceback" not in stderr, stderr
    return b"".join(chunks).decode("utf-8") + stderr.decode("utf-8")


# the hyperlinks papernotes makes itself: to web addresses (arXiv, a DOI, a note's url)
OWN_LINKS = re.compile(r"\x1b\]8;(?:id=\d+)?;(?:https://[\w./:%?=&#~+-]*)?\x1b\\")


def harmful(output: str) -> list[str]:
    """What of ``output`` could drive a terminal: controls other than papernotes' colours and
    hyperlinks."""
    return FORBIDDEN.findall(OWN_LINKS.sub("", STYLING.sub("", output)))


@pytest.mark.parametrize(
    "args",
    [
        ("show", "dpo", "--no-pager"),
        ("show", "EVIL", "--no-pager"),
        ("show", "Evil File Name", "--no-pager"),
        ("show", "dpo"),  # through the pager
        ("related", "dpo"),
        ("related", "EVIL"),
        ("list",),
        ("search", "preference"),
        ("search", "preference", "--explain"),
        ("tags",),
        ("stats",),
        ("check",),
        ("index", "--status"),
        ("show", "evil"),  # ambiguous: the candidates on stderr
        ("show", "Evil Preference Optimisation"),  # found by the title's words
    ],
    ids=" ".join,
)
def test_nothing_from_a_note_drives_the_terminal(tmp_path: Path, args: tuple[str, ...]) -> None:
    notes = hostile_kb(tmp_path)
    shown = terminal_output(notes, *args)
    assert not harmful(shown), shown


def test_show_prints_the_hostile_ids_and_entities_visibly(tmp_path: Path) -> None:
    notes = hostile_kb(tmp_path)
    shown = STYLING.sub("", terminal_output(notes, "show", "dpo", "--no-pager"))
    assert "evil\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in shown  # as a link, a backlink, related
    assert "file\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in shown
    body = STYLING.sub("", terminal_output(notes, "show", "EVIL", "--no-pager"))
    assert "\\u202egnp.exe" in body  # decoded by the Markdown renderer, then made visible
    assert "\\u2066isolated\\u2069" in body


def test_notices_and_paths_are_made_harmless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index's notices name a location that a notes folder's papernotes.toml may set."""
    notes = hostile_kb(tmp_path)
    notice = f"cannot write the index {OSC52}\u202e; working from memory"
    monkeypatch.setattr(
        "papernotes.engine.kb.KnowledgeBase.notices", property(lambda self: [notice])
    )
    for args in (("list",), ("search", "dpo"), ("show", "dpo")):
        result = run(notes, *args)
        assert not FORBIDDEN.findall(result.stderr), (args, result.stderr)
        assert "\\x1b]52;c;" in result.stderr


def test_check_names_a_hostile_file_harmlessly(tmp_path: Path) -> None:
    notes = hostile_kb(tmp_path)
    (notes / f"bad{OSC52}.md").write_text("---\ntitle: Bad\n\tyear: 2020\n---\n", "utf-8")
    checked = run(notes, "check")
    assert checked.exit_code == 1
    assert "bad\\x1b]52;c;ZWNobyBwd25lZA==\\x07.md:3: error: TAB character" in checked.stdout
    assert not FORBIDDEN.findall(checked.output)
    (notes / f"taken{OSC52}.md").write_text("---\nid: taken\ntitle: Taken\n---\n", "utf-8")
    refused = run(notes, "new", "Some Title", "--id", "taken")  # names the note's file
    assert refused.exit_code == 1
    assert "taken\\x1b]52;c;ZWNobyBwd25lZA==\\x07.md" in refused.stderr
    assert not FORBIDDEN.findall(refused.output)


@pytest.mark.parametrize(
    ("words", "hidden"),
    [("papernotes show ", EVIL_ID), ("papernotes list --tag ", "\x1b[31mred")],
)
def test_completion_offers_no_control_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: str, hidden: str
) -> None:
    """The shell shows the candidates (and, in zsh and fish, the titles) as they are."""
    notes = hostile_kb(tmp_path)
    (notes / "red.md").write_text(
        f"---\ntitle: {json.dumps('Red ' + OSC52)}\ntags: [{json.dumps(hidden)}, ok]\n---\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PAPERNOTES_DIR", str(notes))
    monkeypatch.setenv("_PAPERNOTES_COMPLETE", "zsh_complete")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split())))
    from click.testing import CliRunner

    from papernotes.cli import cli

    result = CliRunner().invoke(cli, [], prog_name="papernotes")
    assert result.exit_code == 0, result.output
    assert result.output  # some candidates
    assert not FORBIDDEN.findall(result.output), result.output


def test_add_names_the_note_it_found_harmlessly(tmp_path: Path) -> None:
    """Answered offline: the paper has a note already, in a file with a hostile name."""
    notes = hostile_kb(tmp_path)
    (notes / f"paper{OSC52}.md").write_text(
        "---\ntitle: Known Paper\narxiv: 2101.00001\n---\n", encoding="utf-8"
    )
    result = run(notes, "add", "2101.00001")
    assert result.exit_code == 0, result.output
    assert "paper\\x1b]52;c;ZWNobyBwd25lZA==\\x07.md: Known Paper" in result.stdout
    assert not FORBIDDEN.findall(result.output)


@pytest.mark.parametrize(
    "args", [("list",), ("search", "dpo"), ("index",), ("index", "--status")], ids=" ".join
)
def test_an_index_notice_names_its_path_harmlessly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """A directory where the index should be: the command works from memory and says where
    (a path with an escape sequence in it here)."""
    notes = hostile_kb(tmp_path)
    where = tmp_path / f"index{OSC52}"
    where.mkdir()
    monkeypatch.setenv("PAPERNOTES_INDEX", str(where))
    result = run(notes, *args)
    assert result.exit_code == 0, result.output
    assert "index\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in result.stderr
    assert not FORBIDDEN.findall(result.output)


def test_a_notice_found_at_the_end_is_made_harmless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that finds the index damaged heals it; its notice is printed as the command
    ends (cli.common.get_kb)."""
    notes = hostile_kb(tmp_path)
    found: list[str] = []

    def notices(self: object) -> list[str]:
        found.append(f"healed the index {OSC52}\u202e")  # one more each time it is asked
        return list(found)

    monkeypatch.setattr("papernotes.engine.kb.KnowledgeBase.notices", property(notices))
    result = run(notes, "list", "--format", "ids")
    assert result.stderr.count("healed the index") >= 2
    assert not FORBIDDEN.findall(result.stderr), result.stderr
