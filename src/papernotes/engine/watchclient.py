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
# seconds more a command the watcher runs waits when the watcher says that it is applying
# changes ("wait"): a scan would take longer, and write what the watcher is writing
APPLYING_WAIT = 3.5
MAX_SOCKET_PATH = 107  # sun_path, less its final NUL

# why the last question did not spare the scan ("vouched" when it did): for tests, --status
last_outcome = "absent"
# the note files and folders whose names are not UTF-8, as the watcher that last vouched
# saw them (None: it did not say)
last_undecodable: list[str] | None = None
_pending: dict[str, tuple[Any, float]] = {}  # realpath of the root -> (socket, deadline)
_exempt_threads: set[int] = set()  # threads of a watcher in this process: they never ask
_given: dict[str, dict[str, Any]] = {}  # realpath of the root -> an answer had before a fork


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
    from papernotes.disk.digest import blake2b

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
    if real in _given:
        return True  # answered already (see :func:`given`)
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
    if real in _given:
        return _given.pop(real)
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


def reset() -> None:
    """Forget every question asked and answer had (a child of the watcher, which becomes a
    command of its own)."""
    global last_outcome, last_undecodable
    _pending.clear()
    _given.clear()
    _exempt_threads.clear()
    last_outcome = "absent"
    last_undecodable = None


def given(root: str | os.PathLike[str], reply: dict[str, Any]) -> None:
    """Take ``reply`` as the watcher's answer for ``root`` (a command the watcher runs in a
    child of its own, :func:`run`: the watcher set the barrier before it forked)."""
    _given[os.path.realpath(root)] = reply


def run(root: str | os.PathLike[str], args: list[str]) -> int | None:
    """Have the watcher of ``root`` run ``papernotes ARGS`` for this process, the way Rails'
    Spring or Android's zygote start a program: the watcher, whose imports are done and whose
    index is open, sets its barrier and forks; the child takes this process's standard
    streams, working folder and environment, and runs the command as this process would
    have. Its exit status, once it ends, is returned (a signal sent here meanwhile, Ctrl-C,
    is passed on to it). None when no watcher takes the command (absent, not serving, a
    papernotes other than this one, no answer within :data:`TIMEOUT`): nothing ran, and the
    caller runs the command itself.

    Only ``os``, ``_socket``, ``_signal`` and ``_json`` are imported here (``json`` would
    import ``re``: 8 ms)."""
    real = os.path.realpath(root)
    path = socket_path(real)
    if len(os.fsencode(path)) > MAX_SOCKET_PATH or not os.path.exists(path):
        return None
    import _socket

    if _stops_background_writes():
        return None  # the watcher's child, not in the terminal's foreground, would be stopped
    from papernotes.commands import ClosedOutput

    if isinstance(sys.stdout, ClosedOutput):
        return None  # standard output closed: its descriptor is the null device's
    mask = os.umask(0o077)
    os.umask(mask)
    try:
        request = {
            "args": args,
            "cwd": os.getcwd(),  # gone: FileNotFoundError
            "umask": mask,
            "env": dict(os.environ),
            "code": code_stamp(),
            "streams": [_stream(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
        }
    except OSError:
        return None
    fds = [0, 1, 2]
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    deadline = time.monotonic() + _timeout()
    try:
        sock.settimeout(_timeout())
        sock.connect(path)
        if not _same_user(sock) or not private_folder(os.path.dirname(path)):
            raise ValueError("not this user's watcher")
        data = b"run " + _dumps(request).encode() + b"\n"
        ancillary = b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds)
        sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, ancillary)])
        lines = _Lines(sock)
        line = lines.next(deadline)
        if line == "wait":  # the watcher is applying changes: it says when it is done
            line = lines.next(time.monotonic() + APPLYING_WAIT)
        if line != "ready":
            raise ValueError("not taken")
        sock.sendall(b"go\n")  # from here on the command runs there, and only there
    except (OSError, ValueError):
        sock.close()
        return None
    return _wait(sock, lines)


