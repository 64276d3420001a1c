"""``papernotes set``, ``unset``, ``tag``, ``mark`` and ``rate``: change notes' front matter in
place, for one note (REF) or every note a query selects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from papernotes.cli.common import get_kb
from papernotes.cli.complete import complete_ref

if TYPE_CHECKING:
    from papernotes.edit.fieldedit import Op

F = TypeVar("F", bound=Callable[..., Any])
_INFINITIVE = {"tagged": "tag", "marked": "mark", "rated": "rate"}


def target_options(func: F) -> F:
    """The note(s) to change, and --dry-run: shared by every command here."""
    func = click.option(
        "--dry-run", is_flag=True, help="Print the changes as a diff; write nothing."
    )(func)
    return click.argument("target", metavar="REF|QUERY", shell_complete=complete_ref)(func)


def run(ctx: click.Context, target: str, ops: Sequence[Op], dry_run: bool, verb: str) -> None:
    """Select the notes, change them, and say what changed (a diff with --dry-run). A query
    ends with one line: how many notes changed, how many were already so or refused."""
    from papernotes.disk.notefiles import display_path
    from papernotes.edit.fieldedit import diff, edit_notes, select
    from papernotes.render import safe

    kb = get_kb(ctx)
    papers, many = select(kb, target)
    report = edit_notes(kb.store.root, papers, ops, dry_run=dry_run, shown=display_path)
    for edit in report.edits:
        if edit.error:
            click.echo(f"Error: {safe(edit.shown)}: {safe(edit.error)}", err=True)
        elif dry_run and edit.changed:
            click.echo(safe(diff(edit)), nl=False)
        elif edit.changed:
            click.echo(f"{safe(edit.shown)}: {safe('; '.join(edit.changes))}")
        elif not many:
            click.echo(f"{safe(edit.shown)}: unchanged (it already says so)")
    if many or dry_run:
        what = describe(ops)
        count = len(report.changed)
        done = f"would {_INFINITIVE.get(verb, verb)}" if dry_run else verb
        line = f"{done} {count} note{'' if count == 1 else 's'}: {what}"
        if report.unchanged:
            line += f"; {len(report.unchanged)} unchanged"
        if report.refused:
            line += f"; {len(report.refused)} refused"
        click.echo(safe(line))
    if report.refused:
        ctx.exit(1)


def describe(ops: Sequence[Op]) -> str:
    """``+rlhf -survey, topics +safety``; ``year=2023, venue=NeurIPS``."""
    parts: list[tuple[str, str]] = []
    for op in ops:
        key = op.key if op.kind in ("add", "remove") else ""
        text = op.describe()
        if key and parts and parts[-1][0] == key:
            parts[-1] = (key, f"{parts[-1][1]} {text}")
        else:
            parts.append((key, f"{key} {text}" if key and key != "tags" else text))
    return ", ".join(text for _, text in parts)


@click.command("set")
@target_options
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.pass_context
def set_cmd(ctx: click.Context, target: str, assignments: tuple[str, ...], dry_run: bool) -> None:
    """Set front-matter keys of a note (or of every note a query matches), in place.

    A known key's value is read as the note's would be (year=2023, read=2024-02-08,
    tags="a, b", authors="A and B") and refused with the parser's message when it is not
    one (exit 2); another key's value is read as YAML (priority=3, projects="[a, b]").
    Comments, key order, quoting and list style are kept; only the key changes.

    REF is one note, as `papernotes show` takes it (id, alias, arXiv id, DOI, id prefix,
    title words); a query with a field, OR or a negation (topic:alignment, "tag:dpo -survey")
    selects every note it matches.

    \b
    Examples:
      papernotes set dpo venue="NeurIPS 2023" year=2023
      papernotes set 2305.18290 reviewer=Alice
      papernotes set 'tag:dpo' status=read --dry-run
    """
    from papernotes.edit.fieldedit import assignment

    run(ctx, target, [assignment(a) for a in assignments], dry_run, "set")


@click.command("unset")
@target_options
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@click.pass_context
def unset_cmd(ctx: click.Context, target: str, keys: tuple[str, ...], dry_run: bool) -> None:
    """Remove front-matter keys from a note (or from every note a query matches).

    REF and queries as for `papernotes set`; the title cannot be removed.

    \b
    Examples:
      papernotes unset dpo rating
      papernotes unset 'tag:imported' reviewer --dry-run
    """
    from papernotes.edit.fieldedit import Op, canonical_key

    run(ctx, target, [Op("unset", canonical_key(k)) for k in keys], dry_run, "unset")


@click.command(
    "tag", context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]}
)
@target_options
@click.argument("changes", nargs=-1, metavar="[+TAG|-TAG]...")
@click.option(
    "--topic", "topics", multiple=True, metavar="[+|-]TOPIC",
    help="Add (+topic, or topic) or remove (-topic) a topic (repeatable).",
)  # fmt: skip
@click.option(
    "--alias", "aliases", multiple=True, metavar="[+|-]ALIAS",
    help="Add or remove an alias (repeatable).",
)  # fmt: skip
@click.pass_context
def tag_cmd(
    ctx: click.Context,
    target: str,
    changes: tuple[str, ...],
    topics: tuple[str, ...],
    aliases: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Add (+tag, or tag) and remove (-tag) tags, topics and aliases of a note (or of every
    note a query matches).

    Items are compared without case, accents or a leading #; a list keeps its style (block,
    [flow] or a comma string). -word is a tag to remove, even -h (help is --help).
    REF and queries as for `papernotes set`.

    \b
    Examples:
      papernotes tag dpo +rlhf -survey
      papernotes tag 'topic:alignment' +rlhf --dry-run
      papernotes tag flame --topic alignment --alias FLAME
    """
    from papernotes.edit.fieldedit import item_ops
    from papernotes.errors import UsageError

    unknown = [w for w in changes if w.startswith("--") and len(w) > 2]
    if unknown:
        raise UsageError(f"no such option: {unknown[0]}")
    ops = [*item_ops("tags", changes), *item_ops("topics", topics), *item_ops("aliases", aliases)]
    if not ops:
        raise UsageError("nothing to change: give +TAG, -TAG, --topic or --alias")
    run(ctx, target, ops, dry_run, "tagged")


