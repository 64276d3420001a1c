"""The notes directory as an Obsidian vault: link resolution, front-matter conventions, tags."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from papernotes.cli import cli
from papernotes.disk.store import iter_notes, open_store
from papernotes.engine.kb import KnowledgeBase, open_kb
from papernotes.engine.links import link_key, match, resolve, wikilink
from papernotes.note.model import Paper
from papernotes.note.normalize import obsidian_tag
from papernotes.note.parse import parse_text

# (file, front matter): resolved through the index, as every command resolves links
VAULT = {
    "papers/direct-preference-optimization.md": "title: 'Direct Preference Optimization: Your "
    "Language Model is Secretly a Reward Model'\naliases: [DPO, Rafailov2023]",
    "kto.md": "title: 'KTO: Model Alignment as Prospect Theoretic Optimization'",
    # a note whose alias is another note's file name: the file name wins, as in Obsidian
    "dpo-notes.md": "title: My DPO notes\naliases: [kto]",
    "Sönke Ahrens.md": "title: How to Take Smart Notes",
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("vault")
    for name, meta in VAULT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"---\n{meta}\n---\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PAPERNOTES_INDEX", ":memory:")
        return open_kb(open_store(root))


@pytest.mark.parametrize(
    ("target", "paper_id", "kind"),
    [
        ("direct-preference-optimization", "direct-preference-optimization", "file"),
        ("Direct-Preference-Optimization", "direct-preference-optimization", "file"),
        ("direct-preference-optimization.md", "direct-preference-optimization", "file"),
        ("papers/direct-preference-optimization", "direct-preference-optimization", "file"),
        ("direct-preference-optimization#Method", "direct-preference-optimization", "file"),
        ("direct-preference-optimization#^a1b2c3", "direct-preference-optimization", "file"),
        ("direct-preference-optimization|the DPO paper", "direct-preference-optimization", "file"),
        ("[[direct-preference-optimization|DPO]]", "direct-preference-optimization", "file"),
        ("![[direct-preference-optimization]]", "direct-preference-optimization", "file"),
        ("  kto  ", "kto", "file"),
        ("[[kto]]", "kto", "file"),  # Obsidian writes links in properties as "[[kto]]"
        ("DPO", "direct-preference-optimization", "alias"),
        ("dpo", "direct-preference-optimization", "alias"),
        ("Rafailov2023", "direct-preference-optimization", "alias"),
        ("KTO: Model Alignment as Prospect Theoretic Optimization", "kto", "title"),
        (unicodedata.normalize("NFD", "Sönke Ahrens"), "Sönke Ahrens", "file"),
        ("sönke ahrens.md", "Sönke Ahrens", "file"),
        ("sonke ahrens", "Sönke Ahrens", "file"),  # accents ignored, as in every lookup
    ],
)
def test_links_resolve_like_obsidian(
    vault: KnowledgeBase, target: str, paper_id: str, kind: str
) -> None:
    found = match(vault, target)
    assert found is not None, target
    assert (found.id, found.kind) == (paper_id, kind)
    resolved = resolve(vault, target)
    assert resolved is not None and resolved.id == paper_id


@pytest.mark.parametrize("target", ["", "#Heading", "[[]]", "|label", "nowhere", "DPO paper"])
def test_links_to_nothing(vault: KnowledgeBase, target: str) -> None:
    assert resolve(vault, target) is None and match(vault, target) is None


def test_broken_notes_still_count_as_link_targets(tmp_path: Path) -> None:
    (tmp_path / "draft-with-errors.md").write_text("---\ntitle: [unclosed\n---\n", "utf-8")
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\n[[draft-with-errors|draft]]\n", "utf-8")
    checked = CliRunner().invoke(cli, ["--notes-dir", str(tmp_path), "check"])
    assert "points to no note" not in checked.output, checked.output


@pytest.mark.parametrize(
    ("target", "key"),
    [("[[Papers/DPO.md#Method|the DPO paper]]", "dpo"), ("a\\b", "b"), ("X^block", "x")],
)
def test_link_key(target: str, key: str) -> None:
    assert link_key(target) == key


def test_wikilink_uses_the_file_name_and_shows_the_label(vault: KnowledgeBase) -> None:
    dpo = vault.get("direct-preference-optimization")
    assert dpo is not None
    assert wikilink(dpo) == "[[direct-preference-optimization]]"
    assert wikilink(dpo, "DPO") == "[[direct-preference-optimization|DPO]]"
    assert wikilink(Paper(id="x", title="X")) == "[[x]]"
    found = resolve(vault, wikilink(dpo, "DPO"))
    assert found is not None and found.id == dpo.id


# -- front matter as Obsidian writes it ----------------------------------------------------------

OBSIDIAN_NOTE = """\
---
aliases:
  - DPO
