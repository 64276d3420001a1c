"""A stored record read two ways: as a Paper (every command) and as the JSON text of
``Paper.to_dict`` without making the paper (``export --format json``): the same text, and the
same refusal of a damaged record."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kbfactory import make_kb, run
from papernotes.disk.store import open_store
from papernotes.engine.kb import open_kb
from papernotes.engine.schema import IndexDamaged, json_of, paper_of, record
from papernotes.engine.selection import SORT_KEYS, Selection, lines, papers, rowids
from papernotes.note.cells import line, safe
from papernotes.note.model import Paper
from tests.conftest import SHIPPED_NOTES, examples


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    notes = tmp_path_factory.mktemp("kb") / "notes"
    shutil.copytree(SHIPPED_NOTES, notes)
    kb = open_kb(open_store(notes))
    location = kb.index.location
    assert location is not None
    conn = sqlite3.connect(location)
    rows = conn.execute("SELECT data, body FROM records ORDER BY rowid").fetchall()
    conn.close()
    return rows


def test_every_shipped_note_reads_the_same_both_ways(records: list[tuple[str, str]]) -> None:
    assert len(records) == len(list(SHIPPED_NOTES.glob("*.md")))
    for data, body in records:
        text = json_of(data, body)
        assert text == json.dumps(paper_of(data, body).to_dict(), ensure_ascii=False)


def test_every_shipped_note_s_line_is_made_from_its_record() -> None:
    """What ``list`` prints on a pipe, kept when indexed, is the row of the stored paper."""
    kb = open_kb(open_store(SHIPPED_NOTES))
    ids = rowids(kb)
    assert len(ids) == len(list(SHIPPED_NOTES.glob("*.md")))
    assert _lines(lines(kb)) == [line(paper) for paper in papers(kb, ids)]


def _lines(chunks: Iterable[bytes]) -> list[str]:
    """The lines of :func:`lines`' chunks (each line ended by a newline)."""
    text = b"".join(chunks).decode("utf-8")
    assert not text or text.endswith("\n")
    return text.split("\n")[:-1]


