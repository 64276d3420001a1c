"""The console-script entry point: ``--version`` without importing the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import papernotes.__main__ as papernotes_main
from kbfactory import make_kb
from papernotes import __version__
from papernotes.__main__ import main
from papernotes.cli import cli
from papernotes.disk import freshness


def test_version_fast_path_prints_what_click_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["papernotes", "--version"])
    main()
    fast = capsys.readouterr().out
    assert fast == CliRunner().invoke(cli, ["--version"], catch_exceptions=False).output
    assert fast == f"papernotes, version {__version__}\n"


def test_version_does_not_import_click() -> None:
    code = (
        "import sys; sys.argv = ['papernotes', '--version'];"
        "from papernotes.__main__ import main; main();"
        "heavy = ('click', 'typing', 'yaml', 'rich', 'sqlite3');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [f"papernotes, version {__version__}", "[]"]


def test_parser_imports_pyyaml_only_when_a_note_is_parsed() -> None:
    code = (
        "import sys; import papernotes.note.parse as p; before = 'yaml' in sys.modules;"
        "p.parse_text('---\\ntitle: T  # a comment: not the simple form\\n---\\n', 'x.md');"
        "print(before, 'yaml' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("data", [b"", b"abc", "é/notes".encode() * 40])
def test_digests_are_hashlib_s(data: bytes) -> None:
    import hashlib

    from papernotes.disk import digest

    assert digest.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    got = digest.blake2b(data, digest_size=8).hexdigest()
    assert got == hashlib.blake2b(data, digest_size=8).hexdigest()


def test_a_command_does_not_load_openssl(tmp_path: Path) -> None:
    # hashlib loads OpenSSL (5-9 ms) to hash the notes folder's name: digest.py does without
    notes = make_kb(tmp_path)
    code = (
        "import sys; from papernotes.__main__ import main;"
        f"sys.argv = ['papernotes', '--notes-dir', {str(notes)!r}, 'list'];"
        "import atexit; atexit.register(lambda: print('_hashlib' in sys.modules, "
        "file=sys.stderr));"
        "sys.settrace(lambda *a: None); main()"  # a tracer: the usual exit, atexit runs
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "False"


def test_the_installed_command_starts_without_importing_re() -> None:
    """The command is a script of its own (setup.py): pip's wrapper of an entry point imports
    re first, ~10 ms of every command."""
    script = Path(sys.executable).parent / "papernotes"
    if not script.is_file():
        pytest.skip("the papernotes command is not installed beside this Python")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(script), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == f"papernotes, version {__version__}\n"
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "papernotes.__main__" in imported
    assert not imported & {"re", "enum", "typing", "click"}, sorted(imported)


@pytest.mark.slow
def test_the_wheel_installs_the_command_as_a_script_and_only_the_package(tmp_path: Path) -> None:
    """What pip installs: the package, and the command as a script whose first line the
    installer replaces (``#!python``), with no entry point (its wrapper imports re)."""
    import shutil
    import zipfile

    root = Path(__file__).resolve().parent.parent
    project = tmp_path / "project"  # a copy: a build leaves build/ behind it
    shutil.copytree(root / "src", project / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(root / name, project / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(project)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("papernotes-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        script = archive.read(next(n for n in names if n.endswith(".data/scripts/papernotes")))
    assert {name.split("/")[0] for name in names} == {
        "papernotes",
        f"papernotes-{__version__}.data",
        f"papernotes-{__version__}.dist-info",
    }
    assert script.startswith(b"#!python\n")
    assert not any(name.endswith("entry_points.txt") for name in names)
    assert "papernotes/engine/semantic/vocab.txt.gz" in names


class _Exited(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@pytest.fixture
def quick_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """os._exit raises _Exited; no tracer is seen (as when the tests run under coverage)."""

    def fake_exit(code: int) -> None:
        raise _Exited(code)

    monkeypatch.setattr(os, "_exit", fake_exit)
    # no prefetching child: forked from the test, its own os._exit would raise _Exited there
    monkeypatch.setattr(freshness, "_can_fork", lambda: False)
    monkeypatch.setattr(sys, "gettrace", lambda: None)
    monkeypatch.setattr(sys, "getprofile", lambda: None)


@pytest.mark.parametrize(
    ("argv", "status", "stream", "text"),
    [
        (["--help"], 0, "out", "Usage: papernotes"),
        (["nosuchcommand"], 2, "err", "No such command 'nosuchcommand'"),
        (["check", "--no-such-option"], 2, "err", "No such option"),
    ],
)
@pytest.mark.usefixtures("quick_exit")
def test_exit_status_and_output_survive_the_quick_exit(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    stream: str,
    text: str,
) -> None:
    monkeypatch.setattr(sys, "argv", ["papernotes", *argv])
    with pytest.raises(_Exited) as exited:
        main()
    assert exited.value.status == status
    captured = capsys.readouterr()
    assert text in (captured.out if stream == "out" else captured.err)


@pytest.mark.parametrize(("code", "status"), [(None, 0), (3, 3), ("a message", 1)])
@pytest.mark.usefixtures("quick_exit")
def test_quick_exit_codes_are_those_of_sys_exit(
    capsys: pytest.CaptureFixture[str],
    code: str | int | None,
    status: int,
) -> None:
    with pytest.raises(_Exited) as exited:
        papernotes_main._leave(code)
    assert exited.value.status == status
    assert capsys.readouterr().err == ("a message\n" if status == 1 else "")


def test_under_a_profiler_the_usual_exit_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "getprofile", lambda: print)
    with pytest.raises(SystemExit) as exited:
        papernotes_main._leave(4)
    assert exited.value.code == 4


def test_the_console_script_exits_with_the_command_status(tmp_path: Path) -> None:
    empty = tmp_path / "notes"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(empty), "search", "anything"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""


def _closed(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)


OUTPUT_COMMANDS = [
    ["--version"], ["--help"], ["search", "dpo"], ["show", "flame"], ["related", "kto"],
    ["list"], ["list", "--format", "json"], ["tags"], ["stats"], ["check"],
    ["export", "--format", "bibtex"],
]  # fmt: skip


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", OUTPUT_COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("stdout", "reason"),
    [("full", "No space left on device"), ("closed", "standard output is closed")],
)
def test_output_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, args: list[str], stdout: str, reason: str
) -> None:
    """A full disk, or standard output closed (``>&-``): one line on stderr and status 1, not
    a traceback (the first ``sys.stdout.isatty()`` of every command was one when closed)."""
    notes = make_kb(tmp_path)
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args],
            stdout=full if stdout == "full" else None, stderr=subprocess.PIPE, text=True,
            timeout=120, preexec_fn=(lambda: _closed((1,))) if stdout == "closed" else None,
        )  # fmt: skip
    assert result.stderr.splitlines()[-1:] == [f"Error: cannot write the output: {reason}"]
    assert "Traceback" not in result.stderr
    assert result.returncode == 1


def test_a_closed_stream_s_descriptor_is_taken_by_the_null_device(tmp_path: Path) -> None:
    """Started with stdin, stdout and stderr closed, the file opened next (the index) does not
    take their numbers (output meant for stdout, or a pager's, would go into it): they are the
    null device's; stdin reads its end, and only writing the output fails."""
    probe = tmp_path / "probe"
    code = (
        "import os, sys\n"
        "from papernotes.commands import ClosedOutput, standard_streams_closed\n"
        "standard_streams_closed()\n"
        f"with open({str(probe)!r}, 'w') as out:\n"
        "    links = [os.readlink(f'/proc/self/fd/{fd}') for fd in (0, 1, 2)]\n"
        "    print(*links, out.fileno() > 2, repr(sys.stdin.read()),\n"
        "          isinstance(sys.stdout, ClosedOutput), file=out)\n"
        "    sys.stderr.write('nowhere')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], timeout=60, preexec_fn=lambda: _closed((0, 1, 2))
    )
    assert result.returncode == 0
    assert probe.read_text() == f"{os.devnull} {os.devnull} {os.devnull} True '' True\n"