tags:
  - alignment/preference
  - "#rlhf"
cssclasses:
  - wide
related:
  - "[[kto]]"
created: 2024-02-08T10:12
---
# Direct Preference Optimization

See [[kto|KTO]] and ![[figure.png]].
"""


def test_obsidian_note_parses() -> None:
    result = parse_text(OBSIDIAN_NOTE, "dpo.md")
    assert result.paper is not None, result.diagnostics
    paper = result.paper
    assert paper.title == "Direct Preference Optimization"  # from the heading, with a warning
    assert paper.aliases == ("DPO",)
    assert paper.tags == ("alignment/preference", "rlhf")
    assert paper.related == ("[[kto]]",)
    assert paper.extra["cssclasses"] == ["wide"]
    assert paper.links == ("kto",)  # ![[figure.png]] embeds an attachment, not a note


@pytest.mark.parametrize(
    ("front", "tags", "aliases"),
    [
        ("tags: alignment rlhf\naliases: DPO", ("alignment", "rlhf"), ("DPO",)),
        ("tags: '#alignment, #rlhf'", ("alignment", "rlhf"), ()),
        ("tag: alignment\nalias: DPO", ("alignment",), ("DPO",)),
        ("tags: [alignment, rlhf]\naliases: [DPO, Direct Preference]", ("alignment", "rlhf"),
         ("DPO", "Direct Preference")),
    ],
)  # fmt: skip
def test_obsidian_tag_and_alias_spellings(
    front: str, tags: tuple[str, ...], aliases: tuple[str, ...]
) -> None:
    result = parse_text(f"---\ntitle: T\n{front}\n---\n", "t.md")
    assert result.paper is not None, result.diagnostics
    assert (result.paper.tags, result.paper.aliases) == (tags, aliases)


@pytest.mark.parametrize(
    ("keyword", "tag"),
    [
        ("Computer Simulation", "computer-simulation"),
        ("Models, Statistical", "models-statistical"),
        ("#NLP", "nlp"),
        ("Astrophysics - Instrumentation and Methods", "astrophysics-instrumentation-and-methods"),
        ("machine_learning/deep", "machine_learning/deep"),
        ("Méthodes numériques", "méthodes-numériques"),
        ("C++", "c"),
        ("2020", None),
        ("  ", None),
        ("---", None),
    ],
)
def test_keywords_become_obsidian_tags(keyword: str, tag: str | None) -> None:
    assert obsidian_tag(keyword) == tag


def test_vault_folders_are_not_notes(tmp_path: Path) -> None:
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "workspace.md").write_text("---\ntitle: no\n---\n")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / "old.md").write_text("---\ntitle: no\n---\n")
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "kto.md").write_text("---\ntitle: KTO\n---\n")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_notes(tmp_path)] == ["papers/kto.md"]


def test_check_accepts_obsidian_links(tmp_path: Path) -> None:
    (tmp_path / "direct-preference-optimization.md").write_text(
        "---\ntitle: Direct Preference Optimization\naliases: [DPO]\n"
        'related: ["[[kto]]"]\n---\n'
        "See [[KTO|the KTO paper]], [[kto#Method]] and [[DPO]].\n"
    )
    (tmp_path / "kto.md").write_text(
        "---\ntitle: KTO\n---\nBack to [[direct-preference-optimization|DPO]].\n"
    )
    result = CliRunner().invoke(
        cli, ["--notes-dir", str(tmp_path), "check"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "points to no note" not in result.output


def test_imported_bibtex_notes_work_in_a_vault(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{Luhring2007, title = {{Autonomous Management of Soft Indexes}},"
        " author = {Luhring, Martin}, year = 2007,"
        " keywords = {Database Tuning, Indexes; Self-Management}}\n",
        encoding="utf-8",
    )
    notes = tmp_path / "notes"
    notes.mkdir()
    runner = CliRunner()
    result = runner.invoke(cli, ["--notes-dir", str(notes), "import", str(bib)])
    assert result.exit_code == 0, result.output
    (path,) = notes.glob("*.md")
    paper = parse_text(path.read_text(encoding="utf-8"), str(path)).paper
    assert paper is not None
    assert paper.tags == ("database-tuning", "indexes-self-management")
    assert paper.aliases == ("Luhring2007",)
    assert paper.extra["citekey"] == "Luhring2007"
    assert wikilink(paper, "Luhring2007") == f"[[{path.stem}|Luhring2007]]"
    (notes / "mine.md").write_text("---\ntitle: Mine\n---\nCites [[Luhring2007]].\n")
    check = runner.invoke(cli, ["--notes-dir", str(notes), "check"], catch_exceptions=False)
    assert check.exit_code == 0, check.output
