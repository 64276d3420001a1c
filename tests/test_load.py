"""Load (issue 8): 20 concurrent ``papernotes search`` processes while another process adds and
edits notes (and refreshes the index itself): every search answers, none fails, and the index
ends consistent with the files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kbfactory import run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

SEARCHES = 20
NOTES = 200
ADDS = 60
EDITS = 60

# Adds new notes and edits existing ones the way an editor does (write a temporary file, rename
# it into place), refreshing the index in-process every ten changes: a second index writer.
WRITER = """\
import os, sys, time
from papernotes.engine.index import load
from papernotes.disk.store import open_store
notes, adds, edits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def put(name, text):
    tmp = os.path.join(notes, "." + name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, os.path.join(notes, name))
for i in range(max(adds, edits)):
    if i < adds:
        text = f"---\\ntitle: Added paper {i}\\n---\\nfreshword{i} shared words\\n"
        put(f"added{i:03d}.md", text)
    if i < edits:
        put(f"n{i:04d}.md", f"---\\ntitle: Paper {i} edited\\n---\\neditedword{i} shared words\\n")
    if i % 10 == 9:
        load(open_store(notes)).close()
    time.sleep(0.01)
print("done")
"""


def test_concurrent_searches_while_notes_change(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(NOTES):
        (notes / f"n{i:04d}.md").write_text(
            f"---\ntitle: Paper {i}\n---\nunique{i} shared words\n", encoding="utf-8"
        )
    assert run(notes, "index").exit_code == 0

    def papernotes(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "papernotes", "--notes-dir", str(notes), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(notes), str(ADDS), str(EDITS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # half look for notes nobody edits (found: exit 0), half for words being added (exit 0 or 1)
    queries = [f"unique{NOTES - 1 - i}" if i % 2 else f"freshword{i}" for i in range(SEARCHES)]
    searches = [papernotes("search", query, "--exact", "--format", "ids") for query in queries]
    outcomes = [
        (query, proc, *proc.communicate(timeout=300)) for query, proc in zip(queries, searches)
    ]
    out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0 and out == "done\n", err

    failures = []
    for query, proc, out, err in outcomes:
        if query.startswith("unique"):
            expected = f"n{int(query[6:]):04d}\n"
            ok = proc.returncode == 0 and out == expected and err == ""
        else:  # the note may not be written yet: then "no notes match", exit 1
            ok = (proc.returncode, out) == (0, f"added{int(query[9:]):03d}\n") or (
                proc.returncode == 1 and out == "" and err.startswith("Error: no notes match")
            )
        if not ok:
            failures.append((query, proc.returncode, out, err))
    assert failures == []
    assert sum(1 for _, proc, _, _ in outcomes if proc.returncode == 0) >= SEARCHES // 2

    # the index ends consistent with the files: every note, the last edits searchable
    files = sorted(p.stem for p in notes.glob("*.md"))
    assert len(files) == NOTES + ADDS
    status = run(notes, "index", "--status", "--format", "json")
    data = json.loads(status.stdout)
    assert (data["notes"], data["skipped"]) == (NOTES + ADDS, 0)
    listed = run(notes, "list", "--format", "ids")
    assert sorted(listed.stdout.split()) == files
    edited = run(notes, "search", f"editedword{EDITS - 1}", "--format", "ids")
    assert edited.stdout == f"n{EDITS - 1:04d}\n"
    assert run(notes, "search", "unique0", "--exact").exit_code == 1  # its old words are gone
