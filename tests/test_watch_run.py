"""Commands a change watcher runs for the process that was started (``papernotes watch``
serving; :mod:`papernotes.watcher.forkrun`, :func:`papernotes.engine.watchclient.run`).

What a user must not be able to tell, but by the time it takes: the output, byte for byte,
the exit status, the working folder and environment the command sees, fresh answers right
after an edit, Ctrl-C. And what must never happen: a command run twice, or run by a watcher
of another papernotes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("watchfiles")

from papernotes.engine import watchclient
from tests.kbfactory import NOTES, make_kb

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")

BROKEN = "---\ntitle: [unclosed\n---\nbody\n"


@pytest.fixture(autouse=True)
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="pn-", dir="/tmp"))  # a socket path is short
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.setenv(watchclient.ENV_TIMEOUT, "5")  # a busy test machine
    monkeypatch.delenv(watchclient.ENV_WATCH, raising=False)
    monkeypatch.delenv("PAPERNOTES_WATCH_RUN", raising=False)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path, {**NOTES, "broken": BROKEN})


@pytest.fixture
def watcher(notes: Path, runtime: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "watch", "--idle", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while (reply := watchclient.status(notes)) is None or reply["state"] != "serving":
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, reply
            time.sleep(0.05)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def _env(**extra: str) -> dict[str, str]:
    dropped = ("PAPERNOTES_DIR", "PAPERNOTES_INDEX", "PAPERNOTES_WATCH_RUN")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "PAPERNOTES_WATCH_TRACE": "1", "PYTHONDONTWRITEBYTECODE": "1", **extra}


def papernotes(
    notes: Path, *args: str, cwd: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=_env(**extra),
    )  # fmt: skip


def _traced(stderr: str) -> tuple[list[str], str]:
    """The watcher's trace lines, and the rest of stderr."""
    lines = stderr.splitlines(keepends=True)
    trace = [line.strip() for line in lines if line.startswith("watcher: ")]
    return trace, "".join(line for line in lines if not line.startswith("watcher: "))


