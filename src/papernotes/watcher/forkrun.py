"""Commands the watcher runs for a client: the server side of
:func:`papernotes.engine.watchclient.run`.

A command started from a shell spends most of its time importing (Python, click, the
engine: 60-80 ms here) before it reads anything. The watcher has done all of that already and
keeps the index open, so it runs the command in a child of its own, the way Rails' Spring or
Android's zygote start programs: after its barrier (every change made before the question
is applied), it forks; the child takes the client's standard streams (passed over the socket,
``SCM_RIGHTS``), working folder, environment and arguments, and runs the command line exactly
as a process of its own would (:func:`papernotes.cli.main`), freshness checks included. The
watcher tells the client the child's pid (for Ctrl-C) and then its exit status.

It forks only under :attr:`papernotes.watcher.watchd.Service.busy`, which its own work on the
index holds: no thread of the watcher is inside SQLite or a parse at that moment, so the child
inherits no lock held halfway. The child never touches the watcher's connection, watch or
socket; it opens the index anew, as any command does.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from papernotes.commands import exit_now
from papernotes.engine import watchclient

if TYPE_CHECKING:
    from papernotes.watcher.watchd import Service

BUSY_WAIT = 0.25  # seconds to wait for the watcher's own work on the index to end
GO_WAIT = 1.0  # seconds the client has to confirm that it still waits


def serve(
    service: Service,
    conn: socket.socket,
    payload: str,
    fds: list[int],
    command: Callable[[], None],
) -> None:
    """Run the command ``payload`` describes in a child (see the module docstring), or say
    why not (the client then runs it itself). Closes ``fds``."""
    try:
        request = _request(payload, fds)
        why = _refusal(service, request)
        if why is not None:
            _send(conn, f"refused {why}")
            return
        # "wait": the barrier is late because this process is applying changes; the client
        # then waits longer for "ready" (see watchd.APPLYING_WAIT)
        reply = service.answer("sync", on_wait=lambda: _send(conn, "wait"))
        if reply.get("state") != "serving" or reply.get("generation") is None:
            _send(conn, f"refused {reply.get('state')}")
            return
        if not service.busy.acquire(timeout=BUSY_WAIT):
            _send(conn, "refused busy")
            return
        try:
            _send(conn, "ready")
            if not _go(conn):
                return  # the client gave up waiting: it runs the command itself
            # the watcher's objects out of the collector's sight in the child: a collection
            # there would otherwise touch (and copy) every page they share
            gc.freeze()
            try:
                pid = os.fork()
            except OSError as exc:  # no memory, a process limit: the client runs it
                gc.unfreeze()
                _send(conn, f"refused {exc.strerror or 'fork'}")
                return
            if pid == 0:
                _child(service, conn, fds, request, reply, command)  # never returns
            gc.unfreeze()
        finally:
            service.busy.release()
    except (OSError, ValueError):
        return
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    with contextlib.suppress(OSError):
        _send(conn, f"pid {pid}")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(OSError):
        _send(conn, f"exit {code if code >= 0 else 128 - code}")


def _request(payload: str, fds: list[int]) -> dict[str, Any]:
    request = json.loads(payload)
    if (
        type(request) is not dict
        or len(fds) != 3
        or not isinstance(request.get("args"), list)
        or not all(isinstance(a, str) for a in request["args"])
        or not isinstance(request.get("cwd"), str)
        or type(request.get("umask")) is not int
        or not 0 <= request["umask"] <= 0o777
        or not isinstance(request.get("env"), dict)
        or not all(isinstance(v, str) for v in request["env"].values())
        or not isinstance(request.get("streams"), list)
        or len(request["streams"]) != 3
    ):
        raise ValueError("not a command")
    return request


def _refusal(service: Service, request: dict[str, Any]) -> str | None:
    """Why this watcher will not run the command (None: it will)."""
    if request.get("code") != service.code:
        return "another papernotes"  # upgraded or edited since the watcher started
    if service.stopping.is_set():
        return "stopping"
    return None


def _go(conn: socket.socket) -> bool:
    conn.settimeout(GO_WAIT)
    data = b""
    while not data.endswith(b"\n") and len(data) < 16:
        chunk = conn.recv(16)
        if not chunk:
            return False
        data += chunk
    return data == b"go\n"


def _send(conn: socket.socket, line: str) -> None:
    """One line to the client (``ready``, ``refused WHY``, ``pid N``, ``exit N``)."""
    conn.sendall(line.encode("ascii", "replace") + b"\n")


def _child(
    service: Service,
    conn: socket.socket,
    fds: list[int],
    request: dict[str, Any],
    reply: dict[str, Any],
    command: Callable[[], None],
) -> NoReturn:
    """In the forked child: become the client's command, run it, exit with its status."""
    code: Any = 1
    try:
        conn.close()
        service.listener.forget()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        fds.clear()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        _streams(request["streams"])
        watchclient.reset()
        watchclient.given(service.root, reply)
        sys.argv = ["papernotes", *request["args"]]
        code = 0
        command()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # a bug: what a process of its own would print
        import traceback

        with contextlib.suppress(BaseException):
            traceback.print_exc()
        code = 1
    exit_now(code)


def _streams(streams: list[Any]) -> None:
    """Standard streams on the descriptors 0, 1 and 2 (now the client's), set up as the
    client's were (encoding, errors) and as Python sets them up (line buffered on a
    terminal, stderr written through)."""
    opened: list[io.TextIOWrapper | None] = []
    for fd, spec in enumerate(streams):
        encoding, errors = spec if isinstance(spec, list) and len(spec) == 2 else ("utf-8", None)
        try:
            raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        except OSError:
            opened.append(None)
            continue
        buffered: Any = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        opened.append(
            io.TextIOWrapper(
                buffered,
                encoding=str(encoding),
                errors=str(errors) if errors else None,
                newline=None if fd == 0 else "\n",
                line_buffering=fd != 0 and raw.isatty(),
                write_through=fd == 2,
            )
        )
    for name, stream in zip(("stdin", "stdout", "stderr"), opened, strict=True):
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
