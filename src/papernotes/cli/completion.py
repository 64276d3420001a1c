"""``papernotes completion SHELL``: the script that turns on TAB completion."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_cmd(shell: str) -> None:
    """Print the shell code that completes commands, options, note ids, tags and topics.

    \b
    Examples:
      eval "$(papernotes completion bash)"      # in ~/.bashrc
      eval "$(papernotes completion zsh)"       # in ~/.zshrc
      papernotes completion fish > ~/.config/fish/completions/papernotes.fish
    """
    from click.shell_completion import get_completion_class

    from papernotes.cli import cli

    cls = get_completion_class(shell)
    assert cls is not None  # every SHELLS entry is one click knows
    click.echo(cls(cli, {}, "papernotes", "_PAPERNOTES_COMPLETE").source())
