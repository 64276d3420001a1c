"""``papernotes import`` of plain-text reading notes: the four seed styles, the shared pipeline
(matching, merging, idempotence, no overwrite) and the command's report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEEDS, examples
from papernotes.cli import cli
from papernotes.interop.importers import (
    Candidate,
    apply_plan,
    candidates_of,
    note_slug,
    plan_import,
    read_source,
)
from papernotes.interop.importers.merge import MergeRefused, merge_body, merge_note
from papernotes.interop.importers.text import parse
from papernotes.interop.importers.textfields import split_authors, split_title
from papernotes.note import normalize
from papernotes.note.dump import dump
from papernotes.note.model import Paper
from papernotes.note.parse import parse_file, parse_text

SEED_FILES = sorted(SEEDS.glob("*.txt"))
SEED_PAPERS = {  # papers per seed, and lines reported as skipped
    "000_056cb1c62f5199bb.txt": (3, 1),
    "001_8dbaf122da3361e9.txt": (16, 5),
    "003_a607115246831834.txt": (7, 0),
    "004_2fcc51da4fcf09de.txt": (25, 4),
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def import_into(root: Path, *files: Path) -> tuple[int, int, int]:
    """Import ``files`` into ``root``; (created, merged, unchanged)."""
    plan = plan_import(candidates_of(read_source(f) for f in files), root)
    report = apply_plan(plan)
    assert not report.refused
    return plan.count("create"), plan.count("merge"), plan.count("unchanged")


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.glob("*.md"))}


ABSTRACT = (
    "We study how language models can learn from feedback they write themselves, and show "
    "that iterating this procedure improves both instruction following and the quality of "
    "the rewards the model gives to itself, beyond what a fixed reward model achieves."
)

# -- the four styles, on excerpts ----------------------------------------------------------

LABELLED = f"""\
Paper reading notes
Papers
FLAME : Factuality-Aware Alignment for Large Language Models
Authors Sheng-Chieh Lin1∗, Luyu Gao2, and Xilun Chen3†  University of Waterloo1, Meta AI3
Abstract better quality data for SFT and DPO does not necessarily help.
Dataset & Evaluation
-
Alpaca Eval, from the Alpaca-farm paper
- BoolQ
OpenELM: An Efficient Language Model Family with Open Training andInference Framework
Authors Sachin Mehta Mohammad Hossein Sekhavat Qingqing Cao Apple
Make Your LLM Fully Utilize the Context
{ABSTRACT}
"""


def test_labelled_style() -> None:
    source = parse(LABELLED, "notes.txt")
    flame, openelm, context = (c.paper for c in source.candidates)
    assert flame.title == "FLAME: Factuality-Aware Alignment for Large Language Models"
    assert flame.aliases == ("FLAME",)
    assert flame.authors == ("Sheng-Chieh Lin", "Luyu Gao", "Xilun Chen")
    assert flame.org == "University of Waterloo, Meta AI"
    assert flame.body == (
        "\n## Abstract\n\nbetter quality data for SFT and DPO does not necessarily help.\n\n"
        "## Dataset & Evaluation\n\n- Alpaca Eval, from the Alpaca-farm paper\n- BoolQ\n\n"
        "## Source\n\n- notes.txt: Papers\n"
    )
    # names without separators cannot be told apart: kept as written, and said so
    assert openelm.authors == ()
    assert "## Authors\n\nSachin Mehta Mohammad Hossein Sekhavat Qingqing Cao Apple" in (
        openelm.body
    )
    assert [str(d) for d in source.diagnostics] == [
        "notes.txt:11: warning: author names are not separated by commas; "
        "kept as written under 'Authors' in the note"
    ]
    # a title followed by a paragraph: the reader's remarks
    assert context.title == "Make Your LLM Fully Utilize the Context"
    assert f"## Notes\n\n{ABSTRACT}\n" in context.body
    assert [(s.line, s.text, s.reason) for s in source.skipped] == [
        (1, "Paper reading notes", "heading with no paper directly under it")
    ]


SESSIONS = f"""\
read on: - 06 Feb 2024
Alignment
In this session, our readings cover:
Required Readings:
Aligning Large Language Models with Human: A Survey
- https://arxiv.org/abs/2307.12966
- https://huggingface.co/blog/stackllama
More readings
Github Awesome-RLHF
DPO Direct Preference Optimization: Your Language Model is Secretly a Reward Model
- https://arxiv.org/abs/2305.18290
- {ABSTRACT}
- Llama 2: Open Foundation and Fine-Tuned Chat Models
- {ABSTRACT}
Training language models to follow instructions with human feedback
- https://arxiv.org/abs/2203.02155)
-
“We call the resulting models InstructGPT.” |
read on: - 30 Jan 2024
LLMEvaluate
More Readings:
Challenges in evaluating AI systems
- https://www.anthropic.com/news/evaluating-ai-systems
chatbot-arena-leaderboard
- https://huggingface.co/spaces/lmsys/chatbot-arena-leaderboard
"""


def test_session_style() -> None:
    source = parse(SESSIONS, "s.txt")
    papers = [c.paper for c in source.candidates]
    assert [p.title for p in papers] == [
        "Aligning Large Language Models with Human: A Survey",
        "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
        "Llama 2: Open Foundation and Fine-Tuned Chat Models",
        "Training language models to follow instructions with human feedback",
        "Challenges in evaluating AI systems",
    ]
    survey, dpo, llama, instructgpt, challenges = papers
    assert (survey.arxiv, survey.year, survey.read, survey.tags) == (
        "2307.12966",
        2023,
        "2024-02-06",
        ("Alignment",),
    )
    assert "## Links\n\n- https://huggingface.co/blog/stackllama\n" in survey.body
    assert "- s.txt: Alignment › Required Readings\n" in survey.body
    assert dpo.aliases == ("DPO",)
    assert f"## Abstract\n\n{ABSTRACT}\n" in dpo.body
    assert "- s.txt: Alignment › More readings › Github Awesome-RLHF\n" in dpo.body
    assert llama.aliases == ("Llama 2",)
    assert llama.arxiv is None
    assert instructgpt.arxiv == "2203.02155"  # the stray ")" is not part of the URL
    assert "## Notes\n\n“We call the resulting models InstructGPT.” |\n" in instructgpt.body
    assert (challenges.url, challenges.read, challenges.tags) == (
        "https://www.anthropic.com/news/evaluating-ai-systems",
        "2024-01-30",
        ("LLMEvaluate",),
    )
    assert [(s.line, s.reason) for s in source.skipped] == [
        (3, "label with no paper under it"),
        (24, "a named link, not a paper"),
        (25, "link of 'chatbot-arena-leaderboard', not a paper"),
    ]
    assert source.diagnostics == ()


BRACKETED = """\
LLM Pretraining & Fine-tuning
[DPO] Direct Preference Optimization: Your LM is Secretly a Reward Model🔗
Arxiv: https://arxiv.org/abs/2305.18290 13 Dec 2023 Stanford
In this paper we introduce a new parameterization of the reward model in RLHF that enables
extraction of the corresponding optimal policy in closed form.
DPO outline. The general DPO pipeline is as follows.
[RA-DIT] Retrieval-Augmented Dual Instruction Tuning🔗
Arxiv: https://arxiv.org/abs/2310.01352 2 Oct 2023 META
Context: two distinct fine-tuning steps.
"""


def test_bracketed_style() -> None:
    source = parse(BRACKETED, "b.txt")
    dpo, radit = (c.paper for c in source.candidates)
    assert dpo.title == "Direct Preference Optimization: Your LM is Secretly a Reward Model"
    assert dpo.aliases == ("DPO",)
    assert (dpo.arxiv, dpo.published, dpo.year, dpo.org) == (
        "2305.18290",
        "2023-12-13",
        2023,
        "Stanford",
    )
    # a hard-wrapped paragraph is joined again; each paragraph stays one
    assert dpo.body == (
        "\n## Notes\n\nIn this paper we introduce a new parameterization of the reward model in "
        "RLHF that enables extraction of the corresponding optimal policy in closed form.\n\n"
        "DPO outline. The general DPO pipeline is as follows.\n\n"
        "## Source\n\n- b.txt: LLM Pretraining & Fine-tuning\n"
    )
    assert (radit.aliases, radit.published, radit.org) == (("RA-DIT",), "2023-10-02", "META")
    assert (source.skipped, source.diagnostics) == ((), ())


PAGE = f"""\
new

