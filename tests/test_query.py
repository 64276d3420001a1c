"""The query language: what each query selects, the error for each malformed one, and that
no text at all can make SQLite fail (user text only travels as parameters and FTS5 strings)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import examples
from papernotes.disk.store import open_store
from papernotes.engine.kb import KnowledgeBase, open_kb
from papernotes.engine.query import Text, fts, fts_string, parse, quote, variants
from papernotes.engine.search import ids_matching, search
from papernotes.errors import UsageError

NOTES = {
    "dpo": """---
title: "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
aliases: [DPO]
authors: [Rafael Rafailov, Archit Sharma]
year: 2023
published: 2023-05-29
read: 2024-02-08
arxiv: 2305.18290
doi: 10.48550/arXiv.2305.18290
venue: NeurIPS 2023
topics: [alignment, preference optimization]
tags: [rlhf, llm/alignment]
status: read
rating: 5
---
DPO replaces the reward model and PPO with a classification loss on preference pairs.
""",
    "kto": """---
title: "KTO: Model Alignment as Prospect Theoretic Optimization"
aliases: [KTO]
authors: [Kawin Ethayarajh]
year: 2024
read: 2024-03
topics: [alignment]
tags: [preference-optimization]
status: to-read
rating: 3
---
Binary desirable or undesirable feedback instead of preference pairs; cites DPO.
""",
    "survey": """---
title: A Survey of Reinforcement Learning from Human Feedback
authors: [Timo Kaufmann]
published: 2023-12-22
tags: [rlhf, survey]
status: skimmed
---
Reward models, policies and preference data, surveyed.
""",
    "attention": """---
