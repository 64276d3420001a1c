"""Notes with very long lists (issue 12): 100,000 tags hung every command (each new tag was
compared with every one kept, 5 billion comparisons); the same for aliases, authors, topics.
1,200 aliases made ``show`` fail with SQLite's "Expression tree is too large" (one ``LIKE``
per alias in one query). Each command now answers in time linear in the note's size."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kbfactory import make_kb
from papernotes.note.parse import parse_bytes

N = 100_000
WORDS = [f"w{i}" for i in range(N)]
BOUND = 60  # seconds for a command on a loaded machine; 100,000 tags hung for hours


@pytest.mark.parametrize("key", ["tags", "aliases", "authors", "topics", "tag"])
@pytest.mark.parametrize("form", ["comma-separated", "list"])
def test_long_lists_parse_in_linear_time(key: str, form: str) -> None:
    # a YAML list may hold 100,000 values in all (frontmatter.MAX_VALUES): 99,000 of them
    words = WORDS if form == "comma-separated" else WORDS[:99_000]
    value = ", ".join([*words, *words[:10]])  # and some repeated: kept once
    front = f"{key}: {value}" if form == "comma-separated" else f"{key}: [{value}]"
    data = f"---\ntitle: Many\n{front}\n---\nBody.\n".encode()
    started = time.monotonic()
    result = parse_bytes(data, "many.md")
    elapsed = time.monotonic() - started
    assert result.paper is not None, result.diagnostics
    field = "tags" if key == "tag" else key
    assert getattr(result.paper, field) == tuple(words)
    assert elapsed < 10  # about 0.1 s; hours when quadratic


def test_a_list_given_under_two_keys_is_merged_in_linear_time() -> None:
    half = N // 2
    data = (
        f"---\ntitle: Many\ntags: {', '.join(WORDS[: half + 10])}\n"
        f"tag: {', '.join(WORDS[half:])}\n---\n"
    ).encode()
    started = time.monotonic()
    paper = parse_bytes(data, "many.md").paper
    assert time.monotonic() - started < 10
    assert paper is not None and paper.tags == tuple(WORDS)


def papernotes(notes: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, killed after BOUND seconds (a hang fails the test)."""
    return subprocess.run(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args],
        capture_output=True, text=True, timeout=BOUND, env={**os.environ, "PAGER": "cat"},
    )  # fmt: skip


def big_kb(tmp_path: Path) -> Path:
    """The knowledge base of the tests, with a note of 100,000 tags and 30,000 aliases,
    authors and topics (a quadratic step would take minutes on any of them; 1.5 MB), a note
    of 1,500 aliases in a list and a note that links to both."""
    notes = make_kb(tmp_path)
    lists = {"tags": ("t", N), "aliases": ("a", 30_000), "authors": ("p", 30_000),
             "topics": ("o", 30_000)}  # fmt: skip
    front = "".join(
        f"{key}: {', '.join(prefix + w for w in WORDS[:n])}\n" for key, (prefix, n) in lists.items()
    )
    (notes / "huge.md").write_text(f"---\ntitle: Huge Lists\n{front}---\nhugeword\n")
    aliases = ", ".join(f"alias {i}" for i in range(1500))
    (notes / "aliased.md").write_text(f"---\ntitle: Many Names\naliases: [{aliases}]\n---\nx\n")
    (notes / "linker.md").write_text(
        "---\ntitle: Linker\nrelated: [alias 1499]\n---\nSee [[aw29999]].\n"
    )
    return notes


