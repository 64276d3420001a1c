"""The command line: a thin layer over the library. Commands are imported lazily so that
``papernotes --version`` starts as fast as Python itself; every domain error becomes a message
on stderr and an exit code here, in one place."""

from __future__ import annotations

import contextlib
import importlib
import sys
from typing import Any

import click

from papernotes import __version__
from papernotes.commands import COMMANDS, NOTES_OPTION, NOTES_VARIABLE, leave_on_output_error
from papernotes.errors import EXIT_INTERRUPTED, Ambiguous, NotFound, PapernotesError


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = importlib.import_module(f"papernotes.cli.{module_name}")
        command: click.Command = getattr(module, attr)
        for param in command.params:
            if type(param.type) is click.types.StringParamType:
                param.type = TEXT
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click does; a name that is no command is refused with the closest ones
        (``serch``: did you mean 'search'?)."""
        name = click.utils.make_str(args[0]) if args else ""
        if args and name not in COMMANDS and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name.lower(), COMMANDS, n=3, cutoff=0.6)
            if close:
                choices = " or ".join(repr(c) for c in close)
                ctx.fail(f"No such command {name!r}. Did you mean {choices}?")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PapernotesError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


class Text(click.types.StringParamType):
    """Text typed on the command line (a reference, a query, a tag), not a path: bytes that
    are not UTF-8 (Python gives them as surrogates, ``\\udce9``) are refused here, once for
    every command; they reached SQLite (a traceback) or a new note's YAML."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = super().convert(value, param, ctx)
        if isinstance(text, str) and not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                from papernotes.render import safe

                self.fail(f"not valid UTF-8 text: '{safe(text)}'", param, ctx)
        return text


TEXT = Text()


def report_error(exc: PapernotesError) -> None:
    """Print a domain error on stderr, with its candidates or suggestions (note text in them
    made harmless)."""
    from papernotes.render import safe

    click.echo(f"Error: {safe(exc.message)}", err=True)
    if isinstance(exc, Ambiguous):
        for candidate in exc.candidates:
            click.echo(f"  {safe(candidate)}", err=True)
    elif isinstance(exc, NotFound) and exc.suggestions:
        click.echo("Did you mean:", err=True)
        for suggestion in exc.suggestions:
            click.echo(f"  {safe(suggestion)}", err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="papernotes")
@click.option(
    NOTES_OPTION,
    type=click.Path(file_okay=False),
    envvar=NOTES_VARIABLE,
    help="The notes directory (default: $PAPERNOTES_DIR, else the nearest notes/ folder).",
)
@click.pass_context
def cli(ctx: click.Context, notes_dir: str | None) -> None:
    """papernotes: search and browse your research-paper reading notes.

    \b
    Examples:
      papernotes search dpo
      papernotes show flame
      papernotes list --topic alignment
    """
    ctx.ensure_object(dict)
    ctx.obj["notes_dir"] = notes_dir


def preload() -> None:
    """Import what the commands a change watcher runs would import when they run (their
    modules, the engine, the renderers, rich and rapidfuzz): the watcher does it once, and
    every child it forks for a command has it (:mod:`papernotes.watcher.forkrun`). About
    9 MB and a few hundred ms, once (measured apart: the modules 140 ms, rapidfuzz 40); the
    BibTeX reader (pybtex, another 80 ms) and the model of the semantic search are left to
    the commands that use them."""
    import pkgutil

    from papernotes import engine, note, render
    from papernotes.commands import SERVED

    for name in SERVED:
        importlib.import_module(f"papernotes.cli.{COMMANDS[name].split(':')[0]}")
    for package in (engine, note, render):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    for name in ("rapidfuzz.fuzz", "rapidfuzz.process", "rapidfuzz.utils", "rapidfuzz.distance"):
        importlib.import_module(name)
    # not rich.markdown and rich.rule: only show on a terminal uses them, never run there
    for name in ("console", "segment", "style", "table", "text"):
        importlib.import_module(f"rich.{name}")
    # the patterns that reading a note's reference compiles on first use (into re's cache,
    # which the children inherit): ~2.5 ms of every show and related
    from papernotes.note import normalize

    normalize.title_key("a title")
    for normal in (normalize.arxiv_id, normalize.doi):
        with contextlib.suppress(ValueError):  # a reference that is neither
            normal("a title")


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="papernotes")
    except OSError as exc:
        leave_on_output_error(exc)  # a full disk, standard output closed: a clear error
        if not isinstance(exc, BrokenPipeError):
            raise
        # a broken pipe: `papernotes search x | head`
        sys.stderr.close()
        sys.exit(0)
