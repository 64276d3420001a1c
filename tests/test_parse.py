"""The parser on a table of real-world front-matter shapes: value in, normalised value or error."""

from __future__ import annotations

from typing import Any

import pytest

from papernotes.errors import NoteError
from papernotes.note.parse import MAX_BYTES, parse_bytes, parse_note, parse_text

READING = {"strict": False, "understand": True}  # as parse_file reads a note


def note(meta: str, body: str = "Body.\n") -> str:
    return f"---\n{meta}\n---\n{body}"


@pytest.mark.parametrize(
    ("meta", "field", "expected"),
    [
        ("title: T\nyear: 2023", "year", 2023),
        ("title: T\nyear: '2023'", "year", 2023),
        ("title: T\narxiv: 2305.18290", "arxiv", "2305.18290"),
        ("title: T\narxiv: 2310.10640", "arxiv", "2310.10640"),  # YAML float would drop the 0
        ("title: T\narxiv: arXiv:2305.18290v2", "arxiv", "2305.18290"),
        ("title: T\narxiv: https://arxiv.org/abs/2305.18290", "arxiv", "2305.18290"),
        ("title: T\narxiv: https://arxiv.org/pdf/2305.18290v3.pdf", "arxiv", "2305.18290"),
        ("title: T\narxiv: cs.DB/0003005", "arxiv", "cs.DB/0003005"),
        ("title: T\narxiv: hep-th/9901001v1", "arxiv", "hep-th/9901001"),
        (
            "title: T\ndoi: https://doi.org/10.1145/3292500.3330701",
            "doi",
            "10.1145/3292500.3330701",
        ),
        ("title: T\nauthors: A, B and C", "authors", ("A", "B", "C")),
        (
            "title: T\nauthors: Ada Lovelace and Alan Turing",
            "authors",
            ("Ada Lovelace", "Alan Turing"),
        ),
        (
            "title: T\nauthors: Rafailov, Rafael and Sharma, Archit",
            "authors",
            ("Rafael Rafailov", "Archit Sharma"),
        ),
        ("title: T\nauthors: [X Y, null, '']", "authors", ("X Y",)),
        ("title: T\nauthor: Solo Author", "authors", ("Solo Author",)),
        ("title: T\npublished: 2023-08-02 16:03:30 +0800", "published", "2023-08-02"),
        ("title: T\npublished: 2024-02-01 13:19:19+0800", "published", "2024-02-01"),
        ("title: T\nread: 2024-02", "read", "2024-02"),
        ("title: T\nread: 2024-02-08", "read", "2024-02-08"),
        ("title: T\nread: 08 Feb 2024", "read", "2024-02-08"),
        ("title: T\nread: 2024-02-08T10:00:00Z", "read", "2024-02-08"),
        ("title: T\ntopics: alignment, evaluation", "topics", ("alignment", "evaluation")),
        ("title: T\ntopics: [alignment, null, '', alignment]", "topics", ("alignment",)),
        ("title: T\ntags: '#rlhf #dpo'", "tags", ("rlhf", "dpo")),
        ('title: T\ntags: ["#rlhf", dpo, 2017]', "tags", ("rlhf", "dpo", "2017")),
        ("title: T\ntags:\n  - a\n  -\n  - b", "tags", ("a", "b")),
        ("title: T\ntags:", "tags", ()),
        ("title: T\naliases:\n  - 'A: B'\n  - C: D", "aliases", ("A: B", "C: D")),
        ("title: T\nalias: DPO", "aliases", ("DPO",)),
        ("title: T\nstatus: to read", "status", "to-read"),
        ("title: T\nstatus: Read", "status", "read"),
        ("title: T\nrating: '4/5'", "rating", 4),
        ("title: T\nrelated: [a, b]", "related", ("a", "b")),
        ("Title: Capitalised key", "title", "Capitalised key"),
        ("title: T\nid: custom-id", "id", "custom-id"),
        (
            "title: T\nreviewer: Alice\nnested: {a: 1}",
            "extra",
            {"reviewer": "Alice", "nested": {"a": 1}},
        ),
        ("title: T\ndate: 2016-05-13", "added", "2016-05-13"),  # Jekyll: the post's day
        ('title:\t"T"\ndate: \t2016-01-26 2:20 PM', "added", "2016-01-26"),  # TAB after "key:"
        ("title: T\ndate: 2016-05-13\nadded: 2017-01-02", "extra", {"date": "2016-05-13"}),
        ("title: T\ndate: 0000-10-23", "extra", {"date": "0000-10-23"}),
        (
            "title: T\ntags: Power (Social sciences), to read",
            "tags",
            ("Power (Social sciences)", "to read"),
        ),
        ("title: T\ntags: IMPORTANT, read", "tags", ("IMPORTANT", "read")),
        ("title: T\nread: 2024-02-08", "status", "read"),  # a read date means read
        ("title: T\nread: 2024-02-08\nstatus: skimmed", "status", "skimmed"),
        ("title: T\nread: 2024-02-08\nstatus: abandoned", "status", None),
        ("title: T\nstatus: unread\ndateread:", "status", "to-read"),
    ],
)
def test_field_normalisation(meta: str, field: str, expected: Any) -> None:
    paper = parse_note("notes/x.md", note(meta).encode())
    assert getattr(paper, field) == expected


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "---\ntitle: T\nbody without a closing fence\n",
            1,
            "front matter opened with '---' on line 1 is never closed",
        ),
        ("---\n- a\n- b\n---\n", 2, "front matter must be a mapping of keys to values, not a list"),
        (
            "---\ntitle: T\ntags:\n\t- a\n---\n",
            4,
            "TAB character in YAML front matter (use spaces)",
        ),
        (
            "---\ntitle: T\n\tyear: 2023\n---\n",
            3,
            "TAB character in YAML front matter (use spaces)",
        ),
        (
            "---\ntitle: T\n  bad: indent\n---\n",
            3,
            "invalid YAML front matter: mapping values are not allowed",
        ),
        (
            '---\ntitle: "unclosed\n---\n',
            3,
            "invalid YAML front matter: found unexpected end of stream "
            "(while scanning a quoted scalar)",
        ),
        (
            "---\ntitle: !!python/object/apply:os.system ['echo hi']\n---\n",
            2,
            "unsafe or unknown YAML tag refused: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
        (
            '+++\ntitle = "T"\nyear = 20 20\n+++\n',
            3,
            "invalid TOML front matter: Expected newline or end of document after a statement",
        ),
    ],
)
def test_errors_name_the_line(text: str, line: int, message: str) -> None:
    result = parse_text(text, "notes/bad.md")
    assert result.paper is None
    first = result.diagnostics[0]
    assert (first.line, first.severity) == (line, "error")
    # libyaml and PyYAML's pure loader word the end of some messages differently
    assert first.message.startswith(message)


