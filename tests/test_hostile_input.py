"""Hostile and broken input (issue 8): each bad input with the message it gets. Nothing
crashes, hangs or blows up memory; nothing is read or written outside the notes directory; a
note's text never drives the terminal; the editor is never run through a shell."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
import tracemalloc
import tty
from pathlib import Path

import pytest

from kbfactory import NOTES, make_kb, run
from papernotes.note.frontmatter import MAX_CHARS, MAX_DEPTH, MAX_VALUES
from papernotes.note.parse import parse_bytes, parse_file

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks, FIFOs and ptys")

GOOD_IDS = sorted(NOTES)


def alias_bomb(levels: int = 10, fan: int = 9) -> str:
    """Billion laughs: each anchor repeats the previous one ``fan`` times (9**10 values)."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * fan)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]")
    return "---\ntitle: Laughs\n" + "\n".join(lines) + "\n---\nBody.\n"


def string_bomb() -> str:
    """One megabyte of text, repeated by 200 aliases: 200 MB once expanded."""
    big = "x" * 1_000_000
    return f'---\ntitle: Strings\nbig: &s "{big}"\ncopies: [{", ".join(["*s"] * 200)}]\n---\n'


TOO_BIG = (
    f"YAML front matter holds more than {MAX_VALUES} values or {MAX_CHARS // 10**6} million "
    "characters once its aliases are expanded (an alias bomb?); not loaded"
)
TOO_DEEP = f"YAML front matter is nested more than {MAX_DEPTH} levels deep; not loaded"

NESTED_KEYS = "".join(f"{' ' * i}k{i}:\n" for i in range(80))  # k0: / k1: / ... 80 levels

# name, content of the file, the line ``papernotes check`` prints for it
BAD_NOTES = [
    pytest.param("laughs.md", alias_bomb(), f"laughs.md:2: error: {TOO_BIG}", id="alias-bomb"),
    pytest.param("strings.md", string_bomb(), f"strings.md:2: error: {TOO_BIG}", id="string-bomb"),
    pytest.param(
        "loop.md", "---\ntitle: Loop\nme: &me [*me]\n---\n", f"loop.md:2: error: {TOO_DEEP}",
        id="self-referencing-alias",
    ),
    pytest.param(
        "flow.md", "---\ntitle: Deep\nx: " + "[" * 100_000 + "]" * 100_000 + "\n---\n",
        f"flow.md:3: error: {TOO_DEEP}", id="nested-flow-100000",
    ),
    pytest.param(
        "block.md", "---\ntitle: Deep\nx:\n  " + "- " * 50_000 + "x\n---\n",
        f"block.md:4: error: {TOO_DEEP}", id="nested-block-50000",
    ),
    pytest.param(
        "mapping.md", "---\ntitle: Deep\n" + NESTED_KEYS + "---\n",
        f"mapping.md:67: error: {TOO_DEEP}", id="nested-mapping-80",
    ),
    pytest.param(
        "toml.md", "+++\ntitle = 'Deep'\nx = " + "[" * 5000 + "]" * 5000 + "\n+++\n",
        f"toml.md:2: error: TOML front matter is nested more than {MAX_DEPTH} levels deep; "
        "not loaded", id="nested-toml-5000",
    ),
    pytest.param(
        "binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "binary.md:1: error: binary file (contains NUL bytes), not a Markdown note", id="binary",
    ),
    pytest.param(
        "latin1.md", "---\ntitle: Café\n---\n".encode("latin-1"),
        "latin1.md:2: error: not valid UTF-8 (byte 0xe9); save as UTF-8", id="invalid-utf8",
    ),
    pytest.param(
        "tag.md", "---\ntitle: T\nx: !!python/object/apply:os.system ['touch pwned']\n---\n",
        "tag.md:3: error: unsafe or unknown YAML tag refused: could not determine a constructor "
        "for the tag 'tag:yaml.org,2002:python/object/apply:os.system'", id="python-tag",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "expected"), BAD_NOTES)
