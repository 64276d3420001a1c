"""One read engine (issue 13): each option of ``list``/``export`` selects what its query-language
field selects, and what it means; a link resolves to the same note in ``show``, in backlinks and
in ``check``; ``list`` and ``export`` sort, page and stream in SQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from kbfactory import make_kb, run
from papernotes.disk.store import open_store
from papernotes.engine import links
from papernotes.engine.kb import KnowledgeBase, open_kb
from papernotes.engine.neighbours import connections
from papernotes.engine.query import quote
from papernotes.engine.selection import Selection, count, papers, rowids
from papernotes.note import normalize

# notes with what options and fields must agree on: nested tags, spellings of a topic that
# differ in case and accents, a year only "published" gives, read dates of a month or a day
NOTES = {
    "a": "title: Alpha\ntopics: [Alignment, value alignment]\ntags: [llm/rlhf, dpo]\n"
    "authors: [Rafael Rafailov, Archit Sharma]\nyear: 2023\nread: 2024-05\nstatus: read",
    "b": "title: Beta\ntopics: [alignment]\ntags: [llm]\nauthors: [Sönke Müller]\n"
    "published: 2023-06-01\nread: 2024-05-20\nstatus: to-read",
    "c": "title: Gamma\ntopics: [Café, fine-tuning]\ntags: [rlhf]\nauthors: [Wang Wei]\n"
    "year: 2021\nread: 2024-04-30\nstatus: skimmed",
    "d": "title: Delta\ntopics: [cafe]\ntags: ['#DPO']\nauthors: [Wangchun Li]\n"
    "published: 2024-02\nstatus: reading",
    "e": "title: Epsilon\nyear: 2019",
}
TOPICS = ["alignment", "Alignment", "value alignment", "café", "cafe", "fine-tuning", "nothing"]
TAGS = ["llm", "llm/rlhf", "rlhf", "dpo", "#dpo", "DPO", "ll"]
AUTHORS = ["rafailov", "Rafael Rafailov", "sonke", "Müller", "wang", "wangchun", "rafail*"]
YEARS = ["2019", "2021", "2023", "2024", "2020..2023", "2023..", "..2021", "2022-2024"]
DATES = ["2024", "2024-05", "2024-05-15", "2024-04-30", "2024-05-20", "2024-06", "2023"]
STATUSES = ["read", "to-read", "skimmed", "reading"]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("selection")
    for name, meta in NOTES.items():
        (root / f"{name}.md").write_text(f"---\n{meta}\n---\nbody\n", encoding="utf-8")
    os.environ["PAPERNOTES_INDEX"] = ":memory:"
    try:
        return open_kb(open_store(root))
    finally:
        del os.environ["PAPERNOTES_INDEX"]


def ids(kb: KnowledgeBase, selection: Selection) -> list[str]:
    return [p.id for p in papers(kb, rowids(kb, selection))]


def term(name: str, value: str) -> str:
    """``name:value`` as a user types it: quoted when it has spaces."""
    return f"{name}:{value}" if " " not in value else f"{name}:{quote(value)}"


OPTIONS = st.one_of(
    st.tuples(st.just("topics"), st.sampled_from(TOPICS)),
    st.tuples(st.just("tags"), st.sampled_from(TAGS)),
    st.tuples(st.just("authors"), st.sampled_from(AUTHORS)),
    st.tuples(st.just("year"), st.sampled_from(YEARS)),
    st.tuples(st.just("read_since"), st.sampled_from(DATES)),
    st.tuples(st.just("read_until"), st.sampled_from(DATES)),
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
)
FIELD = {
    "topics": "topic:",
    "tags": "tag:",
    "authors": "author:",
    "year": "year:",
    "read_since": "read:>=",
    "read_until": "read:<=",
    "status": "status:",
}


def as_query(option: str, value: str) -> str:
    """The query-language term a user would type for ``--option value``."""
    if option in ("read_since", "read_until"):
        return FIELD[option] + value
    if option == "year" and "-" in value:
        value = value.replace("-", "..")
    if option == "authors" and value.endswith("*"):
        return f"author:{value}"
    return term(FIELD[option].rstrip(":"), value)


def expected(kb: KnowledgeBase, option: str, value: str) -> list[str]:
    """What the option means, computed from the papers themselves."""
    fold = normalize.fold
    out = []
    for paper in kb.papers(body=False):
        year = paper.year or (int(paper.published[:4]) if paper.published else None)
        read = paper.read
        if option == "topics":
            ok = any(fold(t) == fold(value) for t in paper.topics)
        elif option == "tags":
            want = fold(value).lstrip("#")
            ok = any(fold(t) == want or fold(t).startswith(want + "/") for t in paper.tags)
        elif option == "authors":
            words = [w.rstrip("*") for w in fold(value).split()]
            names = " ".join(fold(a) for a in paper.authors).replace("-", " ").split()
            if value.endswith("*"):
                ok = any(n.startswith(words[0]) for n in names)
            else:
                ok = all(w in names for w in words)
        elif option == "year":
            span = value.replace("-", "..")
            low, _, high = span.partition("..") if ".." in span else (span, "", span)
            ok = year is not None and (not low or year >= int(low))
            ok = ok and (not high or year <= int(high))
        elif option == "read_since":  # some day of the note's period is on or after
            ok = read is not None and read + "~" >= value
        elif option == "read_until":  # some day of it is on or before the period's end
            ok = read is not None and read <= value + "~"
        else:
            ok = paper.status == value
        if ok:
            out.append(paper.id)
    return out


@settings(max_examples=examples(60), deadline=None)
@given(chosen=st.lists(OPTIONS, min_size=1, max_size=3))
def test_each_option_selects_what_its_field_selects(
    kb: KnowledgeBase, chosen: list[tuple[str, str]]
) -> None:
    by_option: dict[str, object] = {}
    for option, value in chosen:
        if option in ("topics", "tags", "authors"):
            by_option[option] = (*by_option.get(option, ()), value)  # type: ignore[misc]
        else:
            by_option[option] = value
    selection = Selection(**by_option)  # type: ignore[arg-type]
    as_options = ids(kb, selection)
    as_fields = ids(kb, Selection(query=" ".join(as_query(o, v) for o, v in chosen)))
    assert as_options == as_fields
    meant = set.intersection(*(set(expected(kb, o, v)) for o, v in chosen))
    assert set(as_options) == meant
    assert count(kb, selection) == len(as_options)


@pytest.mark.parametrize(
    ("args", "query"),
    [
        (("--year", "2023"), "year:2023"),  # b has no year: its published date gives one
        (("--topic", "cafe"), "topic:Café"),
        (("--tag", "llm"), "tag:llm"),
        (("--author", "wang"), "author:wang"),
        (("--read-since", "2024-05-15"), "read:>=2024-05-15"),  # a: read 2024-05
        (("--status", "read", "--year", "2020..2023"), "status:read year:2020..2023"),
    ],
)
def test_list_options_and_fields_agree_through_the_cli(
    tmp_path: Path, args: tuple[str, ...], query: str
) -> None:
    notes = make_kb(tmp_path, {k: f"---\n{v}\n---\nbody\n" for k, v in NOTES.items()})
    by_options = run(notes, "list", "--format", "ids", *args)
    by_field = run(notes, "list", "--format", "ids", query)
    assert by_options.exit_code == by_field.exit_code == 0
    assert by_options.stdout == by_field.stdout != ""


def test_published_year_counts_for_year_everywhere(tmp_path: Path) -> None:
    notes = make_kb(tmp_path, {k: f"---\n{v}\n---\nbody\n" for k, v in NOTES.items()})
    for args in (("--year", "2023"), ("year:2023",)):
        assert run(notes, "list", "--format", "ids", *args).stdout == "a\nb\n"
    assert run(notes, "export", "--year", "2023", "--format", "jsonl").stdout.count("\n") == 2
    stats = json.loads(run(notes, "stats", "--format", "json").stdout)
    assert stats["by_year"] == {"2019": 1, "2021": 1, "2023": 2, "2024": 1}


def test_sorted_and_paged_in_sql(kb: KnowledgeBase) -> None:
    assert ids(kb, Selection()) == ["a", "b", "d", "e", "c"]  # by title: Alpha ... Gamma
    by_year = [p.id for p in papers(kb, rowids(kb, sort="year", reverse=True))]
    assert by_year == ["d", "a", "b", "c", "e"]  # 2024, 2023 (Alpha, Beta), 2021, 2019
    assert [p.id for p in papers(kb, rowids(kb, sort="read"))] == ["c", "a", "b", "d", "e"]
    page = [p.id for p in papers(kb, rowids(kb, sort="title", limit=2, offset=1))]
    assert page == ["b", "d"]


# -- links: one resolution, in show, in backlinks and in check ----------------------------------

LINKED = {
    "cafe-paper": "---\ntitle: A Paper on Coffee\naliases: [Café]\n---\n",
    "source": "---\ntitle: Source\nrelated: [cafe-paper, nowhere]\n---\n"
    "[[cafe]] [[CAFÉ]] [[A paper on coffee!]] [[ghost]] [[kto]] [[Notes/Source.md#x|me]]\n",
    "kto": "---\ntitle: KTO\n---\n[[source]]\n",
    "other": "---\ntitle: Other\naliases: [kto]\n---\n[[kto]] [[Other]]\n",
}


def test_links_resolve_alike_in_show_backlinks_and_check(tmp_path: Path) -> None:
    notes = make_kb(tmp_path, LINKED)
    kb = open_kb(open_store(notes))
    checked = json.loads(run(notes, "check", "--format", "json").stdout)
    dangling = {
        (d["path"].rsplit("/", 1)[-1][:-3], d["message"])
        for d in checked["diagnostics"]
        if "no note" in d["message"]
    }
    for paper in kb.papers():
        shown = dict(connections(kb, paper, limit=0).links)
        for target in (*paper.related, *paper.links):
            found = shown.get(target, links.resolve(kb, target))
            resolved = links.resolve(kb, target)
            assert (found.id if found else None) == (resolved.id if resolved else None)
            said = (
                (paper.id, f"related: no note with id {target!r}")
                if target in paper.related
                else (paper.id, f"wikilink [[{target}]] points to no note")
            )
            assert (said in dangling) == (resolved is None), (paper.id, target)
            if resolved is not None and resolved.id != paper.id:
                assert paper.id in [p.id for p in links.backlinks(kb, resolved)], target
    assert dangling == {
        ("source", "related: no note with id 'nowhere'"),
        ("source", "wikilink [[ghost]] points to no note"),
    }
    cafe = kb.get("cafe-paper")
    assert cafe is not None
    assert [p.id for p in links.backlinks(kb, cafe)] == ["source"]  # [[cafe]] finds Café
    other = kb.get("other")
    assert other is not None and links.backlinks(kb, other) == []  # [[kto]] is kto's file


def test_an_extra_key_is_a_field_and_its_words_are_searched(tmp_path: Path) -> None:
    notes = make_kb(
        tmp_path,
        {
            "ref": "---\ntitle: Learning to Think\npaper_ref: Baker, et al., 2011\n---\nbody\n",
            "other": "---\ntitle: Other\nexcerpt: Summary of Baker's work\n---\nbody\n",
        },
    )
    found = run(notes, "search", "baker", "--format", "ids").stdout.split()
    assert sorted(found) == ["other", "ref"]
    assert run(notes, "list", "paper_ref:baker", "--format", "ids").stdout == "ref\n"
    assert run(notes, "list", "paper_ref:bak*", "--format", "ids").stdout == "ref\n"
    assert run(notes, "list", 'paper_ref:"et al"', "--format", "ids").stdout == "ref\n"
    assert run(notes, "list", "paper_ref:smith", "--format", "ids").exit_code == 1
    assert run(notes, "search", "excerpt:baker", "--format", "ids").stdout == "other\n"
    typo = run(notes, "search", "autor:baker")
    assert typo.exit_code == 2 and "unknown field autor: (did you mean author:?)" in typo.stderr
    unknown = run(notes, "search", "gpt-4:x", "--exact", "--format", "ids")
    assert unknown.exit_code == 1  # a word, as before keys were fields: no error
