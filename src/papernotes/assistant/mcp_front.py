"""The front of ``papernotes mcp`` over stdio: it answers the opening of a session while the
MCP SDK is imported, then hands the stream over to the SDK's server.

A client starts the server and sends ``initialize`` at once, but importing the SDK takes 0.6 s
or more (the pydantic models of the protocol). So the process reads stdin from the start and
answers, with the bytes the SDK would write (tests compare them), the requests whose answers
are fixed: ``initialize`` (the four handshake versions; params of the shapes clients send),
then ``ping``, ``tools/list``, ``prompts/list`` and ``resources/templates/list``. Notifications
are passed on. The first message it does not answer (a tool call, ``resources/list``, a
malformed line, anything it cannot vouch for) and every message after it are left to the SDK,
in the order they came. Once the SDK is loaded, its stdio transport reads the ``initialize``
again (so that its session is initialized; its answer, which the client has had, is dropped and
compared with the front's), the notifications, what was left to it, and the rest of the stream.
Every tool call, resource, prompt, notification and error is the SDK's. A client that leaves
before then, having had every answer it asked for, is not kept waiting for the import.

Like the SDK's transport, the front serves the wire from private duplicates of the standard
descriptors and points fd 0 at the null device and fd 1 at stderr, so that nothing else in the
process, or its children, reads the wire or writes to it. ``PAPERNOTES_MCP_FRONT=0`` turns the
front off (the SDK then serves from its start, as it does on systems other than POSIX)."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from papernotes import __version__
from papernotes.assistant.mcp_catalog import INSTRUCTIONS, PROMPTS, TOOLS, ToolSpec

# mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS of the SDK (a test compares them)
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
SERVER_INFO = {"name": "papernotes", "title": "papernotes", "version": __version__}
# what the SDK derives from the handlers the server registers (tested)
CAPABILITIES = {
    "prompts": {"listChanged": False},
    "resources": {"listChanged": False, "subscribe": False},
    "tools": {"listChanged": False},
}
NOTE_URI = "papernotes://note/"
NOTE_TEMPLATE = {
    "description": "The Markdown file of the note with this id, front matter included.",
    "mimeType": "text/markdown",
    "name": "note",
    "title": "A note",
    "uriTemplate": NOTE_URI + "{id}",
}
MAX_LINE = 65_536  # a longer message is left to the SDK
_CHUNK = 65_536
_CLIENT_INFO = frozenset(("name", "version", "title", "description", "websiteUrl"))
_ID_TEXT = re.compile(r"[ !#-\[\]-~]{1,200}")  # printable ASCII but " and \: echoed as is
_STATIC = frozenset(("ping", "tools/list", "prompts/list", "resources/templates/list"))


# -- the answers, as the SDK writes them ----------------------------------------------------------
# The SDK dumps a result through the protocol version's models: their fields in the order they
# declare them (alphabetical), then a JSON Schema's other keys as written; None left out.


def initialize_result(version: str) -> dict[str, Any]:
    return {
        "capabilities": CAPABILITIES,
        "instructions": INSTRUCTIONS,
        "protocolVersion": version,
        "serverInfo": SERVER_INFO,
    }


def tools_result(allow_write: bool) -> dict[str, Any]:
    return {"tools": [_tool(t) for t in TOOLS if allow_write or not t.write]}


def prompts_result() -> dict[str, Any]:
    prompts = [
        {
            "arguments": [
                {"description": d, "name": n, "required": True} for n, d in prompt.arguments
            ],
            "description": prompt.description,
            "name": prompt.name,
            "title": prompt.title,
        }
        for prompt in PROMPTS
    ]
    return {"prompts": prompts}


def templates_result() -> dict[str, Any]:
    return {"resourceTemplates": [NOTE_TEMPLATE]}


def _tool(spec: ToolSpec) -> dict[str, Any]:
    annotations = {
        "destructiveHint": False,
        "idempotentHint": spec.read_only,
        "openWorldHint": spec.open_world,
        "readOnlyHint": spec.read_only,
        "title": spec.title,
    }
    return {
        "annotations": annotations,
        "description": spec.description,
        "inputSchema": _schema(spec.arguments),
        "name": spec.name,
        "outputSchema": _schema(spec.result),
        "title": spec.title,
    }


def _schema(schema: dict[str, Any]) -> dict[str, Any]:
    declared = ("$schema", "properties", "required", "type")
    wire = {k: schema[k] for k in declared if k in schema}
    wire.update((k, v) for k, v in schema.items() if k not in declared)
    return wire


def frame(request_id: int | str, result: dict[str, Any]) -> bytes:
    """The line of the answer to a request, as the SDK's stdio transport writes it."""
    response = {"jsonrpc": "2.0", "id": request_id, "result": result}
    return json.dumps(response, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# -- which messages the front answers -------------------------------------------------------------


class Opening:
    """The opening of a session as far as the front serves it: each line, in order, is
    answered, passed on to the SDK, or both (``initialize``)."""

    def __init__(self, allow_write: bool) -> None:
        self.allow_write = allow_write
        self.version: str | None = None  # once initialize is answered
        self.initialize_answer: bytes | None = None
        self.deferring = False  # from the first line left to the SDK on, all are

    def take(self, line: bytes) -> tuple[bytes | None, bool]:
        """(the answer to write, if the front answers ``line``; whether the SDK reads it)."""
        if self.deferring:
            return None, True
        message = parse(line)
        if message is not None and "id" not in message and self.version is not None:
            return None, True  # a notification: the SDK's, and the front goes on
        if message is None or "id" not in message:
            result = None
        else:
            result = self._result(message["method"], message.get("params"))
        if message is None or result is None:
            self.deferring = True
            return None, True
        answer = frame(message["id"], result)
        if message["method"] != "initialize":
            return answer, False
        self.initialize_answer = answer
        return answer, True  # the SDK reads it again, to initialize its session

    def _result(self, method: str, params: dict[str, Any] | None) -> dict[str, Any] | None:
        if self.version is None:
            version = handshake(params) if method == "initialize" else None
            if version is None:
                return None
            self.version = version
            return initialize_result(version)
        if method not in _STATIC or params:
            return None
        if method == "tools/list":
            return tools_result(self.allow_write)
        if method == "prompts/list":
            return prompts_result()
        if method == "resources/templates/list":
            return templates_result()
        return {}  # ping


def parse(line: bytes) -> dict[str, Any] | None:
    """The JSON-RPC request or notification on ``line``, if it is one the SDK reads the same
    way: UTF-8, one JSON object, no duplicate keys, NaN or lone surrogates, an id echoed
    as is; else None."""
    if len(line) > MAX_LINE or b"\r" in line:  # the SDK reads a lone \r as a line's end
        return None
    try:
        message = json.loads(line.decode(), object_pairs_hook=_unique, parse_constant=_refuse)
        json.dumps(message, ensure_ascii=False).encode()  # a lone surrogate fails here
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return None
    if not isinstance(message.get("method"), str) or not set(message) <= {
        "jsonrpc", "id", "method", "params"
    }:  # fmt: skip
        return None
    if "params" in message and not isinstance(message["params"], dict):
        return None
    if "id" in message and not _plain_id(message["id"]):
        return None
    return message


def handshake(params: dict[str, Any] | None) -> str | None:
    """The protocol version of an ``initialize`` whose params the SDK accepts (the shapes
    clients send: capabilities as objects, the roots' ``listChanged`` flag), else None."""
    if params is None or set(params) != {"protocolVersion", "capabilities", "clientInfo"}:
        return None
    version, info = params["protocolVersion"], params["clientInfo"]
    if not isinstance(version, str) or version not in HANDSHAKE_VERSIONS:
        return None
    if not isinstance(info, dict) or not {"name", "version"} <= set(info) <= _CLIENT_INFO:
        return None
    if not all(isinstance(v, str) for v in info.values()):
        return None
    capabilities = params["capabilities"]
    roots = capabilities.get("roots") if isinstance(capabilities, dict) else None
    if isinstance(roots, dict) and isinstance(roots.get("listChanged"), bool):
        roots = {k: v for k, v in roots.items() if k != "listChanged"}
        capabilities = {**capabilities, "roots": roots}
    return version if _objects(capabilities, 0) else None


def _objects(value: Any, depth: int) -> bool:
    """Whether ``value`` is an object of objects, at most 6 deep (as ``experimental`` and
    every capability the SDK knows accept)."""
    if not isinstance(value, dict) or depth > 6:
        return False
    return all(_objects(item, depth + 1) for item in value.values())


def _plain_id(value: Any) -> bool:
    if type(value) is int:
        return abs(value) < 2**53
    return isinstance(value, str) and _ID_TEXT.fullmatch(value) is not None


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _refuse(name: str) -> Any:
    raise ValueError(name)


# -- the stream -----------------------------------------------------------------------------------


def claim_stdio() -> tuple[int, int] | None:
    """Private duplicates of stdin and stdout for the wire, with fd 0 then reading the null
    device and fd 1 writing to stderr; None where the front is off or cannot do this."""
    if os.name != "posix" or os.environ.get("PAPERNOTES_MCP_FRONT", "1") == "0":
        return None
    import fcntl

    opened: list[int] = []
    try:
        for fd in (0, 1):  # above the standard range, closed in children
            opened.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3))
        opened.append(os.open(os.devnull, os.O_RDWR))
    except OSError:
        for fd in opened:
            os.close(fd)
        return None
    wire_in, wire_out, null = opened
    with suppress(OSError, ValueError):
        sys.stdout.flush()
    os.dup2(null, 0)
    try:
        os.dup2(2, 1)
    except OSError:  # no stderr
        os.dup2(null, 1)
    os.close(null)
    return wire_in, wire_out


