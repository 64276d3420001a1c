"""Front-matter edits in place (``set``, ``unset``, ``tag``, ``mark``, ``rate``): the user's
formatting kept byte for byte, values checked by the parser, the result read back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from kbfactory import make_kb, run
from papernotes.edit.fieldedit import Op, assignment, edit_note, item_ops
from papernotes.errors import UsageError
from papernotes.note.model import Paper
from papernotes.note.parse import parse_text

TODAY = dt.date.today().isoformat()


def ops_of(command: str) -> list[Op]:
    """``set k=v ...``, ``unset k ...``, ``tag +a -b``, ``topic +x`` as operations."""
    verb, *words = command.split(" ")
    words = [w.replace("_", " ") for w in words]
    if verb == "set":
        return [assignment(w) for w in words]
    if verb == "unset":
        return [Op("unset", w) for w in words]
    return item_ops({"tag": "tags", "topic": "topics", "alias": "aliases"}[verb], words)


def edited(text: str, command: str) -> tuple[str, Paper]:
    new, _ = edit_note(text, ops_of(command), "x.md", "x")
    paper = parse_text(new, "x.md", stem="x").paper
    assert paper is not None
    return new, paper


CASES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    # (name, original, command, exact result, fields of the result)
    (
        "comments and spacing kept",
        "---\ntitle: X  # the title\nyear:   2020  # a guess\n---\nBody\n",
        "set year=2023",
        "---\ntitle: X  # the title\nyear:   2023  # a guess\n---\nBody\n",
        {"year": 2023},
    ),
    (
        "single quotes kept",
        "---\ntitle: X\nvenue: 'ICML'\n---\n",
        "set venue=NeurIPS_2023",
        "---\ntitle: X\nvenue: 'NeurIPS 2023'\n---\n",
        {"venue": "NeurIPS 2023"},
    ),
    (
        "double quotes kept",
        '---\ntitle: X\nvenue: "ICML"\n---\n',
        "set venue=It's",
        '---\ntitle: X\nvenue: "It\'s"\n---\n',
        {"venue": "It's"},
    ),
    (
        "a value that needs quotes gets them",
        "---\ntitle: X\nvenue: ICML\n---\n",
        "set venue=NeurIPS:_2023",
        "---\ntitle: X\nvenue: 'NeurIPS: 2023'\n---\n",
        {"venue": "NeurIPS: 2023"},
    ),
    (
        "new key after the one before it in the canonical order",
        "---\ntitle: X\ntags: [a]\n---\n",
        "set year=2023 arxiv=arXiv:2305.18290v2 read=2024-02-08",
        "---\ntitle: X\nyear: 2023\nread: 2024-02-08\narxiv: '2305.18290'\ntags: [a]\n---\n",
        {"year": 2023, "arxiv": "2305.18290", "read": "2024-02-08"},
    ),
    (
        "new key in the note's quotes",
        '---\ntitle: "X"\nvenue: "Y"\n---\n',
        "set org=Meta:_FAIR",
        '---\ntitle: "X"\nvenue: "Y"\norg: "Meta: FAIR"\n---\n',
        {"org": "Meta: FAIR"},
    ),
    (
        "flow list: items added in its style, removed with their comma",
        "---\ntitle: X\ntags: [a, 'b', c]  # mine\n---\n",
        "tag +d -b",
        "---\ntitle: X\ntags: [a, c, d]  # mine\n---\n",
        {"tags": ("a", "c", "d")},
    ),
    (
        "flow list quoting follows its last item",
        '---\ntitle: X\ntags: ["a", "b"]\n---\n',
        "tag +c",
        '---\ntitle: X\ntags: ["a", "b", "c"]\n---\n',
        {"tags": ("a", "b", "c")},
    ),
    (
        "flow list over several lines",
        "---\ntitle: X\ntags: [\n  a,\n  b\n]\n---\n",
        "tag +c -a",
        "---\ntitle: X\ntags: [\n  b,\n  c\n]\n---\n",
        {"tags": ("b", "c")},
    ),
    (
        "block list: indentation, quoting and comments kept",
        '---\ntitle: X\ntags:\n  - "a"  # first\n  # between\n  - "b"\nyear: 2020\n---\n',
        "tag +c -a",
        '---\ntitle: X\ntags:\n  # between\n  - "b"\n  - "c"\nyear: 2020\n---\n',
        {"tags": ("b", "c"), "year": 2020},
    ),
    (
        "indentless block list with a comment line",
        "---\ntitle: X\ntopics:\n- a\n# later\n- b\n---\n",
        "topic +c -a",
        "---\ntitle: X\ntopics:\n# later\n- b\n- c\n---\n",
        {"topics": ("b", "c")},
    ),
    (
        "the last item removed leaves an empty list",
        "---\ntitle: X\ntags:\n- a\nyear: 2020\n---\n",
        "tag -A",
        "---\ntitle: X\ntags: []\nyear: 2020\n---\n",
        {"tags": ()},
    ),
    (
        "a comma string stays a string",
        "---\ntitle: X\ntags: a, b\n---\n",
        "tag +c -a",
        "---\ntitle: X\ntags: b, c\n---\n",
        {"tags": ("b", "c")},
    ),
    (
        "Obsidian hashtags in a string",
        '---\ntitle: X\ntags: "#a #b"\n---\n',
        "tag +c -#a",
        '---\ntitle: X\ntags: "#b #c"\n---\n',
        {"tags": ("b", "c")},
    ),
    (
        "one alias as a string becomes a flow list",
        "---\ntitle: X\naliases: DPO\n---\n",
        "alias +Direct_PO",
        "---\ntitle: X\naliases: [DPO, Direct PO]\n---\n",
        {"aliases": ("DPO", "Direct PO")},
    ),
    (
        "an empty key gets a list",
        "---\ntitle: X\ntags:\nyear: 2020\n---\n",
        "tag +a",
        "---\ntitle: X\ntags:\n- a\nyear: 2020\n---\n",
        {"tags": ("a",), "year": 2020},
    ),
    (
        "new list in the note's list style",
        "---\ntitle: X\naliases: [A]\n---\n",
        "topic +alignment",
        "---\ntitle: X\naliases: [A]\ntopics: [alignment]\n---\n",
        {"topics": ("alignment",)},
    ),
    (
        "tag: and tags: both lose the tag",
        "---\ntitle: X\ntag: a\ntags: [a, b]\n---\n",
        "tag -a",
        "---\ntitle: X\ntag: []\ntags: [b]\n---\n",
        {"tags": ("b",)},
    ),
    (
        "unset removes the key's lines, comments beside it stay",
        "---\ntitle: X\n# authors next\nauthors:\n  - A\n  - B\nyear: 2020\n---\n",
        "unset authors",
        "---\ntitle: X\n# authors next\nyear: 2020\n---\n",
        {"authors": ()},
    ),
    (
        "a key papernotes does not know, set and added last",
        "---\ntitle: X\nyear: 2020\n\n---\n",
        "set reviewer=Alice priority=3",
        "---\ntitle: X\nyear: 2020\nreviewer: Alice\npriority: 3\n\n---\n",
        {"extra": {"reviewer": "Alice", "priority": 3}},
    ),
    (
        "an unknown key in another case is that key",
        "---\ntitle: X\nReviewer: Bob\n---\n",
        "set reviewer=Alice",
        "---\ntitle: X\nReviewer: Alice\n---\n",
        {"extra": {"Reviewer": "Alice"}},
    ),
    (
        "CRLF line endings",
        "---\r\ntitle: X\r\ntags:\r\n- a\r\n---\r\nBody\r\n",
        "tag +b",
        "---\r\ntitle: X\r\ntags:\r\n- a\r\n- b\r\n---\r\nBody\r\n",
        {"tags": ("a", "b")},
    ),
    (
        "BOM, and a body with other line endings kept byte for byte",
        "\ufeff---\ntitle: X\n---\nA\r\nB\n",
        "set rating=4/5",
        "\ufeff---\ntitle: X\nrating: 4\n---\nA\r\nB\n",
        {"rating": 4},
    ),
    (
        "no front matter: one is added, the body untouched",
        "# A Title\n\nText.\n",
        "set year=2023",
        "---\nyear: 2023\n---\n# A Title\n\nText.\n",
        {"year": 2023, "title": "A Title"},
    ),
    (
        "TOML: values, comments, arrays and a table kept",
        '+++\ntitle = "X"\ntags = ["a"]  # mine\n[extra]\nz = 1\n+++\nBody\n',
        "set year=2021 read=2024-01-02",
        '+++\ntitle = "X"\nyear = 2021\nread = 2024-01-02\ntags = ["a"]  # mine\n[extra]\n'
        "z = 1\n+++\nBody\n",
        {"year": 2021, "read": "2024-01-02", "tags": ("a",)},
    ),
    (
        "TOML: an array over several lines",
        "+++\ntitle = 'X'\ntags = [\n  'a',\n  'b',\n]\n+++\n",
        "tag +c -a",
        "+++\ntitle = 'X'\ntags = [\n  'b',\n  'c',\n]\n+++\n",
        {"tags": ("b", "c")},
    ),
    (
        "TOML: a scalar replaced, its comment kept; a key unset",
        '+++\ntitle = "X"\nyear = 2020 # guess\nvenue = "Y"\n+++\n',
        "set year=2022",
        '+++\ntitle = "X"\nyear = 2022 # guess\nvenue = "Y"\n+++\n',
        {"year": 2022},
    ),
]


@pytest.mark.parametrize(
    ("original", "command", "expected", "fields"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_edit_keeps_the_formatting(
    original: str, command: str, expected: str, fields: dict[str, Any]
) -> None:
    before = parse_text(original, "x.md", stem="x").paper
    text, paper = edited(original, command)
    assert text == expected
    assert before is not None
    for name, value in fields.items():
        assert getattr(paper, name) == value
    untouched = {"id", "title", "aliases", "authors", "year", "tags", "topics", "body"}
    for name in untouched - set(fields) - {command.split()[1].partition("=")[0]}:
        assert getattr(paper, name) == getattr(before, name), name


def test_unset_in_toml() -> None:
    text, paper = edited('+++\ntitle = "X"\nvenue = "Y" # v\nyear = 2001\n+++\n', "unset venue")
    assert text == '+++\ntitle = "X"\nyear = 2001\n+++\n'
    assert paper.venue is None


def test_nothing_to_change_leaves_the_text() -> None:
    text = "---\ntitle: X\ntags: [a, b]\nyear: '2023'\n---\n"
    assert edit_note(text, ops_of("tag +A -c"), "x.md", "x") == (text, ())
    assert edit_note(text, ops_of("set year=2023"), "x.md", "x") == (text, ())


REFUSED = [
    ("year=twenty", "year: not a year: 'twenty' (expected a number like 2023)"),
    ("rating=6", "rating: rating must be 1 to 5, not 6"),
    ("read=2024-02-30", "read: not a date: '2024-02-30' (there is no such day)"),
    ("arxiv=xyz", "arxiv: not an arXiv id or URL: 'xyz' (expected like 2305.18290)"),
    (
        "status=abandoned",
        "status: unknown status 'abandoned' (expected one of to-read, reading, read, skimmed)",
    ),
    ("venue=", "venue: empty value (to remove the key: papernotes unset venue)"),
    ("year", "expected KEY=VALUE, got 'year'"),
    ("my key=1", "not a key name: 'my key' (letters, digits, _ - .)"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_bad_values_are_refused_with_the_parsers_message(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        assignment(text)
    assert caught.value.message == message
    assert caught.value.exit_code == 2


def test_an_empty_item_is_refused() -> None:
    with pytest.raises(UsageError, match=r"^tags: empty item '\+'$"):
        item_ops("tags", ["+"])


def test_the_title_cannot_be_unset() -> None:
    with pytest.raises(UsageError, match="cannot be unset"):
        edit_note("---\ntitle: X\n---\n", [Op("unset", "title")], "x.md", "x")


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = make_kb(tmp_path)
    monkeypatch.chdir(tmp_path)
    return folder


def test_tag_one_note(notes: Path) -> None:
    before = (notes / "kto.md").read_text()
    result = run(notes, "tag", "kto", "+rlhf", "-preference-optimization", "--topic", "-alignment")
    assert result.exit_code == 0
    assert result.stdout == (
        "notes/kto.md: tags +rlhf -preference-optimization; topics -alignment\n"
    )
    after = (notes / "kto.md").read_text()
    assert after == before.replace("topics: [alignment]", "topics: []").replace(
        "tags: [preference-optimization]", "tags: [rlhf]"
    )
    assert run(notes, "list", "tag:rlhf", "--format", "ids").stdout.split() == [
        "direct-preference-optimization",
        "kto",
    ]


def test_dry_run_prints_a_diff_and_writes_nothing(notes: Path) -> None:
    before = (notes / "kto.md").read_text()
    result = run(notes, "set", "kto", "venue=ICML 2024", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == (
        "--- a/notes/kto.md\n"
        "+++ b/notes/kto.md\n"
        "@@ -4,6 +4,7 @@\n"
        " authors: [Kawin Ethayarajh, Winnie Xu, Niklas Muennighoff, Dan Jurafsky, Douwe Kiela]\n"
        " year: 2024\n"
        " arxiv: 2402.01306\n"
        "+venue: ICML 2024\n"
        " topics: [alignment]\n"
        " tags: [preference-optimization]\n"
        " status: to-read\n"
        "would set 1 note: venue=ICML 2024\n"
    )
    assert (notes / "kto.md").read_text() == before


def test_a_query_selects_many_notes(notes: Path) -> None:
    result = run(notes, "tag", "topic:alignment", "+rlhf")
    assert result.exit_code == 0
    assert result.stdout == (
        "notes/flame.md: tags +rlhf\nnotes/kto.md: tags +rlhf\ntagged 2 notes: +rlhf; 1 unchanged\n"
    )
    again = run(notes, "tag", "topic:alignment", "+rlhf")
    assert again.stdout == "tagged 0 notes: +rlhf; 3 unchanged\n"


def test_a_query_that_matches_nothing(notes: Path) -> None:
    result = run(notes, "rate", "tag:nothing-has-this", "3")
    assert result.exit_code == 1
    assert result.stderr == "Error: no notes match 'tag:nothing-has-this'\n"


def test_mark_read_sets_todays_date_unless_there_is_one(notes: Path) -> None:
    result = run(notes, "mark", "kto", "done")
    assert result.stdout == f"notes/kto.md: status=read; read={TODAY}\n"
    paper = parse_text((notes / "kto.md").read_text(), "kto.md").paper
    assert paper is not None and (paper.status, paper.read) == ("read", TODAY)
    dpo = run(notes, "mark", "dpo", "read")
    assert dpo.stdout == "notes/direct-preference-optimization.md: unchanged (it already says so)\n"
    dated = run(notes, "mark", "dpo", "read", "--date", "08 Feb 2023")
    assert dated.stdout == "notes/direct-preference-optimization.md: read=2023-02-08\n"


def test_rate_and_unset(notes: Path) -> None:
    assert run(notes, "rate", "kto", "4").stdout == "notes/kto.md: rating=4\n"
    assert "rating: 4\n" in (notes / "kto.md").read_text()
    assert run(notes, "unset", "kto", "rating", "added").stdout == "notes/kto.md: -rating; -added\n"
    text = (notes / "kto.md").read_text()
    assert "rating" not in text and "added" not in text


def test_a_bad_value_is_refused_before_any_note_is_touched(notes: Path) -> None:
    before = (notes / "kto.md").read_text()
    result = run(notes, "set", "kto", "year=twenty")
    assert result.exit_code == 2
    assert result.stderr == "Error: year: not a year: 'twenty' (expected a number like 2023)\n"
    assert (notes / "kto.md").read_text() == before


def test_a_note_changed_meanwhile_is_refused(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import papernotes.edit.fieldedit as fieldedit

    real = fieldedit.edit_note

    def edit_then_someone_saves(text: str, *args: Any) -> Any:
        out = real(text, *args)
        (notes / "kto.md").write_text(text + "\nSaved in an editor meanwhile.\n")
        return out

    monkeypatch.setattr(fieldedit, "edit_note", edit_then_someone_saves)
    result = run(notes, "tag", "kto", "+x")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: notes/kto.md: changed on disk since it was read; not overwritten\n"
    )
    assert (notes / "kto.md").read_text().endswith("Saved in an editor meanwhile.\n")


def test_tag_takes_dash_words_as_removals(notes: Path) -> None:
    result = run(notes, "tag", "dpo", "-h", "-dpo", "--alias=+Direct PO", "--dry-run")
    assert result.exit_code == 0
    assert (
        "-tags: [dpo, rlhf, preference-optimization]\n+tags: [rlhf, preference-optimization]\n"
        in result.stdout
    )
    assert "+aliases: [DPO, Direct PO]\n" in result.stdout
    assert run(notes, "tag", "dpo").exit_code == 2


# -- round trip ------------------------------------------------------------------------------------

TEMPLATES = [
    "---\ntitle: T  # c\nyear: 2020\ntags: [a, 'b']\nreviewer: R\n---\nBody\n",
    "---\r\ntitle: 'T'\r\ntags:\r\n  - a\r\nvenue: \"V\"\r\n---\r\nBody\r\n",
    "\ufeff---\ntitle: T\n---\n",
    '+++\ntitle = "T"\nyear = 2020\ntags = ["a"]\n[more]\nx = 1\n+++\nBody\n',
    "# T\n\nBody\n",
]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)
VALUES = st.one_of(
    st.tuples(st.sampled_from(["title", "venue", "org", "url", "abstract", "x-y"]), TEXT),
    st.tuples(st.just("year"), st.integers(1000, 2999).map(str)),
    st.tuples(st.sampled_from(["read", "published"]), st.dates().map(dt.date.isoformat)),
    st.tuples(st.just("rating"), st.integers(1, 5).map(str)),
    st.tuples(st.just("status"), st.sampled_from(["read", "to read", "todo", "reading"])),
    st.tuples(st.sampled_from(["tags", "aliases", "topics"]), TEXT),
)  # fmt: skip


@settings(max_examples=examples(150), deadline=None)
@given(template=st.sampled_from(TEMPLATES), key_value=VALUES)
def test_any_set_and_unset_round_trips(template: str, key_value: tuple[str, str]) -> None:
    key, value = key_value
    try:
        op = assignment(f"{key}={value}")
    except UsageError:
        return  # a value the parser would not take (empty once stripped, one line, ...)
    before = parse_text(template, "x.md", stem="x").paper
    assert before is not None
    text, _ = edit_note(template, [op], "x.md", "x")
    paper = parse_text(text, "x.md", stem="x").paper
    assert paper is not None
    if op.known:
        assert getattr(paper, key) == op.value
    else:
        assert paper.extra[key] == op.value
    assert paper.body == before.body
    assert text.startswith("\ufeff") == template.startswith("\ufeff")
    if key == "title":
        return
    text, _ = edit_note(text, [Op("unset", key)], "x.md", "x")
    again = parse_text(text, "x.md", stem="x").paper
    if op.known:
        empty = () if key in ("tags", "aliases", "topics") else None
        expected = dataclasses.replace(before, **{key: empty})
    else:
        expected = dataclasses.replace(
            before, extra={k: v for k, v in before.extra.items() if k != key}
        )
    assert again == expected


# -- the real collections --------------------------------------------------------------------------

REAL = {  # collection: notes that parse (the others are refused by the parser, never edited)
    "literature-notes": 20,
    "maomaocv.github.io": 83,
    "papers-I-read": 145,
    "pemami4911.github.io": 49,
    "rhizome": 113,
}
REAL_EDITS = ["tag +zz-test", "topic +zz", "set year=2001 reviewer=Me", "unset tags", "tag -zz"]


@pytest.mark.parametrize("collection", sorted(REAL))
def test_every_real_note_is_edited_in_place(
    collection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each edit of REAL_EDITS on every note of the real collections: made in place (the
    plainer rewrite is switched off here), read back as intended, body bytes untouched."""
    import papernotes.edit.fieldedit as fieldedit
    from conftest import needs_shared_data
    from papernotes.note.frontmatter import split

    folder = needs_shared_data("real-notes", collection)
    monkeypatch.setattr(fieldedit, "_fallback", lambda edit, paper: edit)
    edited_notes = 0
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".md", ".markdown")):
        text = path.read_bytes().decode("utf-8")
        if parse_text(text, path.name, stem=path.stem).paper is None:
            continue
        edited_notes += 1
        body = split(text.removeprefix("\ufeff").replace("\r\n", "\n")).body
        for command in REAL_EDITS:
            new, _ = edit_note(text, ops_of(command), path.name, path.stem)
            assert new.replace("\r\n", "\n").endswith(body), (path, command)
    assert edited_notes == REAL[collection]
