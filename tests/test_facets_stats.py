"""``papernotes tags``, ``topics``, ``authors`` and ``stats``: exact plain output and JSON."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from kbfactory import make_kb, run
from papernotes.disk.store import open_store
from papernotes.engine import indexing
from papernotes.engine.kb import open_kb
from papernotes.engine.schema import runs_stale
from papernotes.engine.stats import Counts, compute, facet_counts
from papernotes.note.cells import cell as _cell
from papernotes.note.model import STATUSES, Paper
from papernotes.note.normalize import fold
from papernotes.render.stats import bar, chart, stats_lines


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def test_tags_most_used_first(notes: Path) -> None:
    result = run(notes, "tags")
    assert result.exit_code == 0
    assert result.stdout == (
        "2\tdpo\n2\tpreference-optimization\n1\topen-source\n1\trlhf\n1\tsft\n1\ttransformer\n"
    )


def test_topics_by_name(notes: Path) -> None:
    result = run(notes, "topics", "--sort", "name")
    assert result.stdout == "3\talignment\n1\tarchitectures\n1\tfactuality\n1\tlanguage-models\n"


def test_authors_limit_and_formats(notes: Path) -> None:
    result = run(notes, "authors", "--limit", "2")
    assert result.stdout == "1\tArchit Sharma\n1\tAshish Vaswani\n"
    as_json = json.loads(run(notes, "authors", "--format", "json", "--limit", "1").stdout)
    assert as_json == [{"author": "Archit Sharma", "notes": 1}]
    as_csv = run(notes, "topics", "--format", "csv").stdout
    assert as_csv == (
        "topic,notes\nalignment,3\narchitectures,1\nfactuality,1\nlanguage-models,1\n"
    )


def test_a_value_with_a_line_break_is_one_line(tmp_path: Path) -> None:
    notes = make_kb(
        tmp_path,
        {
            "a": '---\ntitle: A\nauthors: ["Ada\\nLovelace", "Alan Turing"]\n---\n',
            "b": "---\ntitle: B\nauthors: [Alan Turing]\n---\n",
        },
    )
    assert run(notes, "authors").stdout == "2\tAlan Turing\n1\tAda Lovelace\n"


def test_spellings_merge_and_taxonomy_shows_unused(tmp_path: Path) -> None:
    notes = make_kb(
        tmp_path,
        {
            "a": "---\ntitle: A\ntags: [RLHF]\nauthors: [Sönke Müller]\n---\n",
            "b": "---\ntitle: B\ntags: [rlhf]\nauthors: [Sonke Muller]\n---\n",
            "c": "---\ntitle: C\ntags: [rlhf]\nauthors: [Sönke Müller]\n---\n",
        },
    )
    (notes / "papernotes.toml").write_text('[taxonomy]\ntags = ["robotics"]\n', "utf-8")
    assert run(notes, "tags").stdout == "3\trlhf\n0\trobotics\n"
    assert run(notes, "authors").stdout == "3\tSönke Müller\n"


def test_no_values_exit_1(tmp_path: Path) -> None:
    notes = make_kb(tmp_path, {"a": "---\ntitle: A\n---\n"})
    result = run(notes, "tags")
    assert result.exit_code == 1
    assert result.stderr == "Error: no tags in the notes\n"


def test_facet_counts_rejects_unknown_facet(notes: Path) -> None:
    with pytest.raises(ValueError):
        facet_counts(open_kb(open_store(notes)), "colours")


STATS = """\
5 notes
read 2 · unread 3 (to-read 1, skimmed 1, no status 1)
4 topics, 6 tags, 25 authors; 4 on arXiv, 2 rated

Notes per year
  2017     1  ██████████
  2023     1  ██████████
  2024     3  ██████████████████████████████

Notes per topic
  alignment           3  ██████████████████████████████
  architectures       1  ██████████
  factuality          1  ██████████
  language-models     1  ██████████

Notes read per month
  2024-02     1  ██████████████████████████████
  2024-04     1  ██████████████████████████████
  2024-05     1  ██████████████████████████████
