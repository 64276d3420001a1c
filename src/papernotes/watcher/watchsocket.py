"""The watcher's side of its socket: the folder's lock, the Unix socket, one thread a question.

The socket and the lock live in the user's runtime folder (:func:`papernotes.engine.watchclient.
runtime_dir`), which must be a folder only this user can enter; the socket is made with mode
0600 and answers only processes of this user (``SO_PEERCRED``). A question is one line, the
answer one line of JSON (:meth:`papernotes.watcher.watchd.Service.answer`); ``run`` hands the
connection and the descriptors sent with it to ``run`` (:mod:`papernotes.watcher.forkrun`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from papernotes.engine import watchclient
from papernotes.errors import PapernotesError

MAX_QUESTION = 1 << 20  # bytes: a command's arguments and environment


class AlreadyWatching(PapernotesError):
    """Another watcher serves this notes folder."""


class CannotWatch(PapernotesError):
    """This notes folder cannot be watched (its file system, a watch limit, the platform)."""


class Listener:
    """The lock ``<base>.lock`` and the socket ``<base>.sock`` of one notes folder's watcher;
    ``answer`` turns a question into the answer."""

    def __init__(
        self,
        base: str,
        answer: Callable[[str], dict[str, Any]],
        run: Callable[[socket.socket, str, list[int]], None] | None = None,
    ) -> None:
        self.base = base
        self.answer = answer
        self.run = run
        self.stopping = threading.Event()
        self._lock_fd = -1
        self._server: socket.socket | None = None
        self._socket_id: tuple[int, int] | None = None

    def open(self, root: object) -> None:
        """Take the lock (:class:`AlreadyWatching` when another watcher has it), listen, and
        answer questions in threads from now on."""
        self._take_lock(root)
        self._listen()
        threading.Thread(target=self._accept, name="papernotes-accept", daemon=True).start()

    def close(self) -> None:
        """Stop listening; remove the socket (unless another watcher's is there now) and the
        lock."""
        self.stopping.set()
        if self._server is not None:
            with contextlib.suppress(OSError):
                if identity(self.base + ".sock") == self._socket_id:
                    os.unlink(self.base + ".sock")
            self._server.close()
            self._server = None
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                os.unlink(self.base + ".lock")
            os.close(self._lock_fd)
            self._lock_fd = -1

    def forget(self) -> None:
        """In a forked child: close the lock and the socket without removing them (they stay
        the watcher's)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = -1

    def _take_lock(self, root: object) -> None:
        folder = os.path.dirname(self.base)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not watchclient.private_folder(folder):
            raise CannotWatch(f"{folder} is not a private folder of this user: not listening")
        if len(os.fsencode(self.base + ".sock")) > watchclient.MAX_SOCKET_PATH:
            raise CannotWatch(f"the socket path {self.base}.sock is too long for a Unix socket")
        while True:
            fd = os.open(self.base + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise AlreadyWatching(f"a watcher already serves {root}") from None
                raise
            if os.fstat(fd).st_ino == identity(self.base + ".lock", (0, -1))[1]:
                break  # the file locked is still the one there (its owner may have left)
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _listen(self) -> None:
        path = self.base + ".sock"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left by a watcher that was killed: the lock is ours
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            server.bind(path)
        finally:
            os.umask(old)
        server.listen(64)
        server.settimeout(0.5)
        self._server = server
        self._socket_id = identity(path)

    def _accept(self) -> None:
        while not self.stopping.is_set() and self._server is not None:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _serve_one(self, conn: socket.socket) -> None:
        fds: list[int] = []
        with conn:
            try:
                if not watchclient._same_user(conn):
                    return
                conn.settimeout(5.0)
                data = b""
                while not data.endswith(b"\n") and len(data) < MAX_QUESTION:
                    chunk, received, _, _ = socket.recv_fds(conn, 65536, 3)
                    fds += received
                    if not chunk:
                        return
                    data += chunk
                text = data.decode("utf-8", "replace")
                if text.startswith("run ") and self.run is not None:
                    taken, fds = fds, []
                    self.run(conn, text[4:], taken)  # closes them
                    return
                try:
                    reply = self.answer(text)
                except Exception as exc:  # a bug here must not leave a command waiting
                    reply = {"state": "error", "reason": str(exc)}
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                return
            finally:
                for fd in fds:
                    with contextlib.suppress(OSError):
                        os.close(fd)


def identity(path: str, default: Any = None) -> Any:
    """``(device, inode)`` of the file at ``path``, or ``default``."""
    try:
        st = os.stat(path)
    except OSError:
        return default
    return (st.st_dev, st.st_ino)
