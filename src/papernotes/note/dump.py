"""Paper -> note text (YAML front matter + body), the inverse of ``parse``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from papernotes.note.model import KNOWN_KEYS, Paper

try:
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]


def front_matter(paper: Paper) -> dict[str, Any]:
    """The front-matter mapping of ``paper``: known keys in canonical order, then extras."""
    meta: dict[str, Any] = {}
    stem = Path(paper.path).stem if paper.path else None
    for key in KNOWN_KEYS:
        value = getattr(paper, key)
        if key == "id" and value == stem:
            continue
        if value is None or value == () or value == "":
            continue
        if key == "abstract" and paper.abstract_in_body():
            continue  # the body's "## Abstract" says it: once
        meta[key] = list(value) if isinstance(value, tuple) else value
    for key, value in paper.extra.items():
        if key not in meta:
            meta[key] = value
    return meta


def dump_meta(meta: dict[str, Any]) -> str:
    """YAML for a front-matter mapping, readable and safe to load back."""
    return yaml.dump(
        meta,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def dump(paper: Paper) -> str:
    """The full text of a note file for ``paper``."""
    body = paper.body
    return f"---\n{dump_meta(front_matter(paper))}---\n{body}"
