"""``papernotes watch``."""

from __future__ import annotations

import click

from papernotes.cli.common import get_store


@click.command("watch")
@click.option("--detach", is_flag=True, help="Run in the background; print its pid and log.")
@click.option(
    "--idle",
    type=click.FloatRange(min=0),
    default=None,
    help="Exit after this many seconds without a command asking (0: never) "
    "[default: watch_idle in papernotes.toml, else 3600].",
)
@click.option("--stop", is_flag=True, help="Stop the watcher of the notes directory.")
@click.option("--parent", type=int, default=None, hidden=True)  # exit with this process
@click.pass_context
def watch_cmd(
    ctx: click.Context, detach: bool, idle: float | None, stop: bool, parent: int | None
) -> None:
    """Keep the search index fresh as notes change, so that commands skip stat-ing every note.

    The watcher (one per notes directory) applies each change to the index as it happens,
    and commands ask it, over a socket in your runtime folder, whether the index is fresh;
    when it cannot vouch (starting, behind, an overflow, a network file system, no answer
    within 0.25 s) they stat every note as usual. It never writes a note. `watch = true` in
    papernotes.toml starts one by itself in the background; `papernotes index --status`
    says whether one serves. Needs watchfiles: pip install 'papernotes[watch]'.

    \b
    Examples:
      papernotes watch
      papernotes watch --detach --idle 7200
      papernotes watch --stop
    """
    from papernotes.engine import watchclient
    from papernotes.render import safe

    store = get_store(ctx)
    if stop:
        if not watchclient.ask(store.root, b"stop\n") or watchclient.answer(store.root) is None:
            raise click.ClickException(f"no watcher serves {safe(str(store.root))}")
        click.echo(f"stopped the watcher of {safe(str(store.root))}")
        return
    if idle is None:
        configured = store.config.get("watch_idle")
        idle = (
            float(configured) if isinstance(configured, int | float) and configured >= 0 else None
        )
    if detach:
        from papernotes.watcher.watchrun import detach as run_detached

        click.echo(run_detached(store, idle))
        return
    from papernotes.cli import main, preload
    from papernotes.watcher.watchrun import foreground

    foreground(store, idle, parent, main, preload)
