"""Where notes live: finding the notes directory, its config, and its note files."""

from __future__ import annotations

import os
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
            import tomllib  # ~5 ms of imports, only for a notes directory that has a config

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
    file symlinks only when they point inside ``root``; FIFOs and devices never."""
    for directory, _, names in walk(root, ordered=True):
        for name in names:
            yield Path(os.path.join(directory, name))


# note path relative to the root, with "/" -> (size, mtime_ns); see papernotes.freshness
Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path) -> Snapshot:
    """Every note under ``root`` -> ``(size, mtime_ns)``: see :mod:`papernotes.freshness`."""
    from papernotes.freshness import snapshot

    return snapshot(root)


def walk(root: Path, *, ordered: bool) -> Iterator[tuple[str, str, list[str]]]:
    """``(directory, its path relative to root with a trailing /, its note file names)`` for
    every directory under ``root`` that is walked (see :func:`iter_notes` for the rules),
    parents before children. Written for speed: a knowledge base can hold 100,000 notes."""
    real_root: str | None = None
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            scan = os.scandir(directory)
        except OSError:
            continue
        names: list[str] = []
        subdirs: list[tuple[str, str]] = []
        try:
            with scan:
                # unordered, one entry at a time: the memory of each is reused (a list of
                # 75,000 entries is ~25 MB of fresh pages, ~10 ms of page faults here)
                for entry in sorted(scan, key=_name) if ordered else scan:
                    name = entry.name
                    if name[0] == ".":
                        continue
                    try:
                        if name.endswith(NOTE_SUFFIXES) and entry.is_file(follow_symlinks=False):
                            if prefix or name != TEMPLATE_NAME:
                                names.append(name)
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            subdirs.append((entry.path, f"{prefix}{name}/"))
                            continue
                        if not name.endswith(NOTE_SUFFIXES) or (
                            not prefix and name == TEMPLATE_NAME
                        ):
                            continue
                        if not entry.is_symlink():
                            continue  # a FIFO, socket or device: reading one can block forever
                        if real_root is None:
                            real_root = os.path.realpath(root)
                        target = os.path.realpath(entry.path)
                        inside = target.startswith(real_root + os.sep)
                        if not inside or not os.path.isfile(target):
                            continue
                        names.append(name)
                    except OSError:
                        continue
        except OSError:  # the directory could not be read to its end: skipped, as before
            continue
        yield directory, prefix, names
        stack.extend(reversed(subdirs))


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name
