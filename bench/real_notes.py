"""How much of the five real collections in ../shared/data/real-notes papernotes understands:
per collection, the note files, the notes read (not skipped), the fields filled (known keys
other than ``id`` that hold a value, over the notes read), the titles that are a template's
heading ("Notes"), and ``check``'s warnings and errors.

Run: ``.venv/bin/python bench/real_notes.py [REAL_NOTES_DIR]`` (prints a Markdown table)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from click.testing import CliRunner

from papernotes.cli import cli
from papernotes.disk.store import iter_notes
from papernotes.note.model import KNOWN_KEYS
from papernotes.note.parse import parse_file

ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real-notes"


def counts(root: Path) -> dict[str, int]:
    files = list(iter_notes(root))
    papers = [r.paper for r in (parse_file(p) for p in files) if r.paper is not None]
    filled = sum(
        1
        for p in papers
        for key in KNOWN_KEYS
        if key != "id" and getattr(p, key) not in (None, (), "")
    )
    os.environ["PAPERNOTES_INDEX"] = ":memory:"  # never a cache of another version
    result = CliRunner().invoke(cli, ["--notes-dir", str(root), "check", "--format", "json"])
    report = json.loads(result.stdout)
    return {
        "files": len(files),
        "read": len(papers),
        "fields": filled,
        "Notes titles": sum(1 for p in papers if p.title == "Notes"),
        "warnings": report["warnings"],
        "errors": report["errors"],
    }


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    rows = {d.name: counts(d) for d in sorted(root.iterdir()) if d.is_dir()}
    heads = list(next(iter(rows.values())))
    print("| collection | " + " | ".join(heads) + " |")
    print("| --- |" + " ---: |" * len(heads))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(str(row[h]) for h in heads) + " |")


if __name__ == "__main__":
    main()
