"""``papernotes show``: reference resolution, exact plain output, raw and JSON, hostile text,
the rich rendering and the pager."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from rich.console import Console

from kbfactory import NOTES, make_kb, run
from papernotes.disk.store import open_store
from papernotes.engine.kb import open_kb
from papernotes.engine.neighbours import connections
from papernotes.engine.resolve import resolve, resolve_in_kb
from papernotes.errors import Ambiguous, NotFound, UsageError
from papernotes.render.pager import page, pager_command
from papernotes.render.paper import print_to


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


@pytest.fixture
def papers(notes: Path) -> list:  # type: ignore[type-arg]
    return open_kb(open_store(notes)).papers()


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("kto", "kto"),  # id
        ("KTO", "kto"),  # id, any case (also the alias)
        ("flame", "flame"),
        ("dpo", "direct-preference-optimization"),  # alias, case-insensitive
        ("Dpo", "direct-preference-optimization"),
        ("2305.18290", "direct-preference-optimization"),  # arXiv id
        ("arXiv:2305.18290v2", "direct-preference-optimization"),
        ("https://arxiv.org/abs/2402.01306", "kto"),  # arXiv URL
        ("https://arxiv.org/pdf/1706.03762v7.pdf", "attention"),
        ("10.48550/arXiv.2405.01525", "flame"),  # arXiv DOI
        ("https://machinelearning.apple.com/research/openelm/", "openelm"),  # url
        ("notes/openelm.md", "openelm"),  # a file name, as shell completion gives it
        ("direct-pref", "direct-preference-optimization"),  # unique id prefix
        ("atten", "attention"),
        ("direct preference", "direct-preference-optimization"),  # words of the title
        ("prospect theoretic", "kto"),
        ("attention is all you need", "attention"),
        ("atention is all you ned", "attention"),  # typos
        ("factuality aware alignment", "flame"),
        ("efficient language model family", "openelm"),
    ],
)
def test_resolve(
    notes: Path, papers: list, ref: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[type-arg]
    assert resolve(papers, ref).id == expected
    kb = open_kb(open_store(notes))
    assert resolve_in_kb(kb, ref).id == expected  # through the index
    monkeypatch.setattr("papernotes.engine.resolve.SHORTLIST", 2)  # as on a large knowledge base
    assert resolve(papers, ref).id == expected
    assert resolve_in_kb(kb, ref).id == expected


@pytest.mark.parametrize(
    ("ref", "error", "names"),
    [
        ("language models", Ambiguous, ["flame", "openelm", "direct-preference-optimization"]),
        ("alignment", Ambiguous, ["flame", "kto"]),
        ("zebra crossing", NotFound, []),
        ("Direct Preferance Optimisatoin Secretly", NotFound, []),
        ("   ", UsageError, []),
    ],
)
def test_resolve_errors(papers: list, ref: str, error: type, names: list[str]) -> None:  # type: ignore[type-arg]
    with pytest.raises(error) as info:
        resolve(papers, ref)
    if isinstance(info.value, Ambiguous):
        listed = [c.split()[0] for c in info.value.candidates]
        assert sorted(listed) == sorted(names)


def test_resolve_not_found_suggests_nearest(papers: list) -> None:  # type: ignore[type-arg]
    with pytest.raises(NotFound) as info:
        resolve(papers, "prospect optimisation theory")
    assert info.value.suggestions[0].startswith("kto  KTO:")


SHOW_KTO = """\
KTO: Model Alignment as Prospect Theoretic Optimization
Kawin Ethayarajh, Winnie Xu, Niklas Muennighoff, Dan Jurafsky, Douwe Kiela
2024
arXiv: 2402.01306  https://arxiv.org/abs/2402.01306
Aliases: KTO
Topics: alignment
Tags: #preference-optimization
Status: to-read · Added: 2024-03-02
Note: kto ({path})

KTO aligns a policy with binary desirable or undesirable feedback instead of preference pairs,
unlike the reward log-ratio of DPO.

Backlinks
  direct-preference-optimization  Direct Preference Optimization: Your Language Model is Secretly a Reward Model (2023)

Related
  0.77  direct-preference-optimization  Direct Preference Optimization: Your Language Model is Secretly a Reward Model (2023)
  0.29  flame  FLAME: Factuality-Aware Alignment for Large Language Models (2024)
