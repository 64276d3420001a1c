"""``papernotes add``: a recorded arXiv API answer served from 127.0.0.1, never the internet."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner, Result

from papernotes.cli import cli
from papernotes.errors import ConfigError
from papernotes.interop.arxiv import ArxivError, fetch, parse_feed, settings
from papernotes.note.parse import parse_note

DATA = Path(__file__).parent / "data" / "arxiv"
DPO = "Direct Preference Optimization: Your Language Model is Secretly a Reward Model"
DPO_AUTHORS = (
    "Rafael Rafailov",
    "Archit Sharma",
    "Eric Mitchell",
    "Stefano Ermon",
    "Christopher D. Manning",
    "Chelsea Finn",
)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&lol3;</title></entry></feed>"""


class ArxivStub(BaseHTTPRequestHandler):
    """Answers ``/api/query?id_list=...`` like the arXiv API, from recorded files; a few
    made-up ids stand for the failures."""

    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        ids = query.get("id_list", [""])[0]
        ArxivStub.requests.append(ids)
        if "2305.18290" in ids.split(","):
            self._send(200, (DATA / "2305.18290.atom").read_bytes())
        elif ids == "2399.00500":
            self._send(503, b"Service Unavailable")
        elif ids == "2399.00001":
            time.sleep(3)  # longer than the timeout the test sets
            self._send(200, (DATA / "empty.atom").read_bytes())
        elif ids == "2399.00002":
            self._send(200, b"<html><body>Rate limited</body></html")
        elif ids == "2399.00003":
            self._send(200, BILLION_LAUGHS)
        elif ids == "2399.00004":
            self._send(200, (DATA / "error.atom").read_bytes())
        else:
            self._send(200, (DATA / "empty.atom").read_bytes())

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ArxivStub)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/query"
    server.shutdown()
    server.server_close()


@pytest.fixture
def notes(tmp_path: Path, api: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERNOTES_ARXIV_API", api)
    monkeypatch.setenv("PAPERNOTES_ARXIV_TIMEOUT", "1")
    root = tmp_path / "notes"
    root.mkdir()
    ArxivStub.requests.clear()
    return root


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--notes-dir", str(root), *args], catch_exceptions=False)


def note_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("*.md"))


def test_parse_recorded_feed() -> None:
    (paper,) = parse_feed((DATA / "2305.18290.atom").read_bytes())
    assert paper.title == DPO
    assert paper.authors == DPO_AUTHORS
    assert paper.arxiv == "2305.18290"
    assert paper.published == "2023-05-29"
    assert paper.year == 2023
    assert paper.url == "https://arxiv.org/abs/2305.18290"
    assert paper.extra["categories"] == ["cs.LG", "cs.AI", "cs.CL"]
    assert paper.extra["updated"] == "2024-07-29"
    assert paper.body.startswith("## Abstract\n\nWhile large-scale unsupervised language models")


@pytest.mark.parametrize(
    "ref",
    [
        "2305.18290",
        "arXiv:2305.18290v2",
        "https://arxiv.org/abs/2305.18290",
        "https://arxiv.org/pdf/2305.18290v3.pdf",
        "http://export.arxiv.org/abs/2305.18290v1",
    ],
)
def test_add_writes_a_note(notes: Path, ref: str) -> None:
    result = run(notes, "add", ref, "--topic", "alignment", "--tag", "dpo", "--tag", "#rlhf")
    assert result.exit_code == 0, result.output
    path = notes / "direct-preference-optimization.md"
    assert result.stdout == f"added {path}: {DPO}\n"
    paper = parse_note(path)
    assert (paper.title, paper.authors, paper.arxiv) == (DPO, DPO_AUTHORS, "2305.18290")
    assert (paper.year, paper.published) == (2023, "2023-05-29")
    assert (paper.topics, paper.tags) == (("alignment",), ("dpo", "rlhf"))
    assert paper.extra["categories"] == ["cs.LG", "cs.AI", "cs.CL"]
    assert paper.added is not None
    assert "Direct Preference Optimization (DPO), is stable" in paper.body
    assert ArxivStub.requests == ["2305.18290"]


def test_add_again_reports_the_note_without_asking_arxiv(notes: Path) -> None:
    assert run(notes, "add", "2305.18290").exit_code == 0
    before = (notes / "direct-preference-optimization.md").read_bytes()
    ArxivStub.requests.clear()
    result = run(notes, "add", "https://arxiv.org/abs/2305.18290v2")
    assert result.exit_code == 0
    path = notes / "direct-preference-optimization.md"
    assert result.stdout == f"already in {path}: {DPO}\n"
    assert ArxivStub.requests == []  # answered offline
    assert note_files(notes) == ["direct-preference-optimization.md"]
    assert path.read_bytes() == before