title: Attention Is All You Need
authors: [Ashish Vaswani, Noam Shazeer]
year: 2017
org: Google
tags: [transformer]
---
The Transformer: attention only, no recurrence. Élan résumé.
""",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("query") / "notes"
    root.mkdir()
    for name, text in NOTES.items():
        (root / f"{name}.md").write_text(text, encoding="utf-8")
    os.environ["PAPERNOTES_INDEX"] = ":memory:"
    try:
        return open_kb(open_store(root))
    finally:
        del os.environ["PAPERNOTES_INDEX"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("preference", ["dpo", "kto", "survey"]),
        ("preference pairs", ["dpo", "kto"]),
        ("preference AND pairs", ["dpo", "kto"]),
        ('"preference pairs"', ["dpo", "kto"]),
        ('"pairs preference"', []),
        ("preference -survey", ["dpo", "kto"]),
        ("preference NOT survey", ["dpo", "kto"]),
        ("-preference", ["attention"]),
        ('-"reward model"', ["attention", "kto", "survey"]),
        ("rew*", ["dpo", "survey"]),
        ("transformer OR kto", ["attention", "kto"]),
        ("(transformer OR kto) alignment", ["kto"]),
        ("-(transformer OR kto)", ["dpo", "survey"]),
        ("models", ["dpo", "kto", "survey"]),  # plural forms match too: "Model" in titles
        ("policy", ["survey"]),
        ("elan resume", ["attention"]),  # accents ignored
        ("ÉLAN", ["attention"]),
        ("gpt-4 & x", []),
        ("title:optimization", ["dpo", "kto"]),
        ('title:"reward model"', ["dpo"]),
        ("title:(survey OR attention)", ["attention", "survey"]),
        ("author:rafailov", ["dpo"]),
        ("author:rafail*", ["dpo"]),
        ('authors:"kawin ethayarajh"', ["kto"]),
        ("topic:alignment", ["dpo", "kto"]),
        ('topic:"preference optimization"', ["dpo"]),
        ("alias:dpo", ["dpo"]),
        ("venue:neurips", ["dpo"]),
        ("org:google", ["attention"]),
        ("abstract:anything", []),
        ("body:recurrence", ["attention"]),
        ("tag:rlhf", ["dpo", "survey"]),
        ("tag:RLHF", ["dpo", "survey"]),
        ("tag:#rlhf", ["dpo", "survey"]),
        ("tag:llm", ["dpo"]),  # a nested tag
        ("tag:llm/alignment", ["dpo"]),
        ("tag:pref*", ["kto"]),
        ("tag:preference", []),
        ("-tag:rlhf", ["attention", "kto"]),
        ("status:read", ["dpo"]),
        ("status:todo", ["kto"]),
        ('status:"to read"', ["kto"]),
        ("arxiv:2305.18290", ["dpo"]),
        ("arxiv:arXiv:2305.18290v2", ["dpo"]),
        ("arxiv:https://arxiv.org/abs/2305.18290", ["dpo"]),
        ("arxiv:2305*", ["dpo"]),
        ("doi:10.48550/ARXIV.2305.18290", ["dpo"]),
        ("id:KTO", ["kto"]),
        ("id:att*", ["attention"]),
        ("year:2023", ["dpo", "survey"]),  # survey: the year of published
        ("year:2020..2023", ["dpo", "survey"]),
        ("year:2024..", ["kto"]),
        ("year:..2017", ["attention"]),
        ("year:>=2023", ["dpo", "kto", "survey"]),
        ("year:>2023", ["kto"]),
        ("year:<2023", ["attention"]),
        ("year:<=2023", ["attention", "dpo", "survey"]),
        ("year:=2024", ["kto"]),
        ("rating:>=4", ["dpo"]),
        ("rating:1..3", ["kto"]),
        ("read:2024-02", ["dpo"]),
        ("read:2024", ["dpo", "kto"]),
        ("read:>=2024-01-15", ["dpo", "kto"]),
        ("read:>2024-02", ["kto"]),
        ("read:<=2024-02", ["dpo"]),
        ("read:<2024-02-08", []),
        ("read:2024-02-08", ["dpo"]),
        ("read:2024-01..2024-02", ["dpo"]),
        ("published:2023-05", ["dpo"]),
        ("added:2024", []),
        ("alignment year:2024 -tag:rlhf", ["kto"]),
        ("dpo OR year:2017", ["attention", "dpo", "kto"]),
        ("preference (tag:survey OR rating:3)", ["kto", "survey"]),
        ("https://arxiv.org/abs/2305.18290", ["dpo"]),  # an exact key, as in search
        ("2305.18290", ["dpo"]),
        ("10.48550/arXiv.2305.18290", ["dpo"]),
        ("2305.18290 -rlhf", []),
    ],
)
def test_what_a_query_selects(kb: KnowledgeBase, query: str, expected: list[str]) -> None:
    assert ids_matching(kb, query) == expected


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ('dpo "reward model', 'this " is never closed', 4),
        ("(dpo OR kto", "this ( is never closed", 0),
        ("dpo)", "this ) has no matching (", 3),
        ("()", "empty parentheses", 0),
        ("OR dpo", "OR needs a term on both sides", 0),
        ("dpo OR", "OR needs a term on both sides", 4),
        ("dpo OR OR kto", "OR needs a term on both sides", 4),
        ("AND dpo", "AND needs a term on both sides", 0),
        ("dpo NOT", "NOT needs a term after it", 4),
        ("dpo -(", "this ( is never closed", 5),
        ("*rew", "* is only allowed at the end of a word", 0),
        ("re*w", "* is only allowed at the end of a word", 2),
        ("-*", "a prefix needs letters before the *, as in rew*", 1),
        ("title:", "title: needs a value", 0),
        ("year:(2020 OR 2021)", "year: takes one value, not a group", 5),
        ("autor:rafailov", "unknown field autor: (did you mean author:?)", 0),
        ("year:20", "year: not a year: '20' (expected like 2023, 2020..2023, >=2021)", 5),
        (
            "year:2023..2020",
            "year: the range '2023..2020' is empty (its start is after its end)",
            5,
        ),
        ("year:..", "year: a range needs a start or an end, as in year:2020..2023", 5),
        ("rating:9", "rating: not a rating: '9' (expected 1 to 5, 3..5, >=4)", 7),
        ("read:2024-13", "read: not a date: '2024-13' (there is no month 13)", 5),
        ("read:2024-02-30", "read: not a date: '2024-02-30' (there is no such day)", 5),
        (
            "read:yesterday",
            "read: not a date: 'yesterday' (expected 2024, 2024-02 or 2024-02-15)",
            5,
        ),
        ("status:done-ish", "status: unknown status 'done-ish'", 7),
        ("arxiv:12345", "arxiv: not an arXiv id or URL: '12345' (expected like 2305.18290)", 6),
        ("doi:xyz", "doi: not a DOI: 'xyz' (expected like 10.1145/3292500.3330701)", 4),
    ],
)
def test_a_malformed_query_points_at_the_problem(query: str, message: str, column: int) -> None:
    with pytest.raises(UsageError) as caught:
        parse(query)
    first, shown, caret = caught.value.message.split("\n")
    assert first.startswith(f"bad query: {message}")
    assert shown == f"  {query}"
    assert caret == "  " + " " * column + "^"


@pytest.mark.parametrize("query", ["", "   ", "&", "- -- ---", "( & )"])
def test_an_empty_query_is_refused(query: str) -> None:
    with pytest.raises(UsageError, match=r"^empty query"):
        parse(query)


def test_unknown_field_message_lists_fields_and_how_to_search_the_text() -> None:
    with pytest.raises(UsageError) as caught:
        parse("llama:7b")
    assert caught.value.message.split("\n")[0] == (
        "bad query: unknown field llama:; fields are title, author, topic, tag, alias, venue, "
        "org, abstract, body, status, arxiv, doi, id, year, rating, read, published, added; "
        'to search for the text itself, quote it: "llama:7b"'
    )


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("model", ["model", "models"]),
        ("Models", ["models", "model"]),
        ("policies", ["policies", "policy"]),
        ("policy", ["policy", "policies"]),
        ("matches", ["matches", "match"]),
        ("class", ["class", "classes"]),
        ("bias", ["bias", "bia", "biases"]),
        ("ideas", ["ideas", "idea", "ideases"]),
        ("dpo", ["dpo"]),
        ("gpt4", ["gpt4"]),
    ],
)
def test_plural_and_singular_forms(word: str, forms: list[str]) -> None:
    assert variants(word) == forms


def test_fts_strings_are_quoted() -> None:
    assert fts_string('a "b" c') == '"a ""b"" c"'
    assert fts(Text('x" OR "y', "phrase", "title")) == '{title} : "x"" OR ""y"'
    assert fts(Text("rew", "prefix")) == '"rew"*'
    assert fts(Text("model", "word", forms=("model", "models"))) == '("model" OR "models")'
    odd = quote('odd "tag')
    assert odd == '"odd tag"'
    assert parse(f"tag:{odd}").root == parse('tag:"odd tag"').root


def test_a_typo_correction_rewrites_the_query_text() -> None:
    query = parse('mixtrl -survey title:"reward model" preferance')
    leaves = query.texts()
    fixed = query.replace(leaves[-1], Text("preference", "word"))
    fixed = fixed.replace(leaves[0], Text("mixtral", "word"))
    assert fixed.text == 'mixtral -survey title:"reward model" preference'


HOSTILE = [
    "'; DROP TABLE papers; --",
    '" OR 1=1 --',
    "NEAR(a b, 3)",
    "{title}: x",
    "title : x",
    "^start",
    'a" NOT "b',
    "col:*",
    "x' OR '1'='1",
    "\x00\x1b[31m",
    "a\u202eb",
    ") OR (",
    "year:2023'",
    "tag:a'b",
    'id:"; DELETE FROM keys; --"',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_sql_and_fts_syntax_in_a_query_is_only_text(kb: KnowledgeBase, text: str) -> None:
    try:
        result = search(kb, text)
    except UsageError:
        return
    assert result.total >= 0
    assert len(kb) == 4


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.sampled_from(
            [*"ab -\"()*:'^{}.,;\\\x00é", "OR", "AND", "NOT", "title:", "year:", "tag:", "read:"]
        ),
        max_size=12,
    ).map("".join)
)
@example("NOT(:)")  # found by hypothesis: reached SQLite as "NOT (())"
@example("-(:) a")
@example("(:) OR (:)")
@example('"" OR ""')
def test_no_query_makes_sqlite_fail(kb: KnowledgeBase, text: str) -> None:
    """Any text either searches or is refused by the parser; nothing reaches SQLite as a
    syntax error (which would be reported as "please report this")."""
    try:
        search(kb, text, explain=True)
        ids_matching(kb, text)
    except UsageError as exc:
        assert "please report" not in exc.message


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("NOT " * 50 + "a", "nested too deeply: more than 20 levels of ( ) and NOT"),
        ("-(" * 15 + "a" + ")" * 15, "nested too deeply: more than 20 levels of ( ) and NOT"),
        ("(" * 1500 + "a" + ")" * 1500, "nested too deeply: more than 20 levels of ( ) and NOT"),
        (" OR ".join(["w"] * 3000), "too long: more than 100 words and operators"),
        (" ".join(["word"] * 10_000), "too long: more than 100 words and operators"),
    ],
    ids=["50-nots", "15-negated-groups", "1500-parentheses", "3000-ors", "10000-words"],
)
def test_a_query_too_deep_or_too_long_is_a_bad_query(
    kb: KnowledgeBase, query: str, message: str
) -> None:
    """Bounded in the parser: no RecursionError, no SQLite "parser stack overflow", no
    quadratic time; and the message shows a window of the query, not all of it."""
    with pytest.raises(UsageError) as caught:
        search(kb, query)
    first, shown, caret = caught.value.message.split("\n")
    assert first == f"bad query: {message}"
    assert len(shown) <= 80 and caret.endswith("^")


@pytest.mark.parametrize(
    "query", ["(" * 20 + "a" + ")" * 20, "NOT " * 19 + "a", " ".join(["w"] * 100)]
)
def test_a_query_at_the_bounds_still_runs(kb: KnowledgeBase, query: str) -> None:
    assert search(kb, query).total is not None