"""


def test_stats_exact(notes: Path) -> None:
    result = run(notes, "stats")
    assert result.exit_code == 0
    assert result.stdout == STATS


def test_stats_counts_notes_with_errors(notes: Path) -> None:
    (notes / "bad.md").write_text("---\ntitle: [T\n---\n", encoding="utf-8")
    result = run(notes, "stats")
    assert result.stdout.splitlines()[0] == (
        "5 notes (1 more with errors, skipped: run papernotes check)"
    )
    data = json.loads(run(notes, "stats", "--format", "json").stdout)
    assert data["with_errors"] == 1
    assert data["by_year"] == {"2017": 1, "2023": 1, "2024": 3}
    assert data["by_status"] == {"to-read": 1, "read": 2, "skimmed": 1, "no status": 1}
    assert data["read"] == 2 and data["unread"] == 3


def test_stats_of_an_empty_knowledge_base(tmp_path: Path) -> None:
    notes = make_kb(tmp_path, {})
    result = run(notes, "stats")
    assert result.exit_code == 0
    assert (
        result.stdout
        == "0 notes\nread 0 · unread 0\n0 topics, 0 tags, 0 authors; 0 on arXiv, 0 rated\n"
    )


def test_bars() -> None:
    assert bar(0, 10) == ""
    assert bar(1, 1000) == "█"  # never invisible
    assert bar(10, 10, width=5) == "█████"
    assert chart([("a", 1), ("bbb", 2)]) == [("a  ", "███████████████", 1), ("bbb", "█" * 30, 2)]


def test_stats_years_without_year(tmp_path: Path) -> None:
    """``year`` is the year key, else the year published: as ``year:`` and ``--year`` say."""
    notes = make_kb(
        tmp_path,
        {
            "a": "---\ntitle: A\n---\n",
            "b": "---\ntitle: B\nyear: 2020\n---\n",
            "c": "---\ntitle: C\npublished: 2020-05-01\n---\n",
        },
    )
    stats = compute(open_kb(open_store(notes)))
    assert stats.without_year == 1
    assert stats.by_year == [(2020, 2)]
    assert "  (1 without a year)" in stats_lines(stats)


def test_spellings_ties_and_sorts(tmp_path: Path) -> None:
    """The spelling most notes use is shown (the first in code-point order when as many use
    each); counts sort most first, then by folded name; --sort name by folded name."""
    notes = make_kb(
        tmp_path,
        {
            "a": "---\ntitle: A\ntags: [Vision, nlp, zeta]\n---\n",
            "b": "---\ntitle: B\ntags: [vision, NLP]\n---\n",
            "c": "---\ntitle: C\ntags: [NLP, Zeta]\n---\n",
        },
    )
    (notes / "papernotes.toml").write_text(
        '[taxonomy]\ntags = ["Alpha", "alpha", "NLP"]\n', "utf-8"
    )
    assert run(notes, "tags").stdout == "3\tNLP\n2\tVision\n2\tZeta\n0\tAlpha\n"
    assert run(notes, "tags", "--sort", "name").stdout == "0\tAlpha\n3\tNLP\n2\tVision\n2\tZeta\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a  b", "a b"), (" a", "a"), ("a ", "a"), ("a\tb", "a b"), ("a\nb", "a b"),
        ("a\x1bb", "a\\x1bb"), ("a\u00a0b", "a b"), ("a\u2028b", "a b"), ("", ""), ("\n", ""),
        ("a\u202eb", "a\\u202eb"),
    ],
)  # fmt: skip
def test_a_cell_is_one_harmless_line(text: str, expected: str) -> None:
    assert _cell(text) == expected


SPELLINGS = ["NLP", "nlp", "Nlp", "Vision", "vision", "Été", "ete", "ÉTÉ", "two\nlines"]
# first characters at the edges of the parts of the runs table: none, the last before the
# surrogates, the first after them, the last code point
SPELLINGS += ["\ud7ff", "\ud7ffa", "\ue000", "\U0010ffff", "\U0010ffffz"]


def lines(rows: list[tuple[str, int]]) -> str:
    """``rows`` as a pipe gets them: ``notes<TAB>value as a cell``, a line each."""
    return "".join(f"{notes}\t{_cell(value)}\n" for value, notes in rows)


def expected_counts(notes: dict[int, list[str]]) -> list[tuple[str, int]]:
    """What ``tags`` should say, worked out here the plain way."""
    per_spelling: dict[str, dict[str, int]] = {}
    for tags in notes.values():
        for tag in dict.fromkeys(tags):
            key = fold(tag).lstrip("#")
            per_spelling.setdefault(key, {}).setdefault(tag, 0)
            per_spelling[key][tag] += 1
    rows = []
    for key, spellings in per_spelling.items():
        shown = sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        rows.append((key, shown, sum(spellings.values())))
    rows.sort(key=lambda r: (-r[2], r[0]))
    return [(shown, n) for _, shown, n in rows]


@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.lists(st.sampled_from(SPELLINGS), max_size=3)),
        min_size=1,
        max_size=6,
    )
)
@settings(max_examples=examples(25), deadline=None)
def test_counts_follow_every_change(tmp_path_factory: pytest.TempPathFactory, steps: list) -> None:
    """Notes written, retagged and deleted, refreshed after each step: the counts the index
    keeps a batch at a time are what the notes say."""
    notes = make_kb(tmp_path_factory.mktemp("kb"), {})
    now: dict[int, list[str]] = {}
    for number, tags in steps:
        path = notes / f"n{number}.md"
        if tags:
            listed = ", ".join(json.dumps(t, ensure_ascii=False) for t in tags)
            path.write_text(f"---\ntitle: N{number}\ntags: [{listed}]\n---\n", "utf-8")
            now[number] = tags
        else:
            path.unlink(missing_ok=True)
            now.pop(number, None)
        kb = open_kb(open_store(notes))
        assert facet_counts(kb, "tags") == expected_counts(now)
        # the lines the index keeps in runs, in the order of its counts_notes index
        assert "".join(Counts(kb, "tags").lines()) == lines(expected_counts(now))
        for limit in (1, 2, 5):
            assert "".join(Counts(kb, "tags", limit=limit).lines()) == lines(
                expected_counts(now)[:limit]
            )
        by_name = facet_counts(kb, "tags", "name")
        assert "".join(Counts(kb, "tags", "name").lines()) == lines(by_name)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.lists(st.sampled_from(["DPO", "dpo", "KTO", "Été"]), max_size=2),
            st.sampled_from([None, "2305.18290", "2402.01306"]),
        ),
        min_size=1,
        max_size=6,
    )
)
@settings(max_examples=examples(25), deadline=None)
def test_duplicate_keys_follow_every_change(
    tmp_path_factory: pytest.TempPathFactory, steps: list
) -> None:
    """The alias and arXiv keys more than one note has, kept a batch at a time for check
    (table dupkeys), are what a recount of every key says after each change."""
    notes = make_kb(tmp_path_factory.mktemp("kb"), {})
    for number, aliases, arxiv in steps:
        path = notes / f"n{number}.md"
        if aliases or arxiv:
            lines = [f"title: N{number}", f"aliases: {json.dumps(aliases)}"]
            lines += [f"arxiv: '{arxiv}'"] if arxiv else []
            path.write_text("---\n" + "\n".join(lines) + "\n---\n", "utf-8")
        else:
            path.unlink(missing_ok=True)
        kb = open_kb(open_store(notes))
        kept, recounted = kb.index.read(
            lambda conn: (
                conn.execute("SELECT kind, value FROM dupkeys ORDER BY 1, 2").fetchall(),
                conn.execute(
                    "SELECT kind, value FROM keys WHERE kind IN ('alias', 'arxiv') "
                    "GROUP BY kind, value HAVING count(*) > 1 ORDER BY 1, 2"
                ).fetchall(),
            )
        )
        assert kept == recounted


def test_a_refresh_of_many_notes_writes_the_runs_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More notes than a batch: the runs of cells are written once, at the end; until then
    (or when such a refresh was stopped) they are marked stale and read from the counts."""
    monkeypatch.setattr(indexing, "BATCH", 2)
    tagged = {n: [SPELLINGS[n % 5], SPELLINGS[(n * 3) % 9]] for n in range(7)}
    notes = make_kb(tmp_path, {f"n{n}": note(n, tags) for n, tags in tagged.items()})
    kb = open_kb(open_store(notes))
    assert not runs_stale(kb.index.conn)
    assert "".join(Counts(kb, "tags").lines()) == lines(expected_counts(tagged))
    kb.index.close()
    with monkeypatch.context() as stopped:  # a refresh that never reaches its end
        stopped.setattr(indexing, "write_runs", lambda conn: None)
        for n in range(7):
            tagged[n] = [SPELLINGS[(n + 1) % 9]]
            (notes / f"n{n}.md").write_text(note(n, tagged[n]), "utf-8")
        time.sleep(2 * indexing.RACY_NS / 1e9)  # else they are all read again next time
        kb = open_kb(open_store(notes))
        assert runs_stale(kb.index.conn)
        assert "".join(Counts(kb, "tags").lines()) == lines(expected_counts(tagged))
        kb.index.close()
    tagged[0] = ["Zeta"]
    (notes / "n0.md").write_text(note(0, tagged[0]), "utf-8")
    kb = open_kb(open_store(notes))  # the next refresh, of one note, writes them
    assert kb.index.report is not None and kb.index.report.changed == 1
    assert not runs_stale(kb.index.conn)
    assert "".join(Counts(kb, "tags").lines()) == lines(expected_counts(tagged))
    assert run(notes, "tags").stdout == "".join(
        f"{n}\t{value}\n" for value, n in expected_counts(tagged)
    )


