"""Every query of the README's query-language table finds notes among the shipped notes
(issue 14: ``author:rafailov``, ``tag:rlhf``, ``status:read``, ``venue:neurips``,
``rating:>=4`` and ``id:dpo`` found nothing there), and a snippet never shows the seed file
names of a note's ``## Source`` list."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import ROOT, SHIPPED_NOTES
from papernotes.cli import cli

# The fields of the query language; a query on another key (``paper_ref:baker``) is an
# example of a user's own key, which the shipped notes do not have.
FIELDS = (
    *("title", "author", "topic", "tag", "alias", "venue", "org", "abstract", "body"),
    *("status", "arxiv", "doi", "id", "year", "rating", "read", "published", "added"),
)


def readme_queries() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("The query language", 1)[1].split("Operators are upper case", 1)[0]
    rows = [row.split(" | ")[0] for row in table.splitlines() if row.startswith("| `")]
    queries = [q for row in rows for q in re.findall(r"`([^`]+)`", row)]
    field = re.compile(r"-?([A-Za-z_]+):")
    return [q for q in queries if not (m := field.match(q)) or m[1].lower() in FIELDS]


def search(*args: str) -> list[str]:
    result = CliRunner().invoke(
        cli, ["--notes-dir", str(SHIPPED_NOTES), "search", *args], catch_exceptions=False
    )
    assert result.exit_code in (0, 1), result.output
    return result.stdout.splitlines()


def test_the_table_has_the_examples_of_the_issue() -> None:
    queries = readme_queries()
    assert len(queries) >= 30
    assert {"status:read", "tag:alignment", "author:oguz", "id:flame"} <= set(queries)


@pytest.mark.parametrize("query", readme_queries())
def test_each_readme_query_finds_a_shipped_note(query: str) -> None:
    assert search(query, "--format", "ids", "--lexical"), query


def test_a_read_date_without_a_status_is_read() -> None:
    """16 shipped notes have a read date and no status: status:read finds them all."""
    assert len(search("status:read", "--format", "ids", "--limit", "100")) == 16


@pytest.mark.parametrize("query", ["basicllm", "readings", "pretraining fine-tuning", "mar 12"])
def test_the_source_list_is_not_in_snippets(query: str) -> None:
    for line in search(query, "--limit", "50", "--lexical"):
        assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", line), line


def test_abstract_finds_the_abstract_section() -> None:
    assert search("abstract:truthfulness", "--format", "ids") == ["grath"]


def test_stats_counts_the_notes_read() -> None:
    """``stats`` said "read 0, unread 50" and then charted 16 notes read per month."""
    result = CliRunner().invoke(
        cli, ["--notes-dir", str(SHIPPED_NOTES), "stats"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert "read 16 · " in result.stdout


def readme_searches() -> list[tuple[str, str]]:
    """Each ``$ papernotes search ...`` of the README's console blocks and what it shows."""
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        parts = re.split(r"^\$ ", block, flags=re.M)
        for part in parts[1:]:
            command, _, shown = part.partition("\n")
            if command.startswith("papernotes search "):
                examples.append((command, shown))
    assert len(examples) >= 4
    return [(shlex.split(command)[1:], shown) for command, shown in examples]  # type: ignore[misc]


SEARCHES = readme_searches()


@pytest.mark.parametrize(("args", "shown"), SEARCHES, ids=[" ".join(a)[:50] for a, _ in SEARCHES])
def test_the_readmes_searches_show_what_it_says(
    args: list[str], shown: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the shipped notes, at 100 columns, with the default search (by words and meaning
    when the model is installed): exactly the README's output, stderr first."""
    from papernotes.engine import semantic

    monkeypatch.delenv("PAPERNOTES_SEMANTIC")
    monkeypatch.setenv("COLUMNS", "100")
    if not semantic.available() and not any(a in args for a in ("--lexical", "--exact")):
        pytest.skip("the README's searches show the default search, with the model")
    result = CliRunner().invoke(
        cli, ["--notes-dir", str(SHIPPED_NOTES), *args], catch_exceptions=False
    )
    assert result.stderr + result.stdout == shown