Get trending papers in your email inbox!

Subscribe

Mar 12

JetMoE: Reaching Llama2 Performance with 0.1M Dollars

{ABSTRACT}

Weak-to-Strong Reasoning

{ABSTRACT}"""


def test_daily_page_style() -> None:
    source = parse(PAGE, "page.txt")
    jetmoe, weak = (c.paper for c in source.candidates)
    assert (jetmoe.title, jetmoe.aliases) == (
        "JetMoE: Reaching Llama2 Performance with 0.1M Dollars",
        ("JetMoE",),
    )
    assert jetmoe.body == f"\n## Abstract\n\n{ABSTRACT}\n\n## Source\n\n- page.txt: Mar 12\n"
    assert (weak.title, weak.aliases) == ("Weak-to-Strong Reasoning", ())
    assert [(s.line, s.text) for s in source.skipped] == [
        (1, "new"),
        (3, "Get trending papers in your email inbox!"),
        (5, "Subscribe"),
    ]


SAME = ""  # the title is the line as it is


@pytest.mark.parametrize(
    ("line", "title", "aliases"),
    [
        ("[Self-Reward] Self Rewarding LMs🔗", "Self Rewarding LMs", ["Self-Reward"]),
        ("DPO Direct Preference Optimization: Your LM", "Direct Preference Optimization: Your LM",
         ["DPO"]),
        ("HELM Holistic Evaluation of Language Models", "Holistic Evaluation of Language Models",
         ["HELM"]),
        ("OLMo: Accelerating the Science of LMs", SAME, ["OLMo"]),
        ("FLAME : Factuality-Aware Alignment", "FLAME: Factuality-Aware Alignment", ["FLAME"]),
        ("Llama 2: Open Foundation and Fine-Tuned Chat Models", SAME, ["Llama 2"]),
        ("The Pile: An 800GB Dataset of Diverse Text", SAME, []),
        ("Targeting Alignment: Extracting Safety Classifiers", SAME, []),
        ("LLM360 K2: Building a 65B Model", SAME, ["LLM360 K2"]),
        ("GPT Models Are Few-Shot Learners", SAME, []),
        ("Mistral 7B", SAME, []),
    ],
)  # fmt: skip
def test_split_title(line: str, title: str, aliases: list[str]) -> None:
    assert split_title(line) == (title or line, aliases)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("A Lin1∗, B Gao2, and C Chen3†  Univ X1, Meta AI3",
         (["A Lin", "B Gao", "C Chen"], ["Univ X", "Meta AI"])),
        ("A Lin1, B Gao2 Univ X1, Lab Y2", (["A Lin", "B Gao"], ["Univ X", "Lab Y"])),
        ("Rafael Rafailov and Archit Sharma", (["Rafael Rafailov", "Archit Sharma"], [])),
        ("Ada Lovelace", (["Ada Lovelace"], [])),
        ("Sachin Mehta Mohammad Hossein Sekhavat Qingqing Cao", None),
    ],
)  # fmt: skip
def test_split_authors(value: str, expected: tuple[list[str], list[str]] | None) -> None:
    assert split_authors(value) == expected


# -- the real seeds ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_seed_counts(seed: Path) -> None:
    source = read_source(seed)
    assert (len(source.candidates), len(source.skipped)) == SEED_PAPERS[seed.name]
    assert all(c.paper.title for c in source.candidates)


# label words and month names: the labels are keys or headings, the dates ISO dates
_SKIP_WORDS = {
    "authors", "abstract", "arxiv", "read",
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
}  # fmt: skip


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_nothing_of_a_seed_is_lost(seed: Path) -> None:
    """Every line's words are in the note of the paper it belongs to (front matter or body),
    or the line is a heading kept in the notes' Source section, or it is reported skipped."""
    source = read_source(seed)
    notes = [(c, dump(c.paper).casefold()) for c in source.candidates]
    skipped = {s.line for s in source.skipped}
    sources = " ".join(c.paper.body for c in source.candidates)
    reads = {c.paper.read for c in source.candidates}
    for number, line in enumerate(seed.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip() or number in skipped:
            continue
        owner = [text for c, text in notes if c.line <= number <= c.end]
        if not owner:
            dated = re.match(r"read on: - (.*)", line)
            kept = line.rstrip(":") in sources  # a heading the paper is listed under
            assert (dated and normalize.date(dated.group(1)) in reads) or kept, (
                f"{seed.name}:{number} is in no note and not reported: {line!r}"
            )
            continue
        text = owner[0]
        for url in re.findall(r"https?://\S+", line):
            arxiv = normalize.ARXIV_IN_TEXT.search(url)
            assert (arxiv and arxiv.group("id") in text) or url.rstrip(").").casefold() in text
        words = re.findall(r"[^\W\d_]{3,}", re.sub(r"https?://\S+", "", line))
        missing = [w for w in words if w.casefold() not in text and w.lower() not in _SKIP_WORDS]
        assert not missing, f"{seed.name}:{number}: {missing} not in the note"


def test_seeds_import_into_fifty_notes_with_dpo_merged(tmp_path: Path) -> None:
    assert import_into(tmp_path, *SEED_FILES) == (50, 0, 0)
    dpo = parse_file(tmp_path / "direct-preference-optimization.md").paper
    assert dpo is not None
    assert (
        dpo.title
        == "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
    )
    assert dpo.aliases == (
        "DPO",
        "Direct Preference Optimization: Your LM is Secretly a Reward Model",
    )
    assert (dpo.arxiv, dpo.year, dpo.published, dpo.read, dpo.org, dpo.tags) == (
        "2305.18290", 2023, "2023-12-13", "2024-02-06", "Stanford", ("Alignment",),
    )  # fmt: skip
    sections = re.findall(r"^## (.+)$", dpo.body, re.MULTILINE)
    assert sections == ["Abstract", "Links", "Notes", "Source"]
    assert dpo.body.count("In this paper we introduce a new parameterization") == 1
    assert "DPO outline." in dpo.body
    assert dpo.body.endswith(
        "## Source\n\n"
        "- 001_8dbaf122da3361e9.txt: Alignment › More readings › Github Awesome-RLHF\n"
        "- 003_a607115246831834.txt: LLM Pretraining & Fine-tuning\n"
    )
    assert len(list(tmp_path.glob("*.md"))) == 50


def test_import_is_idempotent(tmp_path: Path) -> None:
    import_into(tmp_path, *SEED_FILES)
    before = snapshot(tmp_path)
    assert import_into(tmp_path, *SEED_FILES) == (0, 0, 50)
    assert import_into(tmp_path, *reversed(SEED_FILES)) == (0, 0, 50)
    assert snapshot(tmp_path) == before


def test_merge_order_does_not_matter_for_what_is_kept(tmp_path: Path) -> None:
    seeds = {p.name[:3]: p for p in SEED_FILES}
    assert import_into(tmp_path, seeds["003"]) == (7, 0, 0)
    assert import_into(tmp_path, seeds["001"]) == (15, 1, 0)  # DPO merged into the 003 note
    dpo = parse_file(tmp_path / "direct-preference-optimization.md").paper
    assert dpo is not None
    assert dpo.title == "Direct Preference Optimization: Your LM is Secretly a Reward Model"
    assert (dpo.read, dpo.published) == ("2024-02-06", "2023-12-13")
    assert "Your Language Model is Secretly" in dpo.aliases[-1]


# -- never overwrite -----------------------------------------------------------------------

USER_NOTE = """\
---
# my own notes on DPO
title: DPO (my title)
arxiv: 2305.18290   # the NeurIPS version
year: 2022
aliases: [dpo-paper]
tags:
  - favourite
---
My summary, which the import must keep.

## Notes

A remark of mine.
"""


def test_merge_keeps_what_the_user_wrote(tmp_path: Path) -> None:
    note = write(tmp_path / "mine.md", USER_NOTE)
    seed = write(tmp_path / "in.txt", BRACKETED)
    assert import_into(tmp_path, seed) == (1, 1, 0)
    text = note.read_text(encoding="utf-8")
    assert text == (
        "---\n"
        "# my own notes on DPO\n"
        "title: DPO (my title)\n"
        "arxiv: 2305.18290   # the NeurIPS version\n"
        "org: Stanford\n"
        "year: 2022\n"
        "published: '2023-12-13'\n"
        "aliases:\n"
        "- dpo-paper\n"
        "- DPO\n"
        "- 'Direct Preference Optimization: Your LM is Secretly a Reward Model'\n"
        "tags:\n"
        "  - favourite\n"
        "---\n"
        "My summary, which the import must keep.\n"
        "\n"
        "## Notes\n"
        "\n"
        "A remark of mine.\n"
        "\n"
        "In this paper we introduce a new parameterization of the reward model in RLHF that "
        "enables extraction of the corresponding optimal policy in closed form.\n"
        "\n"
        "DPO outline. The general DPO pipeline is as follows.\n"
        "\n"
        "## Source\n"
        "\n"
        "- in.txt: LLM Pretraining & Fine-tuning\n"
    )
    assert import_into(tmp_path, seed) == (0, 0, 2)


def test_an_edited_paragraph_is_not_added_again(tmp_path: Path) -> None:
    seed = write(tmp_path / "in.txt", BRACKETED)
    import_into(tmp_path, seed)
    note = tmp_path / "direct-preference-optimization.md"
    text = note.read_text(encoding="utf-8")
    edited = text.replace("parameterization", "parametrisation").replace("in closed", "in a closed")
    note.write_text(edited, encoding="utf-8")
    assert import_into(tmp_path, seed) == (0, 0, 2)
    assert note.read_text(encoding="utf-8") == edited


def test_a_note_changed_since_it_was_read_is_refused(tmp_path: Path) -> None:
    note = write(tmp_path / "mine.md", USER_NOTE)
    plan = plan_import(read_source(write(tmp_path / "in.txt", BRACKETED)).candidates, tmp_path)
    assert [a.kind for a in plan.actions] == ["merge", "create"]
    note.write_text(USER_NOTE + "\nEdited meanwhile.\n", encoding="utf-8")
    (tmp_path / "retrieval-augmented-dual-instruction-tuning.md").write_text("mine", "utf-8")
    report = apply_plan(plan)
    assert report.written == []
    assert [why for _, why in report.refused] == [
        f"{note}: changed on disk since it was read; not overwritten",
        f"{tmp_path / 'retrieval-augmented-dual-instruction-tuning.md'}: already exists; "
        "not overwritten",
    ]
    assert note.read_text(encoding="utf-8").endswith("Edited meanwhile.\n")


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        # CRLF and a BOM are kept; a flow list that gains items is rewritten as a list
        (
            "\ufeff---\r\ntitle: X\r\naliases: [x1]\r\n---\r\nBody.\r\n",
            "\ufeff---\r\ntitle: X\r\naliases:\r\n- x1\r\n- XA\r\nyear: 2023\r\n---\r\n"
            "Body.\r\n\r\n## Notes\r\n\r\nNew text.\r\n",
        ),
        # TOML front matter gets TOML lines
        (
            '+++\ntitle = "X"\naliases = ["x1"]\n+++\nBody.\n',
            '+++\ntitle = "X"\naliases = ["x1", "XA"]\nyear = 2023\n+++\n'
            "Body.\n\n## Notes\n\nNew text.\n",
        ),
        # no front matter: one is added, the text stays
        (
            "# X\n\nBody.\n",
            "---\naliases:\n- XA\nyear: 2023\n---\n# X\n\nBody.\n\n## Notes\n\nNew text.\n",
        ),
        # an existing section gets the paragraph at its end; an empty key is filled in
        (
            "---\ntitle: X\nyear:\n---\n## Notes\n\nMine.\n\n## Other\n\nMore.\n",
            "---\ntitle: X\naliases:\n- XA\nyear: 2023\n---\n## Notes\n\nMine.\n\nNew text.\n\n"
            "## Other\n\nMore.\n",
        ),
    ],
)
def test_merge_edits_front_matter_in_place(note: str, expected: str) -> None:
    existing = parse_text(note.removeprefix("\ufeff").replace("\r\n", "\n"), "x.md").paper
    assert existing is not None
    incoming = Paper(id="", title="X", aliases=("XA",), year=2023, body="## Notes\n\nNew text.\n")
    merged = merge_note(note, existing, incoming, "x.md")
    assert merged.text == expected
    assert merged.added == ("aliases: XA", "year: 2023", "Notes: 1 paragraph")
    again = merge_note(merged.text, merged.paper, incoming, "x.md")
    assert again.added == ()


