"""``papernotes mcp``: the Model Context Protocol server, on the official SDK's low-level
``Server`` (over stdio, or streamable HTTP on 127.0.0.1).

The tools are listed from :mod:`.mcp_catalog` and run by :mod:`.mcp_tools`
on a :class:`papernotes.assistant.live.LiveKnowledgeBase` (refreshed before each call), in a worker
thread. Every failure of a call is a tool error carrying the command line's message; nothing a
client sends, or a note holds, stops the server. Write tools are listed, and run, only when
the server was started with ``--allow-write``. This is the only module that imports the SDK
(0.6 s or more of imports), and only ``papernotes mcp`` imports it; over stdio,
:mod:`papernotes.assistant.mcp_front` answers the opening of a session meanwhile."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import traceback
from typing import Any, cast
from urllib.parse import quote, unquote

import anyio
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from papernotes.assistant import mcp_front
from papernotes.assistant.live import LiveKnowledgeBase
from papernotes.assistant.mcp_catalog import BY_NAME, INSTRUCTIONS, PROMPTS_BY_NAME, check_arguments
from papernotes.assistant.mcp_front import NOTE_URI, SERVER_INFO, Wire
from papernotes.assistant.mcp_tools import error_text
from papernotes.engine.kb import KnowledgeBase
from papernotes.errors import PapernotesError

RESOURCE_PAGE = 500  # notes per page of resources/list
MAX_RESOURCE_BYTES = 1_000_000
# JSON leaves these raw; written as \u escapes they decode to the same text (as in --format json)
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def as_json(data: Any) -> str:
    """``data`` as JSON text for a model to read: no raw C1 controls or bidi overrides."""
    text = json.dumps(data, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _failure(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )


class NotesServer:
    """The handlers of the protocol's requests, over one live knowledge base."""

    def __init__(self, live: LiveKnowledgeBase, allow_write: bool = False) -> None:
        self.live = live
        self.allow_write = allow_write

    def server(self) -> Server[Any]:
        return Server(
            SERVER_INFO["name"],
            version=SERVER_INFO["version"],
            title=SERVER_INFO["title"],
            instructions=INSTRUCTIONS,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_list_resources=self.list_resources,
            on_list_resource_templates=self.list_resource_templates,
            on_read_resource=self.read_resource,
            on_list_prompts=self.list_prompts,
            on_get_prompt=self.get_prompt,
        )

    async def _run(self, work: Any) -> Any:
        """``work(kb)`` in a worker thread, on the refreshed knowledge base."""
        return await asyncio.to_thread(self.live.call, work)

    # -- tools ------------------------------------------------------------------------------------

    # the lists are the front's, which answers them while the SDK is imported (mcp_front)

    async def list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult.model_validate(mcp_front.tools_result(self.allow_write))

    async def call_tool(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        spec = BY_NAME.get(params.name)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name!r}")
        if spec.write and not self.allow_write:
            return _failure(
                f"Error: {spec.name} changes the notes, and this server is read-only: "
                "start it with `papernotes mcp --allow-write` to allow it"
            )
        try:
            arguments = check_arguments(spec, params.arguments or {})
            result, notices = await self._run(lambda kb: spec.run(kb, **arguments))
        except PapernotesError as exc:
            return _failure(error_text(exc))
        except Exception as exc:  # a bug: reported, logged, and the server goes on
            traceback.print_exc(file=sys.stderr)
            return _failure(f"Error: {spec.name} failed: {type(exc).__name__}: {exc}")
        if notices:
            result["notices"] = [*result.get("notices", []), *notices]
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=as_json(result))],
            structured_content=result,
        )

    # -- resources --------------------------------------------------------------------------------

    async def list_resources(self, ctx: Any, params: Any) -> types.ListResourcesResult:
        cursor = getattr(params, "cursor", None) if params is not None else None
        try:
            start = int(cursor) if cursor else 0
        except ValueError:
            raise MCPError(types.INVALID_PARAMS, f"bad cursor {cursor!r}") from None
        (rows, total), _ = await self._run(
            lambda kb: (kb.index.headlines()[start : start + RESOURCE_PAGE], len(kb))
        )
        resources = [
            types.Resource(
                uri=NOTE_URI + quote(row.id, safe=""),
                name=row.id,
                title=row.title,
                description=f"{row.title} ({row.year})" if row.year else row.title,
                mime_type="text/markdown",
            )
            for row in rows
        ]
        following = start + len(rows)
        return types.ListResourcesResult(
            resources=resources, next_cursor=str(following) if following < total else None
        )

    async def list_resource_templates(
        self, ctx: Any, params: Any
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult.model_validate(mcp_front.templates_result())

    async def read_resource(
        self, ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if not uri.startswith(NOTE_URI):
            raise MCPError(types.INVALID_PARAMS, f"not a note: {uri!r} (expected {NOTE_URI}ID)")
        paper_id = unquote(uri[len(NOTE_URI) :])

        def read(kb: KnowledgeBase) -> str:
            paper = kb.get(paper_id)
            if paper is None:
                raise MCPError(types.INVALID_PARAMS, f"no note has the id {paper_id!r}")
            path = kb.store.root / paper.path
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_RESOURCE_BYTES)
            except OSError as exc:
                raise MCPError(types.INTERNAL_ERROR, f"{path}: cannot read: {exc}") from None
            return data.decode("utf-8", "replace")

        try:
            text, _ = await self._run(read)
        except PapernotesError as exc:
            raise MCPError(types.INTERNAL_ERROR, error_text(exc)) from None
        contents = types.TextResourceContents(uri=uri, text=text, mime_type="text/markdown")
        return types.ReadResourceResult(contents=[contents])

    # -- prompts ----------------------------------------------------------------------------------

    async def list_prompts(self, ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult.model_validate(mcp_front.prompts_result())

    async def get_prompt(
        self, ctx: Any, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        prompt = PROMPTS_BY_NAME.get(params.name)
        if prompt is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown prompt {params.name!r}")
        given = params.arguments or {}
        missing = [n for n, _ in prompt.arguments if not str(given.get(n, "")).strip()]
        if missing:
            raise MCPError(types.INVALID_PARAMS, f"{prompt.name}: {missing[0]} is required")
        values = {n: " ".join(str(given[n]).split())[:200] for n, _ in prompt.arguments}
        text = prompt.template.format(**values)
        message = types.PromptMessage(
            role="user", content=types.TextContent(type="text", text=text)
        )
        return types.GetPromptResult(description=prompt.description, messages=[message])


def serve(
    live: LiveKnowledgeBase,
    allow_write: bool = False,
    port: int | None = None,
    wire: Wire | None = None,
) -> None:
    """Serve until the client goes away: over stdio (``wire``, the stream the front hands
    over, else the process's own), or with ``port`` over streamable HTTP on 127.0.0.1
    (``/mcp``), never on another address."""
    server = NotesServer(live, allow_write).server()
    try:
        if port is None:
            asyncio.run(_stdio(server, wire))
        else:
            asyncio.run(_http(server, port))
    finally:
        live.close()


async def _stdio(server: Server[Any], wire: Wire | None) -> None:
    stdin = stdout = None
    if wire is not None:  # read and written as the transport does its own (mcp_front)
        stdin = anyio.wrap_file(wire.reader)
        stdout = anyio.wrap_file(cast(Any, wire.writer))
    async with stdio_server(stdin, stdout) as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def _http(server: Server[Any], port: int) -> None:
    import uvicorn

    app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    print(f"papernotes mcp: http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve()
