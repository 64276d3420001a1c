"""``papernotes list``: filters, sorting, formats (exact output) and the "did you mean" answer."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from kbfactory import make_kb, run
from papernotes.disk.store import open_store
from papernotes.engine.kb import open_kb
from papernotes.engine.selection import parse_day, parse_years
from papernotes.errors import UsageError
from papernotes.render.tables import papers_table


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def ids(notes: Path, *args: str) -> list[str]:
    result = run(notes, "list", "--format", "ids", *args)
    assert result.exit_code in (0, 1), result.output
    return result.stdout.split()


TSV = [
    ["attention", "2017", "Attention Is All You Need", "Ashish Vaswani et al.", "architectures",
     "#transformer", "", "", ""],
    ["direct-preference-optimization", "2023",
     "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
     "Rafael Rafailov et al.", "alignment", "#dpo #rlhf #preference-optimization", "read", "5",
     "2024-02-08"],
    ["flame", "2024", "FLAME: Factuality-Aware Alignment for Large Language Models",
     "Sheng-Chieh Lin et al.", "alignment, factuality", "#dpo #sft", "read", "4", "2024-05"],
    ["kto", "2024", "KTO: Model Alignment as Prospect Theoretic Optimization",
     "Kawin Ethayarajh et al.", "alignment", "#preference-optimization", "to-read", "", ""],
    ["openelm", "2024",
     "OpenELM: An Efficient Language Model Family with Open Training and Inference Framework",
     "Sachin Mehta & Mohammad Rastegari", "language-models", "#open-source", "skimmed", "",
     "2024-04-30"],
]  # fmt: skip


def test_list_on_a_pipe_is_tab_separated(notes: Path) -> None:
    result = run(notes, "list")
    assert result.exit_code == 0
    assert result.stdout == "".join("\t".join(row) + "\n" for row in TSV)
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "Über Café — 日本語 ∑\tRené Löw".encode()),
        # click writes UTF-8 to a stream that says it is ASCII, as every other output does
        ("ascii", "Über Café — 日本語 ∑\tRené Löw".encode()),
        ("ascii:backslashreplace", "Über Café — 日本語 ∑\tRené Löw".encode()),
        # another encoding: what it cannot encode as escapes, not a traceback
        ("latin-1", "Über Café \\u2014 \\u65e5\\u672c\\u8a9e \\u2211\tRené Löw".encode("latin-1")),
    ],
)
def test_list_on_a_pipe_prints_the_stream_s_encoding(
    notes: Path, encoding: str, expected: bytes
) -> None:
    """The lines the index keeps are written as they are read (UTF-8), or through click for a
    stream of another encoding, as every other output is."""
    (notes / "cafe.md").write_text(
        "---\ntitle: Über Café — 日本語 ∑\nauthors: [René Löw]\n---\n", encoding="utf-8"
    )
    command = [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "list"]
    result = subprocess.run(
        [*command, "Café"], capture_output=True, timeout=60,
        env={**os.environ, "PYTHONIOENCODING": encoding},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"cafe\t\t" + expected + b"\t\t\t\t\t\n"


def test_list_csv_exact(notes: Path) -> None:
    result = run(notes, "list", "--tag", "sft", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout == (
        "id,title,aliases,authors,year,published,read,added,arxiv,doi,url,venue,org,topics,tags,"
        "status,rating,related,abstract,path\n"
        "flame,FLAME: Factuality-Aware Alignment for Large Language Models,FLAME,"
        "Sheng-Chieh Lin; Luyu Gao; Barlas Oguz; Wenhan Xiong; Jimmy Lin; Wen-tau Yih; Xilun Chen,"
        "2024,,2024-05,,2405.01525,,,,,alignment; factuality,dpo; sft,read,4,,,flame.md\n"
    )


def test_list_json_has_fields_without_body(notes: Path) -> None:
    result = run(notes, "list", "--topic", "factuality", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [d["id"] for d in data] == ["flame"]
    assert "body" not in data[0]
    assert data[0]["authors"][0] == "Sheng-Chieh Lin"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["attention", "direct-preference-optimization", "flame", "kto", "openelm"]),
        (("--topic", "alignment"), ["direct-preference-optimization", "flame", "kto"]),
        (("--topic", "ALIGNMENT", "--topic", "factuality"), ["flame"]),
        (("--tag", "dpo"), ["direct-preference-optimization", "flame"]),
        (("--tag", "#dpo", "--tag", "rlhf"), ["direct-preference-optimization"]),
        (("--author", "rafailov"), ["direct-preference-optimization"]),
        (("--author", "OGUZ"), ["flame"]),  # case-insensitive substring
        (("--author", "jurafsky", "--author", "kiela"), ["kto"]),
        (("--year", "2017"), ["attention"]),
        (("--year", "2018..2023"), ["direct-preference-optimization"]),
        (("--year", "2024.."), ["flame", "kto", "openelm"]),
        (("--year", "..2023"), ["attention", "direct-preference-optimization"]),
        (("--read-since", "2024-04"), ["flame", "openelm"]),
        (("--read-since", "2024-05-15"), ["flame"]),  # read "2024-05": the month overlaps
        (("--read-until", "2024-04-30"), ["direct-preference-optimization", "openelm"]),
        (("--read-since", "2024-03", "--read-until", "2024-04"), ["openelm"]),
        (("--status", "read"), ["direct-preference-optimization", "flame"]),
        (("--status", "to-read"), ["kto"]),
        (("--sort", "year"), ["attention", "direct-preference-optimization", "flame", "kto",
                              "openelm"]),
        (("--sort", "year", "--reverse"), ["flame", "kto", "openelm",
                                           "direct-preference-optimization", "attention"]),
        (("--sort", "rating", "--reverse"), ["direct-preference-optimization", "flame",
                                             "attention", "kto", "openelm"]),
        (("--sort", "read"), ["direct-preference-optimization", "openelm", "flame", "attention",
                              "kto"]),
        (("--sort", "added", "--limit", "1"), ["direct-preference-optimization"]),
        (("--sort", "title", "--reverse", "--limit", "2"), ["openelm", "kto"]),
        (("preference",), ["direct-preference-optimization", "flame", "kto"]),
        (("tag:dpo -sft",), ["direct-preference-optimization"]),
        (('"reward model"',), ["direct-preference-optimization"]),
        (("year:>=2024", "topic:alignment"), ["flame", "kto"]),
        (("author:vaswani",), ["attention"]),
    ],
)  # fmt: skip
def test_list_filters_and_sorting(notes: Path, args: tuple[str, ...], expected: list[str]) -> None:
    assert ids(notes, *args) == expected


def test_no_match_exits_1(notes: Path) -> None:
    result = run(notes, "list", "--topic", "alignment", "--year", "2017")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: no notes match\n"
    assert run(notes, "list", "--year", "1999", "--format", "json").stdout == "[]\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--topic", "alignmnt"), "Error: no note has the topic 'alignmnt'\nDid you mean:\n"
                                  "  alignment\n"),
        (("--tag", "preference"), "Error: no note has the tag 'preference'\nDid you mean:\n"
                                  "  preference-optimization\n"),
        (("--tag", "zzzzzz"), "Error: no note has the tag 'zzzzzz'\n"),
    ],
)  # fmt: skip
def test_unknown_topic_or_tag_suggests(notes: Path, args: tuple[str, ...], message: str) -> None:
    result = run(notes, "list", *args)
    assert result.exit_code == 1
    assert result.stderr == message


def test_taxonomy_topic_without_notes_is_not_unknown(notes: Path) -> None:
    (notes / "papernotes.toml").write_text('[taxonomy]\ntopics = ["robotics"]\n', "utf-8")
    result = run(notes, "list", "--topic", "robotics")
    assert result.exit_code == 1
    assert result.stderr == "Error: no notes match\n"


def test_nested_tags(tmp_path: Path) -> None:
    notes = make_kb(
        tmp_path,
        {
            "a": "---\ntitle: A\ntags: [ml/rl]\n---\n",
            "b": "---\ntitle: B\ntags: [ml]\n---\n",
            "c": "---\ntitle: C\ntags: [mlops]\n---\n",
        },
    )
    assert ids(notes, "--tag", "ml") == ["a", "b"]
    assert ids(notes, "--tag", "ml/rl") == ["a"]
    (notes / "b.md").unlink()  # a tag only nested ones use is known: no "no note has"
    assert ids(notes, "--tag", "ml") == ["a"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "twenty"), "Error: not a year or range: 'twenty'"),
        (("--year", "2024..2020"), "Error: empty year range: '2024..2020'"),
        (("--read-since", "yesterday"), "Error: not a date: 'yesterday'"),
        (("nosuchfield:x",), "Error: bad query: unknown field nosuchfield:"),
    ],
)
def test_bad_values_exit_2(notes: Path, args: tuple[str, ...], message: str) -> None:
    result = run(notes, "list", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)


def test_bad_option_value_is_a_usage_error(notes: Path) -> None:
    result = run(notes, "list", "--sort", "colour")
    assert result.exit_code == 2
    assert "Invalid value for '--sort'" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023", (2023, 2023)),
        ("2020..2023", (2020, 2023)),
        ("2020-2023", (2020, 2023)),
        ("2021..", (2021, None)),
        ("..2019", (None, 2019)),
    ],
)
def test_parse_years(text: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_years(text) == expected


@pytest.mark.parametrize("text", ["", "..", "23", "2023..20245", "abc"])
def test_parse_years_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_years(text)


def test_parse_day() -> None:
    assert parse_day("2024", end=False) == "2024-01-01"
    assert parse_day("2024", end=True) == "2024-12-31"
    assert parse_day("2024-2", end=True) == "2024-02-31"
    assert parse_day("8 Feb 2024", end=False) == "2024-02-08"


def test_rich_table_at_80_columns(notes: Path) -> None:
    papers = open_kb(open_store(notes)).papers()
    buffer = io.StringIO()
    Console(file=buffer, width=80, no_color=True).print(papers_table(papers[:2]))
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert lines[0].split() == ["Year", "Title", "·", "id", "Authors", "Topics"]
    assert lines[1].startswith("2017  Attention Is All You Need")
    assert lines[1].endswith("Vaswani et al.   architectures")
    assert lines[2].strip() == "attention"
    assert any("✓ Direct Preference" in line for line in lines)
    assert all(len(line) <= 80 for line in lines)
