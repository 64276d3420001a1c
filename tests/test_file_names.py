"""File and folder names that are not valid UTF-8 (issue 12): ``notes/\\xff.md`` made every
command that reads the notes die (the index cannot store such a name; a terminal cannot print
it). Such a note is not read: ``check`` names it, its bytes escaped (``notes/\\xff.md``), and
every other command goes on with the other notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kbfactory import NOTES, make_kb, run
from papernotes.disk import notefiles

pytestmark = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="file names there are always valid Unicode"
)

GOOD_IDS = sorted([*NOTES, "café"])
NOTE = b"---\ntitle: Undecodable Name\n---\nundecodableword\n"


def odd_kb(tmp_path: Path) -> Path:
    """The knowledge base of the tests with a note ``\\xff.md``, a folder ``\\xfe dir`` that
    holds a note, a symlink ``link\\xfd.md`` to a good note, and a note whose name is valid
    UTF-8 beyond ASCII (``café.md``: read as usual)."""
    notes = make_kb(tmp_path)
    root = os.fsencode(notes)
    with open(root + b"/\xff.md", "wb") as file:
        file.write(NOTE)
    os.mkdir(root + b"/\xfe dir")
    with open(root + b"/\xfe dir/inside.md", "wb") as file:
        file.write(NOTE.replace(b"Name", b"Folder"))
    os.symlink(root + b"/kto.md", root + b"/link\xfd.md")
    (notes / "café.md").write_text("---\ntitle: Café Note\n---\nBody.\n", encoding="utf-8")
    return notes


CHECK_LINES = [
    "notes/link\\xfd.md:1: error: file name is not valid UTF-8 (byte 0xfd); not read (rename it)",
    "notes/\\xfe dir/:1: warning: folder name is not valid UTF-8 (byte 0xfe); its notes are "
    "not read (rename it)",
    "notes/\\xff.md:1: error: file name is not valid UTF-8 (byte 0xff); not read (rename it)",
]


def test_check_names_each_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    notes = odd_kb(tmp_path)
    result = run(notes, "check")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if "UTF-8" in line]
    assert lines == CHECK_LINES
    assert result.stdout.endswith("8 notes, 6 ok, 2 with errors, 2 warnings\n")


@pytest.mark.parametrize("watched", ["scan", "prefetched", "walked"])
def test_check_names_each_one_however_the_index_was_made_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watched: str
) -> None:
    """The names come from the scan that made the index fresh: the command's own, or the
    one a child started before click was imported (the console script); or, when no scan was
    made (a watcher vouched), from a walk of their own."""
    monkeypatch.chdir(tmp_path)
    notes = odd_kb(tmp_path)
    if watched == "walked":
        from papernotes.engine import index, indexing

        real = index.refresh

        def vouched(*args: object, **kwargs: object) -> indexing.RefreshReport:
            real(*args, **kwargs)  # type: ignore[arg-type]
            return indexing.RefreshReport()  # as when a watcher vouched: no scan to ask

        monkeypatch.setattr(index, "refresh", vouched)
        walks = []
        monkeypatch.setattr(
            "papernotes.cli.check.undecodable",
            lambda root: walks.append(root) or notefiles.undecodable(root),
        )
    if watched == "prefetched":
        env = {**os.environ, "PAPERNOTES_DIR": str(notes), "NO_COLOR": "1"}
        env.pop("PAPERNOTES_INDEX", None)
        proc = subprocess.run(
            [sys.executable, "-m", "papernotes", "check"], env=env, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        stdout = proc.stdout
    else:
        stdout = run(notes, "check").stdout
    assert [line for line in stdout.splitlines() if "UTF-8" in line] == CHECK_LINES
    assert stdout.endswith("8 notes, 6 ok, 2 with errors, 2 warnings\n")
    if watched == "walked":
        assert walks == [notes]


def test_check_as_json_keeps_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JSON escapes the undecodable bytes as ``\\udcff``: Python's ``os.fsencode`` of the
    string decoded gives the file's own name back."""
    monkeypatch.chdir(tmp_path)
    notes = odd_kb(tmp_path)
    result = run(notes, "check", "--format", "json")
    paths = [d["path"] for d in json.loads(result.stdout)["diagnostics"] if "UTF-8" in d["message"]]
    expected = [b"notes/link\xfd.md", b"notes/\xfe dir/", b"notes/\xff.md"]
    assert [os.fsencode(p) for p in paths] == expected


