"""``papernotes related``: content similarity plus shared tags, topics, authors and links, with
the reasons shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from kbfactory import make_kb, run
from papernotes.disk.store import open_store
from papernotes.engine import links, neighbours
from papernotes.engine.kb import KnowledgeBase, open_kb
from papernotes.engine.related import document, tokens
from papernotes.note.model import Paper
from test_reliability_index import location


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


RELATED_DPO = """\
Notes like direct-preference-optimization: Direct Preference Optimization: Your Language Model is Secretly a Reward Model (2023)
0.77  kto  KTO: Model Alignment as Prospect Theoretic Optimization (2024)
      links to it
      topics: alignment
      tags: preference-optimization
      words: optimization, reward, policy, dpo, preference
0.50  flame  FLAME: Factuality-Aware Alignment for Large Language Models (2024)
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


def kb_of(tmp_path: Path, notes: dict[str, str]) -> KnowledgeBase:
    return open_kb(open_store(make_kb(tmp_path, notes)))


def test_shared_authors_and_common_link_target(tmp_path: Path) -> None:
    kb = kb_of(
        tmp_path,
        {
            "a": "---\ntitle: Graph kernels\nauthors: [Ada Lovelace, Alan Turing]\n---\n[[c]]",
            "b": "---\ntitle: Kernels on graphs\nauthors: [alan turing]\nrelated: [c]\n---\n",
            "c": "---\ntitle: Gamma\n---\n",
            "d": "---\ntitle: Delta\n---\n",
        },
    )
    a, c = kb.get("a"), kb.get("c")
    assert a is not None and c is not None
    [match] = neighbours.similar(kb, a)[:1]
    assert match.paper.id == "b"
    assert match.authors == ("Alan Turing",)
    assert match.links == ("both link to c",)
    assert [m.paper.id for m in neighbours.similar(kb, a)] == ["b", "c"]
    assert [x.id for x in links.backlinks(kb, c)] == ["a", "b"]


def test_distinctive_words_outweigh_common_ones(tmp_path: Path) -> None:
    kb = kb_of(
        tmp_path,
        {
            "t": "---\ntitle: Sparse mixture of experts routing\n---\nexperts routing load balance",
            "x": "---\ntitle: Routing experts in sparse layers\n---\nexpert routing",
            "y": "---\ntitle: Training language networks\n---\nlanguage training networks data",
            "z": "---\ntitle: Language data\n---\ntraining language data networks",
        },
    )
    t = kb.get("t")
    assert t is not None
    matches = neighbours.similar(kb, t)
    assert [m.paper.id for m in matches] == ["x"]
    assert set(matches[0].terms) >= {"routing", "experts", "sparse"}


def test_tokens_drop_stopwords_urls_and_link_brackets() -> None:
    assert tokens("The [[Reward Model]] at https://x.org/abc is GPT-4 based; we use 175B.") == [
        "reward", "gpt", "175b",
    ]  # fmt: skip


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
        found = links.resolve(kb, target)
        assert (found.id if found else None) == expected, target
    b = kb.get("b")
    assert b is not None
    conn = neighbours.connections(kb, b, limit=0)
    assert [(t, p.id if p else None) for t, p in conn.links] == [("a", "a"), ("nope", None)]
    assert [p.id for p in conn.backlinks] == ["c"]


def test_word_counts_follow_every_change(notes: Path) -> None:
    """The words ``related`` compares notes by, the document frequencies it weighs them by
    and the number of notes are kept in the index as notes are added, changed and deleted:
    always what cutting the notes into words, and counting them, gives."""
    from collections import Counter

    from papernotes.engine.schema import terms_of

    def counted() -> tuple[dict[str, int], dict[str, int]]:
        kb = open_kb(open_store(notes))
        stored = dict(kb.index.conn.execute("SELECT term, docs FROM words"))
        papers = kb.papers()
        kept = dict(
            kb.index.conn.execute(
                "SELECT p.id, t.counts FROM papers p JOIN terms t ON t.rowid = p.rowid"
            )
        )
        assert {p.id: terms_of(kept[p.id]) for p in papers} == {p.id: document(p) for p in papers}
        assert kb.index.count() == len(papers)  # as meta keeps it
        return stored, dict(Counter(w for p in papers for w in document(p)))

    stored, expected = counted()
    assert stored == expected and stored["preference"] >= 2
    (notes / "kto.md").write_text("---\ntitle: KTO\n---\nProspect theory, briefly.\n", "utf-8")
    (notes / "flame.md").unlink()
    (notes / "new.md").write_text("---\ntitle: Prospect theory\n---\nPreference.\n", "utf-8")
    stored, expected = counted()
    assert stored == expected and stored["prospect"] == 2


_PIECES = st.sampled_from(
    ["the", "Transformer", "```", "```py", "https://x.org/a", "[[", "]]", "deadbeef12", "2024",
     "Été", "ab", "naïve", "model", "\n", " ", "-", "_x_", "DPO", "ﬁne", "x", "abc1",
     "12ab", "１２３", "x²", "ⅷ", "cafe0042beef", "Model"]
)  # fmt: skip
_TEXTS = st.lists(_PIECES, max_size=25).map(" ".join)


@given(_TEXTS, st.lists(_TEXTS, max_size=2), _TEXTS, _TEXTS)
@settings(max_examples=examples(300))
def test_the_document_counts_every_word_the_way_tokens_cuts_them(
    title: str, aliases: list[str], abstract: str, body: str
) -> None:
    """``document`` counts each distinct word once and filters it once; the definition is a
    count of :func:`tokens`, occurrence by occurrence, the title's words weighing more."""
    from collections import Counter

    from papernotes.engine.related import TITLE_WEIGHT

    paper = Paper(id="x", title=title, aliases=tuple(aliases), abstract=abstract, body=body)
    expected: Counter[str] = Counter()
    for word in tokens(" ".join((title, *aliases))):
        expected[word] += TITLE_WEIGHT
    expected.update(tokens(abstract))
    expected.update(tokens(body))
    assert document(paper) == expected