def test_bad_note_is_reported_and_skipped(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    notes = make_kb(tmp_path)
    path = notes / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)

    checked = run(notes, "check")
    assert checked.exit_code == 1
    errors = [line for line in checked.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].endswith(expected), checked.output
    # every other command goes on with the good notes, and says one was skipped
    listed = run(notes, "list", "--format", "ids")
    assert listed.exit_code == 0
    assert listed.stdout.split() == GOOD_IDS
    assert listed.stderr == "1 note skipped: run papernotes check\n"
    assert not (tmp_path / "pwned").exists()


def test_alias_bomb_takes_bounded_time_and_memory() -> None:
    """9**10 (3.5 billion) values if expanded: refused within a second or so and a few MB."""
    data = alias_bomb().encode()
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = parse_bytes(data, "laughs.md")
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.paper is None
    assert [d.message for d in result.errors] == [TOO_BIG]
    assert elapsed < 20  # about 0.05 s here; generous for a loaded machine
    assert peak < 50 * 2**20


def test_alias_bomb_in_the_template_of_new_notes(tmp_path: Path) -> None:
    """Every reader of front matter is bounded, not only the note parser."""
    notes = make_kb(tmp_path)
    (notes / "template.md").write_text(alias_bomb(), encoding="utf-8")
    result = run(notes, "new", "Some paper")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {notes / 'template.md'}:2: {TOO_BIG}\n"
    assert not (notes / "some-paper.md").exists()


def test_aliases_that_stay_small_still_load() -> None:
    text = (
        "---\ntitle: T\nbase: &b {venue: X, year: 2020}\nother: *b\ntags: &t [a]\nmore: *t\n---\n"
    )
    result = parse_bytes(text.encode(), "ok.md")
    assert result.paper is not None
    assert result.paper.extra["other"] == {"venue": "X", "year": 2020}


def sparse_file(path: Path, size: int, head: bytes = b"---\ntitle: Huge\n---\n") -> Path:
    """A ``size``-byte file that takes no disk space (a hole after ``head``)."""
    path.write_bytes(head)
    os.truncate(path, size)
    return path


def test_a_100_mb_note_is_not_read_whole(tmp_path: Path) -> None:
    path = sparse_file(tmp_path / "huge.md", 100 * 2**20)
    tracemalloc.start()
    try:
        result = parse_file(path, "huge.md")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [str(d) for d in result.errors] == [
        "huge.md:1: error: file is larger than 5 MB; not a note (skipped)"
    ]
    assert peak < 12 * 2**20  # the first 5 MB and a byte, not 100 MB


def test_a_100_mb_note_in_the_notes_directory(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    sparse_file(notes / "huge.md", 100 * 2**20)
    checked = run(notes, "check")
    assert checked.exit_code == 1
    assert "huge.md:1: error: file is larger than 5 MB; not a note (skipped)" in checked.stdout
    listed = run(notes, "list", "--format", "ids")
    assert listed.stdout.split() == GOOD_IDS


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("huge.txt", "huge.txt:1: error: larger than 16 MB; not reading notes"),
        ("huge.bib", "huge.bib:1: error: larger than 64 MB; not read"),
    ],
)
def test_a_100_mb_import_is_refused(tmp_path: Path, name: str, message: str) -> None:
    notes = make_kb(tmp_path)
    source = sparse_file(tmp_path / name, 100 * 2**20, b"Some title\nAuthors: A. B\n")
    result = run(notes, "import", str(source))
    assert result.exit_code == 1
    assert message in result.output.replace(str(source), name)
    assert sorted(p.stem for p in notes.glob("*.md")) == GOOD_IDS


def test_a_fifo_named_md_does_not_hang(tmp_path: Path) -> None:
    """Opening a FIFO waits for a writer forever: only regular files are notes."""
    notes = make_kb(tmp_path)
    os.mkfifo(notes / "pipe.md")
    listed = run(notes, "list", "--format", "ids")
    assert listed.exit_code == 0 and listed.stdout.split() == GOOD_IDS
    checked = run(notes, "check")
    assert checked.exit_code == 0
    assert checked.stdout.endswith("5 notes, 5 ok, 0 with errors, 1 warning\n")


