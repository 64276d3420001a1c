"""Field filters of the query language (``year:>=2023``, ``tag:llm``, ``read:2024-02``):
each becomes an SQL condition on ``papers p`` with bound parameters.

Numbers (``year``, ``rating``) and dates (``read``, ``published``, ``added``) take a value, a
range ``a..b`` (open ends allowed) or a comparison ``>=``, ``>``, ``<=``, ``<``. A date may name
a year, a month or a day; it stands for the whole period (``read:2024-02`` is all of
February, ``read:>2024-02`` starts in March), and so does a date a note gives: a note read in
``2024-05`` is read on or after 2024-05-15 (``read:>=2024-05-15``) and before it too.
``year`` is the ``year`` key, or the year of ``published`` when there is none. ``topic``,
``tag``, ``status``, ``arxiv``, ``doi`` and ``id`` are exact (case- and accent-insensitive;
``tag:llm`` also matches ``llm/rlhf``; ``tag:rl*`` is a prefix). A key papernotes does not
know, present in some note (``paper_ref: Baker, et al., 2011``), is a field too:
``paper_ref:baker`` finds the word in its value (``baker*``, ``"et al"`` as for any field).

``papernotes list`` and ``export`` compile their options to these same filters
(:mod:`papernotes.engine.selection`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

EXACT_FIELDS = ("topic", "topics", "tag", "tags", "status", "arxiv", "doi", "id")
NUMBER_FIELDS = ("year", "rating")
DATE_FIELDS = ("read", "published", "added")
FILTER_FIELDS = (*EXACT_FIELDS, *NUMBER_FIELDS, *DATE_FIELDS)

_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


@dataclass(frozen=True)
class Filter:
    """A condition on a paper's fields, as SQL over ``papers p`` with bound parameters."""

    label: str
    sql: str
    params: tuple[object, ...] = ()
    # ("topics" or "tags", folded value) when the filter is one value of that table, not a
    # prefix: a listing of it alone can read the index's shelves (engine.selection)
    facet: tuple[str, str] | None = None
    # the rowids it keeps, as SQL with the same parameters, when ``sql`` is ``p.rowid IN
    # (rows)``: whether any note has a tag asks this (LIMIT 1 of the IN filter gathers all)
    rows: str | None = None


def field_filter(name: str, value: str) -> Filter:
    """The condition ``name:value`` stands for (``year:>=2023``, ``tag:llm``); ValueError with
    a message for the user when ``value`` does not fit the field."""
    if name in NUMBER_FIELDS:
        return _range_filter(name, value, _number_bounds(name))
    if name in DATE_FIELDS:
        return _range_filter(name, value, _date_bounds)
    if name in EXACT_FIELDS:
        return _exact_filter(name, value)
    raise ValueError(f"not a filter field: {name}")


Bounds = Callable[[str], tuple[object, object]]  # a value -> (lowest, highest) it stands for


def _number_bounds(name: str) -> Bounds:
    def bounds(value: str) -> tuple[object, object]:
        if name == "year" and not re.fullmatch(r"\d{4}", value):
            raise ValueError(f"not a year: {value!r} (expected like 2023, 2020..2023, >=2021)")
        if name == "rating" and not re.fullmatch(r"[1-5]", value):
            raise ValueError(f"not a rating: {value!r} (expected 1 to 5, 3..5, >=4)")
        return int(value), int(value)

    return bounds


def _date_bounds(value: str) -> tuple[object, object]:
    if not _DATE.fullmatch(value):
        raise ValueError(f"not a date: {value!r} (expected 2024, 2024-02 or 2024-02-15)")
    parts = [int(p) for p in value.split("-")]
    if len(parts) > 1 and not 1 <= parts[1] <= 12:
        raise ValueError(f"not a date: {value!r} (there is no month {parts[1]})")
    if len(parts) > 2:
        import datetime

        try:
            datetime.date(*parts)
        except ValueError:
            raise ValueError(f"not a date: {value!r} (there is no such day)") from None
    # Dates are stored as ISO text; "~" sorts after digits and "-", so every date of the day,
    # month or year ``value`` names lies between ``value`` and ``value~``.
    return value, value + "~"


