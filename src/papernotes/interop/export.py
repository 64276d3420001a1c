"""Notes -> other formats: JSON, JSON Lines, CSV, BibTeX, CSL JSON and a Markdown reading list.

Each function takes papers and returns the whole text; where it goes (stdout, ``-o FILE``) is
the command line's business."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from papernotes.note.model import KNOWN_KEYS, Paper, paper_url

FORMATS = ("json", "jsonl", "csv", "bibtex", "csl-json", "markdown")
# the CSV columns: every front-matter field (lists joined by "; "), then the file
CSV_COLUMNS = (*KNOWN_KEYS, "path")
LIST_SEPARATOR = "; "


def to_json(papers: Sequence[Paper]) -> str:
    """A JSON array of every note's whole model (body included), a note a line."""
    return "".join(json_chunks((_encode(p.to_dict()) for p in papers), "json"))


def to_jsonl(papers: Sequence[Paper]) -> str:
    """One JSON object per line, for streaming tools (``jq -c``, pandas ``lines=True``)."""
    return "".join(json_chunks((_encode(p.to_dict()) for p in papers), "jsonl"))


_encode = json.JSONEncoder(ensure_ascii=False).encode


def json_chunks(notes: Iterable[str], fmt: str) -> Iterator[str]:
    """Notes (each the JSON text of :meth:`Paper.to_dict`) as ``json`` or ``jsonl``, a note at
    a time: JSON Lines, or an array with a note a line as sqlite-utils writes it
    (``[{...},\n {...}]``), which the C encoder writes (an indented dump is Python code, three
    times slower)."""
    if fmt == "jsonl":
        for note in notes:
            yield note + "\n"
        return
    lead = "["
    for note in notes:
        yield lead + note
        lead = ",\n "
    yield "[]\n" if lead == "[" else "]\n"


def csv_row(paper: Paper) -> dict[str, Any]:
    """The CSV cells of ``paper``. A lone carriage return becomes a newline: the csv module
    quotes a cell for ``\n`` but not for ``\r``, which readers take for the end of a row."""
    row: dict[str, Any] = {}
    data = paper.to_dict()
    for column in CSV_COLUMNS:
        value = data.get(column)
        if isinstance(value, list):
            value = LIST_SEPARATOR.join(str(v) for v in value)
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        row[column] = "" if value is None else value
    return row


def to_csv(papers: Sequence[Paper]) -> str:
    """A header and one row per note; list fields joined by ``"; "``; no body."""
    return "".join(chunks(papers, "csv"))


def to_bibtex(papers: Sequence[Paper]) -> str:
    """BibTeX entries, written by :func:`papernotes.interop.bibtex.to_bibtex`."""
    from papernotes.interop.bibtex import to_bibtex as write

    return write(papers)


def to_csl_json(papers: Sequence[Paper]) -> str:
    """CSL JSON (Zotero's and pandoc's), written by :func:`papernotes.interop.csl.to_csl_json`."""
    from papernotes.interop.csl import to_csl_json as write

    return write(papers)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: str) -> str:
    """``text`` shown literally in Markdown (a title like ``[x](y)`` is not a link)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _authors_short(authors: Sequence[str]) -> str:
    if len(authors) > 3:
        return f"{authors[0]} et al."
    return ", ".join(authors)


def to_markdown(papers: Sequence[Paper], title: str = "Reading list") -> str:
    """A reading list: a checklist item per note (ticked when read), with its authors, year,
    link, topics and tags."""
    return "\n".join([f"# {title}", "", *(markdown_item(p) for p in papers), ""])


def markdown_item(paper: Paper) -> str:
    """The reading-list line of ``paper``."""
    done = "x" if paper.status == "read" else " "
    item = f"- [{done}] **{md_escape(paper.title)}**"
    who = _authors_short(paper.authors)
    when = str(paper.year) if paper.year else ""
    if who or when:
        item += " — " + md_escape(", ".join(x for x in (who, when) if x))
    url = paper_url(paper)
    if url:
        label = f"arXiv:{paper.arxiv}" if paper.arxiv and "arxiv.org" in url else "link"
        item += f" [{label}](<{url.replace('>', '%3E')}>)"
    labels = [*paper.topics, *(f"#{t}" for t in paper.tags)]
    if labels:
        item += " · " + " ".join(f"`{t.replace('`', '')}`" for t in labels)
    return item


WRITERS: dict[str, Callable[[Sequence[Paper]], str]] = {
    "json": to_json,
    "jsonl": to_jsonl,
    "csv": to_csv,
    "bibtex": to_bibtex,
    "csl-json": to_csl_json,
    "markdown": to_markdown,
}


def export(papers: Sequence[Paper], fmt: str) -> str:
    """``papers`` in format ``fmt`` (one of :data:`FORMATS`)."""
    return WRITERS[fmt](papers)


STREAMED = ("json", "jsonl", "csv", "markdown")  # written a note at a time by chunks()


def chunks(papers: Iterable[Paper], fmt: str) -> Iterator[str]:
    """The text of :func:`export` in pieces, a note at a time for the formats of
    :data:`STREAMED` (a whole collection is never held); the others at once."""
    if fmt in ("json", "jsonl"):
        yield from json_chunks((_encode(paper.to_dict()) for paper in papers), fmt)
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for paper in papers:
            writer.writerow(csv_row(paper))
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()
    elif fmt == "markdown":
        yield "# Reading list\n\n"
        for paper in papers:
            yield markdown_item(paper) + "\n"
    else:
        yield export(list(papers), fmt)
