"""``papernotes watch``: the change watcher that vouches for the index (issue 16).

Most tests run the watcher in this process (a :class:`watchd.Service` in a thread) and a
command's freshness check beside it (``open_kb``); the checks that need a real process (the
kernel's queue overflowing, ``--detach``, ``--stop``) run ``papernotes watch`` as one. Each
fallback is driven for real: the command must then stat every note, and answer fresh."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("watchfiles")

from papernotes.disk.store import Store, open_store
from papernotes.engine import indexing, watchclient
from papernotes.engine.kb import open_kb
from papernotes.engine.search import ids_matching
from papernotes.watcher import watch, watchapply, watchd
from tests.kbfactory import make_kb, run

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


def note(title: str, body: str) -> str:
    return f"---\ntitle: {title}\n---\n{body}\n"


@pytest.fixture(autouse=True)
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short private runtime folder (a socket's path is at most 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="pn-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.setenv(watchclient.ENV_TIMEOUT, "2")  # a busy test machine
    monkeypatch.delenv(watchclient.ENV_WATCH, raising=False)
    watchclient.last_outcome = "absent"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    return make_kb(tmp_path, {f"n{i}": note(f"Note {i}", f"alpha word{i}") for i in range(5)})


class Running:
    """A watcher serving in a thread of this process."""

    def __init__(self, store: Store, idle: float = 0) -> None:
        self.lines: list[str] = []
        self.service = watchd.Service(store, idle, self.lines.append)
        self.service.tap = False  # this process's stderr is pytest's
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.service.run()
        except BaseException as exc:
            self.error = exc

    def wait_for(self, state: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.service.state != state:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, (self.service.state, self.lines)
            time.sleep(0.01)

    def stop(self) -> None:
        self.service.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def serving(notes: Path) -> Iterator[Running]:
    running = Running(open_store(notes))
    running.wait_for("serving")
    yield running
    running.stop()


def fresh(notes: Path, word: str) -> list[str]:
    """The ids a command finds for ``word``, after its freshness check."""
    return ids_matching(open_kb(open_store(notes)), word)


def no_scan(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Count the scans of every note by this thread (the command's, not a watcher's serving in
    this process, which checks every note after another process wrote) from here on."""
    scans: list[Path] = []
    real = indexing.scan
    command = threading.current_thread()

    def counting(root: Path) -> object:
        if threading.current_thread() is command:
            scans.append(root)
        return real(root)

    monkeypatch.setattr(indexing, "scan", counting)
    return scans


# --------------------------------------------------------------------------- vouching


