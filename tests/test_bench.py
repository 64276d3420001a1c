"""The benchmark script runs end to end on a tiny synthetic corpus (nothing is timed here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep (rg) is not installed")
def test_benchmark_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    papernotes = Path(sys.executable).parent / "papernotes"
    if not papernotes.exists():
        pytest.skip("the papernotes console script is not installed beside this Python")
    out = tmp_path / "results.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--sizes",
            "50",
            "--runs",
            "1",
            "--build-runs",
            "1",
            "--synthetic",
            "--corpora",
            str(tmp_path / "corpora"),
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text(encoding="utf-8")
    assert "cores" in text
    for measure in ("cold index build", "search, one word", "after editing 1 note", "list --topic"):
        assert measure in text
    assert "edit seen" in text
    assert not list((tmp_path / "corpora").glob("*/notes/zz-added-*"))  # added notes removed
