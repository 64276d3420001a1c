"""Shared fixtures: every test runs with its own cache and no ambient configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def needs_shared_data(*parts: str) -> Path:
    """The path of ``../shared/data/<parts>``; skips the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path
