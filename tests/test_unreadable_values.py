"""Front-matter values YAML reads but cannot build (issue 12): a date that does not exist, a
time past midnight, an integer too long to print, an explicit ``!!int`` on a word. Each used
to be a traceback in every command, ``check`` included. Now the note is read: a known field
that needs the value (``read``, ``year``) reports ``path:line: warning`` and keeps the value
as text among the extra keys, as ``year: twenty`` does (issue 14: one bad value does not hide
the note); anywhere else the text is kept, with a warning at its line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kbfactory import NOTES, make_kb, run
from papernotes.note import simpleyaml
from papernotes.note.frontmatter import load, split
from papernotes.note.parse import parse_bytes

GOOD_IDS = sorted(NOTES)
DIGITS = "1" + "0" * 5000  # 5,001 digits: more than Python turns into an int (4,300)
SHOWN_DIGITS = "'" + DIGITS[:40] + "…' (5,001 characters)"
SEXAGESIMAL = "1" + ":30" * 100_000  # YAML 1.1 base 60: 4 s to build, quadratic, unprintable

# front-matter line(s) after "title: T", the diagnostics of the note (line 3 is the first),
# with "error" where a strict parse has it and a lenient one a warning
ERRORS = [
    ("read: 2024-02-30", "3: error: read: not a date: '2024-02-30' (there is no such day)"),
    (
        "published: 2023-13-01",
        "3: error: published: not a date: '2023-13-01' (there is no month 13)",
    ),
    ("added: 0000-01-01", "3: error: added: not a date: '0000-01-01' (there is no year 0)"),
    ("read: 2024-13", "3: error: read: not a date: '2024-13' (there is no month 13)"),
    (f"year: {DIGITS}", f"3: error: year: not a year: {SHOWN_DIGITS} (expected a number like 2023)"),  # noqa: E501
    ("year: .inf", "3: error: year: not a year: 'inf' (expected a number like 2023)"),
    ("year: -.inf", "3: error: year: not a year: '-inf' (expected a number like 2023)"),
    ("year: .nan", "3: error: year: not a year: 'nan' (expected a number like 2023)"),
    ("year: 2023.0", "3: error: year: not a year: '2023.0' (expected a number like 2023)"),
    ("rating: .nan", "3: error: rating: not a rating: 'nan' (expected 1 to 5)"),
    (f"rating: {DIGITS}", f"3: error: rating: not a rating: {SHOWN_DIGITS} (expected 1 to 5)"),
]  # fmt: skip

NO_SUCH_DAY = "warning: '2024-02-30' is not a date (there is no such day); taken as text"
WARNINGS = [
    (
        "read: 2024-01-01 25:00:00",
        "3: warning: '2024-01-01 25:00:00' is not a date and time (there is no hour 25); "
        "taken as text",
    ),
    (
        "read: 2024-01-01 10:61:00",
        "3: warning: '2024-01-01 10:61:00' is not a date and time (there is no minute 61); "
        "taken as text",
    ),
    (
        "read: 2024-01-01 10:00:00 +99:00",
        "3: warning: '2024-01-01 10:00:00 +99:00' is not a date and time (there is no time "
        "zone +99:00); taken as text",
    ),
    ("seen: 2024-02-30", f"3: {NO_SUCH_DAY}"),
    ("tags: [2024-02-30]", f"3: {NO_SUCH_DAY}"),
    ("2024-02-30: key", f"3: {NO_SUCH_DAY}"),
    (
        f"big: {DIGITS}",
        f"3: warning: {SHOWN_DIGITS} is not an integer (more than 4,300 digits); taken as text",
    ),
    (
        "big: 0x" + "f" * 4000,
        "3: warning: '0x" + "f" * 38 + "…' (4,002 characters) is not an integer (more than "
        "4,300 digits); taken as text",
    ),
    (
        f"big: {SEXAGESIMAL}",
        "3: warning: '" + SEXAGESIMAL[:40] + "…' (300,001 characters) is not an integer (more "
        "than 4,300 digits); taken as text",
    ),
    ("x: !!int abc", "3: warning: 'abc' is not an integer; taken as text"),
    ("x: !!int", "3: warning: '' is not an integer; taken as text"),
    ("x: !!float abc", "3: warning: 'abc' is not a number; taken as text"),
    ("x: !!bool maybe", "3: warning: 'maybe' is not a boolean; taken as text"),
    ("x: !!timestamp soon", "3: warning: 'soon' is not a date; taken as text"),
    ("x:\n  - a\n  - 2024-02-30", f"5: {NO_SUCH_DAY}"),
]  # fmt: skip


def note(front: str) -> bytes:
    return f"---\ntitle: T\n{front}\n---\nBody.\n".encode()


def diagnostics(front: str) -> list[str]:
    result = parse_bytes(note(front), "n.md")
    return [str(d).removeprefix("n.md:") for d in result.diagnostics]


@pytest.mark.parametrize(("front", "expected"), ERRORS, ids=[f[:30] for f, _ in ERRORS])
def test_a_value_a_field_cannot_use_is_a_warning_and_kept(front: str, expected: str) -> None:
    result = parse_bytes(note(front), "n.md", strict=False)
    assert result.paper is not None
    warning = expected.replace(": error: ", ": warning: ", 1)
    assert [str(d).removeprefix("n.md:") for d in result.diagnostics] == [warning]
    key = front.split(":")[0]
    assert getattr(result.paper, key) is None and key in result.paper.extra
    json.dumps(result.paper.to_dict())  # what the index stores


@pytest.mark.parametrize(("front", "expected"), ERRORS, ids=[f[:30] for f, _ in ERRORS])
def test_strict_a_value_a_field_cannot_use_is_an_error(front: str, expected: str) -> None:
    result = parse_bytes(note(front), "n.md")  # strict: as editors check a value
    assert result.paper is None
    assert [str(d).removeprefix("n.md:") for d in result.diagnostics] == [expected]


@pytest.mark.parametrize(("front", "expected"), WARNINGS, ids=[f[:30] for f, _ in WARNINGS])
def test_a_value_yaml_cannot_build_is_kept_as_text(front: str, expected: str) -> None:
    started = time.monotonic()
    result = parse_bytes(note(front), "n.md")
    assert time.monotonic() - started < 5  # the base-60 integer took 4 s, 5 MB of it hours
    assert result.paper is not None
    assert [str(d).removeprefix("n.md:") for d in result.diagnostics] == [expected]
    json.dumps(result.paper.to_dict())  # what the index stores (a huge int could not be)


def test_the_text_is_kept_where_it_was_written() -> None:
    paper = parse_bytes(
        note("read: 2024-01-01 25:00:00\nseen: 2024-02-30\ntags: [2024-02-30, x]\nn: !!int abc"),
        "n.md",
    ).paper
    assert paper is not None
    assert paper.read == "2024-01-01"
    assert paper.tags == ("2024-02-30", "x")
    assert dict(paper.extra) == {"seen": "2024-02-30", "n": "abc"}
    assert all(type(v) is str for v in paper.extra.values())


@pytest.mark.parametrize(
    "text",
    [
        f"x: {DIGITS}\n",
        f"x: -{DIGITS}\n",
        "x: " + "9" * 4300 + "\n",  # the longest that still is an int
        "x: " + "9" * 4301 + "\n",
        "x: 2024-02-30\n",
        "x: 12\ny: 2024-13-01\n",
    ],
    ids=["5001-digits", "negative", "4300-digits", "4301-digits", "no-such-day", "mixed"],
)
def test_the_fast_path_and_pyyaml_give_the_same_answer(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = split(f"---\n{text}---\n")
    fast = simpleyaml.load(part.meta_text)  # None: declined, PyYAML answers
    answer = load(part)
    monkeypatch.setattr(simpleyaml, "load", lambda text: None)
    assert load(part) == answer
    assert fast is None or fast == answer
    assert all(type(v) in (int, str) for v in answer.values())


def test_toml_numbers_too_long_to_print() -> None:
    """TOML is strict: its own errors (a date that does not exist) fail the note; an integer
    too long to print does too, with a message instead of a traceback."""
    for value in (DIGITS, "0x" + "f" * 4000):
        result = parse_bytes(f"+++\ntitle = 'T'\nbig = {value}\n+++\n".encode(), "n.md")
        assert [str(d) for d in result.diagnostics] == [
            "n.md:2: error: TOML front matter holds an integer of more than 4,300 digits; "
            "not loaded"
        ]
    result = parse_bytes(b"+++\ntitle = 'T'\nread = 2024-02-30\n+++\n", "n.md")
    assert [str(d) for d in result.diagnostics] == [
        "n.md:3: error: invalid TOML front matter: Invalid date or datetime"
    ]


COMMANDS = [
    ("check",),
    ("list", "--format", "ids"),
    ("search", "dpo", "--format", "ids"),
    ("show", "dpo", "--format", "json"),
    ("stats",),
    ("tags",),
    ("related", "dpo"),
    ("export", "--format", "jsonl"),
    ("index", "--rebuild"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_reads_the_other_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """The issue's two notes: one with date fields that cannot be (read, the values kept as
    text), one with a key of the user's own with such a date."""
    monkeypatch.chdir(tmp_path)
    notes = make_kb(tmp_path)
    (notes / "bad.md").write_text(
        "---\ntitle: Bad Dates\nread: 2024-02-30\npublished: 2023-13-01\n---\n", encoding="utf-8"
    )
    (notes / "odd.md").write_text(
        "---\ntitle: Odd Date\nseen: 2024-02-30\nwhen: 2024-01-01 25:00:00\n---\n",
        encoding="utf-8",
    )
    result = run(notes, *args)  # a traceback fails the test
    if args[0] == "check":
        assert result.exit_code == 0
        lines = [line for line in result.stdout.splitlines() if "notes/bad.md" in line]
        assert lines == [
            "notes/bad.md:3: warning: read: not a date: '2024-02-30' (there is no such day)",
            "notes/bad.md:4: warning: published: not a date: '2023-13-01' (there is no month 13)",
        ]
        assert "notes/odd.md:3: warning: '2024-02-30' is not a date" in result.stdout
        assert result.stdout.endswith("7 notes, 7 ok, 0 with errors, 5 warnings\n")
        return
    assert result.exit_code == 0, result.output
    assert "run papernotes check" not in result.output  # no note skipped
    if args[0] == "list":
        assert result.stdout.split() == sorted([*GOOD_IDS, "bad", "odd"])
    shown = run(notes, "show", "odd", "--format", "json")
    extra = json.loads(shown.stdout)["extra"]
    assert extra == {"seen": "2024-02-30", "when": "2024-01-01 25:00:00"}


@pytest.mark.parametrize(("front", "expected"), ERRORS, ids=[f[:30] for f, _ in ERRORS])
def test_a_template_with_a_value_its_key_cannot_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, front: str, expected: str
) -> None:
    """``read: 2024-02-30`` in template.md was a traceback of ``new`` (and the other values a
    key cannot use were said at a line of the note it would have made, not of the template).
    Each is the template's problem, at its line: exit 2, no note written."""
    notes = make_kb(tmp_path)
    monkeypatch.chdir(tmp_path)
    (notes / "template.md").write_text(
        f"---\ntitle: '{{{{title}}}}'\n# when I read it\n{front}\n---\n", encoding="utf-8"
    )
    line, _, message = expected.partition(": error: ")
    result = run(notes, "new", "Some paper")
    if front.endswith(("inf", "nan")):  # no number at all: left empty, to fill in (as "year:")
        assert (result.exit_code, result.stderr) == (0, "")
        key = front.split(":")[0]
        assert f"\n{key}:\n" in (notes / "some-paper.md").read_text(encoding="utf-8")
        return
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: notes/template.md:{int(line) + 1}: {message}; no note written\n"
    )
    assert not (notes / "some-paper.md").exists()
