"""``papernotes export``: every format, exact where it is ours, selection, and ``-o``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kbfactory import make_kb, run
from papernotes.interop.export import md_escape, to_markdown
from papernotes.note.model import Paper, is_web_url, paper_url


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def test_json_is_every_note_whole(notes: Path) -> None:
    result = run(notes, "export")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [d["id"] for d in data] == [
        "attention", "direct-preference-optimization", "flame", "kto", "openelm",
    ]  # fmt: skip
    assert data[0]["body"] == "The Transformer: attention only, no recurrence.\n"
    assert data[1]["related"] == ["kto"]
    assert data[1]["links"] == ["FLAME", "missing-note"]
    assert (
        Paper.from_dict(data[3]).title == "KTO: Model Alignment as Prospect Theoretic Optimization"
    )


def test_jsonl_one_object_per_line(notes: Path) -> None:
    result = run(notes, "export", "--format", "jsonl", "--topic", "alignment")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [
        "direct-preference-optimization", "flame", "kto",
    ]  # fmt: skip


def test_csv_round_trips_through_a_reader(notes: Path) -> None:
    result = run(notes, "export", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 5
    dpo = rows[1]
    assert dpo["title"] == (
        "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
    )
    assert dpo["authors"].split("; ")[-1] == "Chelsea Finn"
    assert dpo["tags"] == "dpo; rlhf; preference-optimization"
    assert dpo["rating"] == "5"
    assert "body" not in dpo


MARKDOWN = """\
# Reading list

- [x] **Direct Preference Optimization: Your Language Model is Secretly a Reward Model** — Rafael Rafailov et al., 2023 [arXiv:2305.18290](<https://arxiv.org/abs/2305.18290>) · `alignment` `#dpo` `#rlhf` `#preference-optimization`
- [x] **FLAME: Factuality-Aware Alignment for Large Language Models** — Sheng-Chieh Lin et al., 2024 [arXiv:2405.01525](<https://arxiv.org/abs/2405.01525>) · `alignment` `factuality` `#dpo` `#sft`
- [ ] **OpenELM: An Efficient Language Model Family with Open Training and Inference Framework** — Sachin Mehta, Mohammad Rastegari, 2024 [link](<https://machinelearning.apple.com/research/openelm>) · `language-models` `#open-source`
"""  # noqa: E501


def test_markdown_reading_list_exact(notes: Path) -> None:
    result = run(
        notes, "export", "--format", "markdown", "--year", "2023..", "--read-since", "2024"
    )
    assert result.exit_code == 0
    assert result.stdout == MARKDOWN


def test_markdown_escapes_note_text() -> None:
    paper = Paper(id="x", title="[click](javascript:alert(1)) *bold* <b>", tags=("a`b",))
    text = to_markdown([paper])
    assert "- [ ] **\\[click\\]\\(javascript:alert\\(1\\)\\) \\*bold\\* \\<b\\>** · `#ab`" in text
    assert md_escape("a\nb") == "a b"


def test_bibtex_goes_through_the_bibtex_writer(notes: Path) -> None:
    pytest.importorskip("papernotes.interop.bibtex")
    result = run(notes, "export", "--format", "bibtex", "--tag", "rlhf")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("@")
    assert "rafailov2023direct" in result.stdout
    assert "2305.18290" in result.stdout


def test_output_file(notes: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "refs.json"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    result = run(notes, "export", "-o", str(target), "--tag", "dpo")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"2 notes written to {target}\n"
    assert [d["id"] for d in json.loads(target.read_text(encoding="utf-8"))] == [
        "direct-preference-optimization", "flame",
    ]  # fmt: skip
    assert [p.name for p in target.parent.iterdir()] == ["refs.json"]  # no temporary file left


def test_output_never_replaces_a_note(notes: Path) -> None:
    before = (notes / "kto.md").read_bytes()
    result = run(notes, "export", "--format", "markdown", "-o", str(notes / "kto.md"))
    assert result.exit_code == 1
    assert result.stderr.endswith("would become a note in the notes directory; not written\n")
    assert (notes / "kto.md").read_bytes() == before


def test_nothing_selected_exits_1(notes: Path) -> None:
    result = run(notes, "export", "zebra")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: no notes match\n"


def test_configured_default_format(notes: Path) -> None:
    (notes / "papernotes.toml").write_text('format = "csv"\n', encoding="utf-8")
    assert run(notes, "export", "--tag", "sft").stdout.startswith("id,title,")
    assert run(notes, "list", "--tag", "sft").stdout.startswith("id,title,")
    assert run(notes, "stats").stdout.startswith("5 notes")  # csv is not a stats format


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://arxiv.org/abs/2305.18290", True),
        ("HTTP://example.org/a?b=c#d", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://example.org/\x1b]8;;x", False),
        ("https://exa mple.org", False),
        ("https://example.org/\u202e", False),
    ],
)
def test_is_web_url(url: str, ok: bool) -> None:
    assert is_web_url(url) is ok


def test_paper_url_order() -> None:
    assert paper_url(Paper(id="a", title="A", url="https://a.org", arxiv="2401.00001")) == (
        "https://a.org"
    )
    assert paper_url(Paper(id="a", title="A", url="ftp://x", arxiv="2401.00001")) == (
        "https://arxiv.org/abs/2401.00001"
    )
    assert paper_url(Paper(id="a", title="A", doi="10.1/x")) == "https://doi.org/10.1/x"
    assert paper_url(Paper(id="a", title="A")) is None


def test_output_into_a_missing_directory(notes: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "refs.json"
    result = run(notes, "export", "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {target}: no such directory: {target.parent}\n"
    assert not (tmp_path / "no").exists()
