"""Hashes of names (the index's and the lock's file names, the watcher's socket, a scan's
fingerprint) from CPython's own implementations: importing :mod:`hashlib` loads OpenSSL
first, 5-9 ms of every command on a small machine, for a few bytes hashed."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the client of a change watcher imports this module,
# and importing typing costs ~8 ms
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Hash(Protocol):
        def update(self, data: bytes | bytearray | memoryview, /) -> None: ...
        def digest(self) -> bytes: ...
        def hexdigest(self) -> str: ...


def _builtin(name: str, *modules: str) -> Any:
    """``name`` from the first of ``modules`` this Python has, else from hashlib."""
    for module in modules:
        try:
            return getattr(__import__(module), name)
        except ImportError:
            continue
    import hashlib  # pragma: no cover - a Python built without them

    return getattr(hashlib, name)  # pragma: no cover


def sha256(data: bytes = b"") -> Hash:
    """SHA-256, as :func:`hashlib.sha256`."""
    hashed: Hash = _builtin("sha256", "_sha2", "_sha256")(data)  # _sha2: Python 3.12 on
    return hashed


def blake2b(data: bytes = b"", digest_size: int = 64) -> Hash:
    """BLAKE2b, as :func:`hashlib.blake2b`."""
    hashed: Hash = _builtin("blake2b", "_blake2")(data, digest_size=digest_size)
    return hashed
