"""The YAML fast path gives exactly PyYAML's answer whenever it gives one."""

from __future__ import annotations

import gzip
import json
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from papernotes.note import simpleyaml
from papernotes.note.dump import dump
from papernotes.note.frontmatter import split
from papernotes.note.model import Paper
from tests.conftest import SHARED_DATA, SHIPPED_NOTES


def pyyaml(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def typed(value: Any) -> Any:
    """``value`` with the type of every part spelled out (True == 1 == 1.0 in Python)."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, value)


def same_as_pyyaml(text: str) -> bool:
    """True when the fast path answered (and agrees with PyYAML); False when it declined."""
    fast = simpleyaml.load(text)
    if fast is None:
        return False
    assert typed(fast) == typed(pyyaml(text) or {}), text
    return True


@pytest.mark.parametrize(
    ("text", "answered"),
    [
        ("title: Direct Preference Optimization\nyear: 2023\n", True),
        ("authors:\n- A B\n- C D\ntags:\n  - x\n  - y\n", True),
        ("title: 'It''s quoted: really'\nx: \"double: quoted\"\n", True),
        ("url: https://arxiv.org/abs/2305.18290\nrating: -0\nn: +7\n", True),
        ("empty:\nnext: 1\n", True),
        ("title: a, b {c} [d] e?\n", True),
        ("title: café – 東京 🙂\n", True),
        ("title: A long title that PyYAML\n  wrapped over\n  three lines\nyear: 2024\n", True),
        ("title: 'Quoted: and long,\n  wrapped'\n", True),
        ("title: 1.4 Million Notes\nx: -foo\ny: .hidden\nz: +x\nw: ---\n", True),
        ("title: a\n\n  b\n", False),  # a newline in the value
        ("title: 'a'\n  b\n", False),
        ("title: a\n  - b\n", False),
        ("x: 1.5\n", False),
        ("x: 0x1F\n", False),
        ("x: .inf\n", False),
        ("x: 2001-12-14 21:59:43.10 -5\n", False),
        ("x: 12:30\n", False),  # sexagesimal
        ("published: 2023-05-29\n", False),  # a date
        ("arxiv: 2305.18290\n", False),  # a float
        ("year: 0123\n", False),  # octal in YAML 1.1
        ("year: 1_000\n", False),
        ("status: yes\n", False),  # a boolean
        ("x: ~\n", False),
        ("yes: 1\n", False),  # a boolean key
        ("title: a: b\n", False),  # an error for PyYAML
        ("title: x # comment\n", False),
        ("tags: [a, b]\n", False),
        ("abstract: >\n  folded\n", False),
        ("a:\n  b: c\n", False),
        ("title: !!str 1\n", False),
        ("title: &a x\nother: *a\n", False),
        ('title: "esc\\n"\n', False),
        ("title: a\n  continued\n", True),
        ("authors:\n- a\n  - b\n", False),  # uneven items
        ("- a\n- b\n", False),  # not a mapping
        ("title:\ttab\n", False),
        ("title: nbsp\u00a0here\n", False),
        ("title: line\u2028separator\n", False),
        ("title:  \n plain words\n", False),  # spaces after the colon, the value below
        ("x: " + "9" * 4300 + "\n", True),
        ("x: " + "9" * 4301 + "\n", False),  # too long for int(): PyYAML keeps it as text
    ],
)
def test_cases(text: str, answered: bool) -> None:
    assert same_as_pyyaml(text) is answered


_KEYS = st.sampled_from(
    ["title", "id", "authors", "tags", "year", "Title", "x_y", "a-b", "on", "null", "k", "_"]
)
_SCALARS = st.one_of(
    st.sampled_from(
        [
            "plain words",
            "2023",
            "-1",
            "+0",
            "0",
            "007",
            "1.5",
            "1e3",
            ".inf",
            "2024-01-02",
            "12:30",
            "yes",
            "No",
            "off",
            "~",
            "null",
            "<<",
            "=",
            "a: b",
            "a:",
            "a:b",
            "-x",
            "- x",
            "?x",
            "x?",
            "'q'",
            "'it''s'",
            "'bad'q'",
            '"dq"',
            '"a\\"b"',
            '""',
            "''",
            "[a]",
            "{a: 1}",
            "&x",
            "*x",
            "!x",
            "|",
            ">",
            "%x",
            "@x",
            "`x",
            "x #c",
            "x#c",
            "x  ",
            "  x",
            "é",
            "a, b",
            "https://x.org/a?b=c",
            "C++",
            "e.g.",
            "x\u00a0y",
        ]
    ),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"), max_size=12),
)


_WORDISH = st.one_of(
    st.text(st.sampled_from("aZé1 .,-+:'\"?!()/&_"), min_size=1, max_size=10),
    st.sampled_from(["'quoted'", "'it''s: here'", '"double"', "1.4 Million", "2024"]),
)


@st.composite
def front_matter(draw: st.DrawFn, scalars: st.SearchStrategy[str] = _SCALARS) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(_KEYS)
        if draw(st.booleans()):
            lines.append(f"{key}: {draw(scalars)}")
            for _ in range(draw(st.integers(0, 2))):  # the value goes on (or does not)
                if draw(st.booleans()):
                    lines.append("")
                indent = " " * draw(st.sampled_from([0, 1, 2, 4]))
                lines.append(f"{indent}{draw(scalars)}")
        else:
            lines.append(f"{key}:")
            indent = " " * draw(st.sampled_from([0, 2, 4]))
            for _ in range(draw(st.integers(0, 4))):
                lines.append(f"{indent}- {draw(scalars)}")
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(2000), deadline=None)
@given(st.one_of(front_matter(), front_matter(_WORDISH)))
def test_generated_front_matter(text: str) -> None:
    try:
        pyyaml(text)
    except yaml.YAMLError:
        assert simpleyaml.load(text) is None, text
        return
    same_as_pyyaml(text)


def test_the_shipped_notes_take_the_fast_path() -> None:
    answered = [
        same_as_pyyaml(split(path.read_text(encoding="utf-8")).meta_text)
        for path in sorted(SHIPPED_NOTES.glob("*.md"))
    ]
    assert answered and all(answered)


def test_notes_written_for_arxiv_listings() -> None:
    source = SHARED_DATA / "arxiv" / "arxiv-75k.jsonl.gz"
    if not source.exists():
        pytest.skip(f"{source} is absent")
    answered = []
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        for line in islice(lines, 3000):
            row = json.loads(line)
            paper = Paper(
                id="x",
                title=" ".join(row["title"].split()),
                authors=tuple(row["authors"]),
                year=int(row["listing_date"][:4]),
                published=row["listing_date"],
                arxiv=row["id"],
                url=row["abs"],
                tags=tuple(row["categories"]),
                path="x.md",
            )
            answered.append(same_as_pyyaml(split(dump(paper)).meta_text))
    assert sum(answered) > len(answered) * 0.6  # most of them: the point of a fast path


def test_no_pyyaml_for_simple_front_matter(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from papernotes.note.parse import parse_text;"
        "r = parse_text('---\\ntitle: T\\nauthors:\\n- A\\n---\\nbody\\n', 'x.md');"
        "print(r.paper.title, r.paper.authors, 'yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["T", "('A',)", "False"]
