"""Where notes live: finding the notes directory, its config, and its note files."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papernotes.disk.notefiles import NOTE_SUFFIXES as NOTE_SUFFIXES
from papernotes.disk.notefiles import TEMPLATE_NAME as TEMPLATE_NAME
from papernotes.disk.notefiles import Snapshot as Snapshot
from papernotes.disk.notefiles import walk
from papernotes.errors import ConfigError

CONFIG_NAME = "papernotes.toml"
ENV_DIR = "PAPERNOTES_DIR"


@dataclass(frozen=True)
class Store:
    """A notes directory and its settings (from ``papernotes.toml``, when present). ``notices``
    are warnings about the settings (a path they may not name, left out) for the user."""

    root: Path
    config: Mapping[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    def notes(self) -> Iterator[Path]:
        """Every note file under the root, in a stable order."""
        return iter_notes(self.root)

    def setting(self, key: str) -> str | None:
        """A text setting of ``papernotes.toml`` (``format``, ``editor``), or None."""
        value = self.config.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{CONFIG_NAME}: {key} must be a non-empty string")
        return value.strip()

    def taxonomy(self) -> dict[str, tuple[str, ...]]:
        """The known ``topics`` and ``tags`` listed under ``[taxonomy]`` in the config."""
        table = self.config.get("taxonomy", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{CONFIG_NAME}: [taxonomy] must be a table")
        out: dict[str, tuple[str, ...]] = {}
        for key in ("topics", "tags"):
            values = table.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ConfigError(f"{CONFIG_NAME}: taxonomy.{key} must be a list of strings")
            out[key] = tuple(values)
        return out

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the root, with forward slashes."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def find_root(explicit: str | Path | None = None, cwd: Path | None = None) -> Path:
    """The notes directory: ``explicit``, else ``$PAPERNOTES_DIR``, else the nearest ``notes/``
    found walking up from ``cwd`` (like git finds its repository)."""
    if explicit:
        return _existing(Path(explicit), "--notes-dir")
    env = os.environ.get(ENV_DIR)
    if env:
        return _existing(Path(env), f"${ENV_DIR}")
    here = (cwd or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if directory.name == "notes" and (directory / CONFIG_NAME).is_file():
            return directory
        candidate = directory / "notes"
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        "no notes directory found: pass --notes-dir DIR, set PAPERNOTES_DIR, "
        "or run inside a folder that has a notes/ directory"
    )


def open_store(explicit: str | Path | None = None, cwd: Path | None = None) -> Store:
    root = find_root(explicit, cwd).resolve()
    config, notices = load_settings(root)
    return Store(root, config, tuple(notices))


def load_config(root: Path) -> dict[str, Any]:
    """Settings from ``papernotes.toml`` in the notes directory or beside it."""
    return load_settings(root)[0]


def load_settings(root: Path) -> tuple[dict[str, Any], list[str]]:
    """Settings from ``papernotes.toml`` in the notes directory or beside it, read as a file
    the folder provides and without the paths it may not name (:mod:`papernotes.disk.trust`), and
    the warnings about what was left out."""
    from papernotes.disk.trust import checked_settings, read_folder_file

    for candidate in (root / CONFIG_NAME, root.parent / CONFIG_NAME):
        data = read_folder_file(candidate, candidate.parent)
        if data is None:
            continue
        import tomllib  # ~5 ms of imports, only for a notes directory that has a config

        try:
            config = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{candidate}: invalid configuration: {exc}") from None
        return checked_settings(config, candidate, root)
    return {}, []


def cache_home() -> Path:
    """The user's cache folder: ``$XDG_CACHE_HOME`` when it is an absolute path, else
    ``~/.cache``. papernotes keeps its files in its ``papernotes`` folder."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    return Path(cache) if os.path.isabs(cache) else Path.home() / ".cache"


def _existing(path: Path, origin: str) -> Path:
    if not path.is_dir():
        raise ConfigError(f"notes directory {str(path)!r} (from {origin}) does not exist")
    return path


def iter_notes(root: Path) -> Iterator[Path]:
    """Note files under ``root``: ``*.md``/``*.markdown``, hidden folders (``.obsidian``,
    ``.git``) and the top-level ``template.md`` skipped. Directory symlinks are not followed;
    file symlinks only when they point inside ``root``; FIFOs and devices never."""
    for directory, _, names in walk(root, ordered=True):
        for name in names:
            yield Path(os.path.join(directory, name))


def snapshot(root: Path) -> Snapshot:
    """Every note under ``root`` -> ``(size, mtime_ns)``: see :mod:`papernotes.disk.freshness`."""
    from papernotes.disk.freshness import snapshot

    return snapshot(root)
