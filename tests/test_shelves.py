"""The index's shelves (issue 16): a listing of one topic or one tag reads its notes from the
shelf that keeps them in title order, with their other sort keys. It must list exactly what the
general query over ``papers`` lists, in the same order, by every sort key, after any adds,
edits, renames and removals."""

from __future__ import annotations

import os
import tempfile
from itertools import product
from pathlib import Path
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from papernotes.disk.store import open_store
from papernotes.engine import selection
from papernotes.engine.kb import KnowledgeBase, open_kb
from papernotes.engine.selection import SORT_KEYS, Listing, Selection

# spellings that fold alike ("NLP", "nlp"; "Café", "cafe"; "#LLM", "llm"), nested tags, and
# titles that tie once folded ("Alpha", "alpha!") so that the id decides
TOPICS = ["NLP", "nlp", "Café", "cafe", "vision"]
TAGS = ["llm", "#LLM", "llm/rlhf", "rl", "rlhf", "dpo"]
# (and a title too long for a shelf to hold the line: it is read from papers)
TITLES = ["Alpha", "alpha!", "Beta", "Zeta", "Émile", "emile", "Long " * 120]

NOTE = st.fixed_dictionaries(
    {
        "title": st.sampled_from(TITLES),
        "topics": st.lists(st.sampled_from(TOPICS), max_size=3),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3),
    },
    optional={  # the other sort keys, equal or missing in some notes
        "year": st.sampled_from([2019, 2023]),
        "read": st.sampled_from(["2024-01-05", "2024-03-01"]),
        "added": st.sampled_from(["2024-02-01", "2023-12-31"]),
        "rating": st.integers(1, 5),
    },
)
# a collection: file name -> note (None: no such file)
COLLECTION = st.dictionaries(st.sampled_from("abcdefgh"), NOTE, max_size=8)


def write(root: Path, notes: dict[str, dict[str, object]]) -> None:
    for old in root.glob("*.md"):
        if old.stem not in notes:
            old.unlink()
    for name, note in notes.items():
        text = "---\n" + "".join(f"{k}: {v!r}\n" for k, v in note.items()) + "---\nbody\n"
        (root / f"{name}.md").write_text(text.replace("'", '"'), encoding="utf-8")


def listed(
    kb: KnowledgeBase, chosen: Selection, sort: str, reverse: bool, limit: int | None
) -> object:
    listing = Listing(kb, chosen, sort, reverse, limit)
    return listing.rowids(), b"".join(listing.lines())


def assert_shelves_list_what_papers_list(kb: KnowledgeBase) -> None:
    for field, values in (("topics", TOPICS), ("tags", TAGS)):
        for value in [*values, "unknown"]:
            chosen = Selection(**{field: (value,)})  # type: ignore[arg-type]
            for sort, reverse, limit in product((*SORT_KEYS, "id"), (False, True), (None, 2)):
                shelved = listed(kb, chosen, sort, reverse, limit)
                with mock.patch.object(selection, "_shelf", return_value=None):
                    assert shelved == listed(kb, chosen, sort, reverse, limit), (value, sort)


@settings(max_examples=examples(40), deadline=None)
@given(first=COLLECTION, then=COLLECTION)
def test_a_shelf_lists_what_the_papers_table_lists(
    first: dict[str, dict[str, object]], then: dict[str, dict[str, object]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "notes"
        root.mkdir()
        index = Path(folder) / "index.sqlite"
        with mock.patch.dict(os.environ, {"PAPERNOTES_INDEX": str(index)}):
            write(root, first)
            assert_shelves_list_what_papers_list(open_kb(open_store(root)))
            write(root, then)  # edits, removals and new notes, refreshed incrementally
            kb = open_kb(open_store(root))
            assert_shelves_list_what_papers_list(kb)


def test_only_a_listing_of_one_topic_or_tag_reads_a_shelf(tmp_path: Path) -> None:
    write(tmp_path, {"a": {"title": "A", "topics": ["nlp"], "tags": ["dpo"]}})
    with mock.patch.dict(os.environ, {"PAPERNOTES_INDEX": ":memory:"}):
        kb = open_kb(open_store(tmp_path))
    shelf = selection._shelf
    assert shelf(kb, Selection(topics=("NLP",)), "title") == ("topics", "nlp")
    assert shelf(kb, Selection(tags=("#DPO",)), "title") == ("tags", "dpo")
    assert shelf(kb, Selection(topics=("nlp",)), "year") == ("topics", "nlp")
    assert shelf(kb, Selection(topics=("nlp*",)), "title") is None  # a prefix
    assert shelf(kb, Selection(topics=("nlp",), tags=("dpo",)), "title") is None
    assert shelf(kb, Selection(query="topic:nlp"), "title") is None
    assert shelf(kb, Selection(topics=("nlp",), year="2023"), "title") is None
    write(tmp_path, {"b": {"title": "B", "tags": ["dpo/online"]}})  # nested under dpo
    with mock.patch.dict(os.environ, {"PAPERNOTES_INDEX": ":memory:"}):
        kb = open_kb(open_store(tmp_path))
    assert shelf(kb, Selection(tags=("dpo/online",)), "title") == ("tags", "dpo/online")
    assert shelf(kb, Selection(tags=("dpo",)), "title") is None  # two shelves: the query
