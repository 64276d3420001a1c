"""Search by meaning (issue 17): the tokenizer, the model, the vectors beside the index and
their incremental update, hybrid ranking through the CLI, and what happens without the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kbfactory import make_kb, run
from papernotes.disk.store import open_store
from papernotes.engine import semantic
from papernotes.engine.kb import open_kb
from papernotes.engine.search import search
from papernotes.engine.semantic.wordpiece import basic_tokens, load

needs_model = pytest.mark.skipif(not semantic.available(), reason="papernotes[semantic] absent")


# -- the tokenizer: the ids HuggingFace's BertTokenizer gives (computed with tokenizers 0.23)


GPT_IDS = [101, 14246, 2102, 1011, 1018, 2080, 1005, 1055, 1523, 6047, 16614, 1524, 1517]
GPT_IDS += [11454, 1529, 102]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Direct Preference Optimization", [101, 3622, 12157, 20600, 102]),
        ("Café naïve façade", [101, 7668, 15743, 8508, 102]),
        (
            "GPT-4o's “smart quotes” — dash…",
            GPT_IDS,
        ),
        ("中文 mixed", [101, 1746, 1861, 3816, 102]),
        ("unaffable tokenizer", [101, 14477, 20961, 3468, 19204, 17629, 102]),
        ("[MASK] x\x00\x1b[31m", [101, 103, 1060, 1031, 2861, 2213, 102]),
        ("", [101, 102]),
        ("a " * 40, [101, *[1037] * 14, 102]),  # truncated to 16 tokens
    ],
)
def test_wordpiece_gives_berts_ids(text: str, ids: list[int]) -> None:
    assert load().encode(text, 16) == ids


def test_a_long_note_is_read_only_as_far_as_needed() -> None:
    text = "word " * 1_000_000 + "end"
    assert load().encode(text, 128) == [101, *[2773] * 126, 102]
    assert basic_tokens("Hello, World!") == ["hello", ",", "world", "!"]


# -- the model -------------------------------------------------------------------------------


@needs_model
def test_vectors_are_unit_length_and_close_for_close_meanings() -> None:
    model = semantic.get_model()
    vectors = model.embed(
        [
            "a cat sits on the mat",
            "a kitten is resting on a rug",
            "the stock market crashed today",
            "",
        ]
    )
    assert vectors.shape == (4, 384)
    assert [round(float(v @ v), 4) for v in vectors] == [1.0, 1.0, 1.0, 1.0]
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    again = semantic.get_model(optimize=True).embed(["a cat sits on the mat"])[0]
    assert float(again @ vectors[0]) > 0.999  # the fused graph computes the same


# -- hybrid search through the CLI -----------------------------------------------------------

MEANING = {
    "cooking": """---
title: Slow Braising of Beef
tags: [kitchen]
---
Sear the meat, add wine and stock, and let it simmer in the oven for three hours.
""",
    "judge": """---
title: Self-Rewarding Language Models
year: 2024
topics: [alignment]
---
The language model itself is used via LLM-as-a-Judge prompting to provide its own rewards.
""",
    "retrieval": """---
