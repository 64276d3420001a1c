"""``papernotes related``: content similarity plus shared tags, topics, authors and links, with
the reasons shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kbfactory import make_kb, run
from papernotes import neighbours
from papernotes.kb import open_kb
from papernotes.model import Paper
from papernotes.related import backlinks, similar, tokens
from papernotes.store import open_store


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


RELATED_DPO = """\
Notes like direct-preference-optimization: Direct Preference Optimization: Your Language Model is Secretly a Reward Model (2023)
0.79  kto  KTO: Model Alignment as Prospect Theoretic Optimization (2024)
      links to it
      topics: alignment
      tags: preference-optimization
      words: optimization, reward, policy, dpo, preference
0.51  flame  FLAME: Factuality-Aware Alignment for Large Language Models (2024)
      links to it
      topics: alignment
      tags: dpo
      words: language, flame, dpo, preference
"""  # noqa: E501


def test_related_exact(notes: Path) -> None:
    result = run(notes, "related", "dpo", "--limit", "2")
    assert result.exit_code == 0
    assert result.stdout == RELATED_DPO


def test_related_json_and_ids(notes: Path) -> None:
    data = json.loads(run(notes, "related", "kto", "--format", "json").stdout)
    assert data[0]["id"] == "direct-preference-optimization"
    assert data[0]["links"] == ["linked from it"]
    assert data[0]["topics"] == ["alignment"]
    assert 0 < data[0]["content"] <= 1
    assert run(notes, "related", "flame", "--format", "ids", "--limit", "1").stdout == (
        "direct-preference-optimization\n"
    )


def test_nothing_similar_exits_1(notes: Path) -> None:
    result = run(notes, "related", "attention")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: no note is similar to attention\n"


def test_unknown_ref(notes: Path) -> None:
    result = run(notes, "related", "zebra crossing")
    assert result.exit_code == 1
    assert result.stderr == "Error: no note matches 'zebra crossing'\n"


def p(pid: str, **fields: object) -> Paper:
    return Paper(id=pid, title=str(fields.pop("title", pid)), **fields)  # type: ignore[arg-type]


def test_shared_authors_and_common_link_target() -> None:
    papers = [
        p("a", authors=("Ada Lovelace", "Alan Turing"), links=("c",)),
        p("b", authors=("alan turing",), related=("c",)),
        p("c"),
        p("d"),
    ]
    [match] = similar(papers, papers[0])[:1]
    assert match.paper.id == "b"
    assert match.authors == ("Alan Turing",)
    assert match.links == ("both link to c",)
    assert [m.paper.id for m in similar(papers, papers[0])] == ["b", "c"]
    assert [x.id for x in backlinks(papers, papers[2])] == ["a", "b"]


def test_distinctive_words_outweigh_common_ones() -> None:
    papers = [
        p("t", title="Sparse mixture of experts routing", body="experts routing load balance"),
        p("x", title="Routing experts in sparse layers", body="expert routing"),
        p("y", title="Training language networks", body="language training networks data"),
        p("z", title="Language data", body="training language data networks"),
    ]
    matches = similar(papers, papers[0])
    assert [m.paper.id for m in matches] == ["x"]
    assert set(matches[0].terms) >= {"routing", "experts", "sparse"}


def test_tokens_drop_stopwords_urls_and_link_brackets() -> None:
    assert tokens("The [[Reward Model]] at https://x.org/abc is GPT-4 based; we use 175B.") == [
        "reward", "gpt", "175b",
    ]  # fmt: skip


def test_index_and_memory_agree(notes: Path) -> None:
    """neighbours (the index) and related (a list of papers) find the same notes, in order."""
    kb = open_kb(open_store(notes))
    for paper in kb.papers():
        from_index = [m.paper.id for m in neighbours.similar(kb, paper)]
        from_memory = [m.paper.id for m in similar(kb.papers(), paper)]
        assert from_index == from_memory, paper.id
        assert [p.id for p in neighbours.backlinks(kb, paper)] == [
            p.id for p in backlinks(kb.papers(), paper)
        ]


def test_links_resolve_through_the_index(tmp_path: Path) -> None:
    notes = make_kb(
        tmp_path,
        {
            "a": "---\ntitle: Alpha Paper\naliases: [ALP]\n---\n",
            "b": "---\ntitle: Beta\nrelated: [a]\n---\n[[alp]] [[Alpha Paper]] [[A#x|y]] [[nope]]",
            "c": "---\ntitle: Gamma\n---\n[[Beta]]",
        },
    )
    kb = open_kb(open_store(notes))
    cases = [
        ("a", "a"), ("ALP", "a"), ("alpha paper", "a"), ("[[A#heading|label]]", "a"),
        ("beta", "b"), ("nope", None),
    ]  # fmt: skip
    for target, expected in cases:
        found = neighbours.resolve_link(kb, target)
        assert (found.id if found else None) == expected, target
    b = kb.get("b")
    assert b is not None
    conn = neighbours.connections(kb, b, limit=0)
    assert [(t, p.id if p else None) for t, p in conn.links] == [("a", "a"), ("nope", None)]
    assert [p.id for p in conn.backlinks] == ["c"]