def test_add_existing_note_merges_tags_and_topics(notes: Path) -> None:
    note = notes / "dpo.md"
    note.write_text("---\ntitle: DPO\narxiv: 2305.18290\ntags: [mine]\n---\nMy notes.\n")
    result = run(notes, "add", "2305.18290", "--tag", "rlhf", "--topic", "alignment")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"already in {note}; added ")
    assert "rlhf" in result.stdout and "alignment" in result.stdout
    paper = parse_note(note)
    assert paper.tags == ("mine", "rlhf")
    assert paper.topics == ("alignment",)
    assert paper.body == "My notes.\n"  # what the user wrote is kept
    assert note_files(notes) == ["dpo.md"]
    assert ArxivStub.requests == []


def test_add_follows_the_umask_and_keeps_the_mode_of_a_note(notes: Path) -> None:
    """A new note was 0600 whatever the umask; a merge made a 0664 note 0600."""
    old = os.umask(0o002)
    try:
        assert run(notes, "add", "2305.18290").exit_code == 0
        note = notes / "direct-preference-optimization.md"
        assert note.stat().st_mode & 0o777 == 0o664
        note.chmod(0o640)
        assert run(notes, "add", "2305.18290", "--tag", "rlhf").exit_code == 0
    finally:
        os.umask(old)
    assert parse_note(note).tags == ("rlhf",)
    assert note.stat().st_mode & 0o777 == 0o640


def test_add_matches_an_existing_note_by_title(notes: Path) -> None:
    note = notes / "my-dpo.md"
    note.write_text(f'---\ntitle: "{DPO.upper()}"\n---\nMine.\n')
    result = run(notes, "add", "2305.18290")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"already in {note}; added ")
    assert note_files(notes) == ["my-dpo.md"]
    assert parse_note(note).arxiv == "2305.18290"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("2399.00500", "Error: the arXiv API ({api}) answered HTTP 503 Service Unavailable\n"),
        ("2399.00001", "Error: the arXiv API ({api}) did not answer within 1 s\n"),
        ("2399.00002", "Error: the arXiv API answer is not an Atom feed"),
        ("2399.00003", "Error: the arXiv API answer declares a DTD or entities; refused\n"),
        ("2399.00004", "Error: arXiv API: incorrect id format for 1234\n"),
        ("2399.99999", "Error: arXiv has no paper 2399.99999\n"),
    ],
)
def test_add_failures_are_one_line(notes: Path, api: str, ref: str, message: str) -> None:
    result = run(notes, "add", ref)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message.format(api=api))
    assert result.stderr.count("\n") == 1
    assert note_files(notes) == []


def test_add_offline(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PAPERNOTES_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    result = run(notes, "add", "2305.18290")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot reach the arXiv API (http://127.0.0.1:{port}")
    assert result.stderr.endswith("(offline?)\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("ref", ["2305", "dpo", "https://example.org/abs/2305.18290", ""])
def test_add_refuses_what_is_not_an_arxiv_id(notes: Path, ref: str) -> None:
    result = run(notes, "add", ref)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: not an arXiv id or URL")
    assert ArxivStub.requests == []


def test_settings_from_environment_config_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERNOTES_ARXIV_API", raising=False)
    monkeypatch.delenv("PAPERNOTES_ARXIV_TIMEOUT", raising=False)
    assert settings({}) == ("https://export.arxiv.org/api/query", 20.0)
    config = {"arxiv": {"api": "http://mirror.example/api/query", "timeout": 5}}
    assert settings(config) == ("http://mirror.example/api/query", 5.0)
    monkeypatch.setenv("PAPERNOTES_ARXIV_API", "http://127.0.0.1:1/q")
    assert settings(config)[0] == "http://127.0.0.1:1/q"


@pytest.mark.parametrize(
    "config",
    [
        {"arxiv": "x"},
        {"arxiv": {"api": "file:///etc/passwd"}},
        {"arxiv": {"timeout": "soon"}},
        {"arxiv": {"timeout": -1}},
    ],
)
def test_bad_settings_are_config_errors(
    config: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPERNOTES_ARXIV_API", raising=False)
    monkeypatch.delenv("PAPERNOTES_ARXIV_TIMEOUT", raising=False)
    with pytest.raises(ConfigError):
        settings(config)


def test_fetch_several_ids_keeps_the_order_asked(api: str) -> None:
    with pytest.raises(ArxivError, match=r"no paper 2399\.99999"):
        fetch(["2305.18290", "2399.99999"], api=api, timeout=5)


def test_config_file_setting(tmp_path: Path, api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERNOTES_ARXIV_API", raising=False)
    root = tmp_path / "notes"
    root.mkdir()
    (root / "papernotes.toml").write_text(f'[arxiv]\napi = "{api}"\ntimeout = 5\n')
    result = run(root, "add", "2305.18290")
    assert result.exit_code == 0, result.output
    assert note_files(root) == ["direct-preference-optimization.md"]
