"""Domain errors. Core code raises these; ``cli`` alone turns them into messages and exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

EXIT_OK = 0
EXIT_NOT_FOUND = 1  # nothing found, validation errors
EXIT_USAGE = 2  # bad usage, ambiguous reference
EXIT_INTERRUPTED = 130

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem with one note: ``path:line: severity: message``."""

    path: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class PapernotesError(Exception):
    """Base of every error papernotes reports to the user."""

    exit_code = EXIT_NOT_FOUND

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoteError(PapernotesError):
    """A note file could not be turned into a Paper; carries every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @property
    def path(self) -> str:
        return self.diagnostics[0].path if self.diagnostics else ""

    @property
    def line(self) -> int:
        return self.diagnostics[0].line if self.diagnostics else 0


class NotFound(PapernotesError):
    """Nothing matched (a reference, a query)."""

    exit_code = EXIT_NOT_FOUND

    def __init__(self, message: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = tuple(suggestions)


class Ambiguous(PapernotesError):
    """A reference matched several notes; the user must choose."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)


class UsageError(PapernotesError):
    """Bad arguments: a malformed query, an unknown option value, ..."""

    exit_code = EXIT_USAGE


class ConfigError(PapernotesError):
    """No notes directory, a broken papernotes.toml, ..."""

    exit_code = EXIT_USAGE


class WriteRefused(PapernotesError):
    """A write would overwrite a file or a user's edit; nothing was written."""

    exit_code = EXIT_NOT_FOUND


class IndexFailure(PapernotesError):
    """The search index could not be used (locked for too long, disk full, ...)."""

    exit_code = EXIT_NOT_FOUND


class Interrupted(PapernotesError):
    """The user stopped a long job (Ctrl-C); the message says what was kept."""

    exit_code = EXIT_INTERRUPTED


SHOWN_CHARS = 40  # of a long value quoted in a message


def shown(text: str) -> str:
    """``text`` quoted for a message; a long one cut short, with its length:
    ``'1000000000…' (5,001 characters)``."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS] + '…'!r} ({len(text):,} characters)"
