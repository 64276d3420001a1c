"""Asking the change watcher (``papernotes watch``) whether the index is fresh: the client side.

A command proves the index fresh by stat-ing every note (:mod:`papernotes.disk.freshness`). When a
watcher serves the notes folder, the command asks it instead, over a Unix socket in the user's
runtime folder: the watcher sets a barrier (a cookie file it watches itself, so every change
made before the question has been reported), applies what is pending, and answers with its
token, the index it keeps and that index's write count (``generation``). The command then
skips the walk when every check holds, else it scans exactly as it would without a watcher:

- the socket is there, owned by this user in a folder only this user can open, and the
  process behind it runs as this user;
- the answer comes within :data:`TIMEOUT` seconds (``$PAPERNOTES_WATCH_TIMEOUT``);
- the watcher is serving: not starting, restarting, lagging, overflowed or unable to watch;
- it keeps this very index file (path and inode), which serves this notes folder;
- inside the command's read transaction, the index's write count is the watcher's: no other
  process wrote after it (a scan that read an older version of a note could have).

The question is sent as early as possible (by the console script, before click is imported:
:func:`ask`), so that the watcher's barrier runs while the command imports. Only ``os`` and
``_socket`` are imported for that; nothing here may be slow when no watcher runs (a missing
socket costs one ``stat``).
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # typing's would cost the console script an import before its fork
if TYPE_CHECKING:
    from typing import Any

    from papernotes.disk.store import Store
    from papernotes.engine.index import Index

ENV_TIMEOUT = "PAPERNOTES_WATCH_TIMEOUT"
ENV_WATCH = "PAPERNOTES_WATCH"  # on / off: start a watcher by itself (else watch = true/false)
TIMEOUT = 0.25  # seconds: a scan of 75,000 notes takes about this long
MAX_SOCKET_PATH = 107  # sun_path, less its final NUL

# why the last question did not spare the scan ("vouched" when it did): for tests, --status
last_outcome = "absent"
_pending: dict[str, tuple[Any, float]] = {}  # realpath of the root -> (socket, deadline)
_exempt_threads: set[int] = set()  # threads of a watcher in this process: they never ask


def runtime_dir() -> str:
    """The folder of the watchers' sockets: ``$XDG_RUNTIME_DIR/papernotes`` (a per-user
    tmpfs), else ``papernotes/run`` in the cache folder (``$XDG_CACHE_HOME``, ``~/.cache``)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(runtime):
        return os.path.join(runtime, "papernotes")
    cache = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(cache):
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "papernotes", "run")


def base_path(root: str | os.PathLike[str]) -> str:
    """The socket's path without ``.sock`` (the lock, log and cookies share it): one name per
    notes folder, from a hash of its real path."""
    try:  # CPython's own BLAKE2 (hashlib loads OpenSSL first, ~3 ms)
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b
    real = os.fsencode(os.path.realpath(root))
    return os.path.join(runtime_dir(), blake2b(real, digest_size=8).hexdigest())


def socket_path(root: str | os.PathLike[str]) -> str:
    return base_path(root) + ".sock"


def private_folder(folder: str) -> bool:
    """Whether ``folder`` is a real folder that only this user can enter (no other user can
    put a socket there, or read what is said on one)."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077 == 0


def ask(
    root: str | os.PathLike[str], request: bytes = b"sync\n", timeout: float | None = None
) -> bool:
    """Send ``request`` to the watcher of ``root`` now, if one listens; its answer is read by
    :func:`vouched` (or :func:`answer`). False when no watcher listens (cheap: one stat)."""
    real = os.path.realpath(root)
    path = socket_path(real)
    if len(os.fsencode(path)) > MAX_SOCKET_PATH or not os.path.exists(path):
        return False
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    wait = _timeout() if timeout is None else timeout
    try:
        sock.settimeout(wait)
        sock.connect(path)
        if not _same_user(sock) or not private_folder(os.path.dirname(path)):
            sock.close()
            return False
        sock.sendall(request)
    except OSError:
        sock.close()
        return False
    old = _pending.pop(real, None)
    if old is not None:
        old[0].close()
    _pending[real] = (sock, time.monotonic() + wait)
    return True


def answer(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The watcher's answer to the question :func:`ask` sent for ``root`` (asking now if
    none was sent), or None: no watcher, a bad or late answer. Sets :data:`last_outcome`."""
    global last_outcome
    real = os.path.realpath(root)
    if real not in _pending and not ask(real):
        last_outcome = "absent"
        return None
    sock, deadline = _pending.pop(real)
    try:
        import json

        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                last_outcome = "timeout"
                return None
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                last_outcome = "no answer"
                return None
            data += chunk
        reply = json.loads(data)
        if type(reply) is not dict:
            raise ValueError
        return reply
    except TimeoutError:
        last_outcome = "timeout"
        return None
    except (OSError, ValueError):
        last_outcome = "bad answer"
        return None
    finally:
        sock.close()


