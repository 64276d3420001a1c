"""CSL JSON export (``export --format csl-json``) and ``papernotes cite``: items in the shape of
the CSL data schema, keys that cite the entries of the BibTeX export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pybtex.errors
import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator
from pybtex.database import parse_string

from conftest import SHIPPED_NOTES, needs_shared_data
from kbfactory import make_kb, run
from papernotes.cli import cli
from papernotes.interop.cite import reference
from papernotes.interop.csl import csl_item, csl_name, to_csl_json
from papernotes.note.model import Paper

# The item types of CSL 1.0.2 (csl-data.json).
CSL_TYPES = [
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book",
    "broadcast", "chapter", "classic", "collection", "dataset", "document", "entry",
    "entry-dictionary", "entry-encyclopedia", "event", "figure", "graphic", "hearing",
    "interview", "legal_case", "legislation", "manuscript", "map", "motion_picture",
    "musical_score", "pamphlet", "paper-conference", "patent", "performance", "periodical",
    "personal_communication", "post", "post-weblog", "regulation", "report", "review",
    "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage",
]  # fmt: skip
STRING_OR_NUMBER = {"type": ["string", "number"]}
# The shape the CSL data schema requires of what papernotes writes: the variables it may use
# and nothing else, names as family/given or literal, dates as date-parts.
CSL_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "type", "title"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": ["string", "number"], "minLength": 1},
            "type": {"enum": CSL_TYPES},
            "title": {"type": "string", "minLength": 1},
            "author": {"type": "array", "items": {"$ref": "#/definitions/name"}},
            "issued": {"$ref": "#/definitions/date"},
            "container-title": {"type": "string"},
            "DOI": {"type": "string", "pattern": "^10[./]"},
            "URL": {"type": "string", "pattern": "^https?://"},
            "abstract": {"type": "string"},
            "keyword": {"type": "string"},
            "publisher": {"type": "string"},
            "publisher-place": {"type": "string"},
            "number": STRING_OR_NUMBER,
            "volume": STRING_OR_NUMBER,
            "issue": STRING_OR_NUMBER,
            "page": STRING_OR_NUMBER,
            "edition": STRING_OR_NUMBER,
            "ISBN": {"type": "string"},
            "ISSN": {"type": "string"},
            "PMID": {"type": "string"},
            "collection-title": {"type": "string"},
            "language": {"type": "string"},
        },
    },
    "definitions": {
        "name": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["family"],
                    "additionalProperties": False,
                    "properties": {
                        k: {"type": "string", "minLength": 1}
                        for k in ("family", "given", "non-dropping-particle", "suffix")
                    },
                },
                {
                    "type": "object",
                    "required": ["literal"],
                    "additionalProperties": False,
                    "properties": {"literal": {"type": "string", "minLength": 1}},
                },
            ]
        },
        "date": {
            "type": "object",
            "required": ["date-parts"],
            "additionalProperties": False,
            "properties": {
                "date-parts": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 3,
                        "items": {"type": "integer"},
                    },
                }
            },
        },
    },
}


def valid(text: str) -> list[dict[str, Any]]:
    data = json.loads(text)
    errors = sorted(Draft7Validator(CSL_SCHEMA).iter_errors(data), key=str)
    assert errors == [], errors[:3]
    return data  # type: ignore[no-any-return]


DPO = Paper(
    id="dpo",
    title="Direct Preference Optimization",
    authors=("Rafael Rafailov", "Archit Sharma", "John von Neumann", "Martin Luther King Jr.",
             "OpenAI Team"),
    year=2023,
    published="2023-05-29",
    arxiv="2305.18290",
    doi="10.48550/arXiv.2305.18290",
    venue="NeurIPS 2023",
    tags=("rlhf", "dpo"),
    extra={"bibtex": {"type": "inproceedings", "pages": "1--12", "volume": "36"}},
    body="## Abstract\n\nWe propose DPO.\n",
)  # fmt: skip


def test_one_paper_as_csl() -> None:
    assert csl_item(DPO, "rafailov2023direct") == {
        "id": "rafailov2023direct",
        "type": "paper-conference",
        "title": "Direct Preference Optimization",
        "author": [
            {"family": "Rafailov", "given": "Rafael"},
            {"family": "Sharma", "given": "Archit"},
            {"family": "Neumann", "given": "John", "non-dropping-particle": "von"},
            {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
            {"literal": "OpenAI Team"},
        ],
        "issued": {"date-parts": [[2023, 5, 29]]},
        "container-title": "NeurIPS 2023",
        "page": "1-12",
        "volume": "36",
        "publisher": "arXiv",
        "number": "arXiv:2305.18290",
        "DOI": "10.48550/arXiv.2305.18290",
        "URL": "https://arxiv.org/abs/2305.18290",
        "abstract": "We propose DPO.",
        "keyword": "rlhf, dpo",
    }
    valid(to_csl_json([DPO]))


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({}, "document"),
        ({"arxiv": "2305.18290"}, "article"),
        ({"venue": "Nature"}, "article-journal"),
        ({"venue": "Proceedings of ACL"}, "paper-conference"),
        ({"extra": {"bibtex": {"type": "phdthesis"}}}, "thesis"),
        ({"extra": {"bibtex": {"type": "book"}}}, "book"),
        ({"extra": {"bibtex": {"type": "techreport"}}}, "report"),
        ({"extra": {"bibtex": {"type": "online"}}}, "webpage"),
    ],
)
def test_csl_types(changes: dict[str, Any], kind: str) -> None:
    paper = Paper(id="x", title="X", **changes)
    assert csl_item(paper, "x")["type"] == kind


@pytest.mark.parametrize(
    ("name", "csl"),
    [
        ("Chelsea Finn", {"family": "Finn", "given": "Chelsea"}),
        ("Christopher D. Manning", {"family": "Manning", "given": "Christopher D."}),
        ("Meta", {"literal": "Meta"}),
        ("World Health Organization", {"literal": "World Health Organization"}),
        ("Sönke Ahrens", {"family": "Ahrens", "given": "Sönke"}),
    ],
)
def test_names(name: str, csl: dict[str, str]) -> None:
    assert csl_name(name) == csl


def test_shipped_notes_export_valid_csl(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--notes-dir", str(SHIPPED_NOTES), "export", "--format", "csl-json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0
    items = valid(result.stdout)
    assert len(items) == 50
    assert len({item["id"] for item in items}) == 50


def test_real_zotero_library_exports_valid_csl(tmp_path: Path) -> None:
    bib = needs_shared_data("bibtex", "DarwinAwardWinner_Thesis__library.bib")
    notes = tmp_path / "notes"
    notes.mkdir()
    runner = CliRunner()
    runner.invoke(cli, ["--notes-dir", str(notes), "import", str(bib)], catch_exceptions=False)
    result = runner.invoke(
        cli, ["--notes-dir", str(notes), "export", "--format", "csl-json"], catch_exceptions=False
    )
    items = valid(result.stdout)
    assert len(items) == len(list(notes.glob("*.md"))) > 500
    kinds = {item["type"] for item in items}
    assert {"article-journal", "book", "report", "software"} <= kinds
    assert sum("literal" in a for item in items for a in item.get("author", [])) < 50


# -- papernotes cite -------------------------------------------------------------------------------


def test_cite_prints_the_keys_of_the_bibtex_export(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    assert run(notes, "cite", "dpo", "kto").stdout == "rafailov2023direct\nethayarajh2024kto\n"
    exported = run(notes, "export", "--format", "bibtex").stdout
    with pybtex.errors.capture():
        assert {"rafailov2023direct", "ethayarajh2024kto"} <= set(
            parse_string(exported, "bibtex").entries
        )


def test_a_shared_key_gets_the_letter_it_has_in_the_export(tmp_path: Path) -> None:
    notes = make_kb(
        tmp_path,
        {
            "b": "---\ntitle: Attention B\nauthors: [Ann Lee]\nyear: 2020\n---\n",
            "a": "---\ntitle: Attention A\nauthors: [Ann Lee]\nyear: 2020\n---\n",
            "c": "---\ntitle: C\ncitekey: mine2020\ncitekeys: [old2019]\n---\n",
        },
    )
    assert (
        run(notes, "cite", "b", "a", "c").stdout
        == "lee2020attentiona\nlee2020attention\nmine2020\n"
    )
    bib = run(notes, "cite", "c", "--format", "bibtex").stdout
    assert bib == "@misc{mine2020,\n  ids = {old2019},\n  title = {C}\n}\n"


def test_cite_formats(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    text = run(notes, "cite", "dpo", "--format", "text").stdout
    assert text == (
        "Rafailov, R., Sharma, A., Mitchell, E., Ermon, S., Manning, C. D., & Finn, C. (2023). "
        "Direct Preference Optimization: Your Language Model is Secretly a Reward Model. "
        "NeurIPS 2023. https://arxiv.org/abs/2305.18290\n"
    )
    (item,) = valid(run(notes, "cite", "dpo", "--format", "csl-json").stdout)
    assert item["id"] == "rafailov2023direct"
    bib = run(notes, "cite", "dpo", "kto", "--format", "bibtex").stdout
    with pybtex.errors.capture():
        assert list(parse_string(bib, "bibtex").entries) == [
            "rafailov2023direct",
            "ethayarajh2024kto",
        ]
    missing = CliRunner().invoke(cli, ["--notes-dir", str(notes), "cite", "nothing-like-this"])
    assert missing.exit_code == 1


def test_reference_without_authors() -> None:
    paper = Paper(id="m", title="Mixtral of Experts.", year=2024, arxiv="2401.04088")
    assert reference(paper) == (
        "Mixtral of Experts. (2024). arXiv:2401.04088. https://arxiv.org/abs/2401.04088"
    )