COMMANDS = [
    ["search", "preference"],
    ["search", "judge its own outputs", "--format", "json"],
    ["list", "--topic", "alignment"],
    ["list", "--format", "json"],
    ["show", "dpo"],
    ["show", "flame", "--format", "json"],
    ["show", "nosuch"],  # an error: exit status and message
    ["related", "kto"],
    ["tags"],
    ["authors", "--format", "csv"],
    ["stats"],
    ["check"],  # the broken note: its path, relative to the working folder
    ["check", "--format", "json"],
    ["export", "--format", "bibtex"],
    ["cite", "dpo", "--format", "bibtex"],
    ["list", "--sort", "nosuch"],  # a usage error, from click
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_command_the_watcher_runs_prints_what_it_prints_alone(
    notes: Path, watcher: subprocess.Popen[str], tmp_path: Path, args: list[str]
) -> None:
    """Byte for byte the same stdout, stderr and exit status as the same command run in its
    own process (``PAPERNOTES_WATCH_RUN=0``), from the notes' parent folder (the watcher's
    is another: paths are shown relative to the command's), with COLUMNS and NO_COLOR set."""
    cwd = tmp_path
    served = papernotes(notes, *args, cwd=cwd, COLUMNS="61", NO_COLOR="1")
    alone = papernotes(notes, *args, cwd=cwd, COLUMNS="61", NO_COLOR="1", PAPERNOTES_WATCH_RUN="0")
    trace, served_err = _traced(served.stderr)
    assert any(line.startswith("watcher: runs the command (pid ") for line in trace), trace
    alone_trace, alone_err = _traced(alone.stderr)
    assert not any("runs the command" in line for line in alone_trace)
    assert (served.returncode, served.stdout, served_err) == (
        alone.returncode,
        alone.stdout,
        alone_err,
    )
    if args == ["check"]:
        assert "notes/broken.md:3: error" in served.stdout.splitlines()[0]


def test_commands_that_write_or_talk_run_in_their_own_process(
    notes: Path, watcher: subprocess.Popen[str], tmp_path: Path
) -> None:
    """A command that writes a note (or waits for a terminal, or serves MCP) is never run by
    the watcher, which never writes a note."""
    done = papernotes(notes, "tag", "kto", "+zzz", cwd=tmp_path)
    trace, _ = _traced(done.stderr)
    assert done.returncode == 0, done.stderr
    assert not any("runs the command" in line for line in trace)
    found = papernotes(notes, "list", "--tag", "zzz", "--format", "ids", cwd=tmp_path)
    assert found.stdout == "kto\n" and "watcher: runs the command" in found.stderr


def test_an_edit_just_made_is_in_the_answer(
    notes: Path, watcher: subprocess.Popen[str], tmp_path: Path
) -> None:
    for i in range(5):
        (notes / "kto.md").write_text(f"---\ntitle: KTO\n---\nzqx{i}\n", encoding="utf-8")
        found = papernotes(notes, "search", f"zqx{i}", "--format", "ids", cwd=tmp_path)
        assert found.stdout == "kto\n", found.stderr
        assert "watcher: runs the command" in found.stderr


def test_files_are_written_with_the_callers_umask(
    notes: Path, watcher: subprocess.Popen[str], tmp_path: Path
) -> None:
    for name, run_here in (("served.json", "1"), ("alone.json", "0")):
        done = subprocess.run(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "export",
             "--format", "json", "-o", name],
            capture_output=True, text=True, timeout=120, cwd=tmp_path, umask=0o077,
            env=_env(PAPERNOTES_WATCH_RUN=run_here),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert ("runs the command" in done.stderr) == (run_here == "1")
    assert (tmp_path / "served.json").read_bytes() == (tmp_path / "alone.json").read_bytes()
    modes = {oct((tmp_path / n).stat().st_mode & 0o777) for n in ("served.json", "alone.json")}
    assert modes == {oct(0o600)}


@pytest.mark.parametrize("tostop", [False, True])
def test_a_terminal_that_stops_background_writers(
    notes: Path, watcher: subprocess.Popen[str], tmp_path: Path, tostop: bool
) -> None:
    """With ``stty tostop``, the watcher's child (not in the terminal's foreground) would be
    stopped at its first write: the command runs itself."""
    import pty
    import termios

    master, slave = pty.openpty()
    try:
        attrs = termios.tcgetattr(slave)
        attrs[3] = attrs[3] | termios.TOSTOP if tostop else attrs[3] & ~termios.TOSTOP
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        done = subprocess.run(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "tags"],
            stdout=slave, stderr=subprocess.PIPE, text=True, timeout=120, cwd=tmp_path,
            env=_env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert ("runs the command" in done.stderr) is not tostop
        assert b"preference-optimization" in os.read(master, 65536)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
def big(tmp_path: Path, runtime: Path) -> Iterator[Path]:
    """A watcher serving 60 notes of 5 kB: their JSON export (300 kB) fills a pipe (64 kB)
    that nobody reads, and the command waits there."""
    text = "---\ntitle: N{}\n---\n" + "lorem ipsum " * 400 + "\n"
    folder = make_kb(tmp_path / "big", {f"n{i}": text.format(i) for i in range(60)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(folder), "watch", "--idle", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while (reply := watchclient.status(folder)) is None or reply["state"] != "serving":
            assert time.monotonic() < deadline, reply
            time.sleep(0.05)
        yield folder
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0


def _stuck_export(folder: Path, cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``export --format json`` run by the watcher into a pipe nobody reads; its child's pid."""
    client = subprocess.Popen(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(folder), "export",
         "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=cwd,
    )  # fmt: skip
    assert client.stderr is not None
    first = client.stderr.readline().decode()  # the trace: the child runs
    assert first.startswith("watcher: runs the command (pid "), first
    time.sleep(0.5)  # it fills the pipe and waits
    return client, int(first.rsplit("pid ", 1)[1].rstrip(")\n"))


def test_ctrl_c_reaches_the_command(big: Path, tmp_path: Path) -> None:
    """SIGINT to the process started is passed on to the watcher's child: a command stuck
    writing to a full pipe is interrupted, and exits as it would alone (130)."""
    client, _ = _stuck_export(big, tmp_path)
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=60)
    assert client.returncode == 130, err
    assert b"interrupted" in err


def test_a_child_killed_is_an_exit_status_as_a_shell_gives(big: Path, tmp_path: Path) -> None:
    client, pid = _stuck_export(big, tmp_path)
    os.kill(pid, signal.SIGKILL)
    client.communicate(timeout=60)
    assert client.returncode == 128 + signal.SIGKILL
    assert watchclient.status(big)["state"] == "serving"  # type: ignore[index]


def test_a_watcher_of_another_papernotes_does_not_run_it(
    notes: Path, watcher: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Upgraded or edited since the watcher started: the process runs the command itself."""
    args = ["--notes-dir", str(notes), "list", "--format", "ids"]
    assert watchclient.run(notes, args) == 0
    assert capfd.readouterr().out.split() == sorted([*NOTES])
    stamp = watchclient.code_stamp()
    monkeypatch.setattr(watchclient, "code_stamp", lambda: stamp[::-1])
    assert watchclient.run(notes, args) is None
    assert capfd.readouterr().out == ""


def test_a_client_that_gives_up_before_go_gets_nothing_run(
    notes: Path, watcher: subprocess.Popen[str]
) -> None:
    """The watcher forks only once the client confirmed that it still waits: a client that
    timed out (and runs the command itself) never gets it run twice."""
    read, write = os.pipe()
    request = {
        "args": ["list", "--format", "ids"],
        "cwd": str(notes),
        "umask": 0o022,
        "env": _env(),
        "code": watchclient.code_stamp(),
        "streams": [["utf-8", "strict"]] * 3,
    }
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(watchclient.socket_path(notes))
    socket.send_fds(sock, [b"run " + json.dumps(request).encode() + b"\n"], [write, write, write])
    os.close(write)
    assert sock.recv(100) == b"ready\n"
    sock.close()  # no "go"
    assert os.read(read, 100) == b""  # every copy of the pipe's end closed, nothing written
    os.close(read)


def test_a_question_that_is_not_a_command(notes: Path, watcher: subprocess.Popen[str]) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(watchclient.socket_path(notes))
    sock.sendall(b"run {not json\n")
    assert sock.recv(100) == b""  # closed, nothing run
    sock.close()
    assert watchclient.status(notes)["state"] == "serving"  # type: ignore[index]


def test_a_fork_the_watcher_cannot_make_is_a_refusal(
    notes: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """No memory or a process limit: nothing ran, and the process runs the command itself.
    (The watcher serves in a thread of this process here; its fork fails before it forks.)"""
    import threading

    from papernotes.disk.store import open_store
    from papernotes.watcher import forkrun, watchd

    ran: list[str] = []
    service = watchd.Service(open_store(notes), 0, lambda line: None, lambda: ran.append("x"))
    service.tap = False
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while service.state != "serving":
            assert time.monotonic() < deadline
            time.sleep(0.01)

        def no_fork() -> int:
            raise OSError(11, "Resource temporarily unavailable")

        monkeypatch.setattr(forkrun.os, "fork", no_fork)
        args = ["--notes-dir", str(notes), "list", "--format", "ids"]
        assert watchclient.run(notes, args) is None
        assert ran == [] and capfd.readouterr().out == ""
    finally:
        service.stop()
        thread.join(10)


def test_a_working_folder_that_is_gone_is_no_request(
    notes: Path, watcher: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def gone() -> str:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(watchclient.os, "getcwd", gone)
    assert watchclient.run(notes, ["--notes-dir", str(notes), "tags"]) is None


@pytest.mark.parametrize("says_wait", [True, False])
def test_the_process_waits_longer_only_when_told_to(
    notes: Path, monkeypatch: pytest.MonkeyPatch, says_wait: bool
) -> None:
    """A watcher applying changes says "wait" and answers "ready" later: the process waits
    (up to watchclient.APPLYING_WAIT); one that says nothing in time is given up on."""
    import threading

    monkeypatch.setenv(watchclient.ENV_TIMEOUT, "0.3")
    path = watchclient.socket_path(notes)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.chmod(os.path.dirname(path), 0o700)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    heard: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                chunk, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                for fd in fds:
                    os.close(fd)
                data += chunk
            if says_wait:
                conn.sendall(b"wait\n")
            time.sleep(0.8)
            try:
                conn.sendall(b"ready\n")
                conn.settimeout(5)
                heard.append(conn.recv(10))
                conn.sendall(b"pid 999999\nexit 7\n")
            except OSError:  # the process gave up and closed: it runs the command itself
                heard.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert watchclient.run(notes, ["tags"]) == (7 if says_wait else None)
        thread.join(5)
        assert heard == ([b"go\n"] if says_wait else [b""])
    finally:
        server.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["search", "preference"], ["list"], ["show", "dpo"]])
def test_output_that_cannot_be_written_is_the_same_clear_error(
    notes: Path, watcher: subprocess.Popen[str], tmp_path: Path, args: list[str]
) -> None:
    """A full disk: the watcher's child fails to write as the process would, one line and
    status 1. Standard output closed: the watcher is not asked (the descriptor the process
    would pass is the null device's), and the process says so itself."""
    argv = [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args]
    with open("/dev/full", "w") as full:
        served = subprocess.run(
            argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120, env=_env()
        )
    closed = subprocess.run(
        argv, stderr=subprocess.PIPE, text=True, timeout=120, env=_env(),
        preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    trace, served_err = _traced(served.stderr)
    assert any(line.startswith("watcher: runs the command (pid ") for line in trace), trace
    # (after "1 note skipped": the broken note)
    assert (served.returncode, served_err.splitlines()[-1]) == (
        1,
        "Error: cannot write the output: No space left on device",
    )
    assert "Traceback" not in served_err
    trace, closed_err = _traced(closed.stderr)
    assert not any("runs the command" in line for line in trace), trace
    assert (closed.returncode, closed_err.splitlines()[-1]) == (
        1,
        "Error: cannot write the output: standard output is closed",
    )
    assert "Traceback" not in closed_err