def note(n: int, tags: list[str]) -> str:
    return f"---\ntitle: N{n}\ntags: {json.dumps(tags, ensure_ascii=False)}\n---\n"


def test_a_refresh_writes_the_runs_a_watcher_left(tmp_path: Path) -> None:
    """Runs listed in dirty by a watcher that stopped before writing them: read from the
    counts meanwhile, written by the next refresh that writes a note."""
    tagged = {n: [SPELLINGS[n], SPELLINGS[n + 3]] for n in range(4)}
    notes = make_kb(tmp_path, {f"n{n}": note(n, tags) for n, tags in tagged.items()})
    time.sleep(2 * indexing.RACY_NS / 1e9)  # else the next command reads them again
    kb = open_kb(open_store(notes))
    location = kb.index.location
    assert location is not None
    kb.index.close()
    conn = sqlite3.connect(location)
    with conn:
        conn.execute("DELETE FROM runs WHERE field = 'tags'")
        conn.execute(
            "INSERT INTO dirty SELECT DISTINCT field, notes, substr(folded, 1, 1) FROM counts "
            "WHERE field = 'tags'"
        )
    conn.close()
    kb = open_kb(open_store(notes))
    assert runs_stale(kb.index.conn)
    assert "".join(Counts(kb, "tags").lines()) == lines(expected_counts(tagged))
    kb.index.close()
    time.sleep(2 * indexing.RACY_NS / 1e9)
    tagged[0] = ["Zeta"]
    (notes / "n0.md").write_text(note(0, tagged[0]), "utf-8")
    kb = open_kb(open_store(notes))
    assert not runs_stale(kb.index.conn)
    assert "".join(Counts(kb, "tags").lines()) == lines(expected_counts(tagged))