# A value its key cannot use: (note text, line, message, what the paper keeps of it as text)
BAD_VALUES = [
    (
        "---\ntitle: T\nyear: twenty\n---\n",
        3,
        "year: not a year: 'twenty' (expected a number like 2023)",
        {"year": "twenty"},
    ),
    (
        "---\ntitle: T\nyear: 2023/2024\n---\n",
        3,
        "year: not a year: '2023/2024' (expected a number like 2023)",
        {"year": "2023/2024"},
    ),
    ("---\ntitle: T\nrating: 7\n---\n", 3, "rating: rating must be 1 to 5, not 7", {"rating": 7}),
    (
        "---\ntitle: T\nrating: 4.5\n---\n",
        3,
        "rating: not a rating: '4.5' (expected 1 to 5)",
        {"rating": 4.5},
    ),
    (
        "---\ntitle: T\nstatus: abandoned\n---\n",
        3,
        "status: unknown status 'abandoned' (expected one of to-read, reading, read, skimmed)",
        {"status": "abandoned"},
    ),
    (
        "---\ntitle: T\narxiv: not-an-id\n---\n",
        3,
        "arxiv: not an arXiv id or URL: 'not-an-id' (expected like 2305.18290)",
        {"arxiv": "not-an-id"},
    ),
    (
        "---\ntitle: T\nread: someday\n---\n",
        3,
        "read: not a date: 'someday' (expected YYYY-MM-DD or YYYY-MM)",
        {"read": "someday"},
    ),
    (
        "---\ntitle: T\ntags: [a, {b: 1, c: 2}]\n---\n",
        3,
        "tags: item 2 is a mapping, expected text",
        {"tags": ["a", {"b": 1, "c": 2}]},
    ),
]


@pytest.mark.parametrize(("text", "line", "message", "kept"), BAD_VALUES)
def test_a_bad_value_is_a_warning_and_kept_as_text(
    text: str, line: int, message: str, kept: dict[str, Any]
) -> None:
    """One bad value does not hide the note: it is said at its line and kept as written."""
    result = parse_text(text, "notes/bad.md", **READING)
    assert result.paper is not None and result.paper.title == "T"
    assert [(d.line, d.severity, d.message) for d in result.diagnostics] == [
        (line, "warning", message)
    ]
    assert dict(result.paper.extra) == kept
    key = next(iter(kept))
    assert getattr(result.paper, key) in (None, ())


