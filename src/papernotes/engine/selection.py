"""Choosing notes from the index: a query and the options of ``list`` and ``export``
(``--topic``, ``--tag``, ``--author``, ``--year``, ``--read-since``, ``--read-until``,
``--status``), compiled to one query tree and run as one SQL statement, sorted and limited in
SQL; papers are then read in chunks, so a full listing never holds every note.

    chosen = Selection(query="dpo -survey", topics=("alignment",), year="2023..")
    ids = rowids(kb, chosen, sort="year", reverse=True, limit=20)
    for paper in papers(kb, ids): ...
    for line in lines(kb, chosen, sort="year", reverse=True, limit=20): ...
    # ^ what list prints on a pipe, kept by the index: selected, sorted and read in one query

Each option is the node of its query-language field: ``--topic X`` is ``topic:X``, ``--tag X``
``tag:X``, ``--author X`` ``author:X`` (``author:"X"`` for several words), ``--year Y``
``year:Y``, ``--read-since D`` ``read:>=D``, ``--read-until D`` ``read:<=D``, ``--status S``
``status:S`` (``tests/test_selection.py`` checks that they select the same notes)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papernotes.engine.index import LINE_BYTES
from papernotes.errors import NotFound, UsageError
from papernotes.note import normalize

if TYPE_CHECKING:
    from papernotes.engine.filters import Filter
    from papernotes.engine.kb import KnowledgeBase
    from papernotes.engine.query import Node, Query
    from papernotes.note.model import Paper

SORT_KEYS = ("title", "year", "read", "added", "rating")
CHUNK = 500  # papers read from the index at a time


@dataclass(frozen=True)
class Selection:
    """Every condition must hold: the query (the language of ``papernotes search``) and each
    option; topics, tags and authors: all the given ones."""

    query: str = ""
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    year: str | None = None
    read_since: str | None = None
    read_until: str | None = None
    status: str | None = None

    def nodes(self) -> list[Node]:
        """The options as nodes of the query language (UsageError for a malformed one)."""
        from papernotes.engine.filters import field_filter
        from papernotes.engine.query import parse, quote

        out: list[Node] = []
        for name, values in (("topic", self.topics), ("tag", self.tags)):
            out += [_filter(name, v) for v in values]
        for author in self.authors:
            typed = author.strip()
            single = typed and len(typed.split()) == 1 and not re.search(r'["()]', typed)
            text = f"author:{typed}" if single else f"author:{quote(typed)}"
            out.append(parse(text).root)
        if self.year:
            low, high = parse_years(self.year)
            span = str(low) if low == high else f"{low or ''}..{high or ''}"
            out.append(field_filter("year", span))
        if self.read_since:
            out.append(field_filter("read", ">=" + _period(self.read_since)))
        if self.read_until:
            out.append(field_filter("read", "<=" + _period(self.read_until)))
        if self.status:
            out.append(_filter("status", self.status))
        return out


def _filter(name: str, value: str) -> Filter:
    from papernotes.engine.filters import field_filter

    try:
        return field_filter(name, value)
    except ValueError as exc:
        raise UsageError(f"--{name} {value!r}: {exc}") from None


def query_of(kb: KnowledgeBase, selection: Selection) -> Query | None:
    """The selection as one query (None: every note)."""
    from papernotes.engine.query import And, Query, parse

    nodes = selection.nodes()
    text = selection.query.strip()
    strict = False
    if text:
        parsed = parse(text, kb.index.has_extra)
        strict = parsed.strict
        root = parsed.root
        nodes = [*(root.nodes if isinstance(root, And) else (root,)), *nodes]
    if not nodes:
        return None
    return Query(text, nodes[0] if len(nodes) == 1 else And(tuple(nodes)), strict)


_ORDER = {
    "id": "p.id",
    "title": "p.title_key, p.id",
    "title-reversed": "p.title_key DESC, p.id DESC",
}


def rowids(
    kb: KnowledgeBase,
    selection: Selection | None = None,
    sort: str = "title",
    reverse: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[int]:
    """The rowids of the notes ``selection`` chooses, sorted by ``sort`` (one of
    :data:`SORT_KEYS`, or ``id``; notes without the value last, reversed or not; ties by
    title then id), ``limit`` of them from ``offset``."""
    sql, params = _select("p.rowid", kb, selection, sort, reverse, limit, offset)
    return kb.index.read(lambda conn: [_rowid(r) for (r,) in conn.execute(sql, params)])


def lines(
    kb: KnowledgeBase,
    selection: Selection | None = None,
    sort: str = "title",
    reverse: bool = False,
    limit: int | None = None,
) -> Iterator[bytes]:
    """The line ``list`` prints on a pipe for each note :func:`rowids` gives, in its order,
    as UTF-8, each ended by a newline, many lines a chunk (:meth:`.Index.lines`): kept by the
    index (:func:`papernotes.note.cells.line` of each paper), and selected, sorted and read
    in one query."""
    sql, params = _select(LINE_BYTES.format("p.line"), kb, selection, sort, reverse, limit, 0)
    return kb.index.lines(sql, params)


def _select(
    column: str,
    kb: KnowledgeBase,
    selection: Selection | None,
    sort: str,
    reverse: bool,
    limit: int | None,
    offset: int,
) -> tuple[str, tuple[object, ...]]:
    """The SQL of :func:`rowids` that gives ``column`` of each note, with its parameters."""
    if sort not in (*SORT_KEYS, "id"):
        raise UsageError(f"cannot sort by {sort!r} (expected one of {', '.join(SORT_KEYS)})")
    if sort == "title" and reverse:
        order = _ORDER["title-reversed"]
    elif sort in _ORDER:
        order = _ORDER[sort]
    else:
        order = f"p.{sort} IS NULL, p.{sort}{' DESC' if reverse else ''}, {_ORDER['title']}"
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    shelf = _shelf(kb, selection, sort) if selection is not None else None
    if shelf is not None:  # the rows of papers p that a shelf holds, already in title order
        line = "coalesce(line, (SELECT line FROM papers WHERE rowid = paper))"  # SHELF_LINE
        rows = f"SELECT paper AS rowid, {line} AS line, title_key, id, {', '.join(SORT_KEYS[1:])}"
        rows += " FROM shelves "
        rows += "WHERE field = ? AND folded = ?"
        return f"SELECT {column} FROM ({rows}) p ORDER BY {order}{page}", shelf
    where, params = condition(kb, selection or Selection())
    return f"SELECT {column} FROM papers p WHERE {where} ORDER BY {order}{page}", params


def _shelf(kb: KnowledgeBase, selection: Selection, sort: str) -> tuple[str, str] | None:
    """(field, folded value) of the index's shelf that holds what ``selection`` chooses (in
    title order, with every other sort key): for one topic or tag and nothing else. None for
    a tag with tags nested under it (``llm`` and ``llm/rlhf``: two shelves)."""
    if selection.query.strip():
        return None
    from papernotes.engine.filters import Filter, nested_tags

    nodes = selection.nodes()
    if len(nodes) != 1 or not isinstance(nodes[0], Filter) or nodes[0].facet is None:
        return None
    field, key = nodes[0].facet
    nested = "SELECT 1 FROM tags WHERE folded > ? AND folded < ? LIMIT 1"
    if field == "tags" and _exists(kb, nested, nested_tags(key)):
        return None
    return field, key


def count(kb: KnowledgeBase, selection: Selection | None = None) -> int:
    """How many notes ``selection`` chooses."""
    where, params = condition(kb, selection or Selection())
    sql = f"SELECT count(*) FROM papers p WHERE {where}"
    return kb.index.read(lambda conn: _rowid(conn.execute(sql, params).fetchone()[0]))


def condition(kb: KnowledgeBase, selection: Selection) -> tuple[str, tuple[object, ...]]:
    """The SQL condition on ``papers p`` of ``selection``, with its parameters."""
    query = query_of(kb, selection)
    if query is None:
        return "1", ()
    from papernotes.engine.search import matching

    return matching(kb, query)


def papers(kb: KnowledgeBase, ids: Sequence[int], body: bool = False) -> Iterator[Paper]:
    """The papers of ``ids``, in order, read :data:`CHUNK` at a time (``body=False``: with
    ``body=""``, faster)."""
    for start in range(0, len(ids), CHUNK):
        yield from kb.index.papers(ids[start : start + CHUNK], body=body)


@dataclass(frozen=True)
class Listing:
    """The notes ``selection`` chooses, sorted and limited as :func:`rowids` does, read from
    the index the way a listing prints them: as papers, or as the lines ``list`` prints on a
    pipe."""

    kb: KnowledgeBase
    selection: Selection
    sort: str = "title"
    reverse: bool = False
    limit: int | None = None

    def rowids(self) -> list[int]:
        return rowids(self.kb, self.selection, self.sort, self.reverse, self.limit)

    def papers(self, ids: Sequence[int]) -> Iterator[Paper]:
        """The papers of ``ids`` (of :meth:`rowids`), read a chunk at a time."""
        return papers(self.kb, ids)

    def lines(self) -> Iterator[bytes]:
        """The lines ``list`` prints on a pipe, as UTF-8, a chunk at a time (:func:`lines`)."""
        return lines(self.kb, self.selection, self.sort, self.reverse, self.limit)


def json_texts(kb: KnowledgeBase, ids: Sequence[int]) -> Iterator[str]:
    """As :func:`papers`, each as the JSON text of :meth:`Paper.to_dict` (made five times
    faster, for exporting every note)."""
    for start in range(0, len(ids), CHUNK):
        yield from kb.index.json_texts(ids[start : start + CHUNK])


def check_known(kb: KnowledgeBase, selection: Selection) -> None:
    """Raise :class:`NotFound` with the closest known values for a topic or tag no note has
    (and the taxonomy in ``papernotes.toml`` does not list)."""
    taxonomy = kb.store.taxonomy()
    for field, label, wanted in (
        ("topics", "topic", selection.topics),
        ("tags", "tag", selection.tags),
    ):
        listed = {normalize.fold(v).lstrip("#") for v in taxonomy.get(field, ())}
        for want in wanted:
            node = _filter(label, want)
            if normalize.fold(want.strip()).lstrip("#") in listed:
                continue
            # the rows of the filter, not the filter: SQLite gathers every note an IN keeps
            # before the LIMIT (20,000 notes with a topic: 5-8 ms)
            where = f"({node.rows})" if node.rows else f"papers p WHERE {node.sql}"
            if _exists(kb, f"SELECT 1 FROM {where} LIMIT 1", node.params):
                continue
            raise NotFound(f"no note has the {label} {want!r}", _closest(kb, field, want))


def _exists(kb: KnowledgeBase, sql: str, params: tuple[object, ...]) -> bool:
    return kb.index.read(lambda conn: conn.execute(sql, params).fetchone() is not None)


def _closest(kb: KnowledgeBase, field: str, want: str) -> list[str]:
    from rapidfuzz import fuzz, process

    known: dict[str, str] = {}
    for key, value, _ in kb.index.facet(field):
        known.setdefault(key, value)
    for value in kb.store.taxonomy().get(field, ()):
        known.setdefault(normalize.fold(value), value)
    choices = {v: k for k, v in sorted(known.items())}
    close = process.extract(
        normalize.fold(want), choices, scorer=fuzz.WRatio, limit=5, score_cutoff=60
    )
    return [c[2] for c in close]


def parse_years(text: str) -> tuple[int | None, int | None]:
    """``2023`` -> (2023, 2023); ``2020..2023`` or ``2020-2023``; ``2021..`` and ``..2019``."""
    match = re.fullmatch(r"\s*(\d{4})?\s*(\.\.|-)?\s*(\d{4})?\s*", text)
    if not match or not (match.group(1) or match.group(3)):
        raise UsageError(f"not a year or range: {text!r} (expected 2023, 2020..2023 or 2021..)")
    low = int(match.group(1)) if match.group(1) else None
    high = int(match.group(3)) if match.group(3) else None
    if not match.group(2):
        high = low
    if low is not None and high is not None and low > high:
        raise UsageError(f"empty year range: {text!r}")
    return low, high


def parse_day(text: str, *, end: bool) -> str:
    """A date bound as ``YYYY-MM-DD``: ``2024`` and ``2024-02`` become the first day of the
    period, or with ``end`` its last (``-31`` is fine: only compared as a string)."""
    value = _period(text)
    if len(value) == 4:
        return f"{value}-12-31" if end else f"{value}-01-01"
    if len(value) == 7:
        return f"{value}-31" if end else f"{value}-01"
    return value


def _period(text: str) -> str:
    """A date as the query language writes it: ``2024``, ``2024-02`` or ``2024-02-08``
    (``08 Feb 2024`` understood); UsageError when it is none."""
    value = text.strip()
    if re.fullmatch(r"\d{4}", value):
        return value
    try:
        return normalize.date(value)
    except ValueError as exc:
        raise UsageError(f"{exc}") from None


def _rowid(value: object) -> int:
    if type(value) is not int:
        from papernotes.engine.schema import IndexDamaged

        raise IndexDamaged("a stored value is not what papernotes writes")
    return value