def expected_stats(papers: list[Paper]) -> dict[str, object]:
    """What ``stats --format json`` should count, worked out here from the notes' papers."""
    from collections import Counter

    status = Counter("no status" if p.status is None else p.status for p in papers)
    years = Counter(p.year for p in papers if p.year is not None)
    months = Counter(p.read[:7] for p in papers if p.read is not None)
    return {
        "notes": len(papers),
        "by_status": {s: status[s] for s in (*STATUSES, "no status") if status[s]},
        "by_year": {str(y): years[y] for y in sorted(years)},
        "without_year": sum(1 for p in papers if p.year is None),
        "without_topic": sum(1 for p in papers if not p.topics),
        "read_by_month": {m: months[m] for m in sorted(months)},
        "with_arxiv": sum(1 for p in papers if p.arxiv is not None),
        "rated": sum(1 for p in papers if p.rating is not None),
        "tags": len({fold(t).lstrip("#") for p in papers for t in p.tags}),
        "authors": len({fold(a) for p in papers for a in p.authors}),
    }


_NOTE_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(STATUSES),
        "year": st.integers(2019, 2021),
        "read": st.sampled_from(["2024-01-05", "2024-01-20", "2024-02-01"]),
        "rating": st.integers(1, 5),
        "arxiv": st.sampled_from(["2301.00001", "2301.00002"]),
        "topics": st.lists(st.sampled_from(["nlp", "NLP", "vision"]), min_size=1, max_size=2),
        "tags": st.lists(st.sampled_from(["a", "A", "#b"]), min_size=1, max_size=2),
        "authors": st.lists(st.sampled_from(["Ann Lee", "ann lee", "Bo Li"]), min_size=1),
    },
)