@pytest.mark.parametrize(("text", "line", "message", "kept"), BAD_VALUES)
def test_strict_makes_a_bad_value_an_error(
    text: str, line: int, message: str, kept: dict[str, Any]
) -> None:
    """For a value typed on the command line, or an editor (the default): an error."""
    result = parse_text(text, "notes/bad.md")
    assert result.paper is None
    assert [(d.line, d.severity, d.message) for d in result.diagnostics] == [
        (line, "error", message)
    ]


@pytest.mark.parametrize(
    ("text", "line", "strict", "lenient", "title"),
    [
        (
            "---\ntitle: [a, b]\n---\n",
            2,
            "title: expected text, got a list",
            "title: expected text, got a list",
            "bad",
        ),
        (
            "---\nyear: 2020\n---\nno heading\n",
            2,
            "missing title (add 'title:' to the front matter)",
            "missing title (add 'title:' to the front matter); title taken from the file name",
            "bad",
        ),
        (
            "no front matter and no heading\n",
            1,
            "no front matter and no '# heading': missing title",
            "no front matter and no '# heading'; title taken from the file name",
            "bad",
        ),
    ],
)
def test_a_missing_title_is_the_file_name(
    text: str, line: int, strict: str, lenient: str, title: str
) -> None:
    result = parse_text(text, "notes/bad.md", **READING)
    assert result.paper is not None and result.paper.title == title
    assert (line, lenient) in [(d.line, d.message) for d in result.diagnostics]
    assert {d.severity for d in result.diagnostics} == {"warning"}
    strict_result = parse_text(text, "notes/bad.md")
    assert strict_result.paper is None
    assert (strict_result.errors[0].line, strict_result.errors[0].message) == (line, strict)


def test_every_problem_reported_once() -> None:
    text = note("title: T\nyear: twenty\nrating: 9\nstatus: nope")
    assert [d.line for d in parse_text(text, "n.md").errors] == [3, 4, 5]
    result = parse_text(text, "n.md", **READING)
    assert [d.line for d in result.warnings] == [3, 4, 5]
    assert result.paper is not None and set(result.paper.extra) == {"year", "rating", "status"}


def test_error_string_is_path_line_message() -> None:
    with pytest.raises(NoteError) as info:
        parse_note("notes/bad.md", b"---\ntitle: T\n\tyear: 2023\n---\n")
    assert str(info.value) == (
        "notes/bad.md:3: error: TAB character in YAML front matter (use spaces)"
    )
    assert (info.value.path, info.value.line) == ("notes/bad.md", 3)


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"---\ntitle: caf\xe9\n---\n", 2, "not valid UTF-8 (byte 0xe9); save as UTF-8"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00",
            1,
            "binary file (contains NUL bytes), not a Markdown note",
        ),
        (b"#" * (MAX_BYTES + 1), 1, "file is larger than 5 MB; not a note (skipped)"),
    ],
)
def test_bytes_that_are_not_notes(data: bytes, line: int, message: str) -> None:
    result = parse_bytes(data, "x.md")
    assert [(d.line, d.message) for d in result.diagnostics] == [(line, message)]


def test_bom_crlf_trailing_spaces_and_dots_fence() -> None:
    data = "\ufeff---   \r\ntitle: T\r\nyear: 2020\r\n...\r\nBody line\r\n".encode()
    paper = parse_note("n.md", data)
    assert (paper.title, paper.year, paper.body) == ("T", 2020, "Body line\n")
    assert paper.body_line == 5


def test_body_rules_do_not_end_front_matter_twice() -> None:
    paper = parse_note("n.md", b"---\ntitle: T\n---\n---\n\nText\n\n---\nmore\n")
    assert paper.body == "---\n\nText\n\n---\nmore\n"


def test_empty_front_matter_takes_heading_title_with_warning() -> None:
    result = parse_text("---\n---\n\n# A Heading Title\n\ntext\n", "n.md")
    assert result.paper is not None and result.paper.title == "A Heading Title"
    assert [(d.line, d.severity) for d in result.diagnostics] == [(4, "warning")]


def test_no_front_matter_takes_heading_title_with_warning() -> None:
    result = parse_text("Intro\n# A Heading Title\n", "lit/n.md")
    assert result.paper is not None and result.paper.title == "A Heading Title"
    assert [str(d) for d in result.diagnostics] == [
        "lit/n.md:2: warning: no front matter; title taken from the heading"
    ]


