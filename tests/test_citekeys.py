"""Every citation key of a paper is kept: an entry folded into another's note leaves its key in
``citekeys``, BibLaTeX ``ids`` are read into it, and BibTeX export writes them back as ``ids``."""

from __future__ import annotations

from pathlib import Path

import pybtex.errors
from click.testing import CliRunner
from pybtex.database import parse_file, parse_string

from conftest import needs_shared_data
from papernotes.cli import cli
from papernotes.interop.bibtex import to_bibtex
from papernotes.interop.importers.bibtex import parse_bibtex, read_bibtex
from papernotes.note.parse import parse_note

TWO_ENTRIES_ONE_PAPER = """\
@article{Marquardt1963, title = {An Algorithm for Least-Squares Estimation},
  author = {Marquardt, Donald W.}, year = {1963}, doi = {10.1137/0111030}}
@article{Marquardt2019, title = {An algorithm for least-squares estimation},
  author = {Marquardt, D. W.}, year = {1963}, doi = {10.1137/0111030}}
"""


def run(notes: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--notes-dir", str(notes), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def exported_keys(text: str) -> list[str]:
    """Entry keys and BibLaTeX ids of a .bib text, as pybtex reads them."""
    with pybtex.errors.capture():
        database = parse_string(text, "bibtex")
    found = list(database.entries)
    for entry in database.entries.values():
        ids = entry.fields.get("ids", "")
        found += [k.strip() for k in ids.split(",") if k.strip()]
    return found


def test_a_folded_entry_keeps_its_key_and_exports_it_as_ids(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(TWO_ENTRIES_ONE_PAPER, encoding="utf-8")
    notes = tmp_path / "notes"
    notes.mkdir()
    out = run(notes, "import", str(bib))
    assert out.splitlines()[-1].startswith("2 papers in 1 file: 1 note created, 0 merged")
    (note,) = notes.glob("*.md")
    text = note.read_text()
    assert "citekey: Marquardt1963\n" in text
    assert "citekeys:\n- Marquardt2019\n" in text
    paper = parse_note(note)
    assert paper.aliases == ("Marquardt1963", "Marquardt2019")
    exported = run(notes, "export", "--format", "bibtex")
    assert exported.startswith("@article{Marquardt1963,\n  ids = {Marquardt2019},\n")
    assert exported_keys(exported) == ["Marquardt1963", "Marquardt2019"]
    assert ", 0 merged, 1 unchanged;" in run(notes, "import", str(bib)).splitlines()[-1]


def test_a_later_import_adds_the_key_to_an_existing_note(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "lm.md").write_text(
        "---\ntitle: An Algorithm for Least-Squares Estimation\ndoi: 10.1137/0111030\n"
        "# mine\n---\nNotes.\n"
    )
    first, second = (tmp_path / "a.bib"), (tmp_path / "b.bib")
    first.write_text(TWO_ENTRIES_ONE_PAPER.split("@article", 2)[1].join(["@article", ""]))
    second.write_text("@article" + TWO_ENTRIES_ONE_PAPER.split("@article", 2)[2])
    run(notes, "import", str(first))
    text = (notes / "lm.md").read_text()
    assert "citekey: Marquardt1963\n" in text and "citekeys" not in text  # its own key, once
    out = run(notes, "import", str(second))
    assert "citekeys: Marquardt2019" in out
    text = (notes / "lm.md").read_text()
    assert text.endswith("citekeys:\n- Marquardt2019\n---\nNotes.\n")
    assert "# mine\n" in text


def test_biblatex_ids_are_read_and_written_back() -> None:
    (entry,) = parse_bibtex(
        "@article{main, title = {T}, ids = {old1, old2,main}, author = {A, B}}"
    ).entries
    assert entry.paper.extra["citekeys"] == ["old1", "old2"]
    assert entry.paper.aliases == ("main", "old1", "old2")
    assert "bibtex" in entry.paper.extra and "ids" not in entry.paper.extra["bibtex"]
    assert to_bibtex([entry.paper]).splitlines()[:2] == ["@article{main,", "  ids = {old1, old2},"]


def test_ids_are_never_another_entrys_key() -> None:
    (a,) = parse_bibtex("@misc{one, title = {A}, ids = {two}}").entries
    (b,) = parse_bibtex("@misc{two, title = {B}}").entries
    text = to_bibtex([a.paper, b.paper])
    assert "ids" not in text
    assert exported_keys(text) == ["one", "two"]


def test_real_zotero_export_keeps_every_key(tmp_path: Path) -> None:
    """The Zotero Better BibTeX export: 332 entries, 9 of them folded into another entry's
    note. Every key is cited by the export, and again after importing that export."""
    bib = needs_shared_data("bibtex", "CoreySpohn_dissertation__library.bib")
    original = sorted(e.key for e in read_bibtex(bib).entries)
    assert len(original) == 332
    notes = tmp_path / "notes"
    notes.mkdir()
    out = run(notes, "import", str(bib))
    assert out.splitlines()[-1].startswith("332 papers in 1 file: 323 notes created")
    exported = run(notes, "export", "--format", "bibtex")
    keys = exported_keys(exported)
    assert len(keys) == 332 and sorted(keys) == original
    assert exported.count("  ids = {") == 8  # one note folds three entries
    again = tmp_path / "again"
    again.mkdir()
    (tmp_path / "out.bib").write_text(exported, encoding="utf-8")
    run(again, "import", str(tmp_path / "out.bib"))
    assert sorted(exported_keys(run(again, "export", "--format", "bibtex"))) == original
    with pybtex.errors.capture():
        assert len(parse_file(str(tmp_path / "out.bib"), "bibtex").entries) == 323