@given(st.lists(st.tuples(st.integers(0, 4), st.none() | _NOTE_FIELDS), min_size=1, max_size=8))
@settings(max_examples=examples(30), deadline=None)
def test_stats_follow_every_change(tmp_path_factory: pytest.TempPathFactory, steps: list) -> None:
    """Notes written, changed and deleted, refreshed after each step: what stats counts from
    the groups and value counts the index keeps a write at a time is what the notes say."""
    notes = make_kb(tmp_path_factory.mktemp("kb"), {})
    for number, fields in steps:
        path = notes / f"n{number}.md"
        if fields is None:
            path.unlink(missing_ok=True)
        else:
            front = "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items())
            path.write_text(f"---\ntitle: N{number}\n{front}---\n", "utf-8")
        kb = open_kb(open_store(notes))
        assert kb.notices == []  # kept, not healed: a miscount is damage, and rebuilds
        got = compute(kb).to_dict()
        wanted = expected_stats(kb.papers())
        assert {key: got[key] for key in wanted} == wanted
        kb.index.close()


_FIRST_GROUP = "key = (SELECT min(key) FROM summary)"
STATS_DAMAGE = {
    # every group (the write's among them), or the first (a key is unique)
    "group-count-not-a-number": "UPDATE summary SET notes = 'x'",
    "group-count-zero": "UPDATE summary SET notes = 0",
    "group-count-negative": "UPDATE summary SET notes = -notes",
    "group-not-json": f"UPDATE summary SET key = 'x' WHERE {_FIRST_GROUP}",
    "group-short": f"UPDATE summary SET key = '[null, null]' WHERE {_FIRST_GROUP}",
    "group-year-a-string": "UPDATE summary SET key = json_set(key, '$[1]', '2024')",
    "group-flag-a-number": "UPDATE summary SET key = json_set(key, '$[3]', 1)",
    "value-count-not-a-number": "UPDATE meta SET value = '7x' WHERE key = 'tags values'",
    "value-count-missing": "DELETE FROM meta WHERE key = 'authors values'",
}


@pytest.mark.parametrize("damage", list(STATS_DAMAGE))
@pytest.mark.parametrize("write", [False, True])
def test_damaged_counts_of_stats_heal(notes: Path, damage: str, write: bool) -> None:
    """The groups and value counts stats reads are kept by every write: stored wrong, they are
    damage, healed before stats answers, or before a write adds to them."""
    from test_reliability_index import location

    before = json.loads(run(notes, "stats", "--format", "json").stdout)
    conn = sqlite3.connect(location(notes))
    with conn:
        conn.execute(STATS_DAMAGE[damage])
    conn.close()
    if write:
        (notes / "new.md").write_text("---\ntitle: New\ntags: [zz]\n---\n", "utf-8")
        before = {**before, "notes": before["notes"] + 1, "unread": before["unread"] + 1}
        before["by_status"]["no status"] += 1
        before = {**before, "tags": before["tags"] + 1, "without_year": before["without_year"] + 1}
        before["without_topic"] += 1
    after = run(notes, "stats", "--format", "json")
    assert after.stderr.startswith("the search index was damaged"), after.stderr
    assert json.loads(after.stdout) == before
    again = run(notes, "stats", "--format", "json")
    assert again.stderr == "" and json.loads(again.stdout) == before
