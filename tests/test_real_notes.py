"""Every file of the five real note collections in ../shared/data/real-notes gives a Paper or
errors naming the file and line; the known-bad files are reported at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest

from papernotes.disk.store import iter_notes
from papernotes.note.model import KNOWN_KEYS, Paper
from papernotes.note.parse import parse_file
from tests.conftest import needs_shared_data

# collection -> (notes, notes with errors) as measured with `papernotes --notes-dir DIR check`.
# Before issue 14: literature-notes 1 (`year = ` with no value), pemami4911 2 (a TAB after
# "title:"), rhizome 2 (no front matter, no heading): now each is read, with a warning.
EXPECTED = {
    "literature-notes": (20, 0),
    "maomaocv.github.io": (83, 0),
    "papers-I-read": (145, 0),
    "pemami4911.github.io": (49, 0),
    "rhizome": (115, 0),
}


@pytest.mark.parametrize("collection", sorted(EXPECTED))
def test_collection_loads(collection: str) -> None:
    root = needs_shared_data("real-notes", collection)
    files = list(iter_notes(root))
    results = [parse_file(path, str(path)) for path in files]
    for path, result in zip(files, results, strict=True):
        assert (result.paper is None) == bool(result.errors)
        for diag in result.diagnostics:
            assert diag.path == str(path) and diag.line >= 1 and diag.message
    bad = sum(1 for r in results if r.paper is None)
    assert (len(files), bad) == EXPECTED[collection]


@pytest.mark.parametrize(
    ("relative", "line", "message"),
    [
        (
            "literature-notes/hagelinOpticalTurbulenceInfluence.md",
            4,
            "year: no value after '='; read as empty",
        ),
        (
            "rhizome/Foucault1995.md",
            1,
            "no front matter and no '# heading'; title taken from the file name",
        ),
        (
            "rhizome/@marx.md",
            20,
            "Year: not a year: 'Error: `format` can only be applied to d…' (69 characters) "
            "(expected a number like 2023)",
        ),
    ],
)
def test_known_odd_files_are_read_with_a_warning(relative: str, line: int, message: str) -> None:
    path = needs_shared_data("real-notes", *Path(relative).parts)
    result = parse_file(path, relative)
    assert result.paper is not None
    assert [(d.line, d.severity, d.message) for d in result.diagnostics] == [
        (line, "warning", message)
    ]


def test_maomao_offset_datetimes_and_null_tags() -> None:
    """Jekyll's ``date:`` (``2023-08-02 16:03:30 +0800``) is the day the post was added."""
    root = needs_shared_data("real-notes", "maomaocv.github.io")
    papers = [r.paper for r in (parse_file(p) for p in iter_notes(root)) if r.paper]
    assert sum(1 for p in papers if p.added) == 82
    undated = [p for p in papers if not p.added]  # date: 0000-10-23 01:32:55+0800
    assert [p.extra["date"] for p in undated] == ["0000-10-23 01:32:55+0800"]


KNOWN = [k for k in KNOWN_KEYS if k != "id"]

# collection -> known fields (other than id) filled, over every note read; before issue 14:
# literature-notes 47, maomaocv 162, papers-I-read 290, pemami4911 47, rhizome 265
FIELDS = {
    "literature-notes": 59,
    "maomaocv.github.io": 244,
    "papers-I-read": 435,  # 290 before the one year tag of each note was its year
    "pemami4911.github.io": 98,
    "rhizome": 529,
}


def _papers(collection: str) -> list[Paper]:
    root = needs_shared_data("real-notes", collection)
    return [r.paper for r in (parse_file(p) for p in iter_notes(root)) if r.paper]


@pytest.mark.parametrize("collection", sorted(FIELDS))
def test_fields_filled(collection: str) -> None:
    papers = _papers(collection)
    filled = sum(1 for p in papers for k in KNOWN if getattr(p, k) not in (None, (), ""))
    assert filled == FIELDS[collection]


def test_rhizome_inline_fields_titles_tags_and_attachments() -> None:
    papers = {p.id: p for p in _papers("rhizome")}
    assert not [p.id for p in papers.values() if p.title == "Notes"]  # 78 before
    beer = papers["@Beer2009"]
    assert beer.title == (
        "Power through the algorithm? Participatory web cultures and the technological unconscious"
    )
    assert (beer.authors, beer.year, beer.doi) == (
        ("Beer, David",),
        2009,
        "10.1177/1461444809336551",
    )
    assert beer.extra["Journal"] == "New Media & Society"
    assert papers["@saward2010"].title == "The Representative Claim"  # aliases[0]
    assert papers["@amoore2024"].authors == (
        "Louise Amoore",
        "Alexander Campolo",
        "Benjamin Jacobsen",
        "Ludovico Rella",
    )
    assert papers["@Foucault1980"].tags == ("Power (Social sciences)", "to read")
    counts = {k: sum(1 for p in papers.values() if getattr(p, k)) for k in ("authors", "year")}
    assert counts == {"authors": 72, "year": 75}  # 0 before
    assert sum(1 for p in papers.values() if p.abstract) == 34
    links = [t for p in papers.values() for t in p.links]
    assert links == ["Salman Rushdie", "Sanderson, Brandon"]  # 14 image embeds before


def test_literature_note_headings_give_authors_and_year() -> None:
    papers = {p.id: p for p in _papers("literature-notes")}
    ahrens = papers["ahrensHowTakeSmart2017"]
    assert (ahrens.title, ahrens.authors, ahrens.year) == (
        "How To Take Smart Notes",
        ("Sönke Ahrens",),
        2017,
    )
    assert papers["grahamKeepYourIdentity2009"].year == 2009
    assert all(p.authors for p in papers.values())
