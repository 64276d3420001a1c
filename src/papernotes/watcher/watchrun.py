"""Running the watcher (:mod:`papernotes.watcher.watchd`): in the foreground, or detached."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from papernotes.disk.store import Store
from papernotes.engine import watchclient
from papernotes.errors import ConfigError, PapernotesError

DETACH_WAIT = 15.0  # seconds to wait for a detached watcher to listen


def foreground(
    store: Store,
    idle: float | None,
    parent: int | None = None,
    command: Callable[[], None] | None = None,
    preload: Callable[[], None] | None = None,
) -> None:
    """Serve until Ctrl-C, SIGTERM, ``watch --stop`` or the idle time (or until the process
    ``parent`` is gone); log to stderr. ``command``: the command line (``sys.argv``) that
    the watcher runs for a client in a child of its own (see
    :mod:`papernotes.watcher.forkrun`), once ``preload`` imported what it will need."""
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        raise ConfigError(
            "papernotes watch needs watchfiles: pip install 'papernotes[watch]'"
        ) from None
    from papernotes.watcher import watchd

    def log(line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} {line}", file=sys.stderr, flush=True)

    service = watchd.Service(store, watchd.IDLE if idle is None else idle, log, command)
    service.preload = preload
    service.parent = parent
    signal.signal(signal.SIGTERM, lambda *_: service.stop())
    signal.signal(signal.SIGHUP, lambda *_: service.stop())
    try:
        service.run()
    except watchd.CannotWatch as exc:
        watchd.refused(store, exc.message)
        raise
    except KeyboardInterrupt:
        pass
    log("stopped")


def detach(store: Store, idle: float | None) -> str:
    """Start a watcher in the background (its own session, its output in a log file beside
    its socket); returns the line to print once it listens."""
    running = watchclient.status(store.root)
    if running is not None and running.get("pid"):
        return f"a watcher already serves {store.root} (pid {running['pid']})"
    base = watchclient.base_path(store.root)
    os.makedirs(os.path.dirname(base), mode=0o700, exist_ok=True)
    log_path = base + ".log"
    args = [sys.executable, "-m", "papernotes", "--notes-dir", str(store.root), "watch"]
    if idle is not None:
        args += ["--idle", f"{idle:g}"]
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        child = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(fd)
    deadline = time.monotonic() + DETACH_WAIT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            with open(log_path, encoding="utf-8", errors="replace") as log:
                lines = [line.strip() for line in log if line.strip()]
            raise PapernotesError(lines[-1] if lines else "the watcher exited at once")
        reply = watchclient.status(store.root)
        if reply is not None and reply.get("pid") == child.pid and reply["state"] == "serving":
            return f"watching {store.root} (pid {child.pid}; log {log_path})"
        time.sleep(0.05)
    return f"starting to watch {store.root} (pid {child.pid}; log {log_path})"


def start_child(store: Store) -> subprocess.Popen[bytes] | None:
    """A watcher for a long-running process (``papernotes mcp``): its child, which exits
    with it (or when :func:`stop_child` asks); None when one serves already or watchfiles is
    not installed."""
    import importlib.util

    if importlib.util.find_spec("watchfiles") is None or watchclient.status(store.root):
        return None
    args = [sys.executable, "-m", "papernotes", "--notes-dir", str(store.root), "watch"]
    args += ["--idle", "0", "--parent", str(os.getpid())]
    try:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None


def stop_child(store: Store, child: subprocess.Popen[bytes]) -> None:
    """Stop a watcher started by :func:`start_child` and wait for it to clean up."""
    if watchclient.ask(store.root, b"stop\n", timeout=2.0):
        watchclient.answer(store.root)
    try:
        child.wait(5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