@pytest.mark.parametrize("sort", [*SORT_KEYS, "id"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("limit", [None, 3])
def test_the_lines_of_a_listing_are_those_of_its_notes_in_its_order(
    sort: str, reverse: bool, limit: int | None
) -> None:
    """``list`` on a pipe reads its lines in one query: the same notes, in the same order,
    as every other format (which reads the rowids, then the papers)."""
    kb = open_kb(open_store(SHIPPED_NOTES))
    for chosen in (Selection(), Selection(topics=("alignment",)), Selection(query="dpo")):
        ids = rowids(kb, chosen, sort, reverse, limit)
        assert ids
        shown = _lines(lines(kb, chosen, sort, reverse, limit))
        assert shown == [line(paper) for paper in papers(kb, ids)]


_MESSY = st.text(st.sampled_from("ab \t\n\x1b\u202e\x85é#,&"), max_size=8)


@given(
    notes=st.lists(
        st.tuples(_MESSY, st.lists(_MESSY, max_size=3), st.lists(_MESSY, max_size=3)),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=examples(30), deadline=None)
def test_list_on_a_pipe_prints_the_row_of_each_paper(
    tmp_path_factory: pytest.TempPathFactory, notes: list[tuple[str, list[str], list[str]]]
) -> None:
    """Messy titles, authors and tags (tabs, line breaks, escapes, bidi overrides): each line
    ``list`` prints is one line of nine harmless cells, the row of the paper read back."""
    folder = make_kb(tmp_path_factory.mktemp("kb"), {})
    for n, (title, authors, tags) in enumerate(notes):
        front = {"title": f"T{n} {title}", "authors": authors, "tags": tags}
        text = "".join(f"{key}: {json.dumps(value)}\n" for key, value in front.items())
        (folder / f"n{n}.md").write_text(f"---\n{text}---\n", "utf-8")
    result = run(folder, "list")
    kb = open_kb(open_store(folder))
    expected = [line(paper) for paper in papers(kb, rowids(kb))]
    assert result.stdout == "".join(f"{row}\n" for row in expected)
    for row in expected:
        assert row.count("\t") == 8
        assert "\n" not in row
        assert safe(row) == row


DAMAGE = [
    ("title", 3),
    ("id", None),
    ("year", "2023"),
    ("year", 2023.5),
    ("venue", ["x"]),
    ("authors", "A. Author"),
    ("authors", ["A", 1]),
    ("tags", [None]),
    ("extra", []),
    ("key_lines", {"title": "2"}),
    ("body_line", "7"),
    ("unknown_field", 1),
]


@pytest.mark.parametrize(("field", "value"), DAMAGE, ids=[f"{f}={v!r}" for f, v in DAMAGE])
def test_a_damaged_record_is_refused_both_ways(
    records: list[tuple[str, str]], field: str, value: object
) -> None:
    data, body = records[0]
    values = json.loads(data)
    values[field] = value
    damaged = json.dumps(values)
    with pytest.raises(IndexDamaged):
        paper_of(damaged, body)
    with pytest.raises(IndexDamaged):
        json_of(damaged, body)


@pytest.mark.parametrize("data", ['{"id": ', "[]", "null", '{"id": "x"}'])
def test_a_record_that_is_not_one_is_refused_both_ways(data: str) -> None:
    for read in (paper_of, json_of):
        with pytest.raises(IndexDamaged):
            read(data, "")
    with pytest.raises(IndexDamaged):
        json_of(b"{}", "")


_TEXT = st.text(st.characters(codec="utf-8"), max_size=20)


@given(
    title=_TEXT,
    authors=st.lists(_TEXT, max_size=3),
    year=st.none() | st.integers(-(10**6), 10**6),
    extra=st.dictionaries(_TEXT, _TEXT | st.lists(_TEXT, max_size=2), max_size=2),
    body=_TEXT,
    lines=st.dictionaries(st.sampled_from(["title", "year", "tags"]), st.integers(1, 99)),
)
@settings(max_examples=examples(200))
def test_the_json_of_any_record_is_the_json_of_its_paper(
    title: str,
    authors: list[str],
    year: int | None,
    extra: dict[str, object],
    body: str,
    lines: dict[str, int],
) -> None:
    paper = Paper(
        id="x", title=title, authors=tuple(authors), year=year, extra=extra, body=body,
        key_lines=lines, body_line=7,
    )  # fmt: skip
    data, text = record(paper)
    assert json_of(data, text) == json.dumps(paper_of(data, text).to_dict(), ensure_ascii=False)


def test_a_record_written_in_another_order_gives_the_same_text(
    records: list[tuple[str, str]],
) -> None:
    data, body = records[0]
    values = json.loads(data)
    reordered = {"key_lines": values.pop("key_lines"), **values}
    again = json.dumps(reordered, ensure_ascii=False)
    assert json.loads(json_of(again, body)) == json.loads(json_of(data, body))
    assert json_of(again, body) == json.dumps(paper_of(data, body).to_dict(), ensure_ascii=False)


@pytest.mark.parametrize(
    "extra",
    [
        {"key_lines": {"title": 1}},
        {"note": ', "key_lines": {"title": 1}, "body_line": 2}'},
        {"a": {"key_lines": {}}, "b": [', "key_lines": {']},
    ],
)
def test_an_extra_key_that_looks_like_the_record_s_own(extra: dict[str, object]) -> None:
    paper = Paper(id="x", title="T", extra=extra, body="b", key_lines={"key_lines": 3})
    data, body = record(paper)
    assert json.loads(json_of(data, body)) == paper.to_dict()
    assert json_of(data, body) == json.dumps(paper.to_dict(), ensure_ascii=False)
