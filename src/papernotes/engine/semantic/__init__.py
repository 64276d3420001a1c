"""Search by meaning: note vectors kept beside the index, and the nearest notes to a query.

    ranked = nearest(kb, "models that judge their own outputs", limit=50)   # [(rowid, cosine)]
    embed_all(kb, progress)            # ``papernotes index --embed``: every note, resumable
    status(kb)                         # how many notes have a vector

Vectors exist once ``papernotes index --embed`` made them, or by themselves for a collection
of at most AUTO_EMBED notes (the shipped notes: about two seconds, once). After that, every
search brings them up to date with the notes it sees, embedding at most AUTO_EMBED new or
changed notes inline (a note edited in the editor is found by its new meaning at once); past
that, it says how many notes wait for ``papernotes index --embed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papernotes.engine.semantic.model import INSTALL, MissingModel, Model, available, load
from papernotes.engine.semantic.vectors import (
    Update,
    Vectors,
    empty,
    location,
    path_hash,
    read,
    token,
    update,
    write,
)

if TYPE_CHECKING:
    from papernotes.engine.kb import KnowledgeBase

__all__ = [
    "AUTO_EMBED",
    "ENV",
    "INSTALL",
    "MissingModel",
    "Status",
    "available",
    "embed_all",
    "enabled",
    "get_model",
    "nearest",
    "status",
]

AUTO_EMBED = 200  # notes embedded inline by a search (about 6 s on 2 cores, at worst)
DENSE_MAX = 30_000  # notes whose vectors a long-running process keeps as float32 (46 MB)

_models: dict[bool, Model] = {}  # a process keeps its model (the MCP server, the watcher)
_memory: dict[int, Vectors] = {}  # vectors of indexes in memory, by connection
_cached: dict[str, tuple[tuple[int, int, int], Vectors]] = {}  # long-running: file -> vectors
_long_running = False


def serve() -> None:
    """Tune for a process that answers many searches (``papernotes mcp``): the model is
    loaded once with its graph optimised (slower to load, faster per query), and the vectors
    are kept in memory, as float32, while their file does not change."""
    global _long_running
    _long_running = True


ENV = "PAPERNOTES_SEMANTIC"


def enabled(kb: KnowledgeBase) -> bool:
    """Whether a search may use meaning by default: not when $PAPERNOTES_SEMANTIC or
    ``semantic`` in papernotes.toml is ``off`` (then only ``--semantic``/``--hybrid`` do)."""
    import os

    from papernotes.errors import ConfigError

    value = os.environ.get(ENV) or kb.store.setting("semantic") or "auto"
    if value.lower() not in ("auto", "on", "off"):
        raise ConfigError(f"semantic must be auto, on or off, not {value!r}")
    return value.lower() != "off"


def get_model(optimize: bool = False) -> Model:
    if optimize not in _models:
        _models[optimize] = load(optimize)
    return _models[optimize]


@dataclass(frozen=True)
class Status:
    notes: int  # indexed notes
    embedded: int  # of which have a current vector
    location: str  # the vectors file, or "memory"
    installed: bool


def status(kb: KnowledgeBase) -> Status:
    """How many of the indexed notes have a vector (reads the file; embeds nothing)."""
    vectors = _stored(kb)
    notes = kb.index.count()
    path = location(kb.index)
    done = 0
    if vectors is not None:
        if vectors.token is not None and vectors.token == token(kb.index.conn):
            done = len(vectors)
        else:
            from papernotes.engine.semantic.vectors import current_keys, keys_of

            current = current_keys(kb.index.conn)
            done = sum(
                1
                for path, stamp in keys_of(vectors)
                if path in current and current[path][0] == stamp
            )
    return Status(notes, done, str(path) if path else "memory", available())


def embed_all(kb: KnowledgeBase, progress: Callable[[int, int], None] | None = None) -> Update:
    """Embed every note that has no current vector (``papernotes index --embed``). Saved
    every few seconds: an interrupted run (Ctrl-C) keeps what it embedded, and the next one
    goes on from there."""
    vectors = _stored(kb) or empty()
    result, done = update(vectors, kb.index, _loader(), None, progress, lambda v: _save(kb, v))
    _save(kb, result)
    return done


def nearest(
    kb: KnowledgeBase,
    text: str,
    limit: int,
    where: str = "1",
    params: tuple[object, ...] = (),
    auto: bool = True,
    notices: list[str] | None = None,
) -> list[tuple[int, float]] | None:
    """The ``limit`` notes nearest in meaning to ``text``, as (rowid, cosine), best first,
    among the notes that satisfy ``where`` (SQL on ``papers p``). None when there are no
    vectors to search (and ``auto`` could not make them: too many notes, or the model is not
    installed). What the user should know (notes waiting for a vector) goes to
    ``notices``."""
    vectors = _fresh(kb, auto, notices if notices is not None else [])
    if vectors is None or not len(vectors):
        return None
    query = get_model(optimize=_long_running).embed([text])[0]
    allowed = None
    if where != "1":
        rows = kb.index.conn.execute(f"SELECT p.rowid FROM papers p WHERE {where}", params)
        allowed = {int(r) for (r,) in rows}
    found = vectors.nearest(query, limit, allowed)
    # a stale rowid (the index was rebuilt by another process) must not name another note
    paths = dict(
        kb.index.conn.execute(
            "SELECT rowid, path FROM papers WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps([r for r, _ in found]),),
        ).fetchall()
    )
    expected = {int(r): int(h) for r, h in zip(vectors.rowids, vectors.hashes, strict=True)}
    good = [(r, s) for r, s in found if r in paths and path_hash(paths[r]) == expected.get(r)]
    if len(good) < len(found):
        vectors.token = None  # bring the rowids up to date next time
    return good


def _loader() -> Callable[[], Model]:
    """The model to embed notes with: the one queries use. (Its optimised graph is no faster
    on batches of notes, measured, and takes 170 MB more to load.)"""
    return lambda: get_model(optimize=_long_running)


def _stored(kb: KnowledgeBase) -> Vectors | None:
    path = location(kb.index)
    if path is None:
        return _memory.get(id(kb.index.conn))
    if not _long_running:
        return read(path) if path.exists() else None
    try:
        info = path.stat()
    except OSError:
        return None
    stamp = (info.st_size, info.st_mtime_ns, info.st_ino)
    kept = _cached.get(str(path))
    if kept is not None and kept[0] == stamp:
        return kept[1]
    vectors = read(path)
    if vectors is not None:
        if len(vectors) <= DENSE_MAX:
            vectors.densify()
        _cached[str(path)] = (stamp, vectors)
    return vectors


def _save(kb: KnowledgeBase, vectors: Vectors, notices: list[str] | None = None) -> None:
    path = location(kb.index)
    if path is None:
        _memory[id(kb.index.conn)] = vectors
        return
    try:
        write(path, vectors)
    except OSError as exc:  # a read-only cache: search from memory this time
        told = notices if notices is not None else kb.index.notices
        told.append(f"cannot save the note vectors ({exc}); kept in memory")


def _fresh(kb: KnowledgeBase, auto: bool, notices: list[str]) -> Vectors | None:
    """The vectors of ``kb``, up to date (see the module docstring), or None."""
    vectors = _stored(kb)
    if vectors is not None and vectors.token is not None and vectors.token == token(kb.index.conn):
        return vectors
    if not available():
        return None
    if vectors is None:
        if not auto or kb.index.count() > AUTO_EMBED:
            return None
        vectors = empty()
    result, done = update(vectors, kb.index, _loader(), AUTO_EMBED)
    if done.embedded or done.removed or result.token != vectors.token:
        _save(kb, result, notices)
    if done.missing:
        noun = "note has" if done.missing == 1 else "notes have"
        notices.append(
            f"{done.missing} {noun} no vector yet, so search finds them by their words only: "
            "run papernotes index --embed"
        )
    return result
