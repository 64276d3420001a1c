"""What an SQLite error says of the index: damaged (rebuild it), unwritable (work from memory),
or transient (busy: try again); and an error's message on one short line."""

from __future__ import annotations

import sqlite3

from papernotes.engine.schema import IndexDamaged

# SQLite primary result codes
_CORRUPT, _NOTADB, _READONLY, _CANTOPEN, _FULL, _IOERR = 11, 26, 8, 14, 13, 10
_MISMATCH, _FORMAT = 20, 24
_BUSY, _LOCKED, _NOMEM, _INTERRUPT, _PROTOCOL = 5, 6, 7, 9, 15
_IOERR_SHORT_READ = 522
# what SQLite (and Python reading its values) says of a damaged file, schema or record
_DAMAGE_SIGNS = (
    "malformed",
    "corrupt",
    "no such table",
    "no such column",
    "no such index",
    "no such tokenizer",
    "no such fts5 table",
    "no such module",
    "vtable constructor failed",
    "invalid fts5 file format",
    "unsupported file format",
    "missing row",
    "could not decode",
)


def is_corrupt(exc: BaseException) -> bool:
    """Whether ``exc``, raised by any query, says the index is damaged or is not an index
    (for queries built from what a user typed: their own errors are not damage)."""
    if isinstance(exc, IndexDamaged):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (
        code & 0xFF in (_CORRUPT, _NOTADB, _MISMATCH, _FORMAT) or code == _IOERR_SHORT_READ
    ):
        return True
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and any(sign in text for sign in _DAMAGE_SIGNS)


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc``, raised by papernotes' own SQL (whose every statement is right for an
    index as it writes it), says the index is damaged: any error but "busy", "out of
    memory", "interrupted" and "cannot write"."""
    if is_corrupt(exc):
        return True
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.ProgrammingError):
        return False  # a closed connection, a wrong binding: not the file's doing
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_BUSY, _LOCKED, _NOMEM, _INTERRUPT, _PROTOCOL):
        return False
    return not is_unwritable(exc)


def is_unwritable(exc: BaseException) -> bool:
    """Whether ``exc`` says the index cannot be created or written there (a read-only or
    full disk, a folder that is not there or was deleted meanwhile: an I/O error)."""
    if isinstance(exc, OSError):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        code is not None
        and code != _IOERR_SHORT_READ
        and code & 0xFF in (_READONLY, _CANTOPEN, _FULL, _IOERR)
    )


def transient(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_BUSY, _LOCKED, _NOMEM, _INTERRUPT)


def brief(exc: BaseException) -> str:
    """An error's message on one short line: without the text it quotes (SQLite's "could not
    decode" quotes a whole note) and with control characters made visible."""
    text = str(exc).split(" with text ", 1)[0].strip() or type(exc).__name__
    line = text.splitlines()[0]
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in line
    )
    return shown if len(shown) <= 100 else shown[:99] + "…"
