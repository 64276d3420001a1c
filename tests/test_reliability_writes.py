"""Writes are safe (issue 8): a crash leaves the old note or the new one, never half of one; a
note changed on disk since it was read is not overwritten; an import killed with SIGKILL at
any moment leaves only notes that parse, and the next import finishes the job without
duplicates or lost words."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import Result

from kbfactory import make_kb, run
from papernotes.disk.write import atomic_write
from papernotes.errors import WriteRefused
from papernotes.interop.importers import apply_plan, plan_import
from papernotes.note.model import Paper
from papernotes.note.parse import parse_bytes

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and symlinks")

OLD = "---\ntitle: Old\n---\nThe user's words.\n"
NEW = "---\ntitle: New\n---\nNew words.\n"


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- atomic_write --------------------------------------------------------------------------------


def test_a_write_replaces_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text(OLD, encoding="utf-8")
    atomic_write(path, NEW, expected=OLD.encode())
    assert path.read_text(encoding="utf-8") == NEW
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_a_crash_mid_write_leaves_the_old_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Whatever step fails (disk full, Ctrl-C), the note holds its old text in full."""
    path = tmp_path / "note.md"
    path.write_text(OLD, encoding="utf-8")

    full = OSError(28, "No space left on device")

    def fail(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt if step == "fsync" else full

    real_write = os.write

    def half_write(fd: int, data: bytes) -> int:
        """The temporary file takes a few bytes and then finds the disk full."""
        real_write(fd, bytes(data[:100]))
        raise full

    if step == "write":
        monkeypatch.setattr("os.write", half_write)
    elif step == "replace":  # the rename: os.replace, or renameat2 on Linux
        monkeypatch.setattr("os.replace", fail)
        monkeypatch.setattr("papernotes.disk.write._rename", fail)
    else:
        monkeypatch.setattr(f"os.{step}", fail)
    with pytest.raises((OSError, KeyboardInterrupt)):
        atomic_write(path, NEW * 1000, expected=OLD.encode())
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == OLD
    assert leftovers(tmp_path) == []


def test_a_note_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text(OLD, encoding="utf-8")
    read = path.read_bytes()
    path.write_text(OLD + "An edit made meanwhile.\n", encoding="utf-8")  # the user's editor
    with pytest.raises(WriteRefused) as refused:
        atomic_write(path, NEW, expected=read)
    assert refused.value.message == f"{path}: changed on disk since it was read; not overwritten"
    assert path.read_text(encoding="utf-8") == OLD + "An edit made meanwhile.\n"
    assert leftovers(tmp_path) == []


def test_a_note_deleted_since_it_was_read_is_not_recreated(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text(OLD, encoding="utf-8")
    read = path.read_bytes()
    path.unlink()
    with pytest.raises(WriteRefused, match="was deleted since it was read; not rewritten"):
        atomic_write(path, NEW, expected=read)
    assert not path.exists()


def test_a_new_note_never_replaces_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "note.md"
    path.write_text(OLD, encoding="utf-8")
    with pytest.raises(WriteRefused, match="already exists; not overwritten"):
        atomic_write(path, NEW, create=True)
    # a file that appears between the check and the rename is not clobbered either
    other = tmp_path / "other.md"
    real_link = os.link

    def racing_link(src: str, dst: str) -> None:
        Path(dst).write_text(OLD, encoding="utf-8")
        real_link(src, dst)

    monkeypatch.setattr("os.link", racing_link)
    with pytest.raises(WriteRefused, match="already exists; not overwritten"):
        atomic_write(other, NEW, create=True)
    assert other.read_text(encoding="utf-8") == OLD
    assert leftovers(tmp_path) == []


def test_a_symlinked_note_is_updated_through_its_link(tmp_path: Path) -> None:
    """Replacing the link itself would leave the real note behind: two notes, one paper."""
    real = tmp_path / "papers" / "real.md"
    real.parent.mkdir()
    real.write_text(OLD, encoding="utf-8")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    atomic_write(link, NEW, expected=OLD.encode())
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == NEW


def test_an_import_refuses_a_note_edited_between_plan_and_write(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    incoming = Paper(
        id="", title="KTO: Model Alignment as Prospect Theoretic Optimization", doi="10.1234/kto"
    )
    plan = plan_import([incoming], notes)
    assert [a.kind for a in plan.actions] == ["merge"]
    kto = notes / "kto.md"
    edited = kto.read_text(encoding="utf-8") + "\nA thought added while the import ran.\n"
    kto.write_text(edited, encoding="utf-8")
    report = apply_plan(plan)
    assert report.written == []
    assert [why for _, why in report.refused] == [
        f"{kto}: changed on disk since it was read; not overwritten"
    ]
    assert kto.read_text(encoding="utf-8") == edited


EDITED = OLD.replace("words", "WORDS")  # an edit that keeps the size


def save(path: Path, how: str) -> None:
    """The user's editor saves ``path`` while papernotes writes it."""
    if how == "by rename":  # most editors: a temporary file renamed over the note
        other = path.with_name(".editor-save")
        other.write_text(OLD + "An edit made meanwhile.\n", encoding="utf-8")
        os.rename(other, path)
    elif how == "in place":
        path.write_text(OLD + "An edit made meanwhile.\n", encoding="utf-8")
    else:  # same size, and the modification time put back: only the content tells
        before = path.stat()
        path.write_text(EDITED, encoding="utf-8")
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def saved(how: str) -> str:
    return EDITED if how == "same size and mtime" else OLD + "An edit made meanwhile.\n"


EDITS = ["by rename", "in place", "same size and mtime"]


@pytest.mark.parametrize("how", EDITS)
def test_an_edit_saved_during_a_slow_fsync_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The check that a note is unchanged used to run before the temporary file was written
    and fsynced: an editor's save during a slow fsync (NFS, a USB stick) was lost."""
    path = tmp_path / "note.md"
    path.write_text(OLD, encoding="utf-8")
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        real_fsync(fd)
        if path.read_text(encoding="utf-8") == OLD:
            save(path, how)

    monkeypatch.setattr("os.fsync", slow_fsync)
    with pytest.raises(WriteRefused) as refused:
        atomic_write(path, NEW, expected=OLD.encode())
    assert refused.value.message == f"{path}: changed on disk since it was read; not overwritten"
    assert path.read_text(encoding="utf-8") == saved(how)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
@pytest.mark.parametrize("how", EDITS)
def test_an_edit_saved_between_the_last_check_and_the_rename_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The last window: the note is swapped with the new text in one step and the old text
    checked after the swap; an edit that came in just before the swap is swapped back."""
    import papernotes.disk.write

    path = tmp_path / "note.md"
    path.write_text(OLD, encoding="utf-8")
    real_check = papernotes.disk.write._unchanged
    checks: list[Path] = []

    def check_then_save(where: Path, expected: bytes) -> os.stat_result:
        found = real_check(where, expected)
        checks.append(where)
        if len(checks) == 2:  # the check just before the rename passed: now the editor saves
            save(path, how)
        return found

    monkeypatch.setattr("papernotes.disk.write._unchanged", check_then_save)
    with pytest.raises(WriteRefused, match="changed on disk since it was read; not overwritten"):
        atomic_write(path, NEW, expected=OLD.encode())
    assert path.read_text(encoding="utf-8") == saved(how)
    assert leftovers(tmp_path) == []


def test_an_import_keeps_an_edit_saved_during_its_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the importer: that merge is refused, the edit kept, the rest written."""
    notes = make_kb(tmp_path)
    incoming = [
        Paper(id="", title=KTO_TITLE, doi="10.1234/k"),
        Paper(id="", title="A Paper Nobody Has Yet"),
    ]
    plan = plan_import(incoming, notes)
    assert [a.kind for a in plan.actions] == ["merge", "create"]
    kto = notes / "kto.md"
    edited = kto.read_text(encoding="utf-8") + "\nA thought added while the import ran.\n"
    import papernotes.disk.write

    real_sync = papernotes.disk.write._sync

    def slow_sync(fds: list[int]) -> list[tuple[int, OSError]]:
        failed = real_sync(fds)
        if "A thought" not in kto.read_text(encoding="utf-8"):
            kto.write_text(edited, encoding="utf-8")
        return failed

    monkeypatch.setattr("papernotes.disk.write._sync", slow_sync)
    report = apply_plan(plan)
    assert [why for _, why in report.refused] == [
        f"{kto}: changed on disk since it was read; not overwritten"
    ]
    assert [a.path.name for a in report.written] == ["a-paper-nobody-has-yet.md"]
    assert kto.read_text(encoding="utf-8") == edited


# -- file modes --------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_new_notes_follow_the_umask(tmp_path: Path, umask: int) -> None:
    """Every new note was 0600 whatever the umask."""
    notes = make_kb(tmp_path)
    source = tmp_path / "new.bib"
    source.write_text("@article{k, title={A Paper Nobody Has Yet}, year={2020}}\n", "utf-8")
    old = os.umask(umask)
    try:
        assert run(notes, "new", "Something Else").exit_code == 0
        assert run(notes, "import", str(source)).exit_code == 0
    finally:
        os.umask(old)
    assert mode(notes / "something-else.md") == 0o666 & ~umask
    assert mode(notes / "a-paper-nobody-has-yet.md") == 0o666 & ~umask


@pytest.mark.parametrize("kept", [0o664, 0o644, 0o600, 0o444])
def test_a_merge_keeps_the_mode_of_the_note(tmp_path: Path, kept: int) -> None:
    """A group-shared 0664 note stayed 0600 after a merge."""
    notes = make_kb(tmp_path)
    kto = notes / "kto.md"
    kto.chmod(kept)
    source = tmp_path / "kto.bib"
    source.write_text(
        "@article{k, title={KTO: Model Alignment as Prospect Theoretic Optimization},"
        " doi={10.1234/kto}}\n",
        encoding="utf-8",
    )
    old = os.umask(0o077)
    try:
        result = run(notes, "import", str(source))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert "10.1234/kto" in kto.read_text(encoding="utf-8")
    assert mode(kto) == kept


@pytest.mark.skipif(not _as_root(), reason="giving a file away takes root")
def test_a_merge_as_root_keeps_the_owner_of_the_note(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    kto = notes / "kto.md"
    os.chown(kto, 1234, 5678)
    plan = plan_import([Paper(id="", title=f"{KTO_TITLE}", doi="10.1234/kto")], notes)
    assert apply_plan(plan).refused == []
    assert "10.1234/kto" in kto.read_text(encoding="utf-8")
    assert (kto.stat().st_uid, kto.stat().st_gid) == (1234, 5678)


KTO_TITLE = "KTO: Model Alignment as Prospect Theoretic Optimization"


def test_new_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    before = (notes / "kto.md").read_bytes()
    result = run(notes, "new", "Something", "--id", "kto")
    assert result.exit_code == 1
    assert (notes / "kto.md").read_bytes() == before


def test_temporary_files_of_a_killed_write_are_not_notes(tmp_path: Path) -> None:
    """What a write killed before its rename leaves behind (``.name.md.XXXX.tmp``, whole or
    cut short) is never read as a note."""
    notes = make_kb(tmp_path)
    (notes / ".kto.md.k3j2_x.tmp").write_text(NEW, encoding="utf-8")
    (notes / ".flame.md.a8b9c0.tmp").write_text(NEW[:9], encoding="utf-8")
    listed = run(notes, "list", "--format", "ids")
    assert listed.stdout.split() == sorted(p.stem for p in notes.glob("*.md"))
    assert listed.stderr == ""
    checked = run(notes, "check")
    assert checked.stdout.endswith("5 notes, 5 ok, 0 with errors, 1 warning\n")


# -- an import syncs in batches (issue 11) -------------------------------------------------------


def test_an_import_syncs_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch: every temporary file written, then all synced at once (one syncfs on
    Linux), then renamed into place, then the folder fsynced once (it was a write, an fsync and
    a rename per note, and no fsync of the folder at all). What this saves is a journal commit
    per note; what it keeps: a note is only ever renamed into place whole and synced."""
    import stat

    import papernotes.disk.write
    import papernotes.interop.importers

    monkeypatch.setattr(papernotes.interop.importers, "BATCH", 50, raising=False)
    notes = tmp_path / "notes"
    notes.mkdir()
    for number in range(0, 120, 10):
        (notes / f"widget-{number}.md").write_text(user_note(number), encoding="utf-8")
    events: list[str] = []
    real_fsync, real_link, real_replace = os.fsync, os.link, os.replace

    real_sync = papernotes.disk.write._sync

    def fsync(fd: int) -> None:
        events.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    def sync(fds: list[int]) -> list[tuple[int, OSError]]:
        events.extend(["file"] * len(fds))
        with monkeypatch.context() as inner:
            inner.setattr("os.fsync", real_fsync)  # counted above, whatever syncs them
            return real_sync(fds)

    def link(src: str, dst: str) -> None:
        events.append("rename")
        real_link(src, dst)

    def replace(src: str, dst: str) -> None:
        events.append("rename")
        real_replace(src, dst)

    def exchange(src: str, dst: Path, flag: int) -> bool:
        events.append("rename")
        os.replace(src, dst)  # the test's own: not recorded twice
        return True

    plan = plan_import(parse_bibtex(tmp_path, bibtex(120)), notes)
    monkeypatch.setattr("os.fsync", fsync)
    monkeypatch.setattr("papernotes.disk.write._sync", sync)
    monkeypatch.setattr("os.link", link)
    monkeypatch.setattr("papernotes.disk.write._rename", lambda *a: False)
    monkeypatch.setattr("os.replace", replace)
    report = apply_plan(plan)
    monkeypatch.undo()
    assert len(report.written) == 120 and report.refused == []
    batch = ["file"] * 50 + ["rename"] * 50 + ["dir"]
    assert events == batch * 2 + ["file"] * 20 + ["rename"] * 20 + ["dir"]
    assert leftovers(notes) == []
    check_notes_of(notes, range(0, 120, 10))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs is Linux's")
def test_a_batch_whose_sync_fails_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syncfs says which file system failed, not which file: the whole batch is refused, every
    note keeps its old text and no temporary file is left."""
    import ctypes

    import papernotes.disk.write

    notes = tmp_path / "notes"
    notes.mkdir()
    for number in range(0, 20, 5):
        (notes / f"widget-{number}.md").write_text(user_note(number), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in notes.iterdir()}
    plan = plan_import(parse_bibtex(tmp_path, bibtex(20)), notes)

    def failing_syncfs(fd: int) -> int:
        ctypes.set_errno(5)
        return -1

    real = papernotes.disk.write._libc_function
    monkeypatch.setattr(
        "papernotes.disk.write._libc_function",
        lambda name, *types: failing_syncfs if name == "syncfs" else real(name, *types),
    )
    report = apply_plan(plan)
    assert report.written == []
    assert {why.split(": ", 1)[1] for _, why in report.refused} == {"Input/output error"}
    assert len(report.refused) == 20
    assert {p.name: p.read_bytes() for p in notes.iterdir()} == before


def parse_bibtex(folder: Path, text: str) -> list[Paper]:
    from papernotes.interop.importers.bibtex import read

    path = folder / "source.bib"
    path.write_text(text, encoding="utf-8")
    return [c.paper for c in read(path, path.name).candidates]


def check_notes_of(notes: Path, existing: range) -> list[Paper]:
    papers = []
    for path in notes.glob("*.md"):
        paper = parse_bytes(path.read_bytes(), path.name, stem=path.stem).paper
        assert paper is not None
        papers.append(paper)
    for number in existing:
        text = (notes / f"widget-{number}.md").read_text(encoding="utf-8")
        assert f"My own words about widget {number}." in text
        assert f"We study widget {number}." in text
    return papers


# -- two imports at once (issue 12) -------------------------------------------------------------


@pytest.mark.parametrize("start", ["together", "while the first writes"])
def test_two_imports_at_once_never_make_two_notes_for_one_paper(tmp_path: Path, start: str) -> None:
    """Two halves of one library that overlap, imported at once by two processes: every paper
    gets one note, both succeed. Each used to plan against the folder as it was when it
    started: the second made ``title-2.md`` beside the first's ``title.md`` (for good), or was
    refused its writes."""
    notes = tmp_path / "notes"
    notes.mkdir()
    halves = []
    for name, numbers in (("first", range(400)), ("second", range(200, 600))):
        source = tmp_path / f"{name}.bib"
        source.write_text(
            "".join(bibtex(600).split("\n\n")[n] + "\n\n" for n in numbers), encoding="utf-8"
        )
        halves.append(source)
    procs = [import_process(notes, halves[0])]
    if start != "together":
        deadline = time.monotonic() + 120
        while not any(notes.iterdir()):
            assert time.monotonic() < deadline and procs[0].poll() is None
            time.sleep(0.001)
    procs.append(import_process(notes, halves[1]))
    errors = [proc.communicate(timeout=300)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    papers = check_notes_of(notes, range(0))
    assert sorted(p.title for p in papers) == sorted(title(n) for n in range(600))
    assert leftovers(notes) == []


@pytest.mark.parametrize("where", ["the folder itself", "a lock file in the cache"])
def test_the_import_lock_waits_and_leaves_nothing_in_the_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The lock is the notes folder's own (``flock`` on the directory); where a directory
    cannot be locked (NFS), a file in the cache folder. Nothing is added to the notes."""
    import threading

    from papernotes.disk.lock import folder_lock

    if where != "the folder itself":
        monkeypatch.setattr("papernotes.disk.lock._open_folder", lambda root: -1)
    notes = make_kb(tmp_path)
    before = sorted(notes.iterdir())
    held, waited = threading.Event(), []

    def first() -> None:
        with folder_lock(notes):
            held.set()
            time.sleep(0.3)

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(10)
    started = time.monotonic()
    with folder_lock(notes, on_wait=lambda: waited.append(True)):
        assert time.monotonic() - started > 0.1
    thread.join()
    assert waited == [True]
    assert sorted(notes.iterdir()) == before


@pytest.mark.parametrize("paper", ["the same arXiv id", "the same id, in a subfolder"])
def test_new_checks_and_writes_under_the_folders_lock(tmp_path: Path, paper: str) -> None:
    """``new`` took no lock: it checked the index it had read at its start and wrote, so two
    ``new`` at once (or a ``new`` beside an import) wrote two notes for one paper. Now it
    waits for the lock that import and edits take, then checks the notes as they are."""
    from papernotes.disk.lock import folder_lock

    notes = make_kb(tmp_path)
    assert run(notes, "index").exit_code == 0
    if paper == "the same arXiv id":
        args, other = ["Widgets, Again", "--arxiv", "2401.00001"], notes / "widgets.md"
        text = "---\ntitle: Widgets\narxiv: '2401.00001'\n---\n"
        refusal = "Error: arXiv:2401.00001 already has a note: widgets (widgets.md)\n"
    else:
        args, other = ["Widgets"], notes / "sub" / "widgets.md"
        text = "---\ntitle: Widgets\n---\n"
        refusal = (
            "Error: a note with id 'widgets' exists (sub/widgets.md); choose another with --id\n"
        )
    command = [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "new", *args]
    with folder_lock(notes):  # another command writing: the note it writes appears meanwhile
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        first = proc.stderr.readline().decode()
        other.parent.mkdir(exist_ok=True)
        other.write_text(text, encoding="utf-8")
    out, err = proc.communicate(timeout=60)
    assert first == "waiting for another command writing into this notes directory...\n"
    assert (proc.returncode, out, err.decode()) == (1, b"", refusal)
    written = sorted(p.relative_to(notes).as_posix() for p in notes.rglob("widgets*.md"))
    assert written == [other.relative_to(notes).as_posix()]  # one note for the paper


@pytest.mark.parametrize("replaced_by", ["an edit", "a FIFO"])
def test_an_append_waits_for_an_edit_and_never_for_a_fifo(tmp_path: Path, replaced_by: str) -> None:
    """The MCP server's append took no lock: an edit by ``set`` or ``tag`` at the same time
    (which reads, then writes under the lock) was refused because the append wrote between.
    Now it waits for the edit, then appends to the edited note. It read the note with
    ``read_bytes``: a FIFO put in its place hung it (and would now hold the lock)."""
    import threading

    from papernotes.disk.lock import folder_lock
    from papernotes.edit.append import append_to_note
    from papernotes.errors import PapernotesError

    notes = make_kb(tmp_path)
    note = notes / "kto.md"
    if replaced_by == "a FIFO":
        note.unlink()
        os.mkfifo(note)
        with pytest.raises(PapernotesError) as refused:
            append_to_note(notes, note, "Questions", "Why?")
        assert (
            refused.value.message == f"{note}: cannot read: not a regular file (a FIFO or a device)"
        )
        return
    held, errors = threading.Event(), []

    def edit() -> None:  # as edit_notes does
        with folder_lock(notes):
            before = note.read_bytes()
            held.set()
            time.sleep(0.3)
            try:
                atomic_write(note, before.decode() + "\nEdited.\n", expected=before)
            except WriteRefused as exc:
                errors.append(exc.message)

    thread = threading.Thread(target=edit)
    thread.start()
    held.wait(10)
    append_to_note(notes, note, "Questions", "Why binary?")
    thread.join()
    assert errors == []
    text = note.read_text(encoding="utf-8")
    assert "Edited." in text and "Why binary?" in text


# -- SIGKILL in the middle of a large import ------------------------------------------------------

ENTRIES = 600
EXISTING = range(0, ENTRIES, 5)  # one entry in five merges into a note the user already has
KILL_AFTER = (40, 120, 240)  # new notes on disk before each SIGKILL (cumulative)


def title(number: int) -> str:
    return f"A Study of Widget Number {number} and Its Properties"


def user_note(number: int) -> str:
    return f"---\ntitle: {title(number)}\ntags: [mine]\n---\nMy own words about widget {number}.\n"


def bibtex(entries: int) -> str:
    return "".join(
        f"@article{{w{n},\n  title = {{{title(n)}}},\n  author = {{Smith, Ann and Doe, Jo{n}}},\n"
        f"  year = {{{2000 + n % 24}}},\n  journal = {{Journal of Widgets}},\n"
        f"  abstract = {{We study widget {n}.}}\n}}\n\n"
        for n in range(entries)
    )


def check_notes(notes: Path) -> dict[str, Paper]:
    """Every note file parses, the user's notes keep their words; the papers by file stem."""
    papers: dict[str, Paper] = {}
    for path in notes.glob("*.md"):
        result = parse_bytes(path.read_bytes(), path.name, stem=path.stem)
        assert result.paper is not None, (path.name, result.errors)
        papers[path.stem] = result.paper
    for number in EXISTING:
        paper = papers[f"widget-{number}"]
        assert paper.tags == ("mine",)
        assert f"My own words about widget {number}." in paper.body
    return papers


def new_notes(notes: Path) -> int:
    return sum(1 for e in os.scandir(notes) if e.name.endswith(".md")) - len(EXISTING)


def import_process(notes: Path, source: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "import", str(source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_in_the_middle_of_a_large_import(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for number in EXISTING:
        (notes / f"widget-{number}.md").write_text(user_note(number), encoding="utf-8")
    source = tmp_path / "widgets.bib"
    source.write_text(bibtex(ENTRIES), encoding="utf-8")
    assert run(notes, "index").exit_code == 0  # an index exists before the crashes

    kills = 0
    for target in KILL_AFTER:
        proc = import_process(notes, source)
        deadline = time.monotonic() + 120
        while new_notes(notes) < target and proc.poll() is None:
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.002)
        assert proc.poll() is None, "the import ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
        kills += 1
        papers = check_notes(notes)
        assert target <= len(papers) - len(EXISTING) < ENTRIES - len(EXISTING)
        # whatever was left, the next command's index matches the files: temporary files of the
        # killed writes (".name.md.XXXX.tmp") are not notes
        listed = run(notes, "list", "--format", "ids")
        assert listed.exit_code == 0, listed.output
        assert sorted(listed.stdout.split()) == sorted(p.id for p in papers.values())
    assert kills == len(KILL_AFTER)

    # the next import finishes the job: every paper once, merges complete, nothing lost
    proc = import_process(notes, source)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    papers = check_notes(notes)
    assert len(papers) == ENTRIES
    assert sorted(p.title for p in papers.values()) == sorted(title(n) for n in range(ENTRIES))
    for number in EXISTING:
        assert f"We study widget {number}." in papers[f"widget-{number}"].body
    listed = run(notes, "list", "--format", "ids")
    assert sorted(listed.stdout.split()) == sorted(p.id for p in papers.values())
    assert run(notes, "check").stdout.endswith(
        f"{ENTRIES} notes, {ENTRIES} ok, 0 with errors, 0 warnings\n"
    )


# -- export -o: the output file is resolved before it is checked (issue 12) ---------------------


def export_to(notes: Path, output: Path | str) -> Result:
    return run(notes, "export", "--format", "markdown", "-o", str(output))


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("kto.md", "a note"),
        ("papernotes.toml", "a file"),
        ("refs.bib", "a file"),
        ("sub/deep.md", "a note"),
    ],
)
def test_output_through_a_symlink_never_replaces_a_file_of_the_notes(
    tmp_path: Path, target: str, why: str
) -> None:
    """``reading-list.txt`` a symlink to a note (or any file of the notes directory): the
    export is refused and the file kept, byte for byte; the link stays a link."""
    notes = make_kb(tmp_path)
    (notes / "papernotes.toml").write_text('format = "table"\n', encoding="utf-8")
    (notes / "refs.bib").write_text("@misc{mine, title={Mine}}\n", encoding="utf-8")
    (notes / "sub").mkdir()
    (notes / "sub" / "deep.md").write_text(NEW, encoding="utf-8")
    before = {p: p.read_bytes() for p in notes.rglob("*") if p.is_file()}
    link = tmp_path / "reading-list.txt"
    link.symlink_to(notes / target)
    result = export_to(notes, link)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {link}: a symlink to {notes / target}, {why} in the notes directory; not written\n"
    )
    assert link.is_symlink()
    assert {p: p.read_bytes() for p in notes.rglob("*") if p.is_file()} == before
    assert leftovers(notes) == []


def test_output_into_a_symlinked_folder_never_replaces_a_note(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    before = (notes / "kto.md").read_bytes()
    (tmp_path / "out").symlink_to(notes)
    result = export_to(notes, tmp_path / "out" / "kto.md")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'out' / 'kto.md'}: would become a note in the notes directory "
        f"({notes / 'kto.md'}); not written\n"
    )
    assert (notes / "kto.md").read_bytes() == before


def test_output_through_a_symlink_outside_the_notes_is_written_through(tmp_path: Path) -> None:
    """The user's own link to a file elsewhere: the target is replaced (atomically, its mode
    kept), the link stays a link."""
    notes = make_kb(tmp_path)
    real = tmp_path / "lists" / "reading.md"
    real.parent.mkdir()
    real.write_text("old list\n", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "reading-list.txt"
    link.symlink_to(real)
    result = export_to(notes, link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith("# Reading list\n")
    assert real.stat().st_mode & 0o777 == 0o640
    assert leftovers(real.parent) == []


def test_output_into_a_fifo_is_a_stream(tmp_path: Path) -> None:
    """``-o`` a FIFO: the export goes into it (a reader gets it), the FIFO stays a FIFO."""
    import stat
    import threading

    notes = make_kb(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = export_to(notes, fifo)
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert got and got[0].startswith(b"# Reading list\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not _as_root(), reason="device nodes are made with mknod, as root")
@pytest.mark.parametrize(
    ("kind", "device", "code", "message"),
    [
        ("char", (1, 3), 0, ""),  # like /dev/null
        ("char", (1, 7), 1, "cannot write: No space left on device"),  # like /dev/full
        ("block", (240, 0), 1, "a block device; not written"),  # never written into
    ],
    ids=["null", "full", "block"],
)
def test_output_onto_a_device_is_never_replaced(
    tmp_path: Path, kind: str, device: tuple[int, int], code: int, message: str
) -> None:
    """As root, ``-o /dev/full`` once replaced the device node with a regular file."""
    import stat

    notes = make_kb(tmp_path)
    node = tmp_path / "dev" / "node"
    node.parent.mkdir()
    flag = stat.S_IFCHR if kind == "char" else stat.S_IFBLK
    os.mknod(node, flag | 0o666, os.makedev(*device))
    link = tmp_path / "out.txt"
    link.symlink_to(node)
    for target in (node, link):
        result = export_to(notes, target)
        assert result.exit_code == code, result.output
        if message:
            assert result.stderr == f"Error: {target}: {message}\n"
        mode = os.lstat(node).st_mode
        assert stat.S_ISCHR(mode) if kind == "char" else stat.S_ISBLK(mode), "replaced"
        assert os.lstat(node).st_rdev == os.makedev(*device)
        assert link.is_symlink()
    assert leftovers(node.parent) == []


def test_output_to_dev_stdout_is_a_stream(tmp_path: Path) -> None:
    notes = make_kb(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), "export", "--format",
         "markdown", "-o", "/dev/stdout"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"# Reading list\n")
    assert done.stderr == b"5 notes written to /dev/stdout\n"


def test_output_file_modes(tmp_path: Path) -> None:
    """A new output file follows the umask (it was 0600); an existing one keeps its mode."""
    notes = make_kb(tmp_path)
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.md"
        assert export_to(notes, fresh).exit_code == 0
        assert fresh.stat().st_mode & 0o777 == 0o644
        shared = tmp_path / "shared.md"
        shared.write_text("old\n", encoding="utf-8")
        shared.chmod(0o664)
        assert export_to(notes, shared).exit_code == 0
        assert shared.stat().st_mode & 0o777 == 0o664
        assert shared.read_text(encoding="utf-8").startswith("# Reading list")
    finally:
        os.umask(old)
