"""BibTeX/BibLaTeX -> papers: tricky entries, LaTeX -> Unicode, broken files, real exports."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from papernotes.interop.importers.bibtex import BibFile, parse_bibtex, read_bibtex
from papernotes.interop.latex import to_latex, to_unicode
from papernotes.note.model import Paper
from tests.conftest import SHARED_DATA

REAL_EXPORTS = {
    # file: (entries, skipped, warnings)
    "BU-DiSC_mendeley-library__library.bib": (2392, 0, 0),
    # 15 warnings: one eprint (1011.1669) on ten different books and chapters, one DOI on five
    "CoreySpohn_dissertation__library.bib": (332, 0, 15),
    "DarwinAwardWinner_Thesis__library.bib": (571, 1, 0),  # skipped: its @preamble
}


def one(source: str) -> Paper:
    result = parse_bibtex(source, "test.bib")
    assert not result.skipped, result.skipped
    assert len(result.entries) == 1, result.entries
    return result.entries[0].paper


# -- LaTeX -> Unicode -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"S{\"o}nke", "Sönke"),
        (r"Terr\'on-D\'\iaz", "Terrón-Díaz"),  # Mendeley: accent on \i glued to the next letters
        (r"Mar\'\ia", "María"),
        (r"Beno\^\it", "Benoît"),
        (r"D\'{\i}az", "Díaz"),
        (r"Na{\"\i}ve", "Naïve"),
        (r"A \& B", "A & B"),
        (r"{\"O}zsu", "Özsu"),
        (r"Gr\"{o}bner", "Gröbner"),
        (r"Fran\c{c}ois", "François"),
        (r"{\o}ystein", "øystein"),
        (r"Stra\ss{}e", "Straße"),
        (r"{\v S}kerl", "Škerl"),
        (r"Erd\H{o}s", "Erdős"),
        (r"\L{}ukasz", "Łukasz"),
        (r"The $\alpha$-helix", "The α-helix"),
        (r"H$_2$O", "H$_2$O"),  # math stays math
        (r"GPI's goal of \$10\^\{-7\}\$ contrast", "GPI's goal of $10^{-7}$ contrast"),  # Zotero
        (r"\$\textbackslash sim N\^2\$ for", r"$\sim N^2$ for"),
        (r"$x^2 + y_i$ and $\mathcal{O}(n)$", r"$x^2 + y_i$ and $\mathcal{O}(n)$"),
        (r"(1+$\epsilon$)-approximation", "(1+ϵ)-approximation"),  # a lone symbol: its character
        (r"\${$>\$$}90\textbackslash\%", r"$>$90\%"),
        (r"{$\Delta\lambda$} and x\^{}y", "Δλ and x^y"),
        (r"\^o and Na\^{\i}ve", "ô and Naîve"),
        (r"\textit{in vivo} and \emph{X}", "in vivo and X"),
        (r"{\em emphasis} \textbf{bold} \textsc{Bert}", "emphasis bold Bert"),
        (r"\texttt{code}", "code"),
        (r"pages 1--2 --- dash", "pages 1–2 — dash"),
        ("``quoted'' text", "“quoted” text"),
        (r"A~B", "A B"),
        (r"50\% of a\_b", "50% of a_b"),
        (r"50% raw & amp", "50% raw & amp"),  # BibTeX: % and & in a field are text
        (r"Passive {{Antifrosting Surfaces}}", "Passive Antifrosting Surfaces"),
        (r"{Gaussian Process} regression", "Gaussian Process regression"),
        (r"\url{http://x.org/a%20b}", "http://x.org/a%20b"),
        (r"\LaTeX\ and \TeX", "LaTeX and TeX"),
        (r"\CDBTune\ tuning", r"\CDBTune tuning"),  # an unknown command is kept, not lost
        (r"{unbalanced", "unbalanced"),
        ("back\\", "back"),
        ("  many\n  spaces  ", "many spaces"),
    ],
)
def test_to_unicode(latex: str, text: str) -> None:
    assert to_unicode(latex) == text


def test_to_unicode_keeps_paragraphs_when_asked() -> None:
    assert to_unicode("One\n  two.\n\n  Three.", paragraphs=True) == "One two.\n\nThree."


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("Sönke", r"S{\"o}nke"),
        ("Terrón-Díaz", r"Terr{\'o}n-D{\'\i}az"),
        ("A & B 50% $5 #1 a_b", r"A \& B 50\% \$5 \#1 a\_b"),
        ("{x}", r"\textbraceleft{}x\textbraceright{}"),
        ("~ ^ \\", r"\textasciitilde{} \textasciicircum{} \textbackslash{}"),
        ("α-helix", r"{$\alpha$}-helix"),
        ("中文 – “q”", "中文 – “q”"),
        ("a--b", "a-{}-b"),
    ],
)  # fmt: skip
def test_to_latex(text: str, latex: str) -> None:
    assert to_latex(text) == latex


@settings(max_examples=examples(300), deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")), max_size=30))
def test_to_latex_reads_back(text: str) -> None:
    """Whatever the text, escaping it and reading it back gives it again (spaces aside)."""
    assert to_unicode(to_latex(text)) == " ".join(text.split())


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=200))
def test_to_unicode_never_raises(text: str) -> None:
    assert isinstance(to_unicode(text), str)


# -- entries -> papers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "@article{k, title = {{Autonomous Management of Soft Indexes}}, year = 2007}",
            {"title": "Autonomous Management of Soft Indexes", "year": 2007},
            id="outer-braces",
        ),
        pytest.param(
            "@article{k, title = {Passive {{Antifrosting Surfaces}} Using {IR}}}",
            {"title": "Passive Antifrosting Surfaces Using IR"},
            id="case-protection",
        ),
        pytest.param(
            '@article{k, title = "Quoted {T}itle"}',
            {"title": "Quoted Title"},
            id="quoted-value",
        ),
        pytest.param(
            r"@book{k, title = {T}, author = {Ahrens, S{\"o}nke}}",
            {"authors": ("Sönke Ahrens",)},
            id="accent-in-author",
        ),
        pytest.param(
            r"@article{k, title = {T}, author = {Terrón-D\'\iaz, Mar\'\ia E and Reitz, Beno\^\it}}",
            {"authors": ("María E Terrón-Díaz", "Benoît Reitz")},
            id="mendeley-dotless-i",
        ),
        pytest.param(
            "@misc{k, title = {T}, author = {Aigrain, Suzanne and {Foreman-Mackey}, Daniel}}",
            {"authors": ("Suzanne Aigrain", "Daniel Foreman-Mackey")},
            id="braced-last-name",
        ),
        pytest.param(
            "@misc{k, title = {T}, author = {{World Health Organization} and Rafael Rafailov}}",
            {"authors": ("World Health Organization", "Rafael Rafailov")},
            id="organisation-and-first-last",
        ),
        pytest.param(
            "@misc{k, title = {T}, author = {von Neumann, Jr., John and de la Fontaine, Jean}}",
            {"authors": ("John von Neumann Jr.", "Jean de la Fontaine")},
            id="von-and-jr",
        ),
        pytest.param(
            "@misc{k, title = {T}, author = {Doe, Jane and others}}",
            {"authors": ("Jane Doe",), "bibtex.others": "author"},
            id="and-others",
        ),
        pytest.param(
            "@article{k, title = {T}, date = {2009-01}, journaltitle = {BMC bioinformatics}}",
            {"year": 2009, "published": "2009-01", "venue": "BMC bioinformatics"},
            id="biblatex-date-journaltitle",
        ),
        pytest.param(
            "@article{k, title = {T}, date = {2014-05-15/2014-05-20}}",
            {"year": 2014, "published": "2014-05-15"},
            id="biblatex-date-range",
        ),
        pytest.param(
            "@article{k, title = {T}, year = {2018}, month = sep}",
            {"year": 2018, "published": "2018-09"},
            id="month-macro",
        ),
        pytest.param(
            "@article{k, title = {T}, year = {2015a}}",
            {"year": 2015},
            id="year-with-letter",
        ),
        pytest.param(
            "@inproceedings{k, title = {T}, booktitle = {Proceedings of the {IEEE} ICDE}}",
            {"venue": "Proceedings of the IEEE ICDE"},
            id="booktitle",
        ),
        pytest.param(
            r"@article{k, title = {T}, journal = {ACS Applied Materials \& Interfaces}}",
            {"venue": "ACS Applied Materials & Interfaces"},
            id="escaped-ampersand",
        ),
        pytest.param(
            "@misc{k, title = {T}, eprint = {2305.18290}, archivePrefix = {arXiv},"
            " primaryClass = {cs.LG}}",
            {"arxiv": "2305.18290", "extra.categories": ["cs.LG"]},
            id="eprint-archiveprefix",
        ),
        pytest.param(
            "@article{k, title = {T}, eprint = {1011.1669v3}, eprinttype = {arxiv}}",
            {"arxiv": "1011.1669"},
            id="eprint-eprinttype-version",
        ),
        pytest.param(
            "@article{k, title = {T}, eprint = {astro-ph/0503077}, archiveprefix = {arxiv}}",
            {"arxiv": "astro-ph/0503077"},
            id="old-style-eprint",
        ),
        pytest.param(
            "@article{k, title = {T}, eprint = {19192285}, eprinttype = {pmid}}",
            {"arxiv": None, "bibtex.eprint": None},
            id="pubmed-eprint-is-not-arxiv",
        ),
        pytest.param(
            "@misc{k, title = {T}, journal = {arXiv e-prints}, doi = {10.48550/arXiv.2209.08940}}",
            {"arxiv": "2209.08940", "doi": "10.48550/arXiv.2209.08940", "venue": None},
            id="arxiv-doi",
        ),
        pytest.param(
            "@misc{k, title = {T}, url = {https://arxiv.org/pdf/2305.18290v2.pdf}}",
            {"arxiv": "2305.18290", "url": "https://arxiv.org/pdf/2305.18290v2.pdf"},
            id="arxiv-url",
        ),
        pytest.param(
            "@article{k, title = {T}, journal = {arXiv preprint arXiv:2307.09288}}",
            {"arxiv": "2307.09288", "venue": None},
            id="google-scholar-arxiv-journal",
        ),
        pytest.param(
            "@article{k, title = {T}, doi = {http://dx.doi.org/10.1116/1.3301579}}",
            {"doi": "10.1116/1.3301579"},
            id="doi-url",
        ),
        pytest.param(
            "@article{k, title = {T}, doi = {10/dvzd5z}}",
            {"doi": "10/dvzd5z"},
            id="short-doi",
        ),
        pytest.param(
            "@article{k, title = {T}, doi = {N/A}}",
            {"doi": None},
            id="doi-placeholder",
        ),
        pytest.param(
            "@article{k, title = {T}, url = {http://a.org/x http://b.org/y}}",
            {"url": "http://a.org/x", "bibtex.url": "http://a.org/x http://b.org/y"},
            id="several-urls",
        ),
        pytest.param(
            "@article{k, title = {T}, keywords = {Algorithms,Computer Simulation,Models; "
            "Statistical}}",
            {"tags": ("algorithms", "computer-simulation", "models-statistical")},
            id="zotero-keywords",
        ),
        pytest.param(
            "@article{k, title = {T}, keywords = {deep learning; #NLP; 2020}}",
            {"tags": ("deep-learning", "nlp")},
            id="semicolon-keywords",
        ),
        pytest.param(
            "@article{Luhring2007, title = {T}}",
            {"aliases": ("Luhring2007",), "extra.citekey": "Luhring2007", "bibtex.type": "article"},
            id="citation-key",
        ),
        pytest.param(
            "@article{k, title = {T}, abstract = {First {para}.\n\n  Second $\\beta$.}}",
            {"body": "## Abstract\n\nFirst para.\n\nSecond β.\n"},
            id="abstract-into-body",
        ),
        pytest.param(
            "@article{k, title = {T}, pages = {32874--32884}, volume = {10}, file = {/a b.pdf}}",
            {"bibtex.pages": "32874--32884", "bibtex.volume": "10", "bibtex.file": "/a b.pdf"},
            id="other-fields-kept-verbatim",
        ),
        pytest.param(
            '@string{pami = "IEEE Trans. PAMI"}\n@article{k, title = {T}, journal = pami # " 2"}',
            {"venue": "IEEE Trans. PAMI 2"},
            id="string-macro-concatenation",
        ),
        pytest.param(
            "@ARTICLE{k, TITLE = {Upper}, AUTHOR = {Doe, J.}}",
            {"title": "Upper", "authors": ("J. Doe",), "bibtex.type": "article"},
            id="upper-case-names",
        ),
        pytest.param(
            "@article(k, title = {Parentheses})",
            {"title": "Parentheses"},
            id="parenthesised-entry",
        ),
    ],
)
def test_entry(source: str, expected: dict[str, Any]) -> None:
    paper = one(source)
    for name, value in expected.items():
        if name.startswith("extra."):
            assert paper.extra.get(name.removeprefix("extra.")) == value, name
        elif name.startswith("bibtex."):
            assert paper.extra["bibtex"].get(name.removeprefix("bibtex.")) == value, name
        else:
            assert getattr(paper, name) == value, name


def test_entry_line_numbers() -> None:
    result = parse_bibtex("% comment\n\n@article{a, title={A}}\n@misc{b,\n title={B}}\n", "x.bib")
    assert [(e.key, e.line) for e in result.entries] == [("a", 3), ("b", 4)]


@pytest.mark.parametrize(
    ("source", "skipped", "warnings", "keys"),
    [
        pytest.param(
            "@article{a, author = {X}}", ["line 1: @article{a}: no title"], [], [], id="no-title"
        ),
        pytest.param(
            "@article{a, title = {{}}}", ["line 1: @article{a}: empty title"], [], [], id="empty"
        ),
        pytest.param(
            "@article{a, title={A}}\n@article{a, title={B}}",
            ["line 2: a: citation key already used above; this entry is skipped"],
            [],
            ["a"],
            id="repeated-key",
        ),
        pytest.param(
            "@article{a, title={A}, title={B}}",
            [],
            ["line 1: a: field 'title' given twice; the first value is kept"],
            ["a"],
            id="repeated-field",
        ),
        pytest.param(
            "@article{a, title={A}, journal = undefined}",
            [],
            ["line 1: @string: undefined @string macro 'undefined'; left empty"],
            ["a"],
            id="undefined-macro",
        ),
        pytest.param(
            '@preamble{ "\\newcommand{\\x}{y}" }\n@article{a, title={A}}',
            ["line 1: @preamble: LaTeX set-up, not a reference"],
            [],
            ["a"],
            id="preamble",
        ),
        pytest.param(
            "@comment{jabref-meta: x}\n% a comment\nfree text\n@article{a, title={A}}",
            [],
            [],
            ["a"],
            id="comments",
        ),
        pytest.param(
            "@article{a, title={A}, year = 2020\n@article{b, title={B}}",
            [],
            ["syntax error"],
            None,
            id="unclosed-entry",
        ),
        pytest.param("", [], [], [], id="empty-file"),
        pytest.param("not bibtex at all", [], [], [], id="plain-text"),
    ],
)
def test_problems(
    source: str, skipped: list[str], warnings: list[str], keys: list[str] | None
) -> None:
    result = parse_bibtex(source, "x.bib")
    assert [str(s) for s in result.skipped] == skipped
    if warnings == ["syntax error"]:
        assert result.warnings and all(w.what == "syntax error" for w in result.warnings)
    else:
        assert [str(w) for w in result.warnings] == warnings
    if keys is not None:
        assert [e.key for e in result.entries] == keys


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["@", "article", "{", "}", "(", ")", ",", "=", '"', "#", "key", "title", " ", "\n",
             "\\", "%", "@string", "@preamble", "@comment", "é", "{\\\"o}", "and", "$"]
        ),
        max_size=60,
    ).map("".join)
)  # fmt: skip
def test_near_miss_bibtex_never_raises(source: str) -> None:
    result = parse_bibtex(source, "fuzz.bib")
    assert isinstance(result, BibFile)


def test_deep_nesting_is_reported_not_raised() -> None:
    source = "@article{a, title = " + "{" * 5000 + "x" + "}" * 5000 + "}"
    result = parse_bibtex(source, "deep.bib")
    assert isinstance(result, BibFile)


def test_read_bibtex_reads_latin1_files_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.bib"
    path.write_bytes("@article{a,\n title = {Caf\xe9 \u2013 bar}}".encode("cp1252"))
    result = read_bibtex(path)
    assert [e.paper.title for e in result.entries] == ["Caf\xe9 \u2013 bar"]
    assert [str(w) for w in result.warnings] == [
        "line 2: encoding: not UTF-8 (byte 0xe9); read as Windows-1252"
    ]


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.bib"
    path.write_bytes(b"@article{k, title = {" + data + b"}}\n" + data)
    assert isinstance(read_bibtex(path), BibFile)


# -- the real exports -----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(REAL_EXPORTS))
def real_export(request: pytest.FixtureRequest) -> tuple[str, BibFile]:
    path = SHARED_DATA / "bibtex" / request.param
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return request.param, read_bibtex(path)


def test_real_export_reads_every_entry(real_export: tuple[str, BibFile]) -> None:
    name, result = real_export
    entries, skipped, warnings = REAL_EXPORTS[name]
    assert len(result.entries) == entries
    assert len(result.skipped) == skipped
    assert len(result.warnings) == warnings
    assert all("also given to entries with other titles" in str(w) for w in result.warnings)
    assert all(e.paper.title and "{" not in e.paper.title for e in result.entries)


def test_real_export_decodes_latex_in_names(real_export: tuple[str, BibFile]) -> None:
    name, result = real_export
    authors = Counter(a for e in result.entries for a in e.paper.authors)
    leftovers = [a for a in authors if "\\" in a or "{" in a]
    assert leftovers == []
    if name.startswith("BU-DiSC"):
        assert "Mar\u00eda E Terr\u00f3n-D\u00edaz" in authors
        assert "Beno\u00eet Dageville" in authors
    if name.startswith("CoreySpohn"):
        assert "S\u00f6nke Ahrens" in authors
        assert "Daniel Foreman-Mackey" in authors


def test_an_id_on_entries_with_three_titles_is_left_out() -> None:
    source = "\n".join(
        f"@book{{k{i}, title = {{Book {i}}}, eprint = {{1011.1669v3}}, archiveprefix = {{arxiv}}}}"
        for i in range(3)
    )
    result = parse_bibtex(source + "\n@misc{x, title = {Other}, eprint = {2305.18290}}", "x.bib")
    assert [e.paper.arxiv for e in result.entries] == [None, None, None, "2305.18290"]
    assert [w.line for w in result.warnings] == [1, 2, 3]


def test_an_id_on_two_titles_is_kept_one_paper_renamed() -> None:
    source = (
        "@article{a, title = {Photometric Completeness}, eprint = {astro-ph/0503077},"
        " archiveprefix = {arxiv}}\n"
        "@article{b, title = {Single-Visit Photometric Completeness},"
        " eprint = {astro-ph/0503077}, archiveprefix = {arxiv}}"
    )
    result = parse_bibtex(source, "x.bib")
    assert [e.paper.arxiv for e in result.entries] == ["astro-ph/0503077"] * 2
    assert result.warnings == []


def test_import_cli_reports_created_merged_and_skipped(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from papernotes.cli import cli

    bib = tmp_path / "refs.bib"
    bib.write_text(
        '@preamble{"\\\\newcommand{\\\\x}{y}"}\n'
        "@article{Rafailov2023, title = {{Direct Preference Optimization}},"
        " author = {Rafailov, Rafael}, eprint = {2305.18290}, archivePrefix = {arXiv}}\n"
        "@misc{dpo-again, title = {Direct preference optimization}, author = {Rafailov, R.}}\n"
        "@misc{web1, title = {Online reference}, author = {Greenplum}}\n"
        "@misc{web2, title = {Online reference}, author = {SQLite4}}\n"
        "@misc{none, author = {Nobody}}\n",
        encoding="utf-8",
    )
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "dpo.md").write_text("---\ntitle: DPO\narxiv: '2305.18290'\n---\nMine.\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["--notes-dir", str(notes), "import", str(bib)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "4 papers in 1 file: 2 notes created, 1 merged, 0 unchanged; 2 lines skipped"
    )
    assert sorted(p.name for p in notes.glob("*.md")) == [
        "dpo.md",
        "online-reference-2.md",
        "online-reference.md",
    ]
    merged = (notes / "dpo.md").read_text()
    assert "Mine." in merged and "Rafael Rafailov" in merged and "Rafailov2023" in merged
    again = runner.invoke(cli, ["--notes-dir", str(notes), "import", str(bib)])
    assert again.stdout.splitlines()[-1] == (
        "4 papers in 1 file: 0 notes created, 0 merged, 3 unchanged; 2 lines skipped"
    )
