"""Properties of the parser on open-ended input: it never raises anything but NoteError, and
``parse(dump(paper)) == paper``."""

from __future__ import annotations

import dataclasses
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples
from papernotes.errors import NoteError
from papernotes.note.dump import dump
from papernotes.note.model import STATUSES, Paper
from papernotes.note.parse import parse_bytes, parse_note

SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Printable text as people type it: letters, digits, punctuation, symbols and spaces.
_chars = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x85")
line = st.text(_chars, min_size=1, max_size=40).map(str.strip).filter(bool)
items = st.lists(line, max_size=4, unique=True)
tags = st.lists(
    line.filter(lambda s: not s.startswith("#")).map(lambda s: s.replace(" ", "-")),
    max_size=4,
    unique=True,
)
iso_date = st.dates().map(lambda d: d.isoformat()).filter(lambda s: s[:4] >= "1000")
arxiv = st.from_regex(r"\A[0-9]{4}\.[0-9]{5}\Z")
body = st.text(
    st.characters(
        categories=("L", "N", "P", "S", "Zs", "Cc"),
        exclude_characters="\r\x85[\x00\x0b\x0c\x1c\x1d\x1e\x1f",
    ),
    max_size=200,
)
extra_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | line,
    lambda children: st.lists(children, max_size=3),
    max_leaves=5,
)


@st.composite
def papers(draw: st.DrawFn) -> Paper:
    stem = draw(st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,20}\Z"))
    explicit_id = draw(st.none() | st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,20}\Z"))
    return Paper(
        id=explicit_id or stem,
        title=draw(line),
        aliases=tuple(draw(items)),
        authors=tuple(
            draw(
                items.map(lambda xs: [x.replace(",", "") for x in xs]).map(
                    lambda xs: [x for x in dict.fromkeys(s.strip() for s in xs) if x]
                )
            )
        ),
        year=draw(st.none() | st.integers(1000, 2999)),
        published=draw(st.none() | iso_date),
        read=draw(st.none() | iso_date | st.from_regex(r"\A(19|20)[0-9][0-9]-(0[1-9]|1[0-2])\Z")),
        arxiv=draw(st.none() | arxiv),
        doi=draw(st.none() | st.from_regex(r"\A10\.[0-9]{4,6}/[a-z0-9.]{1,12}\Z")),
        url=draw(st.none() | st.just("https://example.org/p?id=1")),
        venue=draw(st.none() | line),
        topics=tuple(draw(items)),
        tags=tuple(draw(tags)),
        status=draw(st.none() | st.sampled_from(STATUSES)),
        rating=draw(st.none() | st.integers(1, 5)),
        related=tuple(draw(items)),
        abstract=draw(st.none() | line),
        extra=draw(st.dictionaries(st.from_regex(r"\Ax-[a-z]{1,8}\Z"), extra_values, max_size=3)),
        body=draw(body),
        path=f"notes/{stem}.md",
    )


@SETTINGS
@given(papers())
def test_round_trip(paper: Paper) -> None:
    """The front matter as written reads back exactly; as understood, a read date without a
    status means read (the random bodies hold no inline field or abstract section)."""
    data = dump(paper).encode("utf-8")
    assert parse_bytes(data, paper.path).paper == paper
    understood = paper
    if paper.read and not paper.status:
        understood = dataclasses.replace(paper, status="read")
    if "::" not in paper.body and "bstract" not in paper.body:
        assert parse_note(paper.path, data) == understood


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_note_error(data: bytes) -> None:
    result = parse_bytes(data, "fuzz.md")
    assert (result.paper is None) == bool(result.errors)
    try:
        parse_note("fuzz.md", data)
    except NoteError as exc:
        assert exc.diagnostics and all(d.path == "fuzz.md" and d.line >= 1 for d in exc.diagnostics)


_yamlish = st.text(
    st.sampled_from(list(string.ascii_letters[:6] + ":-[]{}\"'#&*!|>%@` \t\n,.?=+0123456789\\")),
    max_size=120,
)
_keys = st.sampled_from(
    [
        "title",
        "year",
        "arxiv",
        "tags",
        "authors",
        "read",
        "rating",
        "status",
        "related",
        "aliases",
        "doi",
        "id",
        "topics",
        "Title",
        "autors",
        "x",
    ]
)


@SETTINGS
@given(
    st.lists(st.tuples(_keys, _yamlish), max_size=6),
    st.sampled_from(["---", "+++"]),
    st.sampled_from(["---", "...", "+++", ""]),
    _yamlish,
)
def test_near_miss_front_matter_raises_only_note_error(
    pairs: list[tuple[str, str]], opener: str, closer: str, tail: str
) -> None:
    sep = " = " if opener == "+++" else ": "
    meta = "\n".join(f"{k}{sep}{v}" for k, v in pairs)
    text = f"{opener}\n{meta}\n{closer}\n{tail}"
    try:
        paper = parse_note("near.md", text.encode("utf-8"))
    except NoteError:
        return
    assert paper.title
