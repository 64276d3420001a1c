"""What the parser understands beyond the front matter (issue 14): Dataview inline fields, a
title when ``title:`` is missing, the ``## Abstract`` section as the abstract, a read date
meaning read, ``date:`` as the day added; and what editors, who compare notes as written,
read without ``understand``."""

from __future__ import annotations

from typing import Any

import pytest

from papernotes.note.parse import parse_text

ZOTERO = """---
category: literaturenote
tags: IMPORTANT, read
citekey: Beer2009
status: unread
---

>[!md]
> **FirstAuthor**:: Beer, David
> **Author**:: Burrows, Roger
~
> **Title**:: Power through the algorithm? Participatory web cultures
> **Year**:: 2009
> **Journal**:: *New Media & Society*
> **Volume**:: 11
> **DOI**:: 10.1177/1461444809336551
> **Pages**:: **

# Notes

- my reading
"""


def parse(text: str, understand: bool = True) -> Any:
    """``text`` read as parse_file reads a note (or, not ``understand``, its front matter as
    written, as editors read it)."""
    result = parse_text(text, "vault/@Beer2009.md", strict=False, understand=understand)
    assert result.paper is not None, result.diagnostics
    return result


def test_a_zotero_template_is_read_as_fields() -> None:
    result = parse(ZOTERO)
    paper = result.paper
    assert paper.title == "Power through the algorithm? Participatory web cultures"
    assert paper.authors == ("Beer, David", "Burrows, Roger")
    assert (paper.year, paper.doi) == (2009, "10.1177/1461444809336551")
    assert paper.tags == ("IMPORTANT", "read")
    assert paper.status == "to-read"
    assert dict(paper.extra) == {
        "category": "literaturenote",
        "citekey": "Beer2009",
        "Journal": "New Media & Society",
        "Volume": "11",
    }
    assert (paper.line_of("title"), paper.line_of("year"), paper.line_of("Journal")) == (12, 13, 14)
    assert result.diagnostics == ()


def test_not_understood_is_the_front_matter_alone() -> None:
    result = parse(ZOTERO, understand=False)
    paper = result.paper
    assert (paper.title, paper.authors, paper.year) == ("Notes", (), None)
    assert set(paper.extra) == {"category", "citekey"}
    assert [d.message for d in result.diagnostics] == [
        "no title in the front matter; title taken from the heading"
    ]


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        ("Title:: A Title\n", "title", "A Title"),
        ("- Year:: 2021\n", "year", 2021),
        ("> authors:: Ann Lee, Bo Chen\n", "authors", ("Ann Lee", "Bo Chen")),
        ("Read on [read:: 2024-02-08] and (rating:: 4) today.\n", "rating", 4),
        ("Read on [read:: 2024-02-08].\n", "status", "read"),
        ("**Related**:: [[dpo]], [[kto|KTO]]\n", "related", ("dpo", "kto")),
        ("Title:: [[Some Note|Shown Title]]\n", "title", "Shown Title"),
        ("```\nTitle:: in code\n```\nyear:: 2020\n", "title", "T.md"),
        ("`Title:: in code` and std::vector\n", "title", "T.md"),
        ("id:: other\n", "id", "T"),
        ("Reading Status:: started\n", "extra", {"Reading Status": "started"}),
        ("keywords:: a\nKeywords:: b\nkeywords:: a\n", "extra", {"keywords": ["a", "b"]}),
        ("abstract:: \nsummary::\n", "extra", {}),
    ],
)
def test_inline_fields(body: str, field: str, expected: Any) -> None:
    paper = parse_text(f"# T.md\n\n{body}", "vault/T.md", understand=True).paper
    assert paper is not None
    value = dict(getattr(paper, field)) if field == "extra" else getattr(paper, field)
    assert value == expected


def test_the_front_matter_wins() -> None:
    front = "---\ntitle: Front\nyear: 2020\nJournal: J\n---\n"
    text = front + "Title:: Inline\nYear:: 1999\nJournal:: K\n"
    paper = parse(text).paper
    assert (paper.title, paper.year, dict(paper.extra)) == ("Front", 2020, {"Journal": "J"})


def test_a_bad_inline_value_is_a_warning_at_its_line() -> None:
    text = "---\ntags: [x]\n---\n> **Title**:: T\n> **Year**:: Error: `format` can only\n"
    result = parse(text)
    assert result.paper.year is None and "Year" not in result.paper.extra
    assert [str(d) for d in result.diagnostics] == [
        "vault/@Beer2009.md:5: warning: Year: not a year: 'Error: `format` can only' "
        "(expected a number like 2023)"
    ]