def vouched(index: Index) -> bool:
    """Whether the watcher of ``index``'s notes folder vouches that the index is up to date,
    now (see the module docstring); when it does, ``index`` is left pinned (its read
    transaction begun) on the state the watcher vouched for. Starts a watcher when the
    settings ask for one and none runs. ``$PAPERNOTES_WATCH_TRACE``: say the outcome on
    stderr (for the benchmark)."""
    answer = _vouched(index)
    if os.environ.get("PAPERNOTES_WATCH_TRACE"):
        sys.stderr.write(f"watcher: {last_outcome}\n")
    return answer


def _vouched(index: Index) -> bool:
    global last_outcome
    if index.location is None or index.identity is None or _exempt():
        last_outcome = "not asked"
        return False
    root = index.store.root
    reply = answer(root)
    if reply is None:
        if last_outcome == "absent" and wanted(index.store):
            start_detached(index.store)
        return False
    if reply.get("state") != "serving":
        last_outcome = str(reply.get("state"))
        return False
    try:
        real = os.path.realpath(index.location)
        same = (
            reply.get("root") == os.fsdecode(os.path.realpath(root))
            and reply.get("index") == real
            and reply.get("identity") == list(index.identity)
            and type(reply.get("generation")) is int
        )
    except (OSError, TypeError):
        same = False
    if not same:
        last_outcome = "another index"
        return False
    from papernotes.engine.indexing import _generation

    index._pin()
    if _generation(index.conn) != reply["generation"]:
        index._unpin()
        last_outcome = "written since"  # another process wrote after the watcher
        return False
    last_outcome = "vouched"
    return True


def status(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """What the watcher of ``root`` says of itself after a barrier (for ``index --status``):
    its state, how many changes it had not applied yet, how long the barrier took; None
    when no watcher answers."""
    started = time.monotonic()
    if not ask(root, b"status\n", timeout=5.0):
        return None
    reply = answer(root)
    if reply is not None:
        reply["answered_ms"] = round((time.monotonic() - started) * 1000, 1)
    return reply


def wanted(store: Store) -> bool:
    """Whether the settings ask for a watcher: ``$PAPERNOTES_WATCH`` (on/off), else
    ``watch = true`` in papernotes.toml."""
    env = os.environ.get(ENV_WATCH, "").strip().lower()
    if env:
        return env in ("1", "on", "true", "yes")
    return store.config.get("watch") is True


def start_detached(store: Store) -> None:
    """Start ``papernotes watch`` for ``store`` in the background (it serves from the next
    command on; one that cannot watch this folder says so in its log and is not started
    again for a while)."""
    import importlib.util

    if importlib.util.find_spec("watchfiles") is None:
        return  # pip install 'papernotes[watch]'
    base = base_path(store.root)
    try:
        if time.time() - os.stat(base + ".refused").st_mtime < 600:
            return  # it could not watch this folder ten minutes ago
    except OSError:
        pass
    import contextlib
    import subprocess

    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(store.root), "watch"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )


class exempt:
    """Within it, this thread never asks a watcher (a watcher refreshing its own index)."""

    def __enter__(self) -> None:
        import threading

        _exempt_threads.add(threading.get_ident())

    def __exit__(self, *exc: object) -> None:
        import threading

        _exempt_threads.discard(threading.get_ident())


def _exempt() -> bool:
    if not _exempt_threads:
        return False
    import threading

    return threading.get_ident() in _exempt_threads


def _timeout() -> float:
    try:
        value = float(os.environ.get(ENV_TIMEOUT, ""))
    except ValueError:
        return TIMEOUT
    return value if value > 0 else TIMEOUT


def _same_user(sock: Any) -> bool:
    """Whether the process at the other end of ``sock`` runs as this user (Linux)."""
    import _socket

    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:  # pragma: no cover - not Linux: the folder's permissions alone
        return True
    import struct

    _, uid, _ = struct.unpack("3i", sock.getsockopt(_socket.SOL_SOCKET, option, 12))
    return bool(uid == os.getuid())
