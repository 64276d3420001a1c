"""Applying what a watcher saw to the index: the notes behind a batch of paths, written with the
parser and writer of a refresh (:mod:`~.indexing`), without walking the notes folder.

A batch names notes, folders and other files. A note path is checked as the walk would check
it (:func:`is_note`: not hidden, not the top-level template, in real folders, a regular file
or a symlink to one inside the folder); a folder is listed (a folder moved in brings notes no
event named); a deleted folder, or anything that may have been one, takes with it the notes
the index has under it. Every note an event named is read again, even when its stat did not
change: an edit in the clock tick of the last read, with the same size (racily clean), is
seen through its event.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from papernotes.disk import freshness
from papernotes.disk.notefiles import NOTE_SUFFIXES, TEMPLATE_NAME
from papernotes.engine.indexing import (
    BATCH,
    RACY_NS,
    RefreshReport,
    _generation,
    _parse_batches,
    _Session,
    _Writer,
    check_root,
    checkpoint,
)

Stat = tuple[int, int, int, int]


def is_note(root: str, rel: str, folders: dict[str, bool] | None = None) -> bool:
    """Whether ``rel`` (relative to ``root``, with ``/``) is a note as
    :func:`papernotes.disk.notefiles.walk` finds them. ``folders`` caches which folders are real."""
    parts = rel.split("/")
    if not rel.endswith(NOTE_SUFFIXES) or rel == TEMPLATE_NAME:
        return False
    if any(not p or p.startswith(".") or not _decodable(p) for p in parts):
        return False
    cache = {} if folders is None else folders
    for i in range(1, len(parts)):
        folder = "/".join(parts[:i])
        if folder not in cache:
            try:
                cache[folder] = stat.S_ISDIR(os.lstat(os.path.join(root, folder)).st_mode)
            except OSError:
                cache[folder] = False
        if not cache[folder]:
            return False
    full = os.path.join(root, rel)
    try:
        mode = os.lstat(full).st_mode
    except OSError:
        return False
    if stat.S_ISREG(mode):
        return True
    if not stat.S_ISLNK(mode):
        return False  # a folder, a FIFO, a device
    real_root = os.path.realpath(root)
    target = os.path.realpath(full)
    return target.startswith(real_root + os.sep) and os.path.isfile(target)


def notes_under(root: str, rel: str) -> list[str]:
    """The paths under the folder ``rel`` that may be notes (checked by :func:`is_note`
    afterwards): every ``.md`` file or link in its real subfolders, hidden ones left out."""
    found: list[str] = []
    stack = [rel]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(root, folder)))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = f"{folder}/{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif entry.name.endswith(NOTE_SUFFIXES):
                    found.append(path)
            except OSError:
                continue
    return found


def expand(
    conn: sqlite3.Connection, root: str, paths: Iterable[str], deleted: set[str]
) -> tuple[set[str], set[str]]:
    """``(candidates, folders)``: every note path the changed ``paths`` may stand for (the
    notes themselves, the notes in a folder now, the notes the index has under a folder that
    is gone), and the changed paths that are folders now."""
    candidates: set[str] = set()
    folders: set[str] = set()
    for rel in paths:
        full = os.path.join(root, rel)
        try:
            is_dir = stat.S_ISDIR(os.lstat(full).st_mode)
        except OSError:
            is_dir = False
        if is_dir:
            folders.add(rel)
            candidates.update(notes_under(root, rel))
        elif rel.endswith(NOTE_SUFFIXES):
            candidates.add(rel)
        if is_dir or rel in deleted or not rel.endswith(NOTE_SUFFIXES):
            rows = conn.execute(  # the index's notes under it ("/" is 0x2f, "0" 0x30)
                "SELECT path FROM files WHERE path > ? AND path < ?", (rel + "/", rel + "0")
            )
            candidates.update(p for (p,) in rows)
    return candidates, folders


class _Stats(dict[str, Stat]):
    """The stats of notes, found on demand (a duplicate freed by a deleted note is read too)."""

    def __init__(self, root: str, known: dict[str, Stat]) -> None:
        super().__init__(known)
        self.root = root

    def __contains__(self, rel: object) -> bool:
        if dict.__contains__(self, rel):
            return True
        if not isinstance(rel, str) or not is_note(self.root, rel):
            return False
        found = freshness._stat(self.root, [rel])
        self.update(found)
        return rel in found


def apply(conn: sqlite3.Connection, root: Path, candidates: set[str]) -> tuple[RefreshReport, bool]:
    """Bring the rows of ``candidates`` (note paths) up to date: each one that is a note is
    parsed and written again, the others dropped; in transactions of ``BATCH`` notes, checked
    to serve ``root`` as a refresh's are. Also whether no other process wrote to the index
    between the first and the last of them (else the caller cannot vouch for it)."""
    text = str(root)
    folders: dict[str, bool] = {}
    notes = [rel for rel in candidates if is_note(text, rel, folders)]
    _past_the_tick(text, notes)
    started = time.time_ns()
    current = _Stats(text, freshness._stat(text, notes))
    gone = sorted(rel for rel in candidates if rel not in current)
    report = RefreshReport()
    conn.execute("BEGIN")
    try:
        check_root(conn, root)
        session = _Session(conn, _generation(conn), root)
    finally:
        conn.execute("COMMIT")
    writer = _Writer(conn, report, started)
    writer.pending.lazy = True  # runs: written once the watcher is idle (clean_runs)
    todo = sorted(current)
    if gone:
        with session.write():
            freed: set[str] = set()
            for rel in gone:
                writer.replace(rel, None, None, freed)
            todo = sorted({*todo, *writer.orphans(freed, current)})
    while todo:
        requeued: list[str] = []
        for batch, results in _parse_batches(root, todo):
            with session.write():
                # read again whatever its stat says: its event says it was written
                conn.executemany("UPDATE files SET size = -1 WHERE path = ?", [(p,) for p in batch])
                freed = set()
                for rel, result in zip(batch, results):
                    writer.replace(rel, current[rel], result, freed)
                requeued.extend(writer.orphans(freed, current))
        todo = sorted(set(requeued))
    alone = session.alone and _generation(conn) == session.expected
    if report.changed >= BATCH:
        checkpoint(conn)
    return report, alone


def _past_the_tick(root: str, notes: list[str]) -> None:
    """Wait (at most ``RACY_NS``, 20 ms) until the newest of ``notes`` changed more than a tick
    of the clock ago: the rows then written are not "racily clean", so a command that scans
    (when the watcher cannot vouch) need not read them again, and writes nothing, which would
    make the watcher check every note. Timestamps in whole seconds are not waited for."""
    stats = freshness._stat(root, notes)
    newest = max((st[2] for st in stats.values() if st[2] % 1_000_000_000), default=0)
    wait = newest + RACY_NS + 1 - time.time_ns()
    if 0 < wait <= RACY_NS + 1:
        time.sleep(wait / 1e9)


def _decodable(name: str) -> bool:
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