"""  # noqa: E501


def test_show_plain_exact(notes: Path) -> None:
    result = run(notes, "show", "kto", "--related", "2")
    assert result.exit_code == 0
    assert result.stdout == SHOW_KTO.format(path=notes / "kto.md")
    assert result.stderr == ""


def test_show_links_resolved_and_unresolved(notes: Path) -> None:
    result = run(notes, "show", "dpo", "--related", "0")
    assert result.exit_code == 0
    tail = result.stdout.split("\nLinks\n")[1]
    assert tail == (
        "  kto  KTO: Model Alignment as Prospect Theoretic Optimization (2024)\n"
        "  flame  FLAME: Factuality-Aware Alignment for Large Language Models (2024)\n"
        "  [[missing-note]]  (no such note)\n"
    )
    header = result.stdout.splitlines()[:9]
    assert header[2] == "2023 · NeurIPS 2023"
    assert header[7] == "Status: read · Rating: 5/5 · Read: 2024-02-08 · Added: 2024-02-01"


def test_show_raw_is_the_file(notes: Path) -> None:
    result = run(notes, "show", "dpo", "--raw")
    assert result.exit_code == 0
    assert result.stdout_bytes == (notes / "direct-preference-optimization.md").read_bytes()


def test_show_json_is_the_whole_model(notes: Path) -> None:
    result = run(notes, "show", "flame", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["id"] == "flame"
    assert data["arxiv"] == "2405.01525"
    assert data["topics"] == ["alignment", "factuality"]
    assert data["body"].startswith("Fine-tuning on RAG")
    assert data["backlinks"] == ["direct-preference-optimization"]
    assert [s["id"] for s in data["similar"]][:1] == ["direct-preference-optimization"]
    assert {"read", "rating", "aliases", "extra", "links", "path"} <= data.keys()


def test_show_ambiguous_exits_2_with_candidates(notes: Path) -> None:
    result = run(notes, "show", "alignment")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: 'alignment' matches 2 notes; give an id or more words:\n"
        "  flame  FLAME: Factuality-Aware Alignment for Large Language Models (2024)\n"
        "  kto  KTO: Model Alignment as Prospect Theoretic Optimization (2024)\n"
    )


def test_show_not_found_exits_1_with_suggestions(notes: Path) -> None:
    result = run(notes, "show", "prospect optimisation theory")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: no note matches 'prospect optimisation theory'\nDid you mean:\n"
        "  kto  KTO: Model Alignment as Prospect Theoretic Optimization (2024)\n"
    )


def test_show_reports_skipped_notes(notes: Path) -> None:
    (notes / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    result = run(notes, "show", "kto")
    assert result.exit_code == 0
    assert result.stderr == "1 note skipped: run papernotes check\n"


HOSTILE = """\
---
title: "[bold red]x[/] \\e[31mred\\e]8;;http://evil\\e\\\\link\\e]8;;\\e\\\\ \\u202eevil"
authors: ["[link=http://evil]Mallory[/link]"]
url: "javascript:alert(1)"
tags: ["[blink]t"]
---
Body with \x1b[2J clear screen and [red]markup[/red] and \x07 bell.
"""


def test_hostile_note_prints_harmlessly_plain(tmp_path: Path) -> None:
    notes = make_kb(tmp_path, {"evil": HOSTILE})
    result = run(notes, "show", "evil")
    assert result.exit_code == 0
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert out.startswith("[bold red]x[/] \\x1b[31mred\\x1b]8;;http://evil\\x1b\\link")
    assert "[link=http://evil]Mallory[/link]" in out
    assert "URL: javascript:alert(1)" in out
    assert "\\x1b[2J clear screen and [red]markup[/red] and \\x07 bell." in out


def test_hostile_note_prints_harmlessly_rich(tmp_path: Path) -> None:
    notes = make_kb(tmp_path, {"evil": HOSTILE})
    kb = open_kb(open_store(notes))
    paper = kb.get("evil")
    assert paper is not None
    buffer = io.StringIO()
    con = Console(file=buffer, width=100, force_terminal=True, color_system="standard")
    print_to(con, paper, connections(kb, paper), "notes/evil.md")
    out = buffer.getvalue()
    assert "[bold red]x[/]" in out  # printed, not interpreted
    assert "[red]markup[/red]" in out
    assert "\\x1b[2J" in out and "\x1b[2J" not in out
    assert "\x07" not in out and "\u202e" not in out
    assert "javascript:" not in out.replace("javascript:alert(1)", "", 1)  # shown, not linked
    assert "\x1b]8;" not in out  # the only hyperlinks would be arXiv/URL ones: none here


def test_rich_rendering_at_80_columns(notes: Path) -> None:
    kb = open_kb(open_store(notes))
    paper = kb.get("direct-preference-optimization")
    assert paper is not None
    buffer = io.StringIO()
    con = Console(file=buffer, width=80, no_color=True)
    print_to(con, paper, connections(kb, paper, 2), "notes/dpo.md")
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert lines[:8] == [
        "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
        "Rafael Rafailov, Archit Sharma, Eric Mitchell, Stefano Ermon, Christopher D.",
        "Manning, Chelsea Finn",
        "2023 · NeurIPS 2023",
        "arXiv:2305.18290",
        "DPO · alignment · #dpo #rlhf #preference-optimization",
        "Status: read · Rating: ★★★★★ · Read: 2024-02-08 · Added: 2024-02-01 ·",
        "notes/dpo.md",
    ]
    assert "• The policy is its own reward model" in buffer.getvalue()
    assert any(line.startswith("  [[missing-note]]  no such note") for line in lines)
    assert all(len(line) <= 80 for line in lines)


@pytest.mark.skipif(sys.platform == "win32", reason="shell script")
def test_pager_gets_the_text_and_no_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "paged.txt"
    script = tmp_path / "fake pager"
    script.write_text(f"#!/bin/sh\ncat > '{out}'\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PAGER", f"'{script}'")
    argv = pager_command()
    assert argv == [str(script)]
    assert page("line 1\nline 2\n", argv)
    assert out.read_text(encoding="utf-8") == "line 1\nline 2\n"


@pytest.mark.parametrize("value", ["cat", "", "no-such-pager-anywhere", "'unbalanced"])
def test_no_pager(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PAGER", value)
    assert pager_command() is None


def test_pager_not_used_on_a_pipe(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGER", "/bin/false")
    long_body = NOTES["kto"] + "\n".join(f"line {i}" for i in range(300)) + "\n"
    (notes / "kto.md").write_text(long_body, encoding="utf-8")
    result = run(notes, "show", "kto")
    assert result.exit_code == 0
    assert "line 299" in result.stdout
    assert os.environ["PAGER"] == "/bin/false"


def test_short_title_words_match_only_exactly(papers: list) -> None:  # type: ignore[type-arg]
    with pytest.raises(NotFound) as info:
        resolve(papers, "iss")  # not the "is" of two titles
    assert info.value.suggestions == ()
