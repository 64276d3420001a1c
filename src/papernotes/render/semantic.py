"""Output of ``papernotes index --embed`` and the vectors line of ``index --status``."""

from __future__ import annotations

import click

from papernotes.engine.semantic import Status
from papernotes.engine.semantic.model import MODEL_ID
from papernotes.engine.semantic.vectors import Update
from papernotes.render import print_json, safe


def print_vector_status(status: Status) -> None:
    if not status.installed and not status.embedded:
        click.echo("vectors:  none (search by meaning: pip install 'papernotes[semantic]')")
        return
    click.echo(
        f"vectors:  {status.embedded} of {status.notes} notes ({MODEL_ID}), {safe(status.location)}"
    )


def print_embedded(done: Update, status: Status, fmt: str) -> None:
    if fmt == "json":
        print_json(
            {
                "embedded": done.embedded,
                "removed": done.removed,
                "seconds": round(done.seconds, 3),
                "notes": status.notes,
                "with_vectors": status.embedded,
                "model": MODEL_ID,
                "location": status.location,
            }
        )
        return
    rate = (
        f" ({done.embedded / done.seconds:.0f} notes/s)" if done.embedded and done.seconds else ""
    )
    click.echo(
        f"embedded {done.embedded} notes in {done.seconds:.1f} s{rate}; "
        f"{status.embedded} of {status.notes} notes have a vector"
    )