def test_check_of_a_folder_and_of_the_file_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    notes = odd_kb(tmp_path)
    folder = run(notes, "check", "notes")
    assert [line for line in folder.stdout.splitlines() if "UTF-8" in line] == CHECK_LINES
    named = run(notes, "check", os.fsdecode(b"notes/\xff.md"))  # asked for by name: read
    assert named.exit_code == 0
    assert named.stdout == "1 note, 1 ok, 0 with errors, 0 warnings\n"


COMMANDS = [
    ("list", "--format", "ids"),
    ("list",),
    ("list", "--format", "json"),
    ("search", "dpo", "--format", "ids"),
    ("search", "undecodableword"),
    ("show", "dpo"),
    ("show", "dpo", "--format", "json"),
    ("related", "dpo"),
    ("stats",),
    ("tags",),
    ("topics",),
    ("authors",),
    ("export", "--format", "jsonl"),
    ("export", "--format", "bibtex"),
    ("index", "--status"),
    ("index", "--rebuild"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_goes_on_with_the_other_notes(tmp_path: Path, args: tuple[str, ...]) -> None:
    notes = odd_kb(tmp_path)
    result = run(notes, *args)  # a traceback fails the test
    assert result.exit_code == (1 if args[1:2] == ("undecodableword",) else 0), result.output
    listed = run(notes, "list", "--format", "ids")
    assert listed.stdout.split() == GOOD_IDS


def test_the_console_script_with_its_prefetching_child(tmp_path: Path) -> None:
    """The notes are stat'ed by a forked child there (papernotes.disk.freshness.prefetch)."""
    notes = odd_kb(tmp_path)
    for args in (("list", "--format", "ids"), ("search", "dpo", "--format", "ids")):
        result = subprocess.run(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args],
            capture_output=True, timeout=120, env={**os.environ, "LC_ALL": "C.UTF-8"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        assert b"Traceback" not in result.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "list", "--format", "ids"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert listed.stdout.split() == GOOD_IDS


def test_importing_a_file_with_such_a_name(tmp_path: Path) -> None:
    notes = odd_kb(tmp_path)
    source = os.fsencode(tmp_path) + b"/refs\xff.bib"
    with open(source, "wb") as file:
        file.write(b"@article{k, title={Imported Paper}, year=2020}\n")
    result = run(notes, "import", os.fsdecode(source))
    assert result.exit_code == 0, result.output
    assert (notes / "imported-paper.md").is_file()
    assert "\\xff" in result.output or "refs" not in result.output


BAD = os.fsdecode(b"caf\xe9")  # what Python makes of a Latin-1 argument: "caf\udce9"
ARGUMENTS = [
    ("show", BAD),
    ("related", BAD),
    ("edit", BAD),
    ("search", BAD),
    ("search", "dpo", BAD),
    ("list", "--tag", BAD),
    ("list", "--author", BAD),
    ("new", BAD),
    ("new", "Title", "--tag", BAD),
    ("export", "--tag", BAD),
]


@pytest.mark.parametrize(
    "args", ARGUMENTS, ids=[" ".join(a).replace(BAD, "BAD") for a in ARGUMENTS]
)
def test_an_argument_that_is_not_utf8_is_refused(tmp_path: Path, args: tuple[str, ...]) -> None:
    """It reached SQLite (a traceback) or a new note's YAML (a note that does not parse)."""
    notes = make_kb(tmp_path)
    result = run(notes, *args)
    assert result.exit_code == 2
    assert result.stderr.endswith("': not valid UTF-8 text: 'caf\\xe9'\n"), result.stderr
    assert sorted(p.stem for p in notes.iterdir()) == sorted(NOTES)


def test_a_notes_folder_whose_own_path_is_not_utf8(tmp_path: Path) -> None:
    notes = make_kb(Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9")))
    assert run(notes, "list", "--format", "ids").stdout.split() == sorted(NOTES)
