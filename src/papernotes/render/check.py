"""Output of ``papernotes check``."""

from __future__ import annotations

import click

from papernotes.engine.check import CheckReport
from papernotes.render import print_json, safe, use_color


def print_check(report: CheckReport, fmt: str) -> None:
    if fmt == "json":
        print_json(
            {
                "notes": report.notes,
                "ok": report.ok,
                "with_errors": report.with_errors,
                "errors": report.errors,
                "warnings": report.warnings,
                "diagnostics": [
                    {"path": d.path, "line": d.line, "severity": d.severity, "message": d.message}
                    for d in report.diagnostics
                ],
            }
        )
        return
    color = use_color()
    for diag in report.diagnostics:
        severity: str = diag.severity
        if color:
            severity = click.style(
                severity, fg="red" if severity == "error" else "yellow", bold=True
            )
        click.echo(f"{safe(diag.path)}:{diag.line}: {severity}: {safe(diag.message)}")
    click.echo(report.summary())
