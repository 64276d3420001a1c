"""Note vectors beside the search index: one int8 vector per note in one contiguous file,
brought up to date incrementally (only new or changed notes are embedded), searched by brute
force with numpy.

The file (``<index>.vectors``; in memory when the index is) holds, after a JSON header: the
index rowid, a hash of the path and a scale of each vector, the vectors (int8, ``v / scale``),
and the key of each note (its path, size, mtime, ctime and inode; read only to bring the file
up to date). A search reads the header and the arrays (29 MB at 75,000 notes) and checks, for
each note it returns, that the rowid still names that path; anything else about the file is a
cache, and a damaged file is rebuilt.
"""

from __future__ import annotations

import json
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from papernotes.engine.semantic.model import DIM, MODEL_ID, Model

if TYPE_CHECKING:
    import sqlite3

    import numpy as np
    import numpy.typing as npt

    from papernotes.engine.index import Index
    from papernotes.note.model import Paper

MAGIC = b"PNVEC\x02"
CHECKPOINT = 30.0  # seconds of embedding between two saves of a long build
CHUNK = 256  # notes read from the index and embedded at a time
_HEAD = struct.Struct("<6sI")

Stamp = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode of a note file
Key = tuple[str, Stamp]  # a note file's path and stamp when its vector was made


@dataclass
class Vectors:
    """The vectors of one index, in memory."""

    token: str | None  # the index state they match (see :func:`token`)
    rowids: npt.NDArray[np.int64]
    hashes: npt.NDArray[np.int64]
    scales: npt.NDArray[np.float32]
    matrix: npt.NDArray[np.int8]  # (n, DIM)
    keys: list[Key] | None = None  # read on demand (only to update)
    path: Path | None = None
    _keys_at: int = 0  # offset of the keys in the file
    dense: npt.NDArray[np.float32] | None = None  # matrix * scales, kept by a long-running process

    def __len__(self) -> int:
        return len(self.rowids)

    def nearest(
        self, query: npt.NDArray[np.float32], limit: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """The ``limit`` (rowid, cosine) nearest to the unit vector ``query``, best first;
        only rowids in ``allowed`` when given. The int8 matrix is converted in slices, so
        memory stays small."""
        import numpy as np

        if self.dense is not None:
            scores = self.dense @ query
        else:
            scores = np.empty(len(self.rowids), dtype=np.float32)
            step = 8192
            for start in range(0, len(self.rowids), step):
                part = self.matrix[start : start + step].astype(np.float32)
                scores[start : start + step] = part @ query
            scores *= self.scales
        if allowed is not None:
            scores[~np.isin(self.rowids, np.fromiter(allowed, dtype=np.int64))] = -np.inf
        count = min(limit, len(scores))
        if count <= 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.rowids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def densify(self) -> None:
        """Keep the vectors as float32 (4 times the memory, no conversion per query)."""
        import numpy as np

        self.dense = self.matrix.astype(np.float32) * self.scales[:, None]


def location(index: Index) -> Path | None:
    return (
        None
        if index.location is None
        else index.location.with_name(index.location.name + ".vectors")
    )


def token(conn: sqlite3.Connection) -> str | None:
    """A name for the current state of the index: the fingerprint of the note files it was
    last brought up to date with, and its count of write transactions. None when unknown
    (another process wrote during the last refresh)."""
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('snapshot', 'generation')"))
    if "snapshot" not in rows:
        return None
    return f"{rows['snapshot']}:{rows.get('generation', '')}"


def path_hash(path: str) -> int:
    from hashlib import blake2b

    return int.from_bytes(
        blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest(),
        "little",
        signed=True,
    )


def note_text(paper: Paper) -> str:
    """What a note's vector reads: title, aliases, abstract and the body's own text (not the
    abstract again, not the importers' list of sources); the model keeps the first
    MAX_TOKENS tokens."""
    body = "\n".join(line.lstrip("#").strip() for line in paper.body_text().splitlines())
    parts = [paper.title, ", ".join(paper.aliases), paper.abstract or "", body]
    return "\n".join(part for part in parts if part)


# ----------------------------------------------------------------------------- the file


def empty() -> Vectors:
    import numpy as np

    return Vectors(
        None,
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, np.float32),
        np.zeros((0, DIM), np.int8),
        keys=[],
    )


def read(path: Path) -> Vectors | None:
    """The vectors stored at ``path``; None when there are none, or they are damaged or of
    another model (then they are rebuilt)."""
    import numpy as np

    try:
        with open(path, "rb") as handle:
            magic, size = _HEAD.unpack(handle.read(_HEAD.size))
            if magic != MAGIC:
                return None
            header = json.loads(handle.read(size))
            count = int(header["count"])
            if header.get("model") != MODEL_ID or int(header.get("dim", 0)) != DIM or count < 0:
                return None
            rowids = np.fromfile(handle, dtype="<i8", count=count)
            hashes = np.fromfile(handle, dtype="<i8", count=count)
            scales = np.fromfile(handle, dtype="<f4", count=count)
            matrix = np.fromfile(handle, dtype=np.int8, count=count * DIM)
            keys_at = handle.tell()
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None
    if len(matrix) != count * DIM or len(scales) != count:
        return None
    token_value = header.get("token")
    return Vectors(
        token_value if isinstance(token_value, str) else None,
        rowids,
        hashes,
        scales,
        matrix.reshape(count, DIM),
        path=path,
        _keys_at=keys_at,
    )