@dataclass
class Wire:
    """The stream handed to the SDK's stdio transport: ``reader`` gives the lines the front
    passed on, then the rest of stdin; ``writer`` writes to stdout."""

    reader: io.TextIOWrapper
    writer: io.TextIOBase


class Front:
    """Reads the wire from its creation and answers the opening of the session until
    :meth:`ready`; :meth:`serve` then hands the stream over."""

    def __init__(self, allow_write: bool, wire_in: int, wire_out: int) -> None:
        self.opening = Opening(allow_write)
        self._out = wire_out
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._passed = bytearray()  # the lines for the SDK, in order
        self._partial = b""  # the start of a line still coming
        self._ended = False  # stdin was closed
        self._left = False  # ... with every request answered
        self._handed: _Pipe | None = None
        self._handover = threading.Event()
        self._broken = False
        threading.Thread(target=self._pump, args=(wire_in,), daemon=True).start()

    def ready(self) -> None:
        """The SDK is imported (or failed to be): call from the thread that imports it."""
        self._wake.set()

    def serve(self) -> Wire | None:
        """Answer until :meth:`ready`, then the stream for the SDK; None if the client closed
        stdin before, with nothing left to answer."""
        self._wake.wait()
        with self._lock:
            if self._left:
                return None
            pipe = _Pipe(bytes(self._passed) + self._partial, self._ended)
            self._handed = pipe
        self._handover.set()
        reader = io.TextIOWrapper(io.BufferedReader(pipe), encoding="utf-8", errors="replace")
        writer = _Writer(self._out, self.opening.initialize_answer)
        return Wire(reader, writer)

    def _pump(self, fd: int) -> None:
        """Read stdin to its end: for the front, then, once handed over, for the SDK (as
        fast as it reads). What follows a line left to the SDK is read once it is there."""
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                chunk = b""
            with self._lock:
                pipe = self._handed
                if pipe is None:
                    self._feed(chunk)
            if pipe is not None:
                pipe.put(chunk)
            if not chunk:
                return
            if self.opening.deferring:
                self._handover.wait()

    def _feed(self, chunk: bytes) -> None:
        if not chunk:
            self._ended = True
            if self._partial:  # the SDK would read it as a last line
                line, self._partial = self._partial, b""
                self._take(line)
            if not self.opening.deferring:
                self._left = True
                self._wake.set()
            return
        data = self._partial + chunk
        start = 0
        while not self.opening.deferring:
            end = data.find(b"\n", start) + 1
            if not end:
                break
            self._take(data[start:end])
            start = end
        if self.opening.deferring:
            self._passed += data[start:]
            self._partial = b""
        else:
            self._partial = data[start:]

    def _take(self, line: bytes) -> None:
        answer, passed = self.opening.take(line)
        if answer is not None and not self._broken:
            try:
                _write_all(self._out, answer)
            except OSError:  # the client has gone: its stdin ends next
                self._broken = True
        if passed:
            self._passed += line


