"""Every file of the five real note collections in ../shared/data/real-notes gives a Paper or
errors naming the file and line; the known-bad files are reported at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest

from papernotes.parse import parse_file
from papernotes.store import iter_notes
from tests.conftest import needs_shared_data

# collection -> (notes, notes with errors) as measured with `papernotes --notes-dir DIR check`
EXPECTED = {
    "literature-notes": (20, 1),
    "maomaocv.github.io": (83, 0),
    "papers-I-read": (145, 0),
    "pemami4911.github.io": (49, 2),
    "rhizome": (115, 2),
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
            "pemami4911.github.io/paper-summaries/deep-RL/_posts/"
            "2016-01-26-prioritizing-experience-replay.markdown",
            3,
            "TAB character in YAML front matter (use spaces)",
        ),
        (
            "pemami4911.github.io/paper-summaries/deep-RL/_posts/"
            "2016-10-08-unifying-count-based-exploration-and-intrinsic-motivation.markdown",
            3,
            "TAB character in YAML front matter (use spaces)",
        ),
        (
            "literature-notes/hagelinOpticalTurbulenceInfluence.md",
            4,
            "invalid TOML front matter: Invalid value",
        ),
    ],
)
def test_known_bad_files(relative: str, line: int, message: str) -> None:
    path = needs_shared_data("real-notes", *Path(relative).parts)
    result = parse_file(path, relative)
    assert [(d.line, d.severity, d.message) for d in result.diagnostics] == [
        (line, "error", message)
    ]


def test_maomao_offset_datetimes_and_null_tags() -> None:
    root = needs_shared_data("real-notes", "maomaocv.github.io")
    papers = [r.paper for r in (parse_file(p) for p in iter_notes(root)) if r.paper]
    dated = [p for p in papers if "date" in p.extra]
    assert dated and all(isinstance(p.extra["date"], str) for p in dated)
