"""Papers -> BibTeX: entry types, keys, escaping, validity, and the round trip on real exports."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pybtex.errors
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from pybtex.database import parse_string

from conftest import examples
from papernotes.cli import cli
from papernotes.disk.store import iter_notes
from papernotes.interop.bibtex import (
    bibtex_name,
    citation_key,
    entry_type,
    protect_title,
    to_bibtex,
)
from papernotes.interop.importers.bibtex import parse_bibtex
from papernotes.note.model import Paper
from papernotes.note.parse import parse_note
from tests.conftest import SHARED_DATA

DPO = Paper(
    id="direct-preference-optimization",
    title="Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
    aliases=("DPO",),
    authors=("Rafael Rafailov", "Archit Sharma", "Eric Mitchell"),
    year=2023,
    published="2023-05-29",
    arxiv="2305.18290",
    tags=("dpo", "rlhf"),
    extra={"categories": ["cs.LG", "cs.AI"]},
    body="## Abstract\n\nWe introduce DPO.\n\n## Notes\n\nMine.\n",
)


def strict_parse(text: str) -> Any:
    """Parse with pybtex in strict mode: any syntax problem raises."""
    pybtex.errors.set_strict_mode(True)
    return parse_string(text, "bibtex")


def test_arxiv_paper_is_misc_with_eprint() -> None:
    assert to_bibtex([DPO]) == (
        "@misc{rafailov2023direct,\n"
        "  author = {Rafailov, Rafael and Sharma, Archit and Mitchell, Eric},\n"
        "  title = {Direct Preference Optimization: Your Language Model is Secretly a Reward"
        " Model},\n"
        "  year = {2023},\n"
        "  month = may,\n"
        "  date = {2023-05-29},\n"
        "  eprint = {2305.18290},\n"
        "  archiveprefix = {arXiv},\n"
        "  primaryclass = {cs.LG},\n"
        "  keywords = {dpo, rlhf},\n"
        "  abstract = {We introduce DPO.}\n"
        "}\n"
    )


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"venue": "Advances in Neural Information Processing Systems (NeurIPS)"}, "inproceedings"),
        ({"venue": "Proceedings of the 40th International Conference on ML"}, "inproceedings"),
        ({"venue": "ACL 2024 Findings"}, "inproceedings"),
        ({"venue": "Nature"}, "article"),
        ({"venue": "Transactions on Machine Learning Research"}, "article"),
        ({"venue": None}, "misc"),
        ({"venue": None, "arxiv": None}, "misc"),
        ({"extra": {"bibtex": {"type": "book"}}}, "book"),
        ({"extra": {"bibtex": {"type": "PhDThesis"}}}, "phdthesis"),
        ({"extra": {"bibtex": {"type": "not valid!"}}, "venue": "Nature"}, "article"),
    ],
)  # fmt: skip
def test_entry_type(changes: dict[str, Any], kind: str) -> None:
    import dataclasses

    assert entry_type(dataclasses.replace(DPO, **changes)) == kind


def test_venue_goes_to_booktitle_or_journal() -> None:
    import dataclasses

    conference = dataclasses.replace(DPO, venue="NeurIPS 2023")
    journal = dataclasses.replace(DPO, venue="Nature & Science")
    assert "  booktitle = {NeurIPS 2023},\n" in to_bibtex([conference])
    assert "  journal = {Nature \\& Science},\n" in to_bibtex([journal])
    assert to_bibtex([conference]).startswith("@inproceedings{")


@pytest.mark.parametrize(
    ("authors", "title", "year", "key"),
    [
        (("Rafael Rafailov",), "Direct Preference Optimization", 2023, "rafailov2023direct"),
        (("Hugo Touvron",), "Llama 2: Open Foundation and Fine-Tuned Chat Models", 2023,
         "touvron2023llama"),
        (("Ashish Vaswani",), "Attention Is All You Need", 2017, "vaswani2017attention"),
        (("John von Neumann",), "The Theory of Games", 1944, "vonneumann1944theory"),
        (("Sönke Ahrens",), "How to Take Smart Notes", 2022, "ahrens2022take"),
        (("OpenAI",), "GPT-4 Technical Report", 2023, "openai2023gpt"),
        ((), "On the Dangers of Stochastic Parrots", None, "anondangers"),
        (("李 明",), "中文标题", 2020, "2020"),
    ],
)  # fmt: skip
def test_generated_keys(authors: tuple[str, ...], title: str, year: int | None, key: str) -> None:
    paper = Paper(id="x", title=title, authors=authors, year=year)
    expected = key if key != "2020" else "anon2020"
    assert citation_key(paper) == expected


def test_keys_are_unique_and_the_citekey_is_kept() -> None:
    papers = [
        Paper(id="a", title="Direct Preference Optimization", authors=("R. Rafailov",), year=2023),
        Paper(id="b", title="Direct preference optimization", authors=("R Rafailov",), year=2023),
        Paper(id="c", title="Direct Preference", authors=("Rafael Rafailov",), year=2023),
        Paper(id="d", title="Mine", extra={"citekey": "Luhring2007"}),
        Paper(id="e", title="Clash", extra={"citekey": "luhring2007"}),
        Paper(id="f", title="Bad key", extra={"citekey": "has space"}, year=2001),
    ]
    taken: set[str] = set()
    keys = [citation_key(p, taken) for p in papers]
    assert keys == [
        "rafailov2023direct",
        "rafailov2023directa",
        "rafailov2023directb",
        "Luhring2007",
        "anonclash",
        "anon2001bad",
    ]


@pytest.mark.parametrize(
    ("name", "bibtex"),
    [
        ("Rafael Rafailov", "Rafailov, Rafael"),
        ("Christopher D. Manning", "Manning, Christopher D."),
        ("John von Neumann", "von Neumann, John"),
        ("Jean de la Fontaine", "de la Fontaine, Jean"),
        ("Sönke Ahrens", 'Ahrens, S{\\"o}nke'),
        ("María E Terrón-Díaz", "Terr{\\'o}n-D{\\'\\i}az, Mar{\\'\\i}a E"),
        ("OpenAI", "{OpenAI}"),
        ("World Health Organization", "{World Health Organization}"),
        ("The Llama Team", "{The Llama Team}"),
        ("Barnes & Noble", "{Barnes \\& Noble}"),
    ],
)
def test_bibtex_names(name: str, bibtex: str) -> None:
    assert bibtex_name(name) == bibtex


@pytest.mark.parametrize(
    ("title", "latex"),
    [
        ("Direct Preference Optimization", "Direct Preference Optimization"),
        ("DPO: Your LM is a Reward Model", "{DPO}: Your {LM} is a Reward Model"),
        ("LLaMA and GPT-4 vs. BERTScore", "{LLaMA} and {GPT-4} vs. {BERTScore}"),
        ("50% of $5 & #1 a_b {x} ~ ^", "50\\% of \\$5 \\& \\#1 a\\_b "
         "\\textbraceleft{}x\\textbraceright{} \\textasciitilde{} \\textasciicircum{}"),
        ("Gröbner bases", 'Gr{\\"o}bner bases'),
        ("α-helices", "{$\\alpha$}-helices"),
    ],
)  # fmt: skip
def test_protect_title(title: str, latex: str) -> None:
    assert protect_title(title) == latex


HOSTILE = [
    Paper(id="a", title="Unbalanced { brace and } } more {", authors=("A {B",), year=2020),
    Paper(id="b", title="Back\\slash \\end{document} %comment", venue="J. of $x^2$ & _y_"),
    Paper(id="c", title='Quote " and @article{inner, title={x}}', doi="10.1000/a{b}%c"),
    Paper(id="d", title="Line\nbreak\tand\x0bcontrol\x1b[31m", url="http://x.org/a b}"),
    Paper(id="e", title="Emoji 🦙 and CJK 中文 and RTL \u202e", tags=("a,b", "c}")),
    Paper(id="f", title="x", extra={"bibtex": {"type": "misc", "pages": "1--2}", "note": "{ok}"}}),
    Paper(id="g", title="y", extra={"bibtex": "not a mapping", "citekey": "k,ey"}),
    Paper(id="h", title="z", abstract="Para one.\n\nPara } two."),
]  # fmt: skip


def test_hostile_values_still_give_valid_bibtex() -> None:
    text = to_bibtex(HOSTILE)
    database = strict_parse(text)
    assert len(database.entries) == len(HOSTILE)
    back = parse_bibtex(text, "hostile.bib")
    assert back.skipped == [] and back.warnings == []
    titles = [" ".join(p.title.split()) for p in HOSTILE]
    assert [e.paper.title for e in back.entries] == titles
    assert back.entries[0].paper.authors == ("A {B",)


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
_NAME = st.lists(
    st.text(st.characters(whitelist_categories=("Lu", "Ll", "Lo")), min_size=1, max_size=8),
    min_size=1,
    max_size=3,
).map(" ".join)


@settings(max_examples=examples(150), deadline=None)
@given(
    title=_TEXT.filter(lambda t: t.strip()),
    authors=st.lists(_NAME, max_size=3, unique=True),
    venue=st.none() | _TEXT,
    tags=st.lists(
        st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]+)?", fullmatch=True), max_size=3, unique=True
    ),
)
def test_any_paper_gives_valid_bibtex_that_reads_back(
    title: str, authors: list[str], venue: str | None, tags: list[str]
) -> None:
    paper = Paper(id="x", title=title, authors=tuple(authors), year=2024, venue=venue,
                  tags=tuple(tags))  # fmt: skip
    text = to_bibtex([paper])
    strict_parse(text)
    (entry,) = parse_bibtex(text, "p.bib").entries
    assert entry.paper.title == " ".join(title.split())
    assert entry.paper.authors == tuple(" ".join(a.split()) for a in authors)
    assert entry.paper.year == 2024
    assert entry.paper.tags == tuple(tags)


def test_round_trip_of_one_paper_keeps_everything() -> None:
    (entry,) = parse_bibtex(to_bibtex([DPO]), "dpo.bib").entries
    paper = entry.paper
    assert (paper.title, paper.authors, paper.year, paper.published) == (
        DPO.title,
        DPO.authors,
        DPO.year,
        DPO.published,
    )
    assert (paper.arxiv, paper.tags, paper.extra["categories"]) == (
        "2305.18290",
        DPO.tags,
        ["cs.LG"],
    )
    assert paper.body == "## Abstract\n\nWe introduce DPO.\n"


# -- through the command line, on the real exports -----------------------------------------------

REAL = sorted(p.name for p in (SHARED_DATA / "bibtex").glob("*.bib")) or ["absent.bib"]
# the last line of `papernotes import` on each real export into an empty directory
IMPORT_SUMMARY = {
    "BU-DiSC_mendeley-library__library.bib": (
        "2392 papers in 1 file: 2373 notes created, 0 merged, 0 unchanged; 0 lines skipped"
    ),
    "CoreySpohn_dissertation__library.bib": (
        "332 papers in 1 file: 323 notes created, 0 merged, 0 unchanged; 0 lines skipped"
    ),
    "DarwinAwardWinner_Thesis__library.bib": (
        "571 papers in 1 file: 570 notes created, 0 merged, 0 unchanged; 1 line skipped"
    ),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def identity(root: Path) -> Counter[tuple[Any, ...]]:
    """The papers of a notes directory as (title, authors, year, arxiv, doi), with counts."""
    papers = [parse_note(path) for path in iter_notes(root)]
    return Counter((p.title, p.authors, p.year, p.arxiv, p.doi) for p in papers)


@pytest.fixture(scope="module", params=REAL)
def round_trip(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Path]:
    source = SHARED_DATA / "bibtex" / request.param
    if not source.exists():
        pytest.skip(f"{source} is absent")
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    exported = tmp_path_factory.mktemp("export") / "library.bib"
    result = run("--notes-dir", str(first), "import", str(source))
    assert result.exit_code == 0, result.output
    if request.param in IMPORT_SUMMARY:
        assert result.stdout.splitlines()[-1] == IMPORT_SUMMARY[request.param]
    result = run("--notes-dir", str(first), "export", "--format", "bibtex", "-o", str(exported))
    assert result.exit_code == 0, result.output
    result = run("--notes-dir", str(second), "import", str(exported))
    assert result.exit_code == 0, result.output
    return first, exported, second


def test_real_export_gives_valid_bibtex(round_trip: tuple[Path, Path, Path]) -> None:
    first, exported, _ = round_trip
    database = strict_parse(exported.read_text(encoding="utf-8"))
    assert len(database.entries) == sum(1 for _ in iter_notes(first))


def test_real_export_round_trip_gives_the_same_papers(round_trip: tuple[Path, Path, Path]) -> None:
    first, _, second = round_trip
    assert identity(second) == identity(first)


def test_real_export_round_trip_keeps_citation_keys(round_trip: tuple[Path, Path, Path]) -> None:
    first, _, second = round_trip
    keys = Counter(parse_note(p).extra.get("citekey") for p in iter_notes(first))
    again = Counter(parse_note(p).extra.get("citekey") for p in iter_notes(second))
    assert again == keys
