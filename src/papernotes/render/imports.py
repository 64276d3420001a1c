"""Output of ``papernotes import``: what each file held, what happened to each note, a summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from papernotes.disk.notefiles import display_path
from papernotes.interop.importers import Action, ImportPlan, ImportReport, Source
from papernotes.render import print_json, safe


def import_summary(
    sources: Sequence[Source], plan: ImportPlan, report: ImportReport | None
) -> dict[str, Any]:
    """The numbers of the last line; ``report`` is None for a dry run."""
    refused = {id(a) for a, _ in report.refused} if report is not None else set()
    counts = {"create": 0, "merge": 0, "unchanged": 0, "refused": 0}
    for action in plan.actions:
        kind = "refused" if id(action) in refused else action.kind
        counts[kind] += 1
    return {
        "files": len(sources),
        "papers": sum(len(s.candidates) for s in sources),
        "created": counts["create"],
        "merged": counts["merge"],
        "unchanged": counts["unchanged"],
        "refused": counts["refused"],
        "skipped": sum(len(s.skipped) for s in sources),
        "errors": sum(1 for s in sources for d in s.diagnostics if d.severity == "error"),
        "dry_run": report is None,
    }


def print_import(
    sources: Sequence[Source], plan: ImportPlan, report: ImportReport | None, fmt: str
) -> None:
    summary = import_summary(sources, plan, report)
    refusals = {id(a): why for a, why in report.refused} if report is not None else {}
    if fmt == "json":
        print_json(
            {
                "files": [_source_json(s) for s in sources],
                "notes": [_action_json(a, refusals.get(id(a))) for a in plan.actions],
                "problems": [str(d) for d in plan.problems],
                "summary": summary,
            }
        )
        return
    for source in sources:
        click.echo(safe(_file_line(source)))
        for skipped in source.skipped:
            text = skipped.text if len(skipped.text) <= 60 else skipped.text[:57] + "..."
            click.echo(safe(f"{skipped.path}:{skipped.line}: skipped: {text!r}: {skipped.reason}"))
        for diag in source.diagnostics:
            click.echo(safe(str(diag)))
    for problem in plan.problems:
        click.echo(safe(f"{problem} (not considered for merging)"))
    dry = report is None
    for action in plan.actions:
        line = _action_line(action, refusals.get(id(action)), dry)
        if line:
            click.echo(safe(line))
    click.echo(summary_line(summary))


def summary_line(summary: dict[str, Any]) -> str:
    """``51 papers in 4 files: 50 notes created, 0 merged, 0 unchanged; 10 lines skipped``."""

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    verb = "to create" if summary["dry_run"] else "created"
    merged = "to merge" if summary["dry_run"] else "merged"
    text = (
        f"{plural(summary['papers'], 'paper')} in {plural(summary['files'], 'file')}: "
        f"{plural(summary['created'], 'note')} {verb}, {summary['merged']} {merged}, "
        f"{summary['unchanged']} unchanged"
    )
    if summary["refused"]:
        text += f", {summary['refused']} refused"
    text += f"; {plural(summary['skipped'], 'line')} skipped"
    if summary["errors"]:
        text += f"; {plural(summary['errors'], 'file')} not read"
    if summary["dry_run"]:
        text += " (dry run: nothing written)"
    return text


def _file_line(source: Source) -> str:
    parts = [f"{len(source.candidates)} paper{'' if len(source.candidates) == 1 else 's'}"]
    if source.skipped:
        parts.append(f"{len(source.skipped)} line{'' if len(source.skipped) == 1 else 's'} skipped")
    return f"{source.path}: {', '.join(parts)}"


def _action_line(action: Action, refused: str | None, dry: bool) -> str | None:
    path = display_path(action.path)
    papers = len(action.candidates)
    origin = f" (from {papers} papers)" if papers > 1 else ""
    if refused is not None or action.kind == "refused":
        return f"refused: {refused or action.reason}"
    if action.kind == "create":
        return f"{'would create' if dry else 'created'} {path}: {action.title}{origin}"
    if action.kind == "merge":
        return f"{'would merge' if dry else 'merged'} {path}: added {'; '.join(action.added)}"
    return None


def _source_json(source: Source) -> dict[str, Any]:
    return {
        "path": source.path,
        "papers": [
            {"title": c.paper.title, "line": c.line, "end": c.end} for c in source.candidates
        ],
        "skipped": [{"line": s.line, "text": s.text, "reason": s.reason} for s in source.skipped],
        "diagnostics": [
            {"line": d.line, "severity": d.severity, "message": d.message}
            for d in source.diagnostics
        ],
    }


def _action_json(action: Action, refused: str | None) -> dict[str, Any]:
    return {
        "action": "refused" if refused else action.kind,
        "path": str(action.path),
        "title": action.title,
        "added": action.added,
        "from": [c.origin for c in action.candidates],
        "reason": refused or action.reason or None,
    }
