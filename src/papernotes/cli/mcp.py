"""``papernotes mcp``: serve the notes to AI assistants over the Model Context Protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from papernotes.cli.common import get_store

if TYPE_CHECKING:
    from papernotes.assistant.mcp_front import Front


@click.command("mcp")
@click.option(
    "--allow-write",
    is_flag=True,
    help="Also offer the tools that write notes (default: read-only).",
)
@click.option(
    "--http", "port", type=click.IntRange(1, 65535), metavar="PORT",
    help="Serve streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio.",
)  # fmt: skip
@click.pass_context
def mcp_cmd(ctx: click.Context, allow_write: bool, port: int | None) -> None:
    """Serve the notes to an AI assistant (Claude Desktop, Claude Code, Cursor, ...) as a
    Model Context Protocol server, over stdio.

    Tools: search, get_note, list_notes, related, facets; with --allow-write also
    create_note, update_fields, append_to_note and add_arxiv. Each note is a resource
    (papernotes://note/ID). The index is brought up to date before every call. Needs the
    MCP SDK: pip install 'papernotes[mcp]'.

    \b
    Examples:
      papernotes mcp
      papernotes --notes-dir ~/papers/notes mcp --allow-write
      claude mcp add papernotes -- papernotes --notes-dir ~/papers/notes mcp
      papernotes mcp --http 8765
    """
    import importlib.util
    import threading

    from papernotes.assistant.live import LiveKnowledgeBase
    from papernotes.assistant.mcp_front import Front, claim_stdio
    from papernotes.errors import ConfigError

    store = get_store(ctx)
    if importlib.util.find_spec("mcp") is None:
        raise ConfigError("papernotes mcp needs the MCP SDK: pip install 'papernotes[mcp]'")
    fds = claim_stdio() if port is None else None
    front = None if fds is None else Front(allow_write, *fds)
    if front is not None:  # it answers the session's opening while the SDK is imported
        threading.Thread(target=_import_sdk, args=(front,), daemon=True).start()
    live = LiveKnowledgeBase(store, defer_watcher=True)
    threading.Thread(target=live.warm, daemon=True).start()  # while the SDK is imported
    wire = None
    if front is not None:
        wire = front.serve()
        if wire is None:  # the client has gone, having had every answer
            live.close()
            return
    try:
        from papernotes.assistant.mcp_server import serve
    except ImportError as exc:
        raise ConfigError(
            f"papernotes mcp needs the MCP SDK ({exc}): pip install 'papernotes[mcp]'"
        ) from None
    # after the import, not during it: on two cores they would slow each other down, and
    # a client takes a while between its handshake and its first call
    live.start_watcher()
    threading.Thread(target=live.load_model, daemon=True).start()
    serve(live, allow_write=allow_write, port=port, wire=wire)


def _import_sdk(front: Front) -> None:
    """Import the server (and the SDK), then tell the front; a failure is raised again by
    the same import in the main thread."""
    try:
        import papernotes.assistant.mcp_server  # noqa: F401
    except BaseException:
        pass
    finally:
        front.ready()
