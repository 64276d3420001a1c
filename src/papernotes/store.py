"""Where notes live: finding the notes directory, its config, and its note files."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papernotes.errors import ConfigError

CONFIG_NAME = "papernotes.toml"
TEMPLATE_NAME = "template.md"
ENV_DIR = "PAPERNOTES_DIR"
NOTE_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True)
class Store:
    """A notes directory and its settings (from ``papernotes.toml``, when present)."""

    root: Path
    config: Mapping[str, Any] = field(default_factory=dict)

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
    return Store(root, load_config(root))


def load_config(root: Path) -> dict[str, Any]:
    """Settings from ``papernotes.toml`` in the notes directory or beside it."""
    for candidate in (root / CONFIG_NAME, root.parent / CONFIG_NAME):
        if candidate.is_file():
            try:
                return tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
                raise ConfigError(f"{candidate}: invalid configuration: {exc}") from None
    return {}


def _existing(path: Path, origin: str) -> Path:
    if not path.is_dir():
        raise ConfigError(f"notes directory {str(path)!r} (from {origin}) does not exist")
    return path


def iter_notes(root: Path) -> Iterator[Path]:
    """Note files under ``root``: ``*.md``/``*.markdown``, hidden folders (``.obsidian``,
    ``.git``) and the top-level ``template.md`` skipped. Directory symlinks are not followed;
    file symlinks only when they point inside ``root``."""
    for _, entry in _walk(root, ordered=True):
        yield Path(entry.path)


Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path) -> Snapshot:
    """Every note under ``root`` (as :func:`iter_notes` finds them) -> ``(size, mtime_ns)``,
    keyed by the path relative to ``root`` with ``/``: what the index compares to see new,
    edited and deleted notes. One ``stat`` per note; notes that vanish meanwhile are left out."""
    out: Snapshot = {}
    for rel, entry in _walk(root, ordered=False):
        try:
            st = entry.stat()
        except OSError:
            continue
        out[rel] = (st.st_size, st.st_mtime_ns)
    return out


def _walk(root: Path, *, ordered: bool) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """``(relative path, entry)`` of every note file under ``root`` (see :func:`iter_notes`)."""
    real_root = os.path.realpath(root)
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name) if ordered else list(scan)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append((entry.path, f"{prefix}{name}/"))
                    continue
                if not name.endswith(NOTE_SUFFIXES):
                    continue
                if not prefix and name == TEMPLATE_NAME:
                    continue
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    inside = target.startswith(real_root + os.sep)
                    if not inside or not os.path.isfile(target):
                        continue
                yield prefix + name, entry
            except OSError:
                continue
        stack.extend(reversed(subdirs))