def test_a_command_skips_the_scan_when_the_watcher_vouches(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = no_scan(monkeypatch)
    assert fresh(notes, "alpha") == [f"n{i}" for i in range(5)]
    assert watchclient.last_outcome == "vouched"
    (notes / "n1.md").write_text(note("Note 1", "edited gamma"), encoding="utf-8")
    (notes / "new.md").write_text(note("New", "delta"), encoding="utf-8")
    (notes / "n2.md").unlink()
    assert fresh(notes, "gamma") == ["n1"]
    assert watchclient.last_outcome == "vouched"
    assert fresh(notes, "delta") == ["new"]
    assert fresh(notes, "alpha") == ["n0", "n3", "n4"]
    assert scans == []


def test_it_says_which_names_are_not_utf8(
    notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check`` names the note files and folders that are not UTF-8 without walking the
    folder itself: the watcher knows them from its scan, sees them again when a folder comes
    or goes (its notes make no event each), and when one is made (watchfiles fails on such a
    name, and the watcher checks every note again)."""
    root = os.fsencode(notes)
    with open(root + b"/\xff.md", "wb") as file:
        file.write(b"---\ntitle: X\n---\n")
    walks: list[object] = []
    monkeypatch.setattr("papernotes.cli.check.undecodable", lambda root: walks.append(root) or [])

    def named(expected: list[str]) -> None:
        """What a command is told, once the watcher vouches again (a folder with such a
        name in it makes watchfiles fail: the watcher restarts)."""
        deadline = time.monotonic() + 30
        while True:
            kb = open_kb(open_store(notes))
            report = kb.index.report
            found = report.undecodable if report is not None else None
            if watchclient.last_outcome == "vouched" and sorted(found or ()) == expected:
                return
            assert time.monotonic() < deadline, (watchclient.last_outcome, found)
            time.sleep(0.05)

    running = Running(open_store(notes))
    try:
        running.wait_for("serving")
        named(["\udcff.md"])
        outside = os.fsencode(tmp_path / "outside")
        os.makedirs(outside + b"/sub")
        with open(outside + b"/sub/\xfe.md", "wb") as file:
            file.write(b"---\ntitle: Y\n---\n")
        os.rename(outside, root + b"/moved")  # one event: the folder
        named(sorted(["moved/sub/\udcfe.md", "\udcff.md"]))
        shutil.rmtree(root + b"/moved")
        named(["\udcff.md"])
        with open(root + b"/\xfd.md", "wb") as file:  # made while it serves
            file.write(b"---\ntitle: Z\n---\n")
        named(["\udcfd.md", "\udcff.md"])
        check = run(notes, "check")
        assert "\\xfd.md:1: error: file name is not valid UTF-8" in check.stdout
        assert walks == []
    finally:
        running.stop()


def test_folders_moved_in_out_and_deleted(
    notes: Path, serving: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = no_scan(monkeypatch)
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "m.md").write_text(note("Moved", "epsilon"), encoding="utf-8")
    (outside / "template.md").write_text(note("Not top level", "epsilon"), encoding="utf-8")
    outside.rename(notes / "sub")  # no event names the notes inside
    assert sorted(fresh(notes, "epsilon")) == ["m", "template"]
    (notes / "sub" / "deep").rename(notes / "sub" / ".hidden")
    assert fresh(notes, "epsilon") == ["template"]
    (notes / "later").mkdir()
    (notes / "later" / "x.md").write_text(note("Later", "zeta"), encoding="utf-8")
    assert fresh(notes, "zeta") == ["x"]
    shutil.rmtree(notes / "later")
    (notes / "sub").rename(tmp_path / "gone")
    assert fresh(notes, "zeta") == [] and fresh(notes, "epsilon") == []
    (notes / "template.md").write_text(note("Template", "eta"), encoding="utf-8")
    assert fresh(notes, "eta") == []  # the top-level template is not a note
    assert watchclient.last_outcome == "vouched" and scans == []


def test_a_racily_clean_edit_is_seen_through_its_event(
    notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same size, same stat (a coarse clock puts both writes in one tick): the scan cannot
    tell, the event can."""
    from papernotes.disk import freshness

    real = freshness._stat
    tick = time.time_ns() - 60 * 10**9  # a tick long ago: the scan trusts such a note

    def coarse(root: object, rels: list[str]) -> dict[str, tuple[int, ...]]:
        return {rel: (st[0], tick, tick, 1) for rel, st in real(root, rels).items()}

    monkeypatch.setattr(freshness, "_stat", coarse)
    running = Running(open_store(notes))
    try:
        running.wait_for("serving")
        assert fresh(notes, "word1") == ["n1"]
        (notes / "n1.md").write_text(note("Note 1", "alpha wordX"), encoding="utf-8")
        assert fresh(notes, "wordX") == ["n1"] and fresh(notes, "word1") == []
        assert watchclient.last_outcome == "vouched"
        running.service.stop()
        running.thread.join(10)
        # without the watcher, the scan sees the same stat and trusts the index
        (notes / "n1.md").write_text(note("Note 1", "alpha wordY"), encoding="utf-8")
        assert fresh(notes, "wordY") == []
    finally:
        running.stop()


def test_what_changed_since_a_token(notes: Path, serving: Running) -> None:
    first = watchclient.status(notes)
    assert first is not None
    (notes / "n3.md").write_text(note("Note 3", "changed"), encoding="utf-8")
    assert watchclient.ask(notes, f"sync {first['token']}\n".encode())
    reply = watchclient.answer(notes)
    assert reply is not None and reply["changed"] == ["n3.md"]
    assert watchclient.ask(notes, b"sync other:1\n")
    reply = watchclient.answer(notes)
    assert reply is not None and reply["changed"] is None  # another watcher's: everything


# --------------------------------------------------------------------------- fallbacks


def test_absent(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scans = no_scan(monkeypatch)
    assert fresh(notes, "word2") == ["n2"]
    assert watchclient.last_outcome == "absent" and len(scans) == 1


def test_starting(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = watchd.refresh

    def slow(conn: object, root: Path) -> object:
        release.wait(20)
        return real(conn, root)  # type: ignore[arg-type]

    monkeypatch.setattr(watchd, "refresh", slow)
    running = Running(open_store(notes))
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(watchclient.socket_path(notes)):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        (notes / "n0.md").write_text(note("Note 0", "theta"), encoding="utf-8")
        scans = no_scan(monkeypatch)
        assert fresh(notes, "theta") == ["n0"]
        assert watchclient.last_outcome == "starting" and len(scans) == 1
        release.set()
        running.wait_for("serving")
    finally:
        release.set()
        running.stop()


def test_restarting_after_the_watcher_failed(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watcher error (a watch limit reached on a new folder): watch again, check every note."""
    release = threading.Event()
    real_refresh = watchd.refresh

    def slow(conn: object, root: Path) -> object:
        release.wait(20)
        return real_refresh(conn, root)  # type: ignore[arg-type]

    monkeypatch.setattr(watchd, "refresh", slow)
    assert serving.service.watcher is not None
    real_collect = serving.service.watcher.collect
    failed = [False]

    def failing(*args: object, **kwargs: object) -> watch.Batch:
        if not failed[0]:
            failed[0] = True
            return watch.Batch(rescan="the watcher failed (OS file watch limit reached)")
        return real_collect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(serving.service.watcher, "collect", failing)
    serving.wait_for("restarting")
    (notes / "n4.md").write_text(note("Note 4", "iota"), encoding="utf-8")
    scans = no_scan(monkeypatch)
    assert fresh(notes, "iota") == ["n4"]
    assert watchclient.last_outcome == "restarting" and len(scans) == 1
    release.set()
    serving.wait_for("serving")
    assert fresh(notes, "iota") == ["n4"] and watchclient.last_outcome == "vouched"


def test_lagging(notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst larger than LAG_PATHS is applied while commands scan for themselves."""
    release = threading.Event()
    real = watchapply.apply

    def slow(*args: object) -> object:
        release.wait(20)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(watchd, "LAG_PATHS", 3)
    monkeypatch.setattr(watchapply, "apply", slow)
    for i in range(5):
        (notes / f"burst{i}.md").write_text(note(f"Burst {i}", "kappa"), encoding="utf-8")
    serving.wait_for("lagging")
    scans = no_scan(monkeypatch)
    assert len(fresh(notes, "kappa")) == 5
    assert watchclient.last_outcome == "lagging" and len(scans) == 1
    release.set()
    serving.wait_for("serving")


def test_a_barrier_not_reached_in_time(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher is behind (applying a batch slowly): it says so when the time is up."""
    monkeypatch.setenv(watchclient.ENV_TIMEOUT, "0.3")
    release = threading.Event()
    real = watchapply.apply

    def slow(*args: object) -> object:
        release.wait(20)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(watchapply, "apply", slow)
    (notes / "n0.md").write_text(note("Note 0", "lambda"), encoding="utf-8")
    time.sleep(0.2)  # the batch is being applied
    started = time.monotonic()
    assert fresh(notes, "lambda") == ["n0"]
    assert watchclient.last_outcome in ("lagging", "timeout")
    assert time.monotonic() - started < 3
    release.set()


def test_a_reply_slower_than_the_timeout(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Something listens on the socket and never answers: the command scans after 0.3 s."""
    monkeypatch.setenv(watchclient.ENV_TIMEOUT, "0.3")
    path = watchclient.socket_path(notes)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(path)
    silent.listen(8)
    try:
        started = time.monotonic()
        assert fresh(notes, "word3") == ["n3"]
        assert watchclient.last_outcome == "timeout"
        assert 0.3 <= time.monotonic() - started < 2
    finally:
        silent.close()


def test_a_socket_left_by_a_killed_watcher(notes: Path) -> None:
    path = watchclient.socket_path(notes)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # the file stays, nobody listens
    assert fresh(notes, "word3") == ["n3"] and watchclient.last_outcome == "absent"
    running = Running(open_store(notes))  # a new watcher takes the place
    try:
        running.wait_for("serving")
        assert fresh(notes, "word3") == ["n3"] and watchclient.last_outcome == "vouched"
    finally:
        running.stop()


def test_a_folder_others_can_enter_is_not_trusted(notes: Path, serving: Running) -> None:
    folder = os.path.dirname(watchclient.socket_path(notes))
    os.chmod(folder, 0o755)
    try:
        assert fresh(notes, "word3") == ["n3"] and watchclient.last_outcome == "absent"
    finally:
        os.chmod(folder, 0o700)


def test_another_process_wrote_to_the_index(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that scanned may have written an older version of a note: the watcher checks
    every note again before it vouches; a write after its answer makes the command scan."""
    assert serving.service.index is not None and serving.service.index.location is not None
    location = serving.service.index.location

    def another_write() -> None:
        other = sqlite3.connect(location, isolation_level=None)
        with indexing.write(other):  # as a refresh's write does
            other.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
            )
        other.close()

    another_write()
    deadline = time.monotonic() + 20
    while True:  # at once, or once it has checked every note: "restarting" until then
        assert fresh(notes, "word1") == ["n1"]
        if watchclient.last_outcome == "vouched":
            break
        assert watchclient.last_outcome == "restarting" and time.monotonic() < deadline
    assert any("another process wrote to the index" in line for line in serving.lines)
    real = watchclient.answer

    def then_a_write(root: Path) -> object:
        reply = real(root)
        another_write()
        return reply

    monkeypatch.setattr(watchclient, "answer", then_a_write)
    scans = no_scan(monkeypatch)
    assert fresh(notes, "word1") == ["n1"]
    assert watchclient.last_outcome == "written since" and len(scans) == 1


def test_the_index_deleted_or_replaced_is_rebuilt(notes: Path, serving: Running) -> None:
    assert serving.service.index is not None and serving.service.index.location is not None
    location = serving.service.index.location
    for suffix in ("", "-wal", "-shm"):
        Path(f"{location}{suffix}").unlink(missing_ok=True)
    (notes / "n2.md").write_text(note("Note 2", "mu"), encoding="utf-8")
    deadline = time.monotonic() + 20
    while not any("deleted or replaced" in line for line in serving.lines):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    serving.wait_for("serving")
    assert fresh(notes, "mu") == ["n2"] and watchclient.last_outcome == "vouched"
    assert sorted(fresh(notes, "alpha")) == ["n0", "n1", "n3", "n4"]


def test_a_file_system_without_events(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NFS, FUSE: the statfs type is not one whose changes this kernel always sees."""
    monkeypatch.setattr(watch, "LOCAL_FILE_SYSTEMS", frozenset())
    assert watch.Watcher.start(notes) is None
    result = run(notes, "watch")
    assert result.exit_code == 1
    assert "changes there are not reported to this machine" in result.output
    assert os.path.exists(watchclient.base_path(notes) + ".refused")
    assert not os.path.exists(watchclient.socket_path(notes))
    assert fresh(notes, "word3") == ["n3"] and watchclient.last_outcome == "absent"


def test_a_folder_without_events_made_later(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network file system mounted inside the notes folder while the watcher runs."""
    monkeypatch.setattr(watchd, "local", lambda folder: Path(folder).name != "nfs")
    (notes / "nfs").mkdir()
    (notes / "nfs" / "remote.md").write_text(note("Remote", "sigma"), encoding="utf-8")
    serving.wait_for("unwatchable")
    assert fresh(notes, "sigma") == ["remote"] and watchclient.last_outcome == "unwatchable"


def test_a_watch_limit_reached(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def limit(*args: object, **kwargs: object) -> None:
        raise OSError(28, "OS file watch limit reached")

    monkeypatch.setattr(watch.Watcher, "start", limit)
    result = run(notes, "watch")
    assert result.exit_code == 1 and "OS file watch limit reached" in result.output
    assert not os.path.exists(watchclient.socket_path(notes))


def test_a_watch_limit_reached_later(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    def limit(*args: object, **kwargs: object) -> None:
        raise OSError(28, "OS file watch limit reached")

    monkeypatch.setattr(watch.Watcher, "start", limit)
    assert serving.service.watcher is not None
    monkeypatch.setattr(
        serving.service.watcher,
        "collect",
        lambda *a, **k: watch.Batch(rescan="the watcher failed (watch limit)"),
    )
    serving.wait_for("unwatchable")
    (notes / "n3.md").write_text(note("Note 3", "nu"), encoding="utf-8")
    assert fresh(notes, "nu") == ["n3"] and watchclient.last_outcome == "unwatchable"


def test_the_kernel_queue_overflowing(notes: Path, runtime: Path) -> None:
    """The watcher stopped (SIGSTOP) while 20,000 events happen: the kernel drops events and
    says so; the watcher checks every note again before it vouches."""
    proc = _spawn(notes, "--idle", "0")
    try:
        _wait_serving(notes)
        os.kill(proc.pid, signal.SIGSTOP)
        for i in range(5000):  # 4 events each: create, open, write, close
            (notes / f"o{i}.md").write_text(note(f"O {i}", "xi"), encoding="utf-8")
        os.kill(proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 60
        while True:
            kb = open_kb(open_store(notes))
            if watchclient.last_outcome == "vouched":
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert len(kb) == 5005
    finally:
        log = _stop(notes, proc)
    assert "the kernel's event queue overflowed: checking every note again" in log


# --------------------------------------------------------------------------- the process


def test_one_watcher_per_folder_and_it_cleans_up(notes: Path, serving: Running) -> None:
    folder = os.path.dirname(watchclient.socket_path(notes))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(watchclient.socket_path(notes)).st_mode) == 0o600
    with pytest.raises(watchd.AlreadyWatching):
        watchd.Service(open_store(notes), 0, print).open()
    serving.stop()
    assert os.listdir(folder) == []  # socket, lock, cookies: gone


def test_it_exits_when_idle(notes: Path) -> None:
    # idle long enough that a loaded machine still asks before it goes (0.5 s was not)
    running = Running(open_store(notes), idle=3)
    running.wait_for("serving")
    assert fresh(notes, "alpha") and watchclient.last_outcome == "vouched"
    running.thread.join(20)
    assert not running.thread.is_alive()
    assert any("no question for 3 s" in line for line in running.lines)
    assert not os.path.exists(watchclient.socket_path(notes))


def test_it_never_writes_into_the_notes_folder(notes: Path, serving: Running) -> None:
    before = {p.name: p.read_bytes() for p in notes.iterdir()}
    for _ in range(3):
        assert fresh(notes, "alpha") and watchclient.last_outcome == "vouched"
    (notes / "n0.md").write_text(note("Note 0", "omicron"), encoding="utf-8")
    assert fresh(notes, "omicron") == ["n0"]
    after = {p.name: p.read_bytes() for p in notes.iterdir()}
    assert after.keys() == before.keys()
    assert {k: v for k, v in after.items() if k != "n0.md"} == {
        k: v for k, v in before.items() if k != "n0.md"
    }


def test_index_status_says_whether_a_watcher_serves(notes: Path) -> None:
    assert "watcher:  none" in run(notes, "index", "--status").output
    running = Running(open_store(notes))
    try:
        running.wait_for("serving")
        result = run(notes, "index", "--status")
        assert "watcher:  serving (pid" in result.output, result.output
        assert "0 changes behind" in result.output
        data = run(notes, "index", "--status", "--format", "json").output
        assert '"watcher": {' in data and '"state": "serving"' in data
    finally:
        running.stop()


def test_detach_status_and_stop(notes: Path, runtime: Path) -> None:
    env = {**os.environ, "PAPERNOTES_DIR": str(notes)}
    started = subprocess.run(
        [sys.executable, "-m", "papernotes", "watch", "--detach", "--idle", "60"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith(f"watching {notes} (pid ")
    assert "watcher:  serving" in run(notes, "index", "--status").output
    again = subprocess.run(
        [sys.executable, "-m", "papernotes", "watch", "--detach"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "a watcher already serves" in again.stdout
    assert run(notes, "watch", "--stop").output.startswith("stopped the watcher of")
    deadline = time.monotonic() + 10
    while os.path.exists(watchclient.socket_path(notes)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert run(notes, "watch", "--stop").exit_code == 1


def test_watch_true_in_the_settings_starts_one(notes: Path, runtime: Path) -> None:
    (notes / "papernotes.toml").write_text("watch = true\nwatch_idle = 30\n", encoding="utf-8")
    assert fresh(notes, "word1") == ["n1"] and watchclient.last_outcome == "absent"
    try:
        _wait_serving(notes)
        assert fresh(notes, "word1") == ["n1"] and watchclient.last_outcome == "vouched"
    finally:
        run(notes, "watch", "--stop")


def test_a_command_process_asks_before_it_imports(notes: Path, runtime: Path) -> None:
    """The console script sends its question first and skips the prefetching child."""
    proc = _spawn(notes, "--idle", "0")
    try:
        _wait_serving(notes)
        (notes / "n2.md").write_text(note("Note 2", "pi"), encoding="utf-8")
        found = subprocess.run(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "search", "pi",
             "--format", "ids"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert found.stdout == "n2\n", found.stderr
    finally:
        _stop(notes, proc)


def test_the_mcp_server_uses_a_watcher(notes: Path, runtime: Path) -> None:
    from papernotes.assistant.live import LiveKnowledgeBase

    live = LiveKnowledgeBase(open_store(notes))
    try:
        _wait_serving(notes)

        def ids(word: str) -> list[str]:
            return live.call(lambda kb: ids_matching(kb, word))[0]

        assert ids("word4") == ["n4"]
        assert live.watched
        (notes / "n4.md").write_text(note("Note 4", "rho"), encoding="utf-8")
        assert ids("rho") == ["n4"] and live.watched
    finally:
        live.close()
    assert not os.path.exists(watchclient.socket_path(notes))


def _spawn(notes: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "watch", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_serving(notes: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        reply = watchclient.status(notes)
        if reply is not None and reply.get("state") == "serving":
            return
        assert time.monotonic() < deadline, reply
        time.sleep(0.05)


def _stop(notes: Path, proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out


def test_a_barrier_late_while_it_applies_a_batch_is_waited_for(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command the watcher runs is told "wait" when the barrier is late because the
    watcher is applying changes (100 new notes take 0.3-3 s at 75,000), and the barrier gets
    longer; a plain question keeps the short timeout."""
    monkeypatch.setenv(watchclient.ENV_TIMEOUT, "0.3")
    service = serving.service
    told: list[str] = []
    answers: list[dict[str, object]] = []
    with service.busy:  # the watcher's main loop is busy applying a batch
        (notes / "n1.md").write_text(note("Note 1", "later"), encoding="utf-8")
        asking = threading.Thread(
            target=lambda: answers.append(service.answer("sync", lambda: told.append("wait")))
        )
        asking.start()
        time.sleep(0.6)
        assert told == ["wait"] and asking.is_alive()
        assert service.answer("sync")["state"] == "lagging"  # no on_wait: 0.3 s, then scan
    asking.join(10)
    assert answers[0]["state"] == "serving"
    assert fresh(notes, "later") == ["n1"]


def test_a_barrier_late_between_two_batches_is_waited_for(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The barrier is late while the watcher is between two batches (one applied since the
    question, the next being collected; it holds no lock then): "wait" is said all the same,
    at half the timeout, before the command's own clock runs out. It used to be said only if
    the watcher held its lock at the very end of the timeout, and 100 new notes at 75,000
    then made most commands scan every note."""
    monkeypatch.setenv(watchclient.ENV_TIMEOUT, "0.4")
    service = serving.service
    watcher = service.watcher
    assert watcher is not None
    applying, collecting = threading.Event(), threading.Event()
    real_apply, real_collect = watchapply.apply, watcher.collect

    def apply(*args: object) -> object:
        applying.set()
        time.sleep(0.1)  # the question comes meanwhile: its cookie is in the next batch
        found = real_apply(*args)  # type: ignore[arg-type]
        collecting.set()
        return found

    def collect(*args: object, **kwargs: object) -> object:
        if collecting.is_set():
            collecting.clear()
            time.sleep(0.6)  # gathering the next batch, without the lock
        return real_collect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(watchapply, "apply", apply)
    monkeypatch.setattr(watcher, "collect", collect)
    told: list[float] = []
    (notes / "n1.md").write_text(note("Note 1", "between"), encoding="utf-8")
    assert applying.wait(10)
    started = time.monotonic()
    answer = service.answer("sync", lambda: told.append(time.monotonic() - started))
    assert answer["state"] == "serving"
    assert len(told) == 1 and 0.2 <= told[0] < 0.35
    assert fresh(notes, "between") == ["n1"]


def test_the_runs_of_cells_are_written_once_it_is_idle(
    notes: Path, serving: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch lists the runs of cells it changed; the watcher writes them once nothing
    changes, a few at a time, and `authors` meanwhile reads the counts: the same answer."""
    from papernotes.engine.schema import runs_stale
    from papernotes.engine.stats import Counts

    held = threading.Event()
    real = watchd.Service._clean_runs
    monkeypatch.setattr(watchd, "RUNS_STEP", 1)
    monkeypatch.setattr(
        watchd.Service, "_clean_runs", lambda self: real(self) if held.is_set() else None
    )
    for n, authors in enumerate(["[Ada Lovelace]", "[Alan Turing, Ada Lovelace]", "[Émile]"]):
        text = f"---\ntitle: A{n}\nauthors: {authors}\n---\n"
        (notes / f"a{n}.md").write_text(text, encoding="utf-8")
    expected = "2\tAda Lovelace\n1\tAlan Turing\n1\tÉmile\n"
    assert run(notes, "authors").stdout == expected
    kb = open_kb(open_store(notes))
    assert runs_stale(kb.index.conn)  # listed, not written yet
    assert "".join(Counts(kb, "authors").lines()) == expected
    kb.index.close()
    held.set()
    deadline = time.monotonic() + 10
    while True:
        kb = open_kb(open_store(notes))
        stale = runs_stale(kb.index.conn)
        kb.index.close()
        if not stale:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert run(notes, "authors").stdout == expected