def test_symlinks_are_not_followed_out_of_the_notes_directory(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = "---\ntitle: Secret Outside Note\narxiv: 2101.00001\n---\nprivate words\n"
    (outside / "secret.md").write_text(secret, encoding="utf-8")
    (notes / "out.md").symlink_to(outside / "secret.md")  # a file outside
    (notes / "outdir").symlink_to(outside)  # a directory outside
    (notes / "up").symlink_to(tmp_path)  # the parent: would reach outside/ and notes/ again
    (notes / "loop").symlink_to(notes)  # a directory loop
    (notes / "a.md").symlink_to(notes / "b.md")  # a file loop
    (notes / "b.md").symlink_to(notes / "a.md")
    (notes / "dangling.md").symlink_to(notes / "nowhere.md")

    listed = run(notes, "list", "--format", "ids")
    assert listed.exit_code == 0 and listed.stdout.split() == GOOD_IDS
    assert run(notes, "search", "private").exit_code == 1
    assert run(notes, "show", "2101.00001").exit_code == 1
    checked = run(notes, "check")
    assert checked.stdout.endswith("5 notes, 5 ok, 0 with errors, 1 warning\n")
    # an import of the same paper makes a note inside, and leaves the outside one alone
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{s, title={Secret Outside Note}, eprint={2101.00001}, archiveprefix={arXiv}}\n",
        encoding="utf-8",
    )
    imported = run(notes, "import", str(bib))
    assert imported.exit_code == 0, imported.output
    assert (notes / "secret-outside-note.md").is_file()
    assert (outside / "secret.md").read_text(encoding="utf-8") == secret
    assert sorted(p.name for p in outside.iterdir()) == ["secret.md"]


# -- what the terminal receives --------------------------------------------------------------

EVIL_TITLE = (
    "[bold red]Evil[/] \x1b]8;;http://evil.test/\x1b\\click me\x1b]8;;\x1b\\ "
    "\u202eexe.txt \x1b[2J\x9b31m"
)
EVIL = f"""\
---
title: {json.dumps(EVIL_TITLE)}
authors: ["Mallory \\x1b[8mhidden\\x1b[0m", "[link=http://evil.test/]Eve[/link]"]
tags: ["[blink]t[/blink]"]
topics: ["\\u202eevil"]
venue: "ven\\rue"
---
Body with [bold]markup[/bold], a \x1b]0;new window title\x07 title change, a line that
overwrites itself\rCAUGHT, an \x1b[31mescape\x1b[0m and \u202eright-to-left\u202c text.
evilword
"""

# what a note must never send to a terminal: ESC, CSI in 8 bits, BEL, CR, bidi overrides
FORBIDDEN = re.compile("[\x1b\x9b\x07\r\u202a-\u202e\u2066-\u2069]")
STYLING = re.compile(r"\x1b\[[0-9;]*m")  # the colours and bold papernotes itself prints


def evil_kb(tmp_path: Path) -> Path:
    notes = make_kb(tmp_path)
    (notes / "evil.md").write_text(EVIL, encoding="utf-8", newline="")
    return notes