@pytest.mark.parametrize(
    ("heading", "title", "authors", "year"),
    [
        ("# Sönke Ahrens - How To Take Smart Notes - 2017", "How To Take Smart Notes", "Sönke Ahrens", 2017),  # noqa: E501
        ("# Paul Graham - Keep Your Identity Small - February 2009", "Keep Your Identity Small", "Paul Graham", 2009),  # noqa: E501
        (
            "# Erlend Hamberg - GTD in 15 minutes – A Pragmatic Guide - Part 2 - 2010",
            "GTD in 15 minutes – A Pragmatic Guide - Part 2",
            "Erlend Hamberg",
            2010,
        ),
    ],
)  # fmt: skip
def test_a_literature_note_heading_gives_authors_title_and_year(
    heading: str, title: str, authors: str, year: int
) -> None:
    result = parse_text(f"{heading}\n\n- a note\n", "lit/n.md", **READING)
    assert result.paper is not None
    assert (result.paper.title, result.paper.authors, result.paper.year) == (
        title,
        (authors,),
        year,
    )
    assert [str(d) for d in result.diagnostics] == [
        "lit/n.md:1: warning: no front matter; title, authors and year taken from the heading"
    ]
    written = parse_text(f"{heading}\n", "lit/n.md").paper
    assert written is not None and written.title == heading[2:] and written.authors == ()


@pytest.mark.parametrize(
    "heading", ["# Plato - The Republic", "# Robert Jordan - DRdZ 01 - Die Suche", "# A - 0999"]
)
def test_other_headings_are_whole_titles(heading: str) -> None:
    paper = parse_text(f"{heading}\n", "n.md", **READING).paper
    assert paper is not None and paper.title == heading[2:] and paper.authors == ()


def test_toml_front_matter() -> None:
    paper = parse_note(
        "n.md", b'+++\ntitle = "T"\nauthors = "Agrawal et al"\nyear = 2019\n+++\nB\n'
    )
    assert (paper.title, paper.authors, paper.year, paper.body) == (
        "T",
        ("Agrawal et al",),
        2019,
        "B\n",
    )


def test_id_defaults_to_stem_and_key_lines_are_recorded() -> None:
    paper = parse_note("deep/dir/my-note.md", note("title: T\n\ntags: [a]").encode())
    assert paper.id == "my-note"
    assert paper.line_of("title") == 2
    assert paper.line_of("tags") == 4


def test_wikilinks_are_links() -> None:
    body = "See [[dpo]], [[rlhf-paper|RLHF]] and [[dpo#Method]]; not [link](x).\n"
    paper = parse_note("n.md", note("title: T", body).encode())
    assert paper.links == ("dpo", "rlhf-paper")


def test_embeds_and_attachments_are_not_links_between_notes() -> None:
    body = (
        "![[99_attachments/zotero/x/fig-3.png]] ![[other-note]] [[paper.pdf]] "
        "[[Node.js]] [[Mistral 7B v0.1]] ![[clip.webm]] [[note.md]] ![[scan.xyz]]\n"
    )
    paper = parse_note("n.md", note("title: T", body).encode())
    assert paper.links == ("other-note", "Node.js", "Mistral 7B v0.1", "note.md")


@pytest.mark.parametrize(
    ("written", "status", "warning"),
    [
        *[(s, s, None) for s in ("to-read", "reading", "read", "skimmed")],
        *[(s, "read", None) for s in ("done", "Finished", "finished", "Completed", "complete")],
        *[(s, "reading", None) for s in ("In progress", "in-progress", "in_progress")],
        *[(s, "reading", None) for s in ("InProgress", "Currently reading", "started")],
        *[(s, "to-read", None) for s in ("to read", "To_Read", "toread", "TODO", "to-do")],
        *[(s, "to-read", None) for s in ("unread", "not read", "Not started")],
        *[(s, "to-read", None) for s in ("want to read", "backlog")],
        ("skim", "skimmed", None),
        ("  READ  ", "read", None),
        ("abandoned", None, "unknown status 'abandoned'"),  # stopped: no status says it
        ("half done", None, "unknown status 'half done'"),
        ("finishedd", None, "unknown status 'finishedd'"),
        ("5", None, "unknown status '5'"),
    ],
)
def test_status_synonyms(written: str, status: str | None, warning: str | None) -> None:
    """Common other names of the statuses are read as them; any other value stays a warning
    at its line, kept as written."""
    result = parse_text(note(f"title: T\nstatus: {written!r}"), "n.md", **READING)
    assert result.paper is not None and result.paper.status == status
    choices = "(expected one of to-read, reading, read, skimmed)"
    expected = [] if warning is None else [f"n.md:3: warning: status: {warning} {choices}"]
    assert [str(d) for d in result.diagnostics] == expected
    assert dict(result.paper.extra) == ({} if warning is None else {"status": written})
