"""Snippets: the best-matching passage of a hit, with the matched words marked."""

from __future__ import annotations

import pytest

from papernotes.engine.query import Text, parse
from papernotes.engine.snippets import WINDOW, Matcher, snippet
from papernotes.note.model import Paper

WORDS = " ".join(f"w{i}" for i in range(60))


def marked(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    out, pos = [], 0
    for start, end in spans:
        out += [text[pos:start], "[", text[start:end], "]"]
        pos = end
    return "".join([*out, text[pos:]])


@pytest.mark.parametrize(
    ("body", "leaves", "expected"),
    [
        (
            "## Abstract\n\nReward models rank answers.",
            [Text("reward", "word")],
            "[Reward] models rank answers.",
        ),
        ("Élan vital, élan.", [Text("elan", "word")], "[Élan] vital, [élan]."),
        (
            "The reward model and reward modeling.",
            [Text("reward", "word"), Text("model", "word", forms=("model", "model*"))],
            "The [reward] [model] and [reward] [modeling].",
        ),
        (
            "a reward model, a model reward",
            [Text("reward model", "phrase")],
            "a [reward] [model], a model reward",
        ),
        ("rewrite rewards", [Text("rew", "prefix")], "[rewrite] [rewards]"),
        ("nothing here", [Text("title only", "phrase", "title")], "nothing here"),
    ],
)
def test_matched_words_are_marked(body: str, leaves: list[Text], expected: str) -> None:
    text, spans = snippet(Paper(id="x", title="X", body=body), Matcher.of(leaves))
    assert marked(text, spans) == expected


def test_the_window_with_most_matches_is_chosen_with_some_context() -> None:
    body = f"{WORDS} target w61 target w62 target {WORDS}"
    text, spans = snippet(Paper(id="x", title="X", body=body), Matcher.of(parse("target").texts()))
    assert text.startswith("…w57 w58 w59 target w61 target")
    assert text.endswith("…") and len(text.strip("…").split()) == WINDOW
    assert len(spans) == 3


def test_the_abstract_is_preferred_when_it_matches_as_well() -> None:
    paper = Paper(id="x", title="X", abstract="An abstract on tokens.", body="Tokens, tokens.")
    assert snippet(paper, Matcher.of([Text("abstract", "word")]))[0] == "An abstract on tokens."
    assert snippet(paper, Matcher.of([Text("tokens", "word")]))[0] == "Tokens, tokens."


def test_without_a_match_the_start_is_shown() -> None:
    text, spans = snippet(Paper(id="x", title="X", body=WORDS), Matcher.of([]))
    assert text == " ".join(WORDS.split()[:WINDOW]) + "…" and spans == ()
    assert snippet(Paper(id="x", title="X"), Matcher.of([])) == ("", ())


SHIPPED = """
## Abstract

We introduce Mixtral, a sparse mixture of experts.

## Notes

Routing picks two experts per token.

## Source

- 001_8dbaf122da3361e9.txt: BasicLLM › More Readings
"""


def test_the_source_list_and_a_second_abstract_are_not_snippets() -> None:
    """Issue 14: seed file names showed up in snippets as if they were note text."""
    abstract = "We introduce Mixtral, a sparse mixture of experts."
    paper = Paper(id="x", title="X", abstract=abstract, body=SHIPPED)
    assert snippet(paper, Matcher.of([Text("basicllm", "word")])) == (abstract, ())
    text, spans = snippet(paper, Matcher.of([Text("experts", "word")]))
    assert text == abstract and len(spans) == 1
    assert (
        snippet(paper, Matcher.of([Text("routing", "word")]))[0]
        == "Routing picks two experts per token."
    )