class _Pipe(io.RawIOBase):
    """What the SDK reads: the bytes the front passed on, then each chunk the pump puts once
    the one before is read."""

    def __init__(self, start: bytes, ended: bool) -> None:
        self._chunks: deque[bytes] = deque([start] if start else [])
        self._more = threading.Condition()
        self._ended = ended
        self._offset = 0

    def put(self, chunk: bytes) -> None:
        with self._more:
            self._more.wait_for(lambda: not self._chunks)
            if chunk:
                self._chunks.append(chunk)
            else:
                self._ended = True
            self._more.notify_all()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._more:
            self._more.wait_for(lambda: self._chunks or self._ended)
            if not self._chunks:
                return 0
            chunk = self._chunks[0]
            size = min(len(buffer), len(chunk) - self._offset)
            buffer[:size] = chunk[self._offset : self._offset + size]
            self._offset += size
            if self._offset == len(chunk):
                self._chunks.popleft()
                self._offset = 0
                self._more.notify_all()
            return size


class _Writer(io.TextIOBase):
    """What the SDK writes, to stdout; its answer to the ``initialize`` it read again is
    dropped (the client has had the front's: a difference is reported on stderr)."""

    def __init__(self, fd: int, expected: bytes | None) -> None:
        self._fd = fd
        self._expected = expected
        self._start = b""  # a line being written, while the answer to drop is awaited

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        data = text.encode()
        if self._expected is not None:
            data, self._start = self._start + data, b""
            while self._expected is not None and (end := data.find(b"\n") + 1):
                line, data = data[:end], data[end:]
                if self._answers_initialize(line):
                    self._expected = None
                else:
                    _write_all(self._fd, line)
            if self._expected is not None:
                self._start = data
                return len(text)
        if data:
            _write_all(self._fd, data)
        return len(text)

    def _answers_initialize(self, line: bytes) -> bool:
        assert self._expected is not None
        if line == self._expected:
            return True
        try:
            message = json.loads(line)
        except ValueError:
            return False
        answers = (
            isinstance(message, dict)
            and "method" not in message
            and message.get("id") == json.loads(self._expected)["id"]
        )
        if answers:
            print(
                "papernotes mcp: the SDK answered initialize otherwise than the front did:\n"
                f"  front: {self._expected!r}\n  SDK:   {line!r}",
                file=sys.stderr,
                flush=True,
            )
        return answers


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
