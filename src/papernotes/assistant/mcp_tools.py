"""What each tool of ``papernotes mcp`` does, over the same library the commands use: plain
arguments in, JSON-compatible data out, domain errors raised as the commands raise them. No
MCP SDK here (:mod:`papernotes.assistant.mcp_server` wires these to the protocol).

Every answer is bounded twice: by a ``limit`` (at most :data:`MAX_LIMIT` notes) and by
:data:`MAX_BYTES` of JSON, so one call cannot flood a model's context; what is cut off says
how to get the rest (``next_offset``, ``next_line``). Note text is returned as data, in JSON
strings, exactly as it is in the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from papernotes.errors import Ambiguous, NotFound, PapernotesError, UsageError
from papernotes.note.model import Paper

if TYPE_CHECKING:
    from papernotes.engine.kb import KnowledgeBase

MAX_LIMIT = 50  # notes in one answer
MAX_BYTES = 40_000  # JSON in one answer (about 10,000 tokens)
MAX_AUTHORS = 10  # authors listed per note in lists (authors_total says how many there are)
MAX_LINKS = 50
MAX_FIELD = 5_000  # characters of one front-matter string (an abstract) in get_note
MAX_OFFSET = 10_000


def error_text(exc: PapernotesError) -> str:
    """The message the command line prints for ``exc``, candidates and suggestions included."""
    lines = [f"Error: {exc.message}"]
    if isinstance(exc, Ambiguous):
        lines += [f"  {c}" for c in exc.candidates]
    elif isinstance(exc, NotFound) and exc.suggestions:
        lines += ["Did you mean:", *(f"  {s}" for s in exc.suggestions)]
    return "\n".join(lines)


def size(data: Any) -> int:
    """Bytes of ``data`` as JSON (UTF-8)."""
    return len(json.dumps(data, ensure_ascii=False).encode("utf-8"))


def bounded(result: dict[str, Any], key: str, offset: int = 0) -> dict[str, Any]:
    """``result`` with items dropped from the end of ``result[key]`` until it fits in
    :data:`MAX_BYTES`; ``truncated`` then says so and ``next_offset`` where to go on."""
    items = result[key]
    total = size(result)
    if total <= MAX_BYTES:
        return result
    while items and total > MAX_BYTES - 200:  # room for the two keys added below
        total -= size(items.pop()) + 2
    result["truncated"] = f"byte limit reached: {len(items)} shown; ask again with offset"
    result["next_offset"] = offset + len(items)
    return result


def summary(paper: Paper) -> dict[str, Any]:
    """A note in a list: what a model needs to choose which notes to read."""
    return {
        "id": paper.id,
        "title": paper.title,
        "year": paper.year,
        "authors": list(paper.authors[:MAX_AUTHORS]),
        "authors_total": len(paper.authors),
        "topics": list(paper.topics),
        "tags": list(paper.tags),
        "status": paper.status,
        "rating": paper.rating,
        "read": paper.read,
        "added": paper.added,
        "arxiv": paper.arxiv,
        "path": paper.path,
    }


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise UsageError(f"offset must be between 0 and {MAX_OFFSET}")


# -- reading --------------------------------------------------------------------------------------


def search(
    kb: KnowledgeBase,
    query: str,
    limit: int = 10,
    offset: int = 0,
    exact: bool = False,
    mode: str = "auto",
) -> dict[str, Any]:
    """``papernotes search QUERY``: the best notes first, each with the passage that matched.
    ``mode``: ``auto`` (by words, and by meaning too where the notes have vectors),
    ``lexical``, ``semantic`` or ``hybrid``, as ``--lexical`` ... choose."""
    from papernotes.engine.search import search as run

    _check_page(limit, offset)
    result = run(kb, query, limit=offset + limit, exact=exact, count=True, mode=mode)
    hits = []
    for rank, hit in enumerate(result.hits[offset:], offset + 1):
        record = summary(hit.paper)
        record.update(
            rank=rank,
            score=hit.score,
            match=hit.match,  # "all" the words, "some" of them, or found by "meaning"
            exact_match=hit.exact,
            snippet=hit.snippet,
        )
        if hit.semantic is not None:  # the cosine of the note and the query, by meaning
            record["semantic"] = hit.semantic
        hits.append(record)
    more = len(result.hits) == offset + limit  # a full page: there may be more
    out: dict[str, Any] = {
        "query": result.query,
        "mode": result.mode,  # how the hits were ranked: lexical, semantic or hybrid
        "corrected": result.corrected,
        "total": result.total,
        "offset": offset,
        "hits": hits,
        "next_offset": offset + len(hits) if more else None,
    }
    if result.notices:  # notes waiting for a vector, ...
        out["notices"] = list(result.notices)
    if result.corrected is not None:
        out["notice"] = f'showing results for "{result.corrected}" (exact=true to search as typed)'
    if not result.hits:
        out["notice"] = f"no notes match {query!r}"
        out["suggestions"] = [{"id": i, "title": t} for i, t in result.suggestions]
    return bounded(out, "hits", offset)


def get_note(
    kb: KnowledgeBase, ref: str, start_line: int | None = None, end_line: int | None = None
) -> dict[str, Any]:
    """``papernotes show REF``: the front matter as fields and the file's lines (the body
    unless a range is asked for), with the note's links and backlinks."""
    from papernotes.engine.neighbours import connections
    from papernotes.engine.resolve import resolve_in_kb

    paper = resolve_in_kb(kb, ref)
    path = kb.store.root / paper.path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PapernotesError(f"{path}: cannot read: {exc.strerror or exc}") from None
    lines = data.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    if start_line is None:
        first = paper.body_line  # past the last line when the note has no body
    elif 1 <= start_line <= max(len(lines), 1):
        first = start_line
    else:
        raise UsageError(f"start_line {start_line} is outside the note (lines 1 to {len(lines)})")
    if end_line is not None and end_line < first:
        raise UsageError(f"end_line {end_line} is before start_line {first}")
    last = min(end_line if end_line is not None else len(lines), len(lines))
    fields = {
        k: v
        for k, v in paper.to_dict().items()
        if k not in ("body", "links", "path") and v not in (None, [], {})
    }
    clipped = [k for k, v in fields.items() if isinstance(v, str) and len(v) > MAX_FIELD]
    for key in clipped:
        fields[key] = fields[key][:MAX_FIELD] + " [...]"
    conn = connections(kb, paper, 0)
    out: dict[str, Any] = {
        "id": paper.id,
        "title": paper.title,
        "path": paper.path,
        "fields": fields,
        "lines": len(lines),
        "body_line": paper.body_line,
        "start_line": first,
        "end_line": first - 1,
        "next_line": None,
        "text": "",
        "links": [
            {"target": target, "id": p.id if p else None, "title": p.title if p else None}
            for target, p in conn.links[:MAX_LINKS]
        ],
        "backlinks": [{"id": p.id, "title": p.title} for p in conn.backlinks[:MAX_LINKS]],
    }
    if clipped:
        out["clipped_fields"] = clipped
    budget = MAX_BYTES - size(out) - 200  # the line numbers and a notice still to come
    kept: list[str] = []
    for line in lines[first - 1 : last]:
        cost = size(line)  # as a JSON string: quotes counted for the "\n" that joins them
        if cost > budget:
            if not kept:  # one line longer than everything: cut
                kept.append(line[: max(budget // 4, 1)])
                out["truncated"] = f"line {first} is longer than the byte limit: cut"
            break
        kept.append(line)
        budget -= cost
    out["text"] = "\n".join(kept) + ("\n" if kept else "")
    out["end_line"] = first + len(kept) - 1
    if out["end_line"] < last:
        out["next_line"] = out["end_line"] + 1
    return out


def list_notes(
    kb: KnowledgeBase,
    query: str | None = None,
    topics: Sequence[str] = (),
    tags: Sequence[str] = (),
    authors: Sequence[str] = (),
    year: str | None = None,
    read_since: str | None = None,
    read_until: str | None = None,
    status: str | None = None,
    sort: str = "title",
    reverse: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> dict[str, Any]:
    """``papernotes list``: the notes passing every filter, sorted (one page of them)."""
    from papernotes.engine.selection import Selection, check_known, count, papers, rowids

    _check_page(limit, offset)
    chosen = Selection(
        query=(query or "").strip(),
        topics=tuple(topics),
        tags=tuple(tags),
        authors=tuple(authors),
        year=year,
        read_since=read_since,
        read_until=read_until,
        status=status,
    )
    check_known(kb, chosen)
    ids = rowids(kb, chosen, sort, reverse, limit, offset)
    total = count(kb, chosen)
    page = list(papers(kb, ids))
    end = offset + len(page)
    out: dict[str, Any] = {
        "total": total,
        "offset": offset,
        "notes": [summary(p) for p in page],
        "next_offset": end if end < total else None,
    }
    if not total:
        out["notice"] = "no notes match"
    return bounded(out, "notes", offset)


def related(kb: KnowledgeBase, ref: str, limit: int = 5) -> dict[str, Any]:
    """``papernotes related REF``: the most similar notes, with the reasons."""
    from papernotes.engine.neighbours import similar
    from papernotes.engine.resolve import resolve_in_kb

    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT}")
    target = resolve_in_kb(kb, ref)
    matches = []
    for match in similar(kb, target, limit):
        record = summary(match.paper)
        record.update(score=match.score, reasons=match.reasons())
        matches.append(record)
    out: dict[str, Any] = {"note": {"id": target.id, "title": target.title}, "related": matches}
    if not matches:
        out["notice"] = f"no note is similar to {target.id}"
    return bounded(out, "related")


FACETS = ("tags", "topics", "authors")


def facets(
    kb: KnowledgeBase, facet: str | None = None, sort: str = "count", limit: int = 50
) -> dict[str, Any]:
    """``papernotes tags``, ``topics``, ``authors``: the values in use and how many notes have
    each (topics and tags of the taxonomy in papernotes.toml too, with 0)."""
    from papernotes.engine.stats import facet_counts

    if not 1 <= limit <= 500:
        raise UsageError("limit must be between 1 and 500")
    out: dict[str, Any] = {}
    for name in FACETS if facet is None else (facet,):
        if name not in FACETS:
            raise UsageError(f"unknown facet {name!r} (expected tags, topics or authors)")
        extra = kb.store.taxonomy().get(name, ()) if name != "authors" else ()
        rows = facet_counts(kb, name, sort, extra)
        out[name] = {
            "total": len(rows),
            "values": [{"value": v, "notes": n} for v, n in rows[:limit]],
        }
    while size(out) > MAX_BYTES:  # long author names: shorten the longest list
        longest = max(out.values(), key=lambda f: len(f["values"]))
        del longest["values"][len(longest["values"]) // 2 :]
        out["truncated"] = "byte limit reached: ask for one facet with a smaller limit"
    return out
