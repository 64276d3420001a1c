"""Fuzzing (issue 8): the parser and the importers get arbitrary bytes and structured near-misses.
Besides the errors they report, they raise nothing; and whatever they accept can be stored,
printed, indexed and written as a note that parses again, inside the notes directory.

The numbers of cases (``max_examples``) are summed in docs/reliability.md."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rich.console import Console

from conftest import examples
from papernotes.disk.store import Store
from papernotes.disk.write import _RESERVED, inside, slugify
from papernotes.engine.index import load
from papernotes.engine.kb import KnowledgeBase
from papernotes.engine.related import Connections
from papernotes.errors import NoteError
from papernotes.interop.importers import apply_plan, candidates_of, plan_import, read_source
from papernotes.note.dump import dump
from papernotes.note.parse import parse_bytes, parse_note, parse_text
from papernotes.render.paper import plain_lines, print_to

# examples per test; the sum is the "cases fuzzed" of docs/reliability.md
PARSER_BYTES = 1000
PARSER_NEAR_MISS = 800
INDEX_FILES = 100
TEXT_BYTES = 300
TEXT_PIPELINE = 100
BIBTEX_NEAR_MISS = 300
BIBTEX_PIPELINE = 100
SLUGS = 500


def fuzz(count: int) -> settings:
    return settings(
        max_examples=examples(count),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# -- structured near-misses of notes ---------------------------------------------------------

# values that load (some of them wrong for their key), and values that break the YAML
_VALUES = [
    "Direct Preference Optimization", "'quoted: colon'", '"esc \\x1b[2J \\u202e"', "2305.18290",
    "arXiv:2305.18290v2", "2023", "twenty", "2023-08-02 16:03:30 +0800", "2024-13", "~", "null",
    "[a, b]", "{a: 1}", "[[[[x]]]]", "&a [lol, lol]", "*a", "!!binary aGVsbG8=", "[bold]x[/bold]",
    "!!timestamp 2001-12-14", "!!set {a, b}", "|\n  block\n  text", ">-\n  folded", "1e400",
    ".nan", "-.inf", "0x1F", "…", "a, b and c", "5", "6", "to-read", "read", "[[wiki]]", "#hash",
    "\n  - x\n  - y", "https://arxiv.org/abs/2305.18290", "10.1145/3292500.3330701", "",
]  # fmt: skip
_BREAKING = [
    "*undefined", "!!python/object/apply:os.system ['true']", "- item", "\t tab", "? complex",
    "x: y: z", "'unclosed", "[unclosed", "\x00", "\ufeff", "\r", "\x1b", "{a: 1, a: 2}",
]  # fmt: skip
_KEYS = [
    "title", "id", "aliases", "alias", "authors", "author", "year", "published", "read", "added",
    "arxiv", "doi", "url", "venue", "org", "topics", "tags", "tag", "status", "rating", "related",
    "abstract", "autors", "Title", "x", "<<", "custom", "'quoted key'", "1", "true",
]  # fmt: skip
_BROKEN_KEYS = ["? k", "- ", "&k title", "*k", "'': ", "[k]", "{k}"]
_BODIES = [
    "", "# Heading\n", "---\n", "...\n", "+++\n", "[[dpo]] and [[x|label]]\n", "[[\n", "```\n",
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n", "## Notes\n- a\n", "*" * 50 + "\n", "\r\n",
]  # fmt: skip


_PRINTABLE = st.characters(exclude_categories=("Cc", "Cs"))


def _often(common: list[str], rare: list[str]) -> st.SearchStrategy[str]:
    """Mostly one of ``common``, sometimes one of ``rare`` or any text."""
    return st.integers(0, 19).flatmap(
        lambda n: (
            st.sampled_from(common)
            if n < 16 or not rare
            else st.sampled_from(rare)
            if n < 19
            else st.text(max_size=20)
        )
    )


def _rarely(usual: str, *others: str) -> st.SearchStrategy[str]:
    """``usual`` nine times in ten, else one of ``others``."""
    return st.integers(0, 9).flatmap(lambda n: st.just(usual) if n else st.sampled_from(others))


@st.composite
def near_miss_notes(draw: st.DrawFn) -> bytes:
    """A note as people (and broken tools) write them: mostly valid, with a few wrong values,
    bad fences, broken YAML, control characters, CRLF, a BOM, or cut short mid-write."""
    opener = draw(_rarely("---", "--- ", "+++", "---\t", "", "\ufeff---"))
    closer = draw(_rarely("---", "...", "+++", "--- ", ""))
    sep = " = " if opener == "+++" else draw(_rarely(": ", ":", ":\t", " : "))
    pairs = draw(
        st.lists(
            st.tuples(
                _often(_KEYS, _BROKEN_KEYS),
                _often(_VALUES, _BREAKING),
                _rarely("", "  ", "\t", "- "),
            ),
            max_size=8,
        )
    )
    if draw(st.integers(0, 4)):  # four times in five, a title somewhere
        title = draw(st.sampled_from(_VALUES[:5]) | st.text(_PRINTABLE, min_size=1, max_size=20))
        pairs.insert(draw(st.integers(0, len(pairs))), ("title", title, ""))
    meta = "\n".join(f"{indent}{key}{sep}{value}" for key, value, indent in pairs)
    pieces = st.sampled_from(_BODIES) | st.text(_PRINTABLE, max_size=40) | st.text(max_size=5)
    body = "".join(draw(st.lists(pieces, max_size=4)))
    text = f"{opener}\n{meta}\n{closer}\n{body}" if opener else f"{meta}\n{body}"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)):
        return data
    return data[: draw(st.integers(0, len(data)))]  # cut short mid-write


def accepted_everywhere(data: bytes, name: str = "fuzz.md") -> None:
    """Parse ``data``: a ParseResult, never an exception; a paper it gives can be serialised,
    printed (plain and rich) and written back as a note that parses again."""
    result = parse_bytes(data, name, stem="fuzz")
    assert (result.paper is None) == bool(result.errors)
    assert all(d.path == name and d.line >= 1 for d in result.diagnostics)
    try:
        parse_note(name, data)
    except NoteError as exc:
        assert exc.diagnostics
    paper = result.paper
    event("a paper" if paper else re.sub(r"'.*|\d+", "", result.errors[0].message)[:50])
    if paper is None:
        return
    assert paper.title.strip()
    json.dumps(paper.to_dict(), ensure_ascii=False, allow_nan=False)
    conn = Connections((), (), ())
    plain = "\n".join(plain_lines(paper, conn, name))
    assert "\x1b" not in plain and "\u202e" not in plain
    con = Console(file=io.StringIO(), width=80, no_color=True, emoji=False, highlight=False)
    print_to(con, paper, conn, name)
    again = parse_text(dump(paper), name, stem="fuzz")
    assert again.paper is not None, again.errors


@fuzz(PARSER_BYTES)
@given(
    st.binary(max_size=3000)
    | st.text(max_size=3000).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_parser_on_arbitrary_bytes(data: bytes) -> None:
    accepted_everywhere(data)


@fuzz(PARSER_NEAR_MISS)
@given(near_miss_notes())
def test_parser_on_near_miss_notes(data: bytes) -> None:
    accepted_everywhere(data)


@fuzz(INDEX_FILES)
@given(st.lists(near_miss_notes() | st.binary(max_size=300), min_size=1, max_size=6))
def test_the_index_takes_any_files(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, files: list[bytes]
) -> None:
    """Every file is indexed or counted as skipped; the build never fails; a search answers."""
    monkeypatch.setenv("PAPERNOTES_INDEX", ":memory:")
    root = tmp_path_factory.mktemp("notes")
    for number, data in enumerate(files):
        (root / f"n{number}.md").write_bytes(data)
    index = load(Store(root.resolve()))
    try:
        assert index.count() + index.skipped() == len(files)
        assert len(KnowledgeBase(index.store, index).papers()) == index.count()
    finally:
        index.close()


# -- the importers -----------------------------------------------------------------------------

_TEXT_LINES = [
    "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
    "Authors Rafael Rafailov1∗, Archit Sharma and Chelsea Finn2†", "Authors:", "Abstract",
    "Abstract We propose " + "a very long abstract " * 12, "Arxiv: https://arxiv.org/abs/2305.18290",
    "Arxiv: https://arxiv.org/abs/../../etc/passwd 18 Jan 2024 Meta", "read on: - 08 Feb 2024",
    "read on: -", "Required Readings:", "- https://arxiv.org/pdf/2402.01306v2.pdf", "-", "* ",
    "[DPO] Direct Preference Optimization🔗", "[../../x] CON", "DPO Direct Preference Optimization",
    "# CON", "---", "title: injected", "\x1b[2J\x1b]8;;http://x\x1b\\", "\u202e", "", "   ", "\t",
    "https://", "<https://example.org>", "x" * 300,
]  # fmt: skip


def _imported_notes_parse(source_path: Path, root: Path) -> None:
    """Import ``source_path`` into ``root``: the plan and the writes raise nothing, every note
    written parses, and nothing is written outside ``root``."""
    root.mkdir()
    sources = [read_source(source_path, source_path.name)]
    plan = plan_import(candidates_of(sources), root)
    report = apply_plan(plan)
    assert not report.refused
    event(f"notes written: {min(len(report.written), 3)}")
    written = sorted(root.rglob("*"))
    assert len(written) == len(report.written)
    for path in written:
        assert inside(root, path) and path.suffix == ".md"
        result = parse_bytes(path.read_bytes(), path.name, stem=path.stem)
        assert result.paper is not None, result.errors
    outside = sorted(p.name for p in source_path.parent.iterdir())
    assert outside == sorted([source_path.name, root.name])


@fuzz(TEXT_BYTES)
@given(st.binary(max_size=2000))
def test_text_importer_on_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "notes.txt"
    path.write_bytes(data)
    source = read_source(path, "notes.txt")
    assert all(d.path == "notes.txt" and d.line >= 1 for d in source.diagnostics)
    for candidate in source.candidates:
        assert candidate.paper.title.strip()
        assert parse_text(dump(candidate.paper), "x.md").paper is not None


@fuzz(TEXT_PIPELINE)
@given(st.lists(st.sampled_from(_TEXT_LINES) | st.text(max_size=60), max_size=20))
def test_text_import_writes_only_notes_that_parse(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "reading.txt"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    _imported_notes_parse(path, folder / "notes")


_BIB_PIECES = [
    "@article{", "@inproceedings(", "@misc{key,", "@string{a = \"x\"}", "@preamble{", "@comment{",
    "key,", "../../key,", "CON,", "title = {", "title = \"", "author = {", "year = 2023,",
    "year = {twenty},", "eprint = {2305.18290},", "archiveprefix = {arXiv},", "doi = {10.1/x},",
    "url = {javascript:alert(1)},", "keywords = {a, b; c},", "abstract = {", "month = feb,",
    "journal = {J},", "}", "},", "\",", "#", "a # b", "{\\\"o}", "\\textbf{x}", "$x^2$", "%", "\n",
    " and ", "Last, First", "{Org Name}", "\x1b[2J", "\u202e", "=", ",", "é", "---\ntitle: x\n",
]  # fmt: skip


@fuzz(BIBTEX_NEAR_MISS)
@given(st.lists(st.sampled_from(_BIB_PIECES) | st.text(max_size=15), max_size=40).map("".join))
def test_bibtex_importer_on_near_miss_files(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "refs.bib"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    source = read_source(path, "refs.bib")
    assert all(d.path == "refs.bib" and d.line >= 1 for d in source.diagnostics)
    for candidate in source.candidates:
        assert candidate.paper.title.strip()
        assert parse_text(dump(candidate.paper), "x.md").paper is not None


_ENTRY = st.builds(
    "@{}{{{},\n  title = {{{}}},\n  author = {{{}}},\n  year = {{{}}},\n  {} = {{{}}}\n}}\n".format,
    st.sampled_from(["article", "misc", "inproceedings", "book"]),
    st.sampled_from(["k1", "../../k", "CON", "a b", "k1"]),
    st.sampled_from(["A Title", "../../etc/passwd", "CON", "\\{\\}", "Nul: a paper", "…"])
    | st.text(max_size=30),
    st.sampled_from(["Doe, Jane and Roe, R.", "{The Org}", "", "and"]) | st.text(max_size=20),
    st.sampled_from(["2023", "twenty", "", "99999"]),
    st.sampled_from(["eprint", "doi", "url", "keywords", "abstract", "note", "file"]),
    st.sampled_from(["2305.18290", "10.1/x", "http://x\x1b[2J", "a; b", "C:\\x.pdf"])
    | st.text(max_size=20),
)


@fuzz(BIBTEX_PIPELINE)
@given(st.lists(_ENTRY, max_size=6).map("".join))
def test_bibtex_import_writes_only_notes_that_parse(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "refs.bib"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _imported_notes_parse(path, folder / "notes")


# -- file names --------------------------------------------------------------------------------

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@fuzz(SLUGS)
@given(st.text(max_size=120) | st.sampled_from(["..", "../..", "CON", "con.md", "LPT9", "/", "\\"]))
def test_any_title_gives_a_safe_file_name(
    tmp_path_factory: pytest.TempPathFactory, title: str
) -> None:
    slug = slugify(title)
    assert _SLUG.match(slug) and len(slug) <= 60
    assert slug not in _RESERVED
    root = tmp_path_factory.getbasetemp()
    assert inside(root, root / f"{slug}.md")


def test_cases_fuzzed() -> None:
    """The total quoted in docs/reliability.md."""
    total = (
        PARSER_BYTES + PARSER_NEAR_MISS + INDEX_FILES + TEXT_BYTES + TEXT_PIPELINE
        + BIBTEX_NEAR_MISS + BIBTEX_PIPELINE + SLUGS
    )  # fmt: skip
    doc = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
    assert f"| **Total** | **{total:,}** |" in doc.read_text(encoding="utf-8")
