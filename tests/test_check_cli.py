"""`papernotes check` through the CLI: exact output, exit codes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from papernotes.cli import cli


@pytest.fixture
def kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    monkeypatch.chdir(tmp_path)
    return root


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_clean_knowledge_base(kb: Path) -> None:
    write(kb, "a.md", "---\ntitle: A\nrelated: [b]\n---\nSee [[b]].\n")
    write(kb, "sub/b.md", "---\ntitle: B\naliases: [BEE]\n---\n")
    assert run("check") == (0, "2 notes, 2 ok, 0 with errors, 0 warnings\n")


def test_errors_warnings_and_summary(kb: Path) -> None:
    write(kb, "a.md", "---\ntitle: A\narxiv: 2305.18290\naliases: [DPO]\n---\n")
    write(kb, "b.md", "---\ntitle: B\narxiv: arXiv:2305.18290v2\naliases: [dpo]\n---\n")
    write(kb, "c.md", "---\ntitle: C\nyear: twenty\n---\n")
    write(kb, "d.md", "---\ntitle: D\nautors: [X]\nrelated: [nowhere]\n---\n[[ghost]]\n")
    code, out = run("check")
    assert code == 1
    assert out == (
        "notes/a.md:3: error: duplicate arXiv id '2305.18290' (also in notes/b.md:3)\n"
        "notes/a.md:4: error: duplicate alias 'dpo' (also in notes/b.md:4)\n"
        "notes/b.md:3: error: duplicate arXiv id '2305.18290' (also in notes/a.md:3)\n"
        "notes/b.md:4: error: duplicate alias 'dpo' (also in notes/a.md:4)\n"
        "notes/c.md:3: warning: year: not a year: 'twenty' (expected a number like 2023)\n"
        "notes/d.md:3: warning: unknown key 'autors': did you mean 'authors'?\n"
        "notes/d.md:4: error: related: no note with id 'nowhere'\n"
        "notes/d.md:6: warning: wikilink [[ghost]] points to no note\n"
        "4 notes, 1 ok, 3 with errors, 3 warnings\n"
    )


def test_duplicate_ids_name_both_files(kb: Path) -> None:
    write(kb, "x/same.md", "---\ntitle: One\n---\n")
    write(kb, "y/same.md", "---\ntitle: Two\n---\n")
    code, out = run("check")
    assert code == 1
    assert out.splitlines()[:2] == [
        "notes/x/same.md:1: error: duplicate id 'same' (also in notes/y/same.md:1)",
        "notes/y/same.md:1: error: duplicate id 'same' (also in notes/x/same.md:1)",
    ]


def test_a_bad_value_is_a_warning_and_the_note_is_kept(kb: Path) -> None:
    """Issue 14: ``rating: 4.5`` or ``status: abandoned`` does not hide the note; only front
    matter that cannot be read does."""
    write(kb, "a.md", "---\ntitle: A\nrating: 4.5\nstatus: abandoned\n---\n![[fig.png]]\n")
    assert run("check") == (
        0,
        "notes/a.md:3: warning: rating: not a rating: '4.5' (expected 1 to 5)\n"
        "notes/a.md:4: warning: status: unknown status 'abandoned' (expected one of to-read, "
        "reading, read, skimmed)\n"
        "1 note, 1 ok, 0 with errors, 2 warnings\n",
    )
    assert run("list", "--format", "ids") == (0, "a\n")


def test_strict_counts_warnings(kb: Path) -> None:
    write(kb, "a.md", "# Only a heading\n")
    assert run("check") == (
        0,
        "notes/a.md:1: warning: no front matter; title taken from the heading\n"
        "1 note, 1 ok, 0 with errors, 1 warning\n",
    )
    assert run("check", "--strict")[0] == 1


def test_paths_limit_what_is_reported(kb: Path) -> None:
    write(kb, "good.md", "---\ntitle: Good\nrelated: [bad]\n---\n")
    write(kb, "bad.md", "---\ntitle: Bad\nyear: x\n---\n")
    assert run("check", "notes/good.md") == (0, "1 note, 1 ok, 0 with errors, 0 warnings\n")


def test_json_format(kb: Path) -> None:
    write(kb, "c.md", "---\ntitle: C\nyear: twenty\n---\n")
    write(kb, "d.md", "---\ntitle: [D\n---\n")
    code, out = run("check", "--format", "json")
    assert code == 1
    assert json.loads(out) == {
        "notes": 2,
        "ok": 1,
        "with_errors": 1,
        "errors": 1,
        "warnings": 1,
        "diagnostics": [
            {
                "path": "notes/c.md",
                "line": 3,
                "severity": "warning",
                "message": "year: not a year: 'twenty' (expected a number like 2023)",
            },
            {
                "path": "notes/d.md",
                "line": 3,
                "severity": "error",
                "message": "invalid YAML front matter: did not find expected ',' or ']' "
                "(while parsing a flow sequence)",
            },
        ],
    }


def test_binary_and_non_utf8_files_are_reported_not_crashed(kb: Path) -> None:
    (kb / "img.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (kb / "latin1.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    code, out = run("check")
    assert code == 1
    assert out == (
        "notes/img.md:1: error: binary file (contains NUL bytes), not a Markdown note\n"
        "notes/latin1.md:2: error: not valid UTF-8 (byte 0xe9); save as UTF-8\n"
        "2 notes, 0 ok, 2 with errors, 0 warnings\n"
    )


def test_no_notes_directory_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 2
    assert result.output == (
        "Error: no notes directory found: pass --notes-dir DIR, set PAPERNOTES_DIR, "
        "or run inside a folder that has a notes/ directory\n"
    )


def test_notes_are_never_modified(kb: Path) -> None:
    path = write(kb, "a.md", "---\ntitle: A\nyear: twenty\n---\nbody\n")
    before = path.read_bytes(), path.stat().st_mtime_ns
    run("check")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_inline_fields_are_the_users_keys_not_typos(kb: Path, tmp_path: Path) -> None:
    """``Publisher:: ...`` in the body (rhizome's Zotero template: 23 false warnings) is a
    key of the user's own; only a front-matter key is said to look like a known one, in the
    index and in a file outside it."""
    text = (
        "---\ntitle: A\npublishd: 2020\n---\n"
        "Publisher:: MIT Press\n- **Statu**:: read\nSee [Autors:: Jane Doe].\n"
    )
    write(kb, "a.md", text)
    expected = "warning: unknown key 'publishd': did you mean 'published'?\n"
    assert run("check") == (0, f"notes/a.md:3: {expected}1 note, 1 ok, 0 with errors, 1 warning\n")
    outside = write(tmp_path, "outside.md", text)
    assert run("check", str(outside)) == (
        0,
        f"outside.md:3: {expected}1 note, 1 ok, 0 with errors, 1 warning\n",
    )


def test_other_names_of_a_status_are_read_and_unknown_ones_warned(kb: Path) -> None:
    """``status: finished`` was a warning and no status; other names of the four statuses
    are read as them (in notes, queries and ``mark``), anything else still warns at its line."""
    for name, status in [("a", "Finished"), ("b", "In progress"), ("c", "todo"), ("d", "dropped")]:
        write(kb, f"{name}.md", f"---\ntitle: {name.upper()}\nstatus: {status}\n---\n")
    assert run("check") == (
        0,
        "notes/d.md:3: warning: status: unknown status 'dropped' (expected one of to-read, "
        "reading, read, skimmed)\n"
        "4 notes, 4 ok, 0 with errors, 1 warning\n",
    )
    assert run("list", "--status", "read", "--format", "ids") == (0, "a\n")
    assert run("list", "--status", "reading", "--format", "ids") == (0, "b\n")
    assert run("search", "status:completed", "--format", "ids") == (0, "a\n")
    assert run("mark", "c", "started") == (0, "notes/c.md: status=reading\n")