def _range_filter(name: str, value: str, bounds: Bounds) -> Filter:
    column = f"p.{name}"
    # a date a note gives stands for its whole day, month or year: [column, column~]
    end = f"{column} || '~'" if name in DATE_FIELDS else column
    label = f"{name}:{value}"
    for op in (">=", "<=", ">", "<", "="):
        if value.startswith(op):
            low, high = bounds(value[len(op) :].strip())
            if op == "=":
                return Filter(label, f"{column} <= ? AND {end} >= ?", (high, low))
            # > and <= compare with the end of the period, >= and < with its start
            bound = high if op in (">", "<=") else low
            side = end if op in (">", ">=") else column
            return Filter(label, f"{side} {op} ?", (bound,))
    if ".." in value:
        first, _, last = (v.strip() for v in value.partition(".."))
        if not first and not last:
            raise ValueError(f"a range needs a start or an end, as in {name}:2020..2023")
        clauses: list[str] = []
        params: list[object] = []
        if first:
            clauses.append(f"{end} >= ?")
            params.append(bounds(first)[0])
        if last:
            clauses.append(f"{column} <= ?")
            params.append(bounds(last)[1])
        if first and last and bounds(first)[0] > bounds(last)[1]:  # type: ignore[operator]
            raise ValueError(f"the range {value!r} is empty (its start is after its end)")
        return Filter(label, " AND ".join(clauses), tuple(params))
    low, high = bounds(value)
    return Filter(label, f"{column} <= ? AND {end} >= ?", (high, low))


def _exact_filter(name: str, value: str) -> Filter:
    from papernotes.note import normalize

    kind = {"tags": "tag", "topics": "topic"}.get(name, name)
    prefix = value.endswith("*") and name != "status"
    raw = value.rstrip("*") if prefix else value
    if prefix and not raw:
        raise ValueError("a prefix needs characters before the *")
    if kind == "status":
        clean = normalize.status(raw)
        return Filter(f"status:{value}", "p.status = ?", (clean,))
    if kind == "arxiv" and not prefix:
        clean = normalize.arxiv_id(raw).lower()
    elif kind == "doi" and not prefix:
        clean = normalize.doi(raw).lower()
    else:
        clean = normalize.fold(raw).strip()
        clean = clean.lstrip("#") if kind == "tag" else clean
    # ranges, not substr() or OR, so that the index on (kind, value), or on folded, serves
    # every part
    params: tuple[object, ...]
    if kind in ("topic", "tag"):
        keys, params, column = f"SELECT paper FROM {kind}s WHERE ", (), "folded"
    else:
        keys, params, column = "SELECT paper FROM keys WHERE kind = ? AND ", (kind,), "value"
    if prefix:
        sql = f"{keys}{column} >= ? AND {column} < ?"
        params = (*params, clean, clean + "\U0010ffff")
    elif kind == "tag":  # the tag itself, or one nested under it (llm -> llm/rlhf)
        sql = f"{keys}{column} = ? UNION ALL {keys}{column} > ? AND {column} < ?"
        params = (*params, clean, *params, *nested_tags(clean))
    else:
        sql = f"{keys}{column} = ?"
        params = (*params, clean)
    facet = (f"{kind}s", clean) if kind in ("topic", "tag") and not prefix else None
    return Filter(f"{name}:{value}", f"p.rowid IN ({sql})", params, facet, sql)


def nested_tags(folded: str) -> tuple[str, str]:
    """The bounds, both excluded, of the folded tags nested under ``folded`` (``llm/rlhf``
    under ``llm``): "0" follows "/"."""
    return folded + "/", folded + "0"


def extra_filter(name: str, value: str, kind: str) -> Filter:
    """``name:value`` for a key papernotes does not know (``paper_ref:baker``): the words of
    ``value`` (a word, a ``prefix*`` or a phrase, as ``kind`` says) in that key's value."""
    from papernotes.engine.schema import words

    wanted = words(value).strip()
    if not wanted:
        raise ValueError("needs a word")
    pattern = f"% {wanted}%" if kind == "prefix" else f"% {wanted} %"
    return Filter(
        f"{name}:{value}",
        "p.rowid IN (SELECT paper FROM extras WHERE key = ? AND words LIKE ?)",
        (name.lower(), pattern),
    )