COMMANDS = [
    ("list", "--format", "ids"),
    ("check",),
    ("search", "hugeword", "--format", "ids"),
    ("search", "tag:tw99999", "--format", "ids"),
    ("list", "--tag", "tw99999", "--format", "ids"),
    ("show", "huge", "--no-pager"),
    ("show", "aliased", "--no-pager"),
    ("show", "alias 1499", "--format", "json"),
    ("show", "aw29999", "--format", "json"),
    ("related", "huge"),
    ("related", "aliased"),
    ("tags",),
    ("authors", "--format", "csv"),
    ("stats",),
    ("export", "--format", "bibtex"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One knowledge base and index for the commands below (building it is the slow part)."""
    notes = big_kb(tmp_path_factory.mktemp("big"))
    started = time.monotonic()
    result = papernotes(notes, "index", "--rebuild")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < BOUND
    return notes


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_answers_with_huge_lists(built: Path, args: tuple[str, ...]) -> None:
    result = papernotes(built, *args)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr  # check finds the link to no note: 1
    assert "Expression tree" not in result.stderr


def test_backlinks_through_an_alias_among_1500(built: Path) -> None:
    shown = papernotes(built, "show", "aliased", "--no-pager")
    assert shown.returncode == 0, shown.stderr
    assert "Backlinks\n  linker  Linker\n" in shown.stdout
    shown = papernotes(built, "show", "huge", "--no-pager")
    assert "Backlinks\n  linker  Linker\n" in shown.stdout


# -- importers: the same lists in what is imported ----------------------------------------------
# BibTeX authors and keywords, a text note's authors, organisations and links, an arXiv API
# answer's categories, the notes of one import: each kept once by comparing every value with
# every one kept (10,000 took seconds, 100,000 minutes). Now each is linear.


def letters(number: int) -> str:
    """A word of letters for ``number`` (the importers drop the digits of footnote marks)."""
    word, number = "", number + 26**3
    while number:
        word, number = chr(97 + number % 26) + word, number // 26
    return word


NAMES = [f"Ann {letters(i).capitalize()}" for i in range(N)]


def test_a_bibtex_entry_with_100000_authors_and_keywords(tmp_path: Path) -> None:
    from papernotes.interop.importers.bibtex import read

    keywords = [letters(i) for i in range(N)]
    source = tmp_path / "many.bib"
    source.write_text(
        f"@article{{many, title={{Many}}, year={{2020}}, "
        f"author={{{' and '.join([*NAMES, *NAMES[:10]])}}}, "
        f"keywords={{{', '.join([*keywords, *keywords[:10]])}}}}}\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    paper = read(source, "many.bib").candidates[0].paper
    assert time.monotonic() - started < 20  # about 3 s; minutes when quadratic
    assert (paper.authors, paper.tags) == (tuple(NAMES), tuple(keywords))


def test_a_text_note_with_100000_authors_organisations_and_links(tmp_path: Path) -> None:
    from papernotes.interop.importers.text import read

    orgs = [f"Lab {letters(i).capitalize()}" for i in range(N)]
    authors = ", ".join([*NAMES, *NAMES[:10]]) + "  " + ", ".join([*orgs, *orgs[:10]])
    links = "".join(f"Code: https://example.org/{i} 18 Jan 2024 {orgs[i]}\n" for i in range(N))
    source = tmp_path / "notes.txt"
    source.write_text(
        f"Paper reading notes\nPapers\nFLAME : Factuality-Aware Alignment\nAuthors {authors}\n"
        f"{links}Code: https://example.org/0 18 Jan 2024\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    paper = read(source, "notes.txt").candidates[0].paper
    assert time.monotonic() - started < 20  # about 3 s; minutes when quadratic
    assert paper.authors == tuple(NAMES) and paper.org == ", ".join(orgs)
    assert paper.url == "https://example.org/0"
    assert paper.body.count("\n- https://example.org/") == N - 1  # the others, once each


def test_an_arxiv_answer_with_100000_categories() -> None:
    from papernotes.interop.arxiv import parse_feed

    terms = "".join(f'<category term="cs.{letters(i)}"/>' for i in range(N))
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        "<id>http://arxiv.org/abs/2401.00001v1</id><title>Many</title>"
        f'{terms}<category term="cs.{letters(0)}"/></entry></feed>'
    ).encode()
    started = time.monotonic()
    (paper,) = parse_feed(feed)
    assert time.monotonic() - started < 20
    assert paper.extra["categories"] == [f"cs.{letters(i)}" for i in range(N)]


def test_an_import_of_100000_papers_is_planned_in_linear_time(tmp_path: Path) -> None:
    from papernotes.interop.importers import plan_import
    from papernotes.note.model import Paper

    papers = [Paper(id=f"p{i}", title=f"On {NAMES[i]}", arxiv=f"2401.{i:05d}") for i in range(N)]
    started = time.monotonic()
    plan = plan_import(papers, tmp_path)
    assert time.monotonic() - started < BOUND  # about 12 s here; minutes when quadratic
    assert len(plan.actions) == N and {a.kind for a in plan.actions} == {"create"}
