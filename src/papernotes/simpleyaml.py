"""A fast path for the front matter most notes have: PyYAML's answer without PyYAML.

Most front matter is ``key: value`` lines and ``- item`` lists of plain or quoted words. For
exactly that, :func:`load` returns what ``yaml.load(text, CSafeLoader)`` returns, without
importing PyYAML (about 11 ms, most of it compiling its regular expressions) and about five
times faster per note. For anything else (a comment, a flow list ``[a, b]``, a block scalar,
a nested mapping, an anchor or tag, an escape, a date or float or boolean written plainly, a
tab, a character that is not printable) it returns None and the caller asks PyYAML. The
equivalence is tested against PyYAML on generated and real front matter
(tests/test_simpleyaml.py).
"""

from __future__ import annotations

import re
from typing import Any

_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?")
_ITEM_LINE = re.compile(r"( *)- (.*)")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# the plain words YAML 1.1 reads as booleans or null (PyYAML's resolver)
_WORDS = frozenset(
    ("yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
     "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL")
)  # fmt: skip
# a plain scalar starting with one of these is an indicator, a number, a date, null (~),
# merge (<<) or value (=): left to PyYAML, except a plain decimal integer
_SPECIAL_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`+.0123456789~<=")

Value = str | int | None


class _NotSimple(Exception):
    pass


def load(text: str) -> dict[str, Any] | None:
    """``text`` (front matter, without its fences) as PyYAML would load it, or None when it
    is not in the simple form described above."""
    if "#" in text or "\t" in text or "\r" in text:
        return None
    try:
        return _load(text)
    except _NotSimple:
        return None


def _load(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    items: list[Value] | None = None  # the list being read, if any
    indent = -1  # the indentation of its items
    key = ""
    for line in text.split("\n"):
        if not line.strip(" "):
            continue
        item = _ITEM_LINE.fullmatch(line)
        if item is not None:
            if items is None or (indent >= 0 and len(item.group(1)) != indent):
                raise _NotSimple
            indent = len(item.group(1))
            value = _scalar(item.group(2))
            if value is None:
                raise _NotSimple
            items.append(value)
            continue
        if items is not None:
            out[key] = items if items else None
            items = None
        match = _KEY_LINE.fullmatch(line)
        if match is None or match.group(1) in _WORDS:
            raise _NotSimple
        key = match.group(1)
        value = _scalar(match.group(2) or "")
        if value is None:  # a list may follow
            items, indent = [], -1
            out[key] = None
        else:
            out[key] = value
    if items is not None:
        out[key] = items if items else None
    return out


def _scalar(raw: str) -> Value:
    value = raw.strip(" ")
    if not value:
        return None
    if not value.isprintable():
        raise _NotSimple
    first = value[0]
    if first == "'":
        inner = value[1:-1]
        if len(value) < 2 or value[-1] != "'" or "'" in inner.replace("''", ""):
            raise _NotSimple
        return inner.replace("''", "'")
    if first == '"':
        inner = value[1:-1]
        if len(value) < 2 or value[-1] != '"' or '"' in inner or "\\" in inner:
            raise _NotSimple
        return inner
    if first in _SPECIAL_FIRST:
        if _INT.fullmatch(value):
            return int(value)
        raise _NotSimple
    if value in _WORDS or ": " in value or value[-1] == ":":
        raise _NotSimple
    return value
