"""Shared fixtures: every test runs with its own cache and no ambient configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests run the same examples every time (a red run can be re-run and is red again);
# HYPOTHESIS_PROFILE=fuzz explores: new random examples, ten times as many. A failure found
# there becomes an explicit @example or a regression test.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile(
    "fuzz", derandomize=False, max_examples=1000, print_blob=True, deadline=None
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
FUZZ_FACTOR = 10 if PROFILE == "fuzz" else 1


def examples(count: int) -> int:
    """``max_examples`` for a property test: ``count`` in CI, ten times more under fuzz."""
    return count * FUZZ_FACTOR


# The slow modules: real-data round trips, kill/load/damage injection, 100,000-value notes,
# protocol sessions with subprocess servers, the watcher and the benchmark's own test. The
# README's test command leaves them out (``-m "not slow"`` in pyproject.toml); CI runs them
# too, with ``pytest -m slow`` (.ci/run).
SLOW_MODULES = frozenset(
    {
        "test_large_lists",
        "test_bibtex_export",
        "test_citekeys",
        "test_mcp",
        "test_index_healing",
        "test_reliability_index",
        "test_reliability_writes",
        "test_fuzz",
        "test_bench",
        "test_watch",
        "test_watch_run",
        "test_load",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__ in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
SHIPPED_NOTES = ROOT / "notes"
SEEDS = ROOT / "seeds"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point caches and the index at a temporary folder; forget the user's settings."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("PAPERNOTES_INDEX", raising=False)
    monkeypatch.delenv("PAPERNOTES_DIR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("COLUMNS", raising=False)  # output on a pipe: lines as long as they are
    # search by words only unless a test asks for meaning (tests/test_semantic.py): the
    # lexical engine's rankings are tested as such, and no test pays for the model by chance
    monkeypatch.setenv("PAPERNOTES_SEMANTIC", "off")


def needs_shared_data(*parts: str) -> Path:
    """The path of ``../shared/data/<parts>``; skips the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path