def test_merge_body_puts_new_sections_before_the_source() -> None:
    body = "\n## Abstract\n\nA.\n\n## Source\n\n- a.txt\n"
    merged, added = merge_body(body, "## Notes\n\nN.\n\n## Source\n\n- b.txt\n- a.txt\n")
    assert merged == "\n## Abstract\n\nA.\n\n## Notes\n\nN.\n\n## Source\n\n- a.txt\n- b.txt\n"
    assert added == ["Notes: 1 paragraph", "Source: 1 item"]


# -- the command ---------------------------------------------------------------------------


def test_cli_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "s.txt", SESSIONS)
    result = invoke("import", "s.txt", "--into", "kb")
    assert result.exit_code == 0
    assert result.stdout == (
        "s.txt: 5 papers, 3 lines skipped\n"
        "s.txt:3: skipped: 'In this session, our readings cover:': label with no paper under it\n"
        "s.txt:24: skipped: 'chatbot-arena-leaderboard': a named link, not a paper\n"
        "s.txt:25: skipped: 'https://huggingface.co/spaces/lmsys/chatbot-arena-leaderb...': "
        "link of 'chatbot-arena-leaderboard', not a paper\n"
        "created kb/aligning-large-language-models-with-human.md: "
        "Aligning Large Language Models with Human: A Survey\n"
        "created kb/direct-preference-optimization.md: "
        "Direct Preference Optimization: Your Language Model is Secretly a Reward Model\n"
        "created kb/llama-2.md: Llama 2: Open Foundation and Fine-Tuned Chat Models\n"
        "created kb/training-language-models-to-follow-instructions-with-human.md: "
        "Training language models to follow instructions with human feedback\n"
        "created kb/challenges-in-evaluating-ai-systems.md: Challenges in evaluating AI systems\n"
        "5 papers in 1 file: 5 notes created, 0 merged, 0 unchanged; 3 lines skipped\n"
    )
    write(tmp_path / "b.txt", BRACKETED)
    result = invoke("import", "s.txt", "b.txt", "--into", "kb")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-3:] == [
        "merged kb/direct-preference-optimization.md: added aliases: Direct Preference "
        "Optimization: Your LM is Secretly a Reward Model; published: 2023-12-13; org: Stanford; "
        "Notes: 2 paragraphs; Source: 1 item",
        "created kb/retrieval-augmented-dual-instruction-tuning.md: "
        "Retrieval-Augmented Dual Instruction Tuning",
        "7 papers in 2 files: 1 note created, 1 merged, 4 unchanged; 3 lines skipped",
    ]