@pytest.mark.parametrize(
    ("text", "title", "message"),
    [
        (
            "---\naliases:\n  - The Representative Claim\n  - saward2010\n---\n> x\n# Notes\n",
            "The Representative Claim",
            "2: no title in the front matter; title taken from the first alias",
        ),
        ("# Notes\n\nsome notes\n", "@kuyper2016", "1: no front matter; title taken from the "
         "file name, not the heading 'Notes'"),
        ("# Summary\nTitle:: Real Title\n", "Real Title", None),
        ("---\naliases: [Short]\n---\n# A Real Heading\n", "A Real Heading",
         "4: no title in the front matter; title taken from the heading"),
    ],
)  # fmt: skip
def test_a_template_heading_is_not_a_title(text: str, title: str, message: str | None) -> None:
    result = parse_text(text, "vault/@kuyper2016.md", understand=True)
    assert result.paper is not None and result.paper.title == title
    assert [f"{d.line}: {d.message}" for d in result.diagnostics] == ([message] if message else [])


IMPORTED = """---
title: Mixtral of Experts
read: 2024-02-08
---

## Abstract

We introduce Mixtral 8x7B,
a Sparse Mixture of Experts.

## Notes

[[mistral-7b]] is its base.

## Source

- 001_8dbaf122da3361e9.txt: BasicLLM › More Readings
"""


def test_the_abstract_section_is_the_abstract() -> None:
    paper = parse(IMPORTED).paper
    assert paper.abstract == "We introduce Mixtral 8x7B,\na Sparse Mixture of Experts."
    assert paper.abstract_in_body()
    assert paper.line_of("abstract") == 6
    assert paper.status == "read"
    text = paper.body_text()
    assert "Mixtral 8x7B" not in text and "001_8dbaf122da3361e9" not in text
    assert "## Notes\n\n[[mistral-7b]] is its base." in text
    assert paper.body.startswith("\n## Abstract")  # the file's body as it is


def test_a_front_matter_abstract_wins_and_the_section_stays_text() -> None:
    paper = parse(IMPORTED.replace("read:", "abstract: Short one.\nread:")).paper
    assert paper.abstract == "Short one." and not paper.abstract_in_body()
    assert "Mixtral 8x7B" in paper.body_text()


def test_a_source_section_of_the_readers_own_words_is_note_text() -> None:
    paper = parse("---\ntitle: T\n---\n## Source\n\nThe authors' blog, which I liked.\n").paper
    assert paper.body_text() == paper.body


@pytest.mark.parametrize(
    ("front", "status"),
    [
        ("read: 2024-02-08", "read"),
        ("read: 2024-02", "read"),
        ("read: 2024-02-08\nstatus: reading", "reading"),
        ("read: 2024-02-08\nstatus: to-read", "to-read"),
        ("read: 2024-02-08\nstatus: abandoned", None),  # said otherwise, if unreadably
        ("status: unread\ndateread:", "to-read"),
        ("read:", None),
    ],
)
def test_a_read_date_means_read_unless_the_status_says_otherwise(
    front: str, status: str | None
) -> None:
    assert parse(f"---\ntitle: T\n{front}\n---\n").paper.status == status


def test_a_toml_key_without_a_value_reads_as_empty() -> None:
    result = parse('+++\ntitle = "Optical Turbulence"\nauthors = "Hagelin et al"\nyear = \n+++\n')
    assert (result.paper.title, result.paper.year) == ("Optical Turbulence", None)
    assert [str(d) for d in result.diagnostics] == [
        "vault/@Beer2009.md:4: warning: year: no value after '='; read as empty"
    ]
    broken = parse_text('+++\ntitle = "T"\nyear = 20 20\n+++\n', "n.md")
    assert broken.paper is None and broken.errors[0].line == 3


@pytest.mark.parametrize(
    ("front", "body", "year"),
    [
        ("tags: ['2015', 'ICCV 2015', AI, VQA]", "", 2015),  # papers-I-read, all 145 notes
        ("tags: [2015, NLP]", "", 2015),
        ("tags: '2018, ICLR 2019, Meta Learning'", "", 2018),  # the year tag, not the venue's
        ("tags: [2015, '2015']", "", 2015),
        ("tags: [2015, 2017]", "", None),  # two years: which one?
        ("tags: [ICLR 2019, NLP]", "", None),
        ("tags: [0999, 12345, 1e10]", "", None),
        ("year: 2019\ntags: [2015]", "", 2019),  # the front matter wins
        ("year: 2023/2024\ntags: [2015]", "", None),  # a year was written, if unreadably
        ("published: 2019-05-01\ntags: [2015]", "", None),  # the index's year is 2019
        ("tags: [2015]", "Year:: 2010\n", 2010),  # so does an inline field
    ],
)
def test_the_one_year_tag_is_the_year(front: str, body: str, year: int | None) -> None:
    paper = parse(f"---\ntitle: T\n{front}\n---\n{body}").paper
    assert paper.year == year
    assert "2015" not in front or "2015" in paper.tags  # the tag stays a tag


def test_a_year_tag_is_not_read_without_understand() -> None:
    result = parse_text("---\ntitle: T\ntags: [2015]\n---\n", "n.md")  # as editors read
    assert result.paper is not None and result.paper.year is None