@given(_TEXTS, st.lists(_TEXTS, max_size=2), _TEXTS, _TEXTS)
@settings(max_examples=examples(300))
def test_a_note_s_words_read_back_as_they_were_counted(
    title: str, aliases: list[str], abstract: str, body: str
) -> None:
    """``terms`` keeps what :func:`document` counted, and gives it back unchanged."""
    from papernotes.engine.schema import terms_of, terms_text

    counts = document(
        Paper(id="x", title=title, aliases=tuple(aliases), abstract=abstract, body=body)
    )
    assert terms_of(terms_text(counts)) == counts


def _damage(notes: Path, sql: str) -> None:
    """Run ``sql`` on the index of ``notes``, as damage would leave it."""
    import sqlite3

    conn = sqlite3.connect(location(notes))
    with conn:
        conn.execute(sql)
    conn.close()


TERMS_DAMAGE = {
    "not-text": "UPDATE terms SET counts = X'37'",
    "invalid-utf8": "UPDATE terms SET counts = counts || CAST(X'FF' AS TEXT)",
    "odd": "UPDATE terms SET counts = counts || ' x'",
    "count-not-a-number": "UPDATE terms SET counts = 'preference x'",
    "count-zero": "UPDATE terms SET counts = 'preference 0'",
    "rows-missing": "DELETE FROM terms",
}


@pytest.mark.parametrize("change", [False, True])
@pytest.mark.parametrize("damage", list(TERMS_DAMAGE))
def test_damaged_stored_words_heal(notes: Path, damage: str, change: bool) -> None:
    """The words kept for each note are validated as they are read: ``related`` (which reads
    them for its candidates) and a refresh that removes a note (which takes its words out of
    the counts) rebuild the index and answer as if nothing had happened."""
    before = run(notes, "related", "dpo")
    assert before.exit_code == 0 and "kto" in before.stdout
    _damage(notes, TERMS_DAMAGE[damage])
    if change:
        (notes / "flame.md").unlink()
    after = run(notes, "related", "dpo")
    assert after.stderr.startswith("the search index was damaged") or "rebuilding" in after.stderr
    again = run(notes, "related", "dpo")
    assert again.stderr == "" and again.stdout == after.stdout
    if change:  # what a new index answers
        assert "flame" in before.stdout and "flame" not in after.stdout
        assert run(notes, "index", "--rebuild").exit_code == 0
        assert run(notes, "related", "dpo").stdout == after.stdout
    else:
        assert after.stdout == before.stdout


@pytest.mark.parametrize("stored", ["'7x'", "'-1'", "X'37'", None])
def test_a_damaged_note_count_heals_before_a_write_uses_it(notes: Path, stored: str | None) -> None:
    """The number of notes (the N of every idf) is kept in meta by each write: a write that
    finds it damaged rebuilds the index instead of adding to a wrong number."""
    before = run(notes, "related", "dpo")
    _damage(
        notes,
        "DELETE FROM meta WHERE key = 'notes'"
        if stored is None
        else f"UPDATE meta SET value = {stored} WHERE key = 'notes'",
    )
    (notes / "new.md").write_text("---\ntitle: Unrelated\n---\nGardening.\n", "utf-8")
    after = run(notes, "related", "dpo")
    assert after.stderr.startswith("the search index was damaged"), after.stderr
    kb = open_kb(open_store(notes))
    assert kb.index.count() == len(kb.papers()) == 6
    kb.index.close()
    assert run(notes, "index", "--rebuild").exit_code == 0  # what a new index answers
    assert run(notes, "related", "dpo").stdout == after.stdout != before.stdout


_POOL_WORDS = ["alpha", "beta", "gamma", "delta", "omega"]


@given(
    st.lists(st.lists(st.sampled_from(_POOL_WORDS), max_size=4), min_size=1, max_size=8),
    st.dictionaries(
        st.sampled_from(_POOL_WORDS), st.sampled_from([0.1, 0.25, 0.3, 0.5, 0.75]), max_size=5
    ),
    st.integers(min_value=1, max_value=6),
)
@settings(max_examples=examples(60), deadline=None)
def test_the_candidates_are_the_notes_whose_words_weigh_most(
    bodies: list[list[str]], weights: dict[str, float], limit: int
) -> None:
    """``more_like``: the notes holding any of the words, by the sum of the weights of those
    they hold (each word once), best first, equal sums by rowid; at most ``limit``."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        notes = Path(folder) / "notes"
        notes.mkdir()
        for n, words in enumerate(bodies):  # each word twice: a count does not add
            text = f"---\ntitle: Note {n}\n---\n{' '.join(words * 2)}\n"
            (notes / f"n{n}.md").write_text(text, "utf-8")
        kb = open_kb(open_store(notes))
        rowid = dict(kb.index.conn.execute("SELECT id, rowid FROM papers"))
        sums = {
            rowid[f"n{n}"]: sum(round(weights[w] * 1e6) for w in set(words) & weights.keys())
            for n, words in enumerate(bodies)
            if set(words) & weights.keys()
        }
        expected = sorted(sums, key=lambda r: (-sums[r], r))[:limit]
        assert kb.index.more_like(weights, limit) == expected
        kb.index.close()
