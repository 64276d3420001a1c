"""A stored record read two ways: as a Paper (every command) and as the fields of
``Paper.to_dict`` without making the paper (``export --format json``): the same data, and the
same refusal of a damaged record."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from papernotes.disk.store import open_store
from papernotes.engine.kb import open_kb
from papernotes.engine.schema import IndexDamaged, fields_of, paper_of
from tests.conftest import SHIPPED_NOTES


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
        assert fields_of(data, body) == paper_of(data, body).to_dict()
        assert list(fields_of(data, body)) == list(paper_of(data, body).to_dict())


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
        fields_of(damaged, body)


@pytest.mark.parametrize("data", ['{"id": ', "[]", "null", '{"id": "x"}'])
def test_a_record_that_is_not_one_is_refused_both_ways(data: str) -> None:
    for read in (paper_of, fields_of):
        with pytest.raises(IndexDamaged):
            read(data, "")
    with pytest.raises(IndexDamaged):
        fields_of(b"{}", "")