def test_cli_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    write(tmp_path / "b.txt", BRACKETED)
    result = invoke("import", "b.txt", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == (
        "b.txt: 2 papers\n"
        "would create notes/direct-preference-optimization.md: "
        "Direct Preference Optimization: Your LM is Secretly a Reward Model\n"
        "would create notes/retrieval-augmented-dual-instruction-tuning.md: "
        "Retrieval-Augmented Dual Instruction Tuning\n"
        "2 papers in 1 file: 2 notes to create, 0 to merge, 0 unchanged; 0 lines skipped "
        "(dry run: nothing written)\n"
    )
    assert list((tmp_path / "notes").iterdir()) == []
    assert not (tmp_path / "kb").exists()
    assert invoke("import", "b.txt", "--into", "kb", "--dry-run").exit_code == 0
    assert not (tmp_path / "kb").exists()


class _Known(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith("cannot import .pdf files (known: ")

    __hash__ = str.__hash__


ANY_KNOWN = _Known()


def test_cli_json_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "b.txt", BRACKETED)
    (tmp_path / "bad.txt").write_bytes(b"title\n\xff\xfe\n")
    (tmp_path / "paper.pdf").write_bytes(b"%PDF")
    result = invoke("import", "b.txt", "bad.txt", "paper.pdf", "--into", "kb", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"] == {
        "files": 3, "papers": 2, "created": 2, "merged": 0, "unchanged": 0, "refused": 0,
        "skipped": 0, "errors": 2, "dry_run": False,
    }  # fmt: skip
    assert [f["diagnostics"] for f in data["files"][1:]] == [
        [{"line": 2, "severity": "error", "message": "not valid UTF-8 (byte 0xff)"}],
        [{"line": 1, "severity": "error", "message": ANY_KNOWN}],
    ]
    assert data["notes"][0]["from"] == ["b.txt:2"]


def test_cli_without_a_notes_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "b.txt", BRACKETED)
    result = invoke("import", "b.txt")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no notes directory found")


