"""``papernotes search`` and ``papernotes index`` through the CLI: exact output, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kbfactory import make_kb
from papernotes.cli import cli
from papernotes.engine.index import SCHEMA_VERSION
from papernotes.note.model import PARSER_VERSION

NOTES = {
    "dpo": """---
title: "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
aliases: [DPO]
authors: [Rafael Rafailov, Archit Sharma, Eric Mitchell, Chelsea Finn]
year: 2023
arxiv: 2305.18290
topics: [alignment]
tags: [rlhf]
---
DPO replaces the reward model and PPO with a classification loss on preference pairs.
""",
    "kto": """---
title: "KTO: Model Alignment as Prospect Theoretic Optimization"
aliases: [KTO]
authors: [Kawin Ethayarajh]
year: 2024
topics: [alignment]
---
Binary desirable or undesirable feedback instead of preference pairs, unlike DPO.
""",
    "mixtral": """---
title: Mixtral of Experts
authors: [Albert Jiang]
year: 2024
topics: [architectures]
tags: [moe]
---
A sparse mixture of experts language model.
""",
    "hostile": """---
title: "[bold red]Markup[/] \\e[31mred\\e]8;;http://evil\\a link"
tags: [security]
---
Body with \x1b[2J a clear-screen, a carriage\r return and a \u202eRTL override; mixture.
""",
}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    for name, text in NOTES.items():
        (root / f"{name}.md").write_text(text, encoding="utf-8")
    return root


def run(notes: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--notes-dir", str(notes), *args], catch_exceptions=False)


def test_ranked_list(notes: Path) -> None:
    result = run(notes, "search", "preference")
    assert result.exit_code == 0
    assert result.stdout == (
        " 1. Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
        " (2023)\n"
        "    dpo · Rafael Rafailov, Archit Sharma, Eric Mitchell et al. · alignment · #rlhf\n"
        "    DPO replaces the reward model and PPO with a classification loss on preference"
        " pairs.\n"
        " 2. KTO: Model Alignment as Prospect Theoretic Optimization (2024)\n"
        "    kto · Kawin Ethayarajh · alignment\n"
        "    Binary desirable or undesirable feedback instead of preference pairs, unlike DPO.\n"
    )
    assert result.stderr == ""


def test_an_alias_ranks_its_note_first(notes: Path) -> None:
    assert run(notes, "search", "dpo", "--format", "ids").stdout == "dpo\nkto\n"
    assert run(notes, "search", "KTO", "--format", "ids").stdout == "kto\n"
    assert run(notes, "search", "2305.18290", "--format", "ids").stdout == "dpo\n"


def test_limit_and_total(notes: Path) -> None:
    result = run(notes, "search", "preference", "--limit", "1")
    assert result.stdout.splitlines()[-1] == "1 of 2 notes (--limit to see more)"
    assert run(notes, "search", "x", "--limit", "0").exit_code == 2


def test_no_result_exits_1_with_a_short_message(notes: Path) -> None:
    result = run(notes, "search", "quantum", "gravity")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: no notes match 'quantum gravity'\n"


def test_no_result_suggests_the_closest_titles(notes: Path) -> None:
    result = run(notes, "search", "title:mixture", "experts", "--exact")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no notes match 'title:mixture experts'\n"
        "Did you mean:\n"
        "  mixtral  Mixtral of Experts\n"
    )


def test_a_typo_is_corrected_and_said(notes: Path) -> None:
    result = run(notes, "search", "mixtrl", "--format", "ids")
    assert (result.exit_code, result.stdout) == (0, "mixtral\n")
    assert result.stderr == 'showing results for "mixtral" (--exact to search as typed)\n'
    result = run(notes, "search", "preferance", "-survey", "--format", "ids")
    assert result.stdout == "dpo\nkto\n"
    assert result.stderr.startswith('showing results for "preference -survey"')
    exact = run(notes, "search", "mixtrl", "--exact")
    assert exact.exit_code == 1
    assert exact.stderr.startswith("Error: no notes match 'mixtrl'\n")


@pytest.mark.parametrize(
    ("typed", "meant", "found"),
    [
        ("ghostwrittr", "ghostwritten", "t1"),  # a word of a body: the index's words
        ("mdoels", "models", "t2"),  # too common for those (looked up apart), nearer than modes
        ("vaswnai", "vaswani", "t3"),  # an author: only in the full-text index
    ],
)
def test_a_typo_is_corrected_from_every_word_of_the_notes(
    tmp_path: Path, typed: str, meant: str, found: str
) -> None:
    notes = make_kb(
        tmp_path,
        {
            "t1": "---\ntitle: One\n---\nA ghostwritten essay in two modes.\n",
            "t2": "---\ntitle: Two\n---\nLanguage models everywhere, models.\n",
            "t3": "---\ntitle: Three\nauthors: [Ashish Vaswani]\n---\nAttention.\n",
        },
    )
    result = run(notes, "search", typed, "--format", "ids")
    assert (result.exit_code, result.stdout) == (0, f"{found}\n")
    assert result.stderr == f'showing results for "{meant}" (--exact to search as typed)\n'


def test_malformed_query_exits_2_and_points_at_it(notes: Path) -> None:
    result = run(notes, "search", 'dpo "reward')
    assert result.exit_code == 2
    assert result.stderr == 'Error: bad query: this " is never closed\n  dpo "reward\n      ^\n'


@pytest.mark.parametrize(
    "query",
    ["'; DROP TABLE papers; --", 'x" OR "1', "NEAR(a b)", "{title}:x", "a\x00b", "^x", "-"],
)
def test_sql_or_fts_syntax_never_leaks(notes: Path, query: str) -> None:
    result = run(notes, "search", query)
    assert result.exit_code in (0, 1, 2)
    assert "sqlite" not in result.output.lower() and "fts5" not in result.output.lower()
    assert "Traceback" not in result.output


def test_negation_and_options_mix(notes: Path) -> None:
    assert run(notes, "search", "alignment", "-rlhf", "--format", "ids").stdout == "kto\n"
    assert run(notes, "search", "-alignment", "--format", "ids").stdout == "hostile\nmixtral\n"
    result = run(notes, "search", "dpo", "--limt", "3")
    assert result.exit_code == 2 and "No such option '--limt'" in result.stderr
    assert "Query language" in run(notes, "search", "-h").stdout


def test_json_carries_score_and_all_fields(notes: Path) -> None:
    data = json.loads(run(notes, "search", "mixture", "--format", "json").stdout)
    assert [d["id"] for d in data] == ["mixtral", "hostile"]
    first = data[0]
    assert first["rank"] == 1 and first["score"] > data[1]["score"] > 0
    assert first["topics"] == ["architectures"] and first["body"].startswith("A sparse")
    assert first["snippet"] == "A sparse mixture of experts language model."
    assert first["path"] == "mixtral.md" and first["exact_match"] is None
    assert "explain" not in first


def test_json_or_csv_with_no_result_is_still_valid(notes: Path) -> None:
    result = run(notes, "search", "nothingatall", "--format", "json", "--exact")
    assert (result.exit_code, result.stdout) == (1, "[]\n")
    result = run(notes, "search", "nothingatall", "--format", "csv", "--exact")
    assert result.exit_code == 1 and result.stdout.startswith("rank,score,id,title,")
    assert result.stdout.count("\n") == 1
    assert run(notes, "search", "nothingatall", "--format", "ids").stdout == ""


def test_csv(notes: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run(notes, "search", "dpo", "--format", "csv").stdout)))
    assert [r["id"] for r in rows] == ["dpo", "kto"]
    assert (
        rows[0]["rank"] == "1" and rows[0]["aliases"] == "DPO" and rows[0]["arxiv"] == "2305.18290"
    )
    assert rows[0]["authors"] == "Rafael Rafailov; Archit Sharma; Eric Mitchell; Chelsea Finn"
    assert float(rows[1]["score"]) > 0 and "snippet" in rows[0]


def test_explain(notes: Path) -> None:
    result = run(notes, "search", "dpo", "--explain")
    lines = result.stdout.splitlines()
    assert lines[3] == "    first: exact id 'dpo' match"
    assert lines[4].startswith("    score ") and "dpo " in lines[4]
    assert lines[4].endswith("[aliases, body]")
    assert lines[8].endswith("[body]")
    data = json.loads(
        run(notes, "search", "mixture experts", "--explain", "--format", "json").stdout
    )
    terms = data[0]["explain"]
    assert [t["term"] for t in terms] == ["mixture", "experts"]
    assert terms[1]["fields"] == ["title", "body"]
    assert abs(sum(t["score"] for t in terms) - data[0]["score"]) < 1e-3


def test_hostile_note_text_is_printed_harmlessly(notes: Path) -> None:
    result = run(notes, "search", "clear-screen")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\r" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "[bold red]Markup[/] \\x1b[31mred\\x1b]8;;http://evil\\x07 link" in result.stdout
    assert "Body with \\x1b[2J a clear-screen, a carriage return and a \\u202eRTL" in result.stdout


def test_skipped_notes_are_counted_in_one_line(notes: Path) -> None:
    (notes / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    (notes / "broken2.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")  # not UTF-8
    result = run(notes, "search", "mixtral", "--format", "ids")
    assert result.stdout == "mixtral\n"
    assert result.stderr == "2 notes skipped: run papernotes check\n"


def test_index_command(notes: Path) -> None:
    first = run(notes, "index")
    assert first.exit_code == 0
    assert first.stdout.startswith("4 added, 0 updated, 0 removed in ")
    assert "; 4 notes indexed, 0 skipped (" in first.stdout
    (notes / "kto.md").unlink()
    again = run(notes, "index", "--format", "json")
    data = json.loads(again.stdout)
    assert (data["added"], data["removed"], data["notes"], data["pending"]) == (0, 1, 3, 0)
    rebuilt = run(notes, "index", "--rebuild")
    assert rebuilt.stdout.startswith("3 added, 0 updated, 0 removed in ")


def test_index_status(notes: Path) -> None:
    run(notes, "index")
    (notes / "new.md").write_text("---\ntitle: New\n---\n", encoding="utf-8")
    result = run(notes, "index", "--status")
    lines = result.stdout.splitlines()
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "papernotes"
    assert lines[0].startswith(f"location: {cache}{os.sep}notes-") and lines[0].endswith(".sqlite")
    assert lines[1].startswith("size:     ") and lines[1].endswith(" KB")
    assert lines[2:] == [
        "notes:    4 indexed",
        "state:    1 note files changed since the last refresh",
        f"versions: schema {SCHEMA_VERSION}, parser {PARSER_VERSION}",
        "watcher:  none (every command stats every note; see papernotes watch)",
    ]
    assert run(notes, "index", "--status", "--rebuild").exit_code == 2


def test_a_rebuilt_index_says_so(notes: Path) -> None:
    run(notes, "index")
    location = next((Path(os.environ["XDG_CACHE_HOME"]) / "papernotes").glob("*.sqlite"))
    for suffix in ("-wal", "-shm"):
        Path(f"{location}{suffix}").unlink(missing_ok=True)
    location.write_bytes(b"garbage" * 1000)
    result = run(notes, "search", "mixtral", "--format", "ids")
    assert result.stdout == "mixtral\n"
    assert result.stderr == (
        "the search index was unreadable (file is not a database); rebuilding it\n"
    )


def test_words_or_a_field_rank_the_word_matches_first(notes: Path) -> None:
    result = run(notes, "search", "mixture OR year:2023", "--format", "ids")
    assert result.stdout == "mixtral\nhostile\ndpo\n"
    data = json.loads(run(notes, "search", "mixture OR year:2023", "--format", "json").stdout)
    assert [d["score"] > 0 for d in data] == [True, True, False]


# -- the ranked fallback (issue 17): notes with every word first, then notes with some --------


def test_a_natural_query_finds_notes_with_some_of_its_words(notes: Path) -> None:
    """One unmatched word no longer empties the answer; stop words do not rank."""
    result = run(notes, "search", "which", "paper", "learns", "from", "preference", "pairs?")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0::3] == [
        " 1. Direct Preference Optimization: Your Language Model is Secretly a Reward Model (2023)",
        " 2. KTO: Model Alignment as Prospect Theoretic Optimization (2024)",
        "no note has every word; 2 with some of them, best first",
    ]


def test_notes_with_every_word_come_before_notes_with_some(notes: Path) -> None:
    ids = run(notes, "search", "sparse", "experts", "--format", "ids").stdout.split()
    assert ids == ["mixtral"]  # the only note with both words; none has just one
    result = run(notes, "search", "reward", "pairs", "--format", "json")
    records = json.loads(result.stdout)
    assert [(r["id"], r["match"]) for r in records] == [("dpo", "all"), ("kto", "some")]
    listed = run(notes, "search", "reward", "pairs")
    assert listed.stdout.splitlines()[-1] == "1 note has every word; 1 more with some of them"


def test_the_fallback_keeps_fields_negations_and_and(notes: Path) -> None:
    """Fields and filters stay conditions, a negation still excludes, and AND written out
    means every word."""
    ids = run(notes, "search", "reward", "feedback", "year:2024", "--format", "ids").stdout
    assert ids.split() == ["kto"]
    ids = run(notes, "search", "reward", "feedback", "-kto", "--format", "ids").stdout
    assert ids.split() == ["dpo"]
    strict = run(notes, "search", "reward", "AND", "feedback")
    assert (strict.exit_code, strict.stderr) == (1, "Error: no notes match 'reward AND feedback'\n")
    # list and export select: every word must match there
    assert run(notes, "list", "reward feedback", "--format", "ids").stdout == ""


def test_the_fallback_is_explained(notes: Path) -> None:
    result = run(notes, "search", "reward", "pairs", "--explain")
    assert "    found by some of the words, not all" in (
        result.stdout.split(" 2. ")[1].splitlines()
    )
    assert "found by" not in result.stdout.split(" 2. ")[0]
