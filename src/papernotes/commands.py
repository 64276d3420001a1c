"""The command table: every command's name, where it is defined, and whether it reads the notes.

Kept apart from :mod:`papernotes.cli` (which imports click) so that the entry point
(:mod:`papernotes.__main__`) can tell, before any import, whether a command will bring the
index up to date, and start making sure it is fresh while click and the command are imported."""

from __future__ import annotations

# The global option naming the notes folder, and the variable it falls back on.
NOTES_OPTION = "--notes-dir"
NOTES_VARIABLE = "PAPERNOTES_DIR"

# command name -> ("module:attribute" under papernotes.cli, reads the notes)
# "reads the notes": brings the index up to date (stats every note) before it answers.
TABLE: dict[str, tuple[str, bool]] = {
    "add": ("add:add_cmd", True),
    "authors": ("facets:authors_cmd", True),
    "check": ("check:check_cmd", True),
    "cite": ("cite:cite_cmd", True),
    "completion": ("completion:completion_cmd", False),
    "edit": ("edit:edit_cmd", True),
    "export": ("export:export_cmd", True),
    "import": ("import_:import_cmd", False),
    "index": ("index:index_cmd", True),
    "list": ("list_:list_cmd", True),
    "mark": ("fields:mark_cmd", True),
    "mcp": ("mcp:mcp_cmd", True),
    "new": ("new:new_cmd", True),
    "open": ("edit:open_cmd", True),
    "rate": ("fields:rate_cmd", True),
    "related": ("related:related_cmd", True),
    "search": ("search:search_cmd", True),
    "set": ("fields:set_cmd", True),
    "show": ("show:show_cmd", True),
    "stats": ("stats:stats_cmd", True),
    "tag": ("fields:tag_cmd", True),
    "tags": ("facets:tags_cmd", True),
    "topics": ("facets:topics_cmd", True),
    "unset": ("fields:unset_cmd", True),
    "watch": ("watch:watch_cmd", False),
}

COMMANDS: dict[str, str] = {name: target for name, (target, _) in TABLE.items()}
READERS: frozenset[str] = frozenset(name for name, (_, reads) in TABLE.items() if reads)