def on_a_terminal(notes: Path, *args: str) -> str:
    """Run papernotes with its stdout on a pseudo-terminal (colours on, like a user's)."""
    master, slave = pty.openpty()
    tty.setraw(slave)  # no \n -> \r\n translation: every \r seen came from papernotes
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="500", PAGER="cat")
    proc = subprocess.Popen(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode("utf-8")


@pytest.mark.parametrize(
    "args",
    [("show", "evil", "--no-pager"), ("list",), ("search", "evilword"), ("show", "evil", "--raw")],
    ids=" ".join,
)
def test_note_text_is_printed_harmlessly_on_a_terminal(tmp_path: Path, args: tuple[str]) -> None:
    notes = evil_kb(tmp_path)
    shown = on_a_terminal(notes, *args)
    unstyled = STYLING.sub("", shown)
    assert not FORBIDDEN.findall(unstyled), unstyled
    if "--raw" in args:  # the file as it is, its controls made visible
        assert "a \\x1b]0;new window title\\x07 title change" in unstyled
        return
    assert "\x1b[" in shown  # the terminal path was taken: papernotes styles its output
    assert "[bold red]Evil[/]" in unstyled  # rich markup printed as text
    assert "\\u202eexe.txt" in unstyled  # the override is visible, not obeyed
    assert "\\x1b]8;;http://evil.test/" in unstyled  # the hyperlink is shown, not made


@pytest.mark.parametrize(
    "args",
    [
        ("show", "evil"),
        ("list",),
        ("search", "evilword"),
        ("search", "evilword", "--explain"),
        ("list", "--format", "ids"),
        ("list", "--format", "csv"),
        ("search", "evilword", "--format", "csv"),
        ("export", "--format", "csv"),
        ("export", "--format", "jsonl"),
        ("export", "--format", "markdown"),
        ("authors", "--format", "csv"),
        ("tags",),
        ("topics",),
    ],
    ids=" ".join,
)
def test_note_text_is_made_visible_in_any_output_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """Machine formats are exact on a pipe (next test) and made harmless on a terminal."""
    notes = evil_kb(tmp_path)
    monkeypatch.setattr("papernotes.render.on_terminal", lambda: True)
    result = run(notes, *args)
    assert result.exit_code == 0, result.output
    assert not FORBIDDEN.findall(result.output), result.output


@pytest.mark.parametrize(
    "args",
    [
        ("show", "evil", "--format", "json"),
        ("list", "--format", "json"),
        ("search", "evilword", "--format", "json"),
    ],
    ids=" ".join,
)
def test_json_escapes_controls_and_keeps_the_data(tmp_path: Path, args: tuple[str, ...]) -> None:
    notes = evil_kb(tmp_path)
    result = run(notes, *args)
    assert result.exit_code == 0
    assert not FORBIDDEN.findall(result.stdout)
    data = json.loads(result.stdout)
    records = data if isinstance(data, list) else [data]
    evil = [r for r in records if r["id"] == "evil"]
    assert evil[0]["title"] == EVIL_TITLE
    assert evil[0]["authors"][0] == "Mallory \x1b[8mhidden\x1b[0m"


def test_csv_on_a_pipe_is_the_exact_data(tmp_path: Path) -> None:
    import csv
    import io

    notes = evil_kb(tmp_path)
    result = run(notes, "list", "--format", "csv", "--tag", "[blink]t[/blink]")
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [row["title"] for row in rows] == [EVIL_TITLE]
    assert rows[0]["venue"] == "ven\nue"  # a lone CR would end the row in CSV readers


# -- queries, ids and file names, the editor ------------------------------------------------

QUERIES = [
    # words of SQL or FTS5 syntax are only words: the ranked fallback finds notes with some
    ("'; DROP TABLE papers; --", 0, 'showing results for "\'; DROP stable papers; --"'),
    ('dpo" OR 1=1 --', 2, 'Error: bad query: this " is never closed\n  dpo" OR 1=1 --\n     ^\n'),
    ("NEAR(dpo kto)", 0, ""),
    ("papers MATCH 1 OR rowid", 1, "Error: no notes match 'papers MATCH 1 OR rowid'\n"),
    ("title:*", 2, "Error: bad query: a prefix needs letters before the *, as in rew*\n"),
    ("dpo AND", 2, "Error: bad query: AND needs a term on both sides\n"),
    ("((dpo", 2, "Error: bad query: this ( is never closed\n"),
    ("rowid:1", 2, "Error: bad query: unknown field rowid:;"),
    ("x*y", 2, "Error: bad query: * is only allowed at the end of a word\n"),
    ("{title}: ^dpo", 0, ""),
    ("%_\\", 2, "Error: empty query: give words to search for, or a field such as tag:rlhf\n"),
    ("\x00\x1b[2J\u202e", 1, "Error: no notes match '\\x00\\x1b[2J\\u202e'\n"),
]


@pytest.mark.parametrize(("query", "code", "message"), QUERIES, ids=[q for q, _, _ in QUERIES])
def test_query_with_sql_or_fts5_syntax(tmp_path: Path, query: str, code: int, message: str) -> None:
    notes = make_kb(tmp_path)
    result = run(notes, "search", query, "--format", "ids")
    assert result.exit_code == code
    if code:
        assert result.stdout == ""
    else:
        assert result.stdout and set(result.stdout.split()) <= set(GOOD_IDS)
    assert result.stderr.startswith(message)
    assert "sqlite" not in result.stderr.lower() and "fts5" not in result.stderr.lower()
    # the index is intact
    again = run(notes, "search", "dpo", "--format", "ids")
    assert again.stdout.split()[0] == "direct-preference-optimization"
    assert run(notes, "list", "--format", "ids").stdout.split() == GOOD_IDS


@pytest.mark.parametrize(
    ("title", "written"),
    [
        ("../../escape", "escape.md"),
        ("/etc/passwd", "etc-passwd.md"),
        ("..\\..\\windows\\system32", "windows-system32.md"),
        ("CON", "con-note.md"),
        ("nul", "nul-note.md"),
        ("LPT1", "lpt1-note.md"),
        ("..", "note.md"),
    ],
)
def test_a_title_never_makes_a_file_outside_or_a_reserved_name(
    tmp_path: Path, title: str, written: str
) -> None:
    notes = make_kb(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run(notes, "new", title)
    assert result.exit_code == 0, result.output
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert [p for p in after if p not in before] == [Path("notes") / written]


@pytest.mark.parametrize(
    ("note_id", "suggested"),
    [("../escape", "escape"), ("/tmp/abs", "tmp-abs"), ("con", "con-note"), ("a/b", "a-b")],
)
def test_an_id_with_a_path_or_a_reserved_name_is_refused(
    tmp_path: Path, note_id: str, suggested: str
) -> None:
    notes = make_kb(tmp_path)
    result = run(notes, "new", "Some paper", "--id", note_id)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: not a valid id: {note_id!r} (use lowercase letters, digits and dashes, "
        f"like {suggested!r})\n"
    )
    assert sorted(p.stem for p in notes.iterdir()) == GOOD_IDS


def test_imported_titles_and_keys_never_make_a_file_outside(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{../../key, title={../../../etc/passwd}, year=2020}\n"
        "@article{con, title={CON}, year=2021}\n"
        "@article{aux, title={Aux}, year=2022}\n",
        encoding="utf-8",
    )
    result = run(notes, "import", str(bib))
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in notes.iterdir() if p.stem not in GOOD_IDS)
    assert made == ["aux-note.md", "con-note.md", "etc-passwd.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "refs.bib"]


def test_editor_with_shell_metacharacters_is_not_run_through_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = make_kb(tmp_path)
    record = tmp_path / "argv.json"
    editor = tmp_path / "editor.py"
    editor.write_text(
        f"import json, sys\njson.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n",
        encoding="utf-8",
    )
    marks = [tmp_path / f"mark{i}" for i in range(5)]
    value = (
        f"{sys.executable} {editor} ; touch {marks[0]} && touch {marks[1]} "
        f"| touch {marks[2]} $(touch {marks[3]}) `touch {marks[4]}` > {tmp_path / 'out'}"
    )
    monkeypatch.setenv("EDITOR", value)
    result = run(notes, "edit", "dpo")
    assert result.exit_code == 0, result.output
    argv = json.loads(record.read_text(encoding="utf-8"))
    assert argv[:3] == [";", "touch", str(marks[0])]
    assert "$(touch" in argv and "`touch" in argv and ">" in argv
    assert argv[-1] == str(notes / "direct-preference-optimization.md")
    assert not any(mark.exists() for mark in marks)
    assert not (tmp_path / "out").exists()


def test_editor_with_an_unclosed_quote_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = make_kb(tmp_path)
    monkeypatch.setenv("EDITOR", "vim 'unclosed; touch x")
    result = run(notes, "edit", "dpo")
    assert result.exit_code == 2
    assert result.stderr == (
        'Error: cannot read $EDITOR ("vim \'unclosed; touch x"): No closing quotation\n'
    )


def test_yaml_values_json_cannot_hold_do_not_break_the_index(tmp_path: Path) -> None:
    """``!!set`` and ``.inf`` once made every index-backed command fail (found by test_fuzz)."""
    notes = make_kb(tmp_path)
    (notes / "odd.md").write_text(
        "---\ntitle: Odd Values\nmine: !!set {b, a}\nbig: .inf\nsmall: -.inf\n---\n",
        encoding="utf-8",
    )
    listed = run(notes, "list", "--format", "ids")
    assert listed.exit_code == 0 and listed.stdout.split() == sorted([*GOOD_IDS, "odd"])
    shown = run(notes, "show", "odd", "--format", "json")
    assert json.loads(shown.stdout)["extra"] == {"mine": ["a", "b"], "big": None, "small": None}


# -- regular expressions that backtrack --------------------------------------------------------

RUN = " " * 200_000  # the quadratic forms took hours on this, the cubic ones longer


def _heading_note() -> None:
    result = parse_bytes(f"# A heading{RUN}with spaces in it #\nBody.\n".encode(), "h.md")
    assert result.paper is not None and result.paper.title == f"A heading{RUN}with spaces in it"


def _front_matter_line() -> None:
    text = f"---\ntitle: T\ntags: [a,\n  x{RUN}b]\n---\n"
    assert parse_bytes(text.encode(), "k.md").paper is not None


def _merge_into_a_note_with_a_long_heading() -> None:
    from papernotes.interop.importers.merge import merge_note
    from papernotes.note.model import Paper

    note = f"---\ntitle: T\n---\n## Notes{RUN}and more\nMine.\n"
    paper = parse_bytes(note.encode(), "m.md").paper
    assert paper is not None
    merged = merge_note(note, paper, Paper(id="", title="T", year=2020), "m.md")
    assert merged.added == ("year: 2020",)


def _reading_session_line() -> None:
    from papernotes.interop.importers.text import parse

    parse(f"read on: - 08 Feb 2024{RUN}x\nSome Title\n", "r.txt")


def _bibtex_export_of_a_long_word() -> None:
    from papernotes.interop.bibtex import to_bibtex
    from papernotes.note.model import Paper

    assert "@misc{" in to_bibtex([Paper(id="x", title="a" + ")" * 200_000 + "b")])


@pytest.mark.parametrize(
    "case",
    [
        _heading_note,
        _front_matter_line,
        _merge_into_a_note_with_a_long_heading,
        _reading_session_line,
        _bibtex_export_of_a_long_word,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_long_runs_of_spaces_do_not_hang(case: object) -> None:
    """Patterns like ``(.+?)\\s*#*\\s*$`` backtrack for hours on a long run of spaces: a note
    (or a file to import) could hang every command. Each case takes milliseconds now."""
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=case)  # type: ignore[attr-defined]
    child.start()
    child.join(30)  # generous: milliseconds now, hours before
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"{case} still running after 30 s")
    assert child.exitcode == 0


def test_an_author_with_the_word_and_survives_bibtex() -> None:
    """BibTeX splits authors at "and" in any case: such a name is braced whole (found by the
    export fuzz test)."""
    from papernotes.interop.bibtex import to_bibtex
    from papernotes.interop.importers.bibtex import parse_bibtex
    from papernotes.note.model import Paper

    paper = Paper(id="x", title="T", authors=("AND A A", "Anders And"), year=2024)
    back = parse_bibtex(to_bibtex([paper])).entries[0].paper
    assert back.authors == ("AND A A", "Anders And")


@pytest.mark.parametrize(
    "raised",
    [
        "exceeded maximum nesting depth",  # libyaml 0.2.6 and later, through PyYAML's C loader
        "maximum depth exceeded",
    ],
)
def test_an_upstream_nesting_limit_gives_our_message(
    monkeypatch: pytest.MonkeyPatch, raised: str
) -> None:
    """Whichever YAML library stops a deep document first, and however it words it, the note
    gets our message and line (so an upstream release cannot change what users read)."""
    import yaml

    def refuse(*args: object, **kwargs: object) -> object:
        mark = yaml.Mark("note", 0, 1, 3, None, None)
        raise yaml.parser.ParserError("while parsing", mark, raised, mark)

    monkeypatch.setattr(yaml, "parse", refuse)
    monkeypatch.setattr(yaml, "load", refuse)
    content = "---\ntitle: Deep\nx: " + "[" * 100 + "]" * 100 + "\n---\n"
    result = parse_bytes(content.encode(), "deep.md")
    assert [str(d) for d in result.errors] == [f"deep.md:3: error: {TOO_DEEP}"]

    def refuse_unmarked(*args: object, **kwargs: object) -> object:
        raise yaml.YAMLError(raised)

    monkeypatch.setattr(yaml, "parse", refuse_unmarked)
    monkeypatch.setattr(yaml, "load", refuse_unmarked)
    result = parse_bytes(content.encode(), "deep.md")
    assert [str(d) for d in result.errors] == [f"deep.md:2: error: {TOO_DEEP}"]


# -- a notes folder you downloaded (issue 12) -----------------------------------------------------
# Its papernotes.toml may not name a path outside the folder or the user's cache folder; nothing
# is read from it through a symlink that leaves it, nor from a FIFO or a device.

OUTSIDE_INDEX = {
    "a key file in ~/.ssh": "~/.ssh/authorized_keys",
    "a relative path out": "../outside/index.sqlite",
    "an absolute path": "{tmp}/outside/index.sqlite",
    "a symlinked folder inside": "cachedir/index.sqlite",
}


@pytest.mark.parametrize("case", list(OUTSIDE_INDEX))
def test_an_index_setting_outside_the_folder_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """``index = "~/.ssh/authorized_keys"`` in a cloned folder's papernotes.toml made ordinary
    commands create that file and fill it with note text."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "outside").mkdir()
    notes = make_kb(tmp_path)
    (notes / "cachedir").symlink_to(tmp_path / "outside")
    value = OUTSIDE_INDEX[case].format(tmp=tmp_path)
    (notes / "papernotes.toml").write_text(f"index = {value!r}\n", encoding="utf-8")
    warning = (
        f"warning: {notes / 'papernotes.toml'}: index = {value!r} is outside the notes "
        "directory and the cache folder; ignored (the index is kept in the cache folder)\n"
    )
    for args in (("search", "kto", "--format", "ids"), ("list", "--format", "ids")):
        result = run(notes, *args)
        assert result.exit_code == 0, result.output
        assert result.stderr == warning
    assert result.stdout.split() == GOOD_IDS
    assert sorted(p.name for p in home.rglob("*")) == [".ssh"]
    assert list((tmp_path / "outside").iterdir()) == []
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "papernotes"
    assert len(list(cache.glob("*.sqlite"))) == 1


@pytest.mark.parametrize("where", ["inside the notes", "in the cache folder"])
def test_an_index_setting_inside_the_folder_or_the_cache_is_used(
    tmp_path: Path, where: str
) -> None:
    notes = make_kb(tmp_path)
    cache = Path(os.environ["XDG_CACHE_HOME"])
    target = notes / ".idx" / "index.db" if where == "inside the notes" else cache / "mine.db"
    value = ".idx/index.db" if where == "inside the notes" else str(target)
    (notes / "papernotes.toml").write_text(f"index = {value!r}\n", encoding="utf-8")
    result = run(notes, "search", "kto", "--format", "ids")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "kto\n", "")
    assert target.is_file()


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n", encoding="utf-8")
    return secret


OUT = "a symlink to {target}, outside {folder}; not read"
SPECIAL = "not a regular file (a FIFO, a device or a folder); not read"
FOLDER_FILES = [
    # (case, how the file is made, the message after "Error: <path>: ")
    ("symlink to a key", "secret", OUT),
    ("symlink to /proc", "/proc/self/environ", OUT),
    ("symlink to /dev/zero", "/dev/zero", OUT),
    ("a FIFO", "fifo", SPECIAL),
    ("a symlink to a FIFO inside", "fifo-link", SPECIAL),
    ("2 MB", "big", "larger than 1 MB; not read"),
]


def _make(path: Path, how: str, tmp_path: Path) -> str:
    """Make the folder's ``path`` as ``how`` says; the resolved target for the message."""
    if how == "secret":
        path.symlink_to(_secret(tmp_path))
    elif how.startswith("/"):
        path.symlink_to(how)
    elif how == "fifo":
        os.mkfifo(path)
    elif how == "fifo-link":
        os.mkfifo(path.parent / "pipe")
        path.symlink_to(path.parent / "pipe")
    else:
        path.write_text("---\ntitle: x\n---\n" + "words " * 400_000, encoding="utf-8")
    return os.path.realpath(path)


@pytest.mark.parametrize(("case", "how", "message"), FOLDER_FILES, ids=[c[0] for c in FOLDER_FILES])
def test_the_template_is_read_only_from_inside_the_folder(
    tmp_path: Path, case: str, how: str, message: str
) -> None:
    """``template.md`` a symlink to a key file or /proc/self/environ was copied into a new note
    by ``new``; a FIFO could hang it."""
    notes = make_kb(tmp_path)
    target = _make(notes / "template.md", how, tmp_path)
    result = run(notes, "new", "Some paper")
    assert result.exit_code == 2
    expected = message.format(target=target, folder=notes)
    assert result.stderr == f"Error: {notes / 'template.md'}: {expected}\n"
    assert not (notes / "some-paper.md").exists()


def test_a_template_symlinked_inside_the_folder_is_used(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    (notes / "templates").mkdir()
    (notes / "templates" / "paper.md").write_text(
        "---\ntitle: x\ntags: [from-template]\n---\n## Mine\n", encoding="utf-8"
    )
    (notes / "template.md").symlink_to(notes / "templates" / "paper.md")
    assert run(notes, "new", "Some paper").exit_code == 0
    assert "from-template" in (notes / "some-paper.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("case", "how", "message"), FOLDER_FILES, ids=[c[0] for c in FOLDER_FILES])
@pytest.mark.parametrize("beside", [False, True], ids=["in the notes", "beside the notes"])
def test_the_settings_are_read_only_from_inside_the_folder(
    tmp_path: Path, case: str, how: str, message: str, beside: bool
) -> None:
    notes = make_kb(tmp_path / "project")
    folder = notes.parent if beside else notes
    config = folder / "papernotes.toml"
    target = _make(config, how, tmp_path)
    result = run(notes, "list", "--format", "ids")
    assert result.exit_code == 2
    expected = message.format(target=target, folder=folder)
    assert result.stderr == f"Error: {config}: {expected}\n"


def test_an_import_never_blocks_on_a_fifo_among_the_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk leaves FIFOs out; a note replaced by one between the walk and the read (the
    importer reads every note to match papers) is reported, not waited on forever."""
    import threading

    import papernotes.interop.importers
    from papernotes.interop.importers import plan_import
    from papernotes.note.model import Paper

    notes = make_kb(tmp_path)
    os.mkfifo(notes / "pipe.md")
    walked = [*sorted(notes.glob("*.md"))]
    monkeypatch.setattr(papernotes.interop.importers, "iter_notes", lambda root: iter(walked))
    plans = []
    thread = threading.Thread(
        target=lambda: plans.append(plan_import([Paper(id="", title="New")], notes)), daemon=True
    )
    thread.start()
    thread.join(10)
    if not plans:
        os.close(os.open(notes / "pipe.md", os.O_WRONLY | os.O_NONBLOCK))  # lets it go
        pytest.fail("the import waited for a writer of the FIFO")
    assert [str(d) for d in plans[0].problems] == [
        "pipe.md:1: error: cannot read: not a regular file (a FIFO or a device)"
    ]


def test_a_fifo_in_a_notes_place_is_reported_never_waited_on(tmp_path: Path) -> None:
    """A FIFO put where a note was, after the walk saw a regular file, is refused at once
    (opening it blocking would wait for a writer forever)."""
    from papernotes.note.parse import parse_file

    fifo = tmp_path / "note.md"
    os.mkfifo(fifo)
    result = parse_file(fifo)
    assert [str(d) for d in result.errors] == [
        f"{fifo}:1: error: not a regular file (a FIFO, socket or device); not read"
    ]