def test_candidates_from_other_importers(tmp_path: Path) -> None:
    """The pipeline takes bare Papers too (BibTeX, arXiv): matched by DOI and by title."""
    import_into(tmp_path, write(tmp_path / "b.txt", BRACKETED))
    papers = [
        Paper(id="", title="Retrieval-augmented dual instruction tuning", doi="10.1234/radit"),
        Paper(id="", title="Another Paper", doi="10.1234/RADIT"),  # same DOI, any case
        Paper(id="rafailov2023direct", title="DPO", arxiv="2305.18290", venue="NeurIPS"),
        Paper(id="", title="Retrieval-Augmented Dual Instruction Tuning", arxiv="9999.99999"),
    ]
    plan = plan_import(papers, tmp_path)
    assert [(a.kind, a.path.name) for a in plan.actions] == [
        ("merge", "retrieval-augmented-dual-instruction-tuning.md"),
        ("merge", "direct-preference-optimization.md"),
        ("create", "retrieval-augmented-dual-instruction-tuning-2.md"),  # arXiv ids differ
    ]
    assert plan.actions[0].added == ["doi: 10.1234/radit", "aliases: Another Paper"]
    assert [c.paper.title for c in plan.actions[0].candidates] == [p.title for p in papers[:2]]
    assert note_slug("Vi(E)va LLM! A Conceptual Stack") == "vi-e-va-llm"
    assert isinstance(plan.actions[0].candidates[0], Candidate)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "read on: - 08 Feb 2024", "read on: - someday", "Required Readings:", "-",
                    "- https://arxiv.org/abs/2305.18290", "Arxiv: https://x.org nonsense",
                    "Authors A1, B2  U1", "Abstract text", "[X] Y🔗", "", "DPO Direct P O",
                    ABSTRACT, "- " + ABSTRACT, "Title: Sub",
                ]
            ),
            st.text(max_size=80),
        ),
        max_size=25,
    )
)  # fmt: skip
def test_parser_never_raises(lines: list[str]) -> None:
    text = "\n".join(lines)
    source = parse(text, "fuzz.txt")
    count = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for candidate in source.candidates:
        assert candidate.paper.title.strip()
        assert 1 <= candidate.line <= candidate.end <= count
        assert parse_text(dump(candidate.paper), "x.md").paper is not None