@click.command("mark")
@target_options
@click.argument("status", metavar="read|reading|to-read|skimmed")
@click.option("--date", "when", help="The read date (default: today, unless the note has one).")
@click.pass_context
def mark_cmd(ctx: click.Context, target: str, status: str, when: str | None, dry_run: bool) -> None:
    """Mark the reading status of a note (or of every note a query matches).

    `read` also sets the read: date, to today unless the note has one, or to --date.
    Other common names are understood (todo, done, finished, in progress).
    REF and queries as for `papernotes set`.

    \b
    Examples:
      papernotes mark dpo read
      papernotes mark flame read --date 2024-02-08
      papernotes mark 'tag:Alignment' to-read --dry-run
    """
    import datetime as dt

    from papernotes.edit.fieldedit import Op, set_op
    from papernotes.errors import UsageError

    op = set_op("status", status)
    ops = [op]
    if when is not None:
        if op.value != "read":
            raise UsageError("--date is the date a paper was read: only with 'read'")
        ops.append(set_op("read", when))
    elif op.value == "read":
        ops.append(Op("default", "read", dt.date.today().isoformat()))
    run(ctx, target, ops, dry_run, "marked")


@click.command("rate")
@target_options
@click.argument("rating", metavar="1..5")
@click.pass_context
def rate_cmd(ctx: click.Context, target: str, rating: str, dry_run: bool) -> None:
    """Rate a note from 1 to 5 (or every note a query matches).

    `papernotes unset REF rating` removes a rating. REF and queries as for `papernotes set`.

    \b
    Examples:
      papernotes rate dpo 5
      papernotes rate 'tag:survey' 3 --dry-run
    """
    from papernotes.edit.fieldedit import set_op

    run(ctx, target, [set_op("rating", rating)], dry_run, "rated")