def keys_of(vectors: Vectors) -> list[Key]:
    """The keys of ``vectors`` (read from the file the first time)."""
    if vectors.keys is None:
        keys: list[Key] = []
        if vectors.path is not None:
            try:
                with open(vectors.path, "rb") as handle:
                    handle.seek(vectors._keys_at)
                    keys = [
                        (str(path), (int(s), int(m), int(c), int(i)))
                        for path, (s, m, c, i) in json.loads(handle.read())
                    ]
            except (OSError, ValueError, TypeError):
                keys = []
        if len(keys) != len(vectors):
            keys = [("", (-1, -1, -1, -1))] * len(vectors)  # unknown: embed every note again
        vectors.keys = keys
    return vectors.keys


def write(path: Path, vectors: Vectors) -> None:
    """Save ``vectors`` at ``path`` atomically (a temporary file, fsynced, renamed)."""
    keys = keys_of(vectors)
    header = json.dumps(
        {"model": MODEL_ID, "dim": DIM, "count": len(vectors), "token": vectors.token}
    ).encode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(_HEAD.pack(MAGIC, len(header)))
            handle.write(header)
            for array, kind in (
                (vectors.rowids, "<i8"),
                (vectors.hashes, "<i8"),
                (vectors.scales, "<f4"),
            ):
                handle.write(array.astype(kind).tobytes())
            handle.write(vectors.matrix.tobytes())
            handle.write(json.dumps(keys, ensure_ascii=False).encode("utf-8", "surrogateescape"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    vectors.path = path


# ----------------------------------------------------------------------------- updating


@dataclass(frozen=True)
class Update:
    """What bringing the vectors up to date did, or would do."""

    embedded: int  # notes embedded now
    missing: int  # notes still without a vector (past the limit, or interrupted)
    removed: int  # vectors of notes that are gone or changed
    seconds: float


def current_keys(conn: sqlite3.Connection) -> dict[str, tuple[Stamp, int]]:
    """path -> (stamp, rowid) of every indexed note: the stat the index recorded (a note
    replaced by another of the same size and mtime has another inode or ctime)."""
    rows = conn.execute(
        "SELECT f.path, f.size, f.mtime_ns, f.ctime_ns, f.inode, p.rowid "
        "FROM files f JOIN papers p ON p.rowid = f.paper"
    )
    return {str(r[0]): ((int(r[1]), int(r[2]), int(r[3]), int(r[4])), int(r[5])) for r in rows}


def update(
    vectors: Vectors,
    index: Index,
    load_model: Callable[[], Model],
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    save: Callable[[Vectors], None] | None = None,
) -> tuple[Vectors, Update]:
    """``vectors`` brought up to date with ``index``: vectors of gone or changed notes are
    dropped, rowids follow the index, and new or changed notes are embedded, at most
    ``limit`` of them (None: all). A long run is saved every CHECKPOINT seconds through
    ``save`` and may be interrupted (KeyboardInterrupt): what was embedded is kept."""
    import numpy as np

    started = time.monotonic()
    current = current_keys(index.conn)
    keys = keys_of(vectors)
    keep: list[int] = []
    kept_rowids: list[int] = []
    seen: set[str] = set()
    for row, (path, stamp) in enumerate(keys):
        now = current.get(path)
        if now is not None and now[0] == stamp and path not in seen:
            keep.append(row)
            kept_rowids.append(now[1])
            seen.add(path)
    removed = len(keys) - len(keep)
    result = Vectors(
        vectors.token,
        np.array(kept_rowids, dtype=np.int64),
        vectors.hashes[keep],
        vectors.scales[keep],
        vectors.matrix[keep],
        keys=[keys[i] for i in keep],
        path=vectors.path,
    )
    todo = sorted(path for path in current if path not in seen)
    chosen = todo if limit is None else todo[:limit]
    embedded = 0
    if chosen:
        model = load_model()
        last_save = time.monotonic()
        try:
            for start in range(0, len(chosen), CHUNK):
                part = chosen[start : start + CHUNK]
                found = {p.path: p for p in index.papers([current[path][1] for path in part])}
                pairs = [(path, found[path]) for path in part if path in found]
                dense = model.embed([note_text(paper) for _, paper in pairs])
                _append(result, [(path, current[path]) for path, _ in pairs], dense)
                embedded += len(pairs)
                if progress is not None:
                    progress(embedded, len(chosen))
                if save is not None and time.monotonic() - last_save > CHECKPOINT:
                    result.token = None
                    save(result)
                    last_save = time.monotonic()
        except KeyboardInterrupt:
            result.token = None
            if save is not None:
                save(result)
            raise
    missing = len(todo) - embedded
    result.token = token(index.conn) if missing == 0 else None
    return result, Update(embedded, missing, removed, time.monotonic() - started)


def _append(
    vectors: Vectors,
    rows: Sequence[tuple[str, tuple[Stamp, int]]],
    dense: npt.NDArray[np.float32],
) -> None:
    import numpy as np

    if not rows:
        return
    peak = np.abs(dense).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    quantized = np.round(dense / scales[:, None]).astype(np.int8)
    vectors.rowids = np.concatenate([vectors.rowids, np.array([r[1][1] for r in rows], np.int64)])
    vectors.hashes = np.concatenate(
        [vectors.hashes, np.array([path_hash(r[0]) for r in rows], np.int64)]
    )
    vectors.scales = np.concatenate([vectors.scales, scales])
    vectors.matrix = np.concatenate([vectors.matrix, quantized])
    assert vectors.keys is not None
    vectors.keys = [*vectors.keys, *((path, key[0]) for path, key in rows)]