def test_shipped_seeds_are_the_users_files() -> None:
    shared = SEEDS.parent.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is absent")
    assert [p.name for p in SEED_FILES] == sorted(p.name for p in shared.iterdir())
    for seed in SEED_FILES:
        assert seed.read_bytes() == (shared / seed.name).read_bytes()


_FRONT = st.lists(
    st.sampled_from(
        [
            "# a comment", "aliases: [a1]", "aliases:\n  - a1  # mine", "alias: a1",
            "tags: t1, t2", "tags:\n- t1", "year: 2020", "year:", "custom: value",
            "arxiv: 2305.18290   # v2", "abstract: |\n  Line one.\n\n  Line two.",
        ]
    ),
    max_size=5,
    unique=True,
)  # fmt: skip
_BODY = st.lists(
    st.sampled_from(["", "Mine.", "## Notes", "## Source", "- item", "```", "# Heading", "x" * 90]),
    max_size=6,
).map("\n".join)
_INCOMING = st.builds(
    Paper,
    id=st.just(""),
    title=st.sampled_from(["X", "X: a longer title", "Another Paper Title"]),
    aliases=st.lists(st.sampled_from(["A1", "a1", "New", "Y: z", "x"]), max_size=3).map(tuple),
    tags=st.lists(st.sampled_from(["t1", "T2", "rlhf"]), max_size=2).map(tuple),
    year=st.none() | st.integers(1990, 2030),
    published=st.none() | st.just("2023-12-13"),
    extra=st.sampled_from([{}, {"citekey": "x2023"}, {"custom": "other"}]),
    body=st.lists(
        st.sampled_from(["## Notes", "## Source", "Mine.", "New.", "- item", "- b.txt", "y" * 95]),
        max_size=5,
    ).map("\n\n".join),
)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FRONT, _BODY, st.sampled_from(["yaml", "yaml-crlf", "none"]), _INCOMING)
def test_merge_keeps_every_value_and_is_idempotent(
    front: list[str], body: str, kind: str, incoming: Paper
) -> None:
    meta = "\n".join(["title: X", *front])
    note = f"# X\n{body}\n" if kind == "none" else f"---\n{meta}\n---\n{body}\n"
    if kind == "yaml-crlf":
        note = note.replace("\n", "\r\n")
    existing = parse_text(note.replace("\r\n", "\n"), "x.md").paper
    if existing is None:
        return
    try:
        merged = merge_note(note, existing, incoming, "x.md")
    except MergeRefused:
        return
    paper = parse_text(merged.text.replace("\r\n", "\n"), "x.md").paper
    assert paper is not None
    for name in ("title", "year", "published", "arxiv", "abstract"):
        if getattr(existing, name) is not None:
            assert getattr(paper, name) == getattr(existing, name)
    for name in ("aliases", "tags", "authors"):
        assert getattr(paper, name)[: len(getattr(existing, name))] == getattr(existing, name)
    assert all(paper.extra[k] == v for k, v in existing.extra.items())
    old_lines = iter(paper.body.split("\n"))
    assert all(any(x == y for y in old_lines) for x in existing.body.split("\n"))
    assert merge_note(merged.text, merged.paper, incoming, "x.md").added == ()


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300))
def test_reading_any_bytes_gives_papers_or_an_error_with_a_line(data: bytes) -> None:
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as folder:
        path = Path(folder) / "notes.txt"
        path.write_bytes(data)
        source = read_source(path, "notes.txt")
    for diag in source.diagnostics:
        assert diag.path == "notes.txt" and diag.line >= 1
    if source.failed:
        assert source.candidates == ()
