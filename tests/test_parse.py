"""The parser on a table of real-world front-matter shapes: value in, normalised value or error."""

from __future__ import annotations

from typing import Any

import pytest

from papernotes.errors import NoteError
from papernotes.parse import MAX_BYTES, parse_bytes, parse_note, parse_text


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
        ("title: T\ndate: 2016-05-13", "extra", {"date": "2016-05-13"}),
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
        ('---\ntitle:\t"T"\n---\n', 2, "TAB character in YAML front matter (use spaces)"),
        (
            "---\ntitle: T\nyear: twenty\n---\n",
            3,
            "year: not a year: 'twenty' (expected a number like 2023)",
        ),
        ("---\ntitle: T\nrating: 7\n---\n", 3, "rating: rating must be 1 to 5, not 7"),
        (
            "---\ntitle: T\nstatus: maybe\n---\n",
            3,
            "status: unknown status 'maybe' (expected one of to-read, reading, read, skimmed)",
        ),
        (
            "---\ntitle: T\narxiv: not-an-id\n---\n",
            3,
            "arxiv: not an arXiv id or URL: 'not-an-id' (expected like 2305.18290)",
        ),
        (
            "---\ntitle: T\nread: someday\n---\n",
            3,
            "read: not a date: 'someday' (expected YYYY-MM-DD or YYYY-MM)",
        ),
        ("---\ntitle: [a, b]\n---\n", 2, "title: expected text, got a list"),
        (
            "---\nyear: 2020\n---\nno heading\n",
            2,
            "missing title (add 'title:' to the front matter)",
        ),
        (
            "no front matter and no heading\n",
            1,
            "no front matter and no '# heading': missing title",
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


def test_every_problem_reported_once() -> None:
    result = parse_text(note("title: T\nyear: twenty\nrating: 9\nstatus: nope"), "n.md")
    assert [d.line for d in result.errors] == [3, 4, 5]


def test_error_string_is_path_line_message() -> None:
    with pytest.raises(NoteError) as info:
        parse_note("notes/bad.md", b"---\ntitle: T\nyear: twenty\n---\n")
    assert str(info.value) == (
        "notes/bad.md:3: error: year: not a year: 'twenty' (expected a number like 2023)"
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
    result = parse_text("Intro\n# Author - Title - 2019\n", "lit/n.md")
    assert result.paper is not None and result.paper.title == "Author - Title - 2019"
    assert [str(d) for d in result.diagnostics] == [
        "lit/n.md:2: warning: no front matter; title taken from the heading"
    ]


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