def _stops_background_writes() -> bool:
    """Whether standard output or error is a terminal that stops a process writing to it
    from the background (``stty tostop``): the watcher's child writes from outside the
    terminal's foreground process group."""
    for fd in (1, 2):
        try:
            if not os.isatty(fd):
                continue
            import termios

            if termios.tcgetattr(fd)[3] & termios.TOSTOP:
                return True
        except (OSError, ImportError):
            return True
    return False


def code_stamp() -> str:
    """What says which papernotes this is: a hash of its version, the environment
    (``sys.prefix``: a venv) and Python's version, and the name, size and modification time
    of every module file of the package (about 100 ``stat`` calls). A watcher runs a command
    only for a process whose stamp is its own. (The hash, not the list: writing the list
    into the request as JSON took a command ~2 ms.)"""
    import marshal

    import papernotes
    from papernotes.disk.digest import blake2b

    package = os.path.dirname(os.path.abspath(papernotes.__file__))
    files: list[list[Any]] = []
    folders = [package]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    st = entry.stat()
                    files.append([entry.path, st.st_size, st.st_mtime_ns])
                elif entry.is_dir() and entry.name != "__pycache__":
                    folders.append(entry.path)
    files.sort()
    stamp = [papernotes.__version__, sys.prefix, sys.version, files]
    return blake2b(marshal.dumps(stamp, 2), digest_size=16).hexdigest()


def _dumps(value: Any) -> str:
    """``value`` (text, whole numbers, lists and dicts of them) as JSON, in ASCII."""
    from _json import encode_basestring_ascii

    if isinstance(value, str):
        return str(encode_basestring_ascii(value))
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        items = (f"{_dumps(str(k))}:{_dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    return "[" + ",".join(_dumps(v) for v in value) + "]"


def _stream(stream: Any) -> list[str] | None:
    """How a standard stream encodes text, for the child to open its own the same way."""
    if stream is None:
        return None
    return [str(getattr(stream, "encoding", "utf-8")), str(getattr(stream, "errors", "strict"))]


class _Lines:
    """The lines the watcher writes on a socket, one at a time: ``ready``, ``refused WHY``,
    ``pid N``, ``exit N``."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buffer = b""

    def next(self, deadline: float | None) -> str | None:
        while b"\n" not in self.buffer:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(None)
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("ascii", "replace")


def _wait(sock: Any, lines: _Lines) -> int | None:
    """Wait for the command the watcher runs to end, passing Ctrl-C (and a polite SIGTERM or
    SIGHUP) on to it; its exit status (128 + N for a signal, as a shell says). None when
    the watcher could not start it (it could not fork): nothing ran."""
    import _signal  # type: ignore[import-not-found]  # signal.py imports enum: 3 ms

    child: list[int] = []
    signals = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)

    def forward(signum: int, frame: object) -> None:
        if not child:
            return
        try:
            os.kill(child[0], signum)
        except OSError:  # it has just ended
            return

    previous = {signum: _signal.signal(signum, forward) for signum in signals}
    try:
        while True:
            try:
                line = lines.next(None)
            except OSError:
                line = None
            if line is None:
                return _orphaned(child)
            if line.startswith("refused") and not child:
                return None
            word, _, number = line.partition(" ")
            if not number.isdigit():
                continue
            if word == "pid":
                child.append(int(number))
                if os.environ.get("PAPERNOTES_WATCH_TRACE"):
                    sys.stderr.write(f"watcher: runs the command (pid {number})\n")
                    sys.stderr.flush()
            elif word == "exit":
                return int(number)
    finally:
        for signum, handler in previous.items():
            _signal.signal(signum, handler)
        sock.close()


def _orphaned(child: list[int]) -> int:
    """The watcher went away while its child ran the command: wait for the child to end
    (its output still comes here), then say that its exit status is not known."""
    while child:
        try:
            os.kill(child[0], 0)
        except OSError:
            break
        time.sleep(0.05)
    sys.stderr.write("papernotes: the watcher stopped while it ran the command\n")
    return 1


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
    global last_outcome, last_undecodable
    last_undecodable = None
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
    names = reply.get("undecodable")
    if type(names) is list and all(type(n) is str for n in names):
        last_undecodable = names
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