title: Dense Passage Retrieval for Open-Domain Question Answering
year: 2020
topics: [retrieval]
---
A dual encoder maps questions and passages to vectors; answers come from the nearest passages.
""",
}


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PAPERNOTES_SEMANTIC")  # conftest turns meaning off for other tests
    return make_kb(tmp_path, MEANING)


@needs_model
def test_a_note_is_found_by_meaning_without_any_of_its_words(notes: Path) -> None:
    result = run(notes, "search", "recipe", "for", "stewed", "dinner", "--format", "json")
    records = json.loads(result.stdout)
    assert records[0]["id"] == "cooking"
    assert records[0]["match"] == "meaning"
    assert records[0]["semantic"] > 0.2
    explained = run(notes, "search", "recipe for stewed dinner", "--explain", "--limit", "1")
    assert "    found by meaning only: none of the words; similarity" in explained.stdout
    assert explained.stdout.splitlines()[-1] == (
        "no note has every word; 1 with some of them or by meaning, best first"
    )


@needs_model
def test_words_and_meaning_are_fused_and_exact_names_stay_first(notes: Path) -> None:
    ids = run(notes, "search", "model that grades its own answers", "--format", "ids").stdout
    assert ids.split()[0] == "judge"
    explained = run(notes, "search", "language model rewards", "--explain", "--limit", "1")
    assert "found by words (every word) and meaning; similarity" in explained.stdout
    # an exact title is first, whatever the meaning ranking says
    first = run(notes, "search", "Slow Braising of Beef", "--format", "ids").stdout.split()[0]
    assert first == "cooking"


@needs_model
def test_fields_stay_filters_and_lexical_or_semantic_can_be_chosen(notes: Path) -> None:
    query = ("nearest passages", "year:2024")
    assert run(notes, "search", *query, "--format", "ids").stdout.split() == ["judge"]
    assert run(notes, "search", "stewed dinner", "--lexical").exit_code == 1
    semantic_only = run(notes, "search", "stewed dinner", "--semantic", "--format", "ids")
    assert semantic_only.stdout.split()[0] == "cooking"


@needs_model
def test_an_edited_note_is_found_by_its_new_meaning_and_only_it_is_embedded(
    notes: Path,
) -> None:
    kb = open_kb(open_store(notes))
    assert search(kb, "stewed dinner recipe", limit=1).hits[0].paper.id == "cooking"
    (notes / "retrieval.md").write_text(
        "---\ntitle: Dense Passage Retrieval\n---\n"
        "Grandmother's goulash: paprika, onions and beef, stewed for an evening meal.\n",
        encoding="utf-8",
    )
    kb = open_kb(open_store(notes))
    vectors_before = semantic.status(kb)
    assert (vectors_before.notes, vectors_before.embedded) == (3, 2)  # the edit is pending
    hits = search(kb, "hungarian stew", limit=3).hits
    assert hits[0].paper.id == "retrieval"
    assert semantic.status(kb).embedded == 3


@needs_model
def test_embedding_is_resumable_after_an_interruption(
    notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(40):
        (notes / f"extra-{i}.md").write_text(f"# Extra note {i}\nAbout topic {i}.\n")
    kb = open_kb(open_store(notes))
    model = semantic.get_model()
    calls = []
    embed = model.embed

    def interrupted(texts: list[str], progress: object = None) -> object:
        calls.append(len(texts))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return embed(texts)

    monkeypatch.setattr(semantic.vectors, "CHUNK", 10)
    monkeypatch.setattr(model, "embed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        semantic.embed_all(kb)
    assert semantic.status(kb).embedded == 10  # the first chunk was saved
    monkeypatch.setattr(model, "embed", embed)
    done = semantic.embed_all(kb)
    assert (done.embedded, semantic.status(kb).embedded) == (33, 43)


@needs_model
def test_index_embed_and_status(notes: Path) -> None:
    result = run(notes, "index", "--embed")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith("embedded 3 notes in ")
    assert result.stdout.splitlines()[-1].endswith("; 3 of 3 notes have a vector")
    status = run(notes, "index", "--status")
    assert "vectors:  3 of 3 notes (all-MiniLM-L6-v2-int8), " in status.stdout


@needs_model
def test_a_damaged_vectors_file_is_made_again(notes: Path) -> None:
    kb = open_kb(open_store(notes))
    search(kb, "stew", limit=1)
    path = semantic.vectors.location(kb.index)
    assert path is not None and path.exists()
    path.write_bytes(b"PNVEC\x01garbage")
    kb = open_kb(open_store(notes))
    assert search(kb, "stewed dinner recipe", limit=1).hits[0].paper.id == "cooking"
    assert semantic.vectors.read(path) is not None


# -- without the model -----------------------------------------------------------------------


def test_without_the_model_search_is_lexical_and_says_how_to_get_meaning(
    notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "available", lambda: False)
    assert run(notes, "search", "nearest passages", "--format", "ids").stdout == "retrieval\n"
    refused = run(notes, "search", "stewed dinner", "--semantic")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "Error: semantic search needs the optional packages of papernotes[semantic] "
        "(onnxruntime is not installed): pip install 'papernotes[semantic]', or search with "
        "--lexical\n"
    )


def test_a_lexical_search_never_imports_the_model(notes: Path, tmp_path: Path) -> None:
    """A package that cannot be imported stands in for onnxruntime and numpy: the search
    still works, so it never tried."""
    fake = tmp_path / "fake"
    for name in ("onnxruntime", "numpy"):
        (fake / name).mkdir(parents=True)
        (fake / name / "__init__.py").write_text("raise ImportError('imported!')\n")
    env = {**os.environ, "PYTHONPATH": str(fake), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for args in (["dpo", "--lexical"], ["tag:kitchen"]):
        done = subprocess.run(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "search", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "imported!" not in done.stderr
        assert done.returncode in (0, 1), done.stderr


def test_meaning_can_be_turned_off(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (notes / "papernotes.toml").write_text('semantic = "off"\n')
    assert run(notes, "search", "stewed dinner").exit_code == 1  # words only
    monkeypatch.setenv("PAPERNOTES_SEMANTIC", "auto")  # the environment wins
    if semantic.available():
        assert run(notes, "search", "stewed dinner", "--format", "ids").stdout.split()[0] == (
            "cooking"
        )
    (notes / "papernotes.toml").write_text('semantic = "sometimes"\n')
    monkeypatch.delenv("PAPERNOTES_SEMANTIC")
    refused = run(notes, "search", "stewed dinner")
    assert (refused.exit_code, refused.stderr) == (
        2,
        "Error: semantic must be auto, on or off, not 'sometimes'\n",
    )


@needs_model
def test_a_long_running_process_keeps_model_and_vectors_and_sees_changes(
    notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "_long_running", True)
    monkeypatch.setattr(semantic, "_cached", {})
    kb = open_kb(open_store(notes))
    assert search(kb, "stewed dinner recipe", limit=1).hits[0].paper.id == "cooking"  # embeds
    assert search(kb, "stewed dinner recipe", limit=1).hits[0].paper.id == "cooking"
    ((_, kept),) = semantic._cached.values()
    assert kept.dense is not None
    assert search(kb, "nearest passages of text", limit=1).hits[0].paper.id == "retrieval"
    assert next(iter(semantic._cached.values()))[1] is kept  # not read again
    (notes / "cooking.md").write_text("---\ntitle: Slow Braising\n---\nOrbital mechanics.\n")
    kb = open_kb(open_store(notes))
    hits = search(kb, "spacecraft trajectories around planets", limit=1).hits
    assert hits[0].paper.id == "cooking"


@needs_model
def test_a_note_replaced_by_one_of_the_same_size_and_mtime_gets_a_new_vector(
    notes: Path,
) -> None:
    kb = open_kb(open_store(notes))
    assert search(kb, "stewed dinner recipe", limit=1).hits[0].paper.id == "cooking"
    cooking = notes / "cooking.md"
    before = cooking.stat()
    text = cooking.read_text()
    replacement = text.replace("Sear the meat, add wine and stock", "Rocket engines burn hydrogen")
    replacement = replacement[: len(text)].ljust(len(text))
    assert len(replacement) == len(text)
    spare = notes.parent / "spare.md"
    spare.write_text(replacement)
    os.utime(spare, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(spare, cooking)  # same size, same mtime: another inode
    kb = open_kb(open_store(notes))
    assert search(kb, "rocket engines and hydrogen fuel", limit=1).hits[0].paper.id == "cooking"


@needs_model
def test_vectors_follow_an_index_rebuilt_with_other_rowids(notes: Path) -> None:
    (notes / "aaa-first.md").write_text("---\ntitle: First\n---\nQuantum error correction.\n")
    kb = open_kb(open_store(notes))
    assert search(kb, "stewed dinner recipe", limit=1).hits[0].paper.id == "cooking"
    before = dict(kb.index.conn.execute("SELECT id, rowid FROM papers"))
    (notes / "aaa-first.md").unlink()
    assert run(notes, "index", "--rebuild").exit_code == 0
    kb = open_kb(open_store(notes))
    after = dict(kb.index.conn.execute("SELECT id, rowid FROM papers"))
    assert after["cooking"] != before["cooking"]  # renumbered
    for query, best in (
        ("stewed dinner recipe", "cooking"),
        ("a language model that rewards itself", "judge"),
    ):
        assert search(kb, query, limit=1, mode="semantic").hits[0].paper.id == best
    assert semantic.status(kb).embedded == 3
