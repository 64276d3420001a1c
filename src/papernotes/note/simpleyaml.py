"""A fast path for the front matter most notes have: PyYAML's answer without PyYAML.

Most front matter is ``key: value`` lines (a value may go on over indented lines, as PyYAML
writes long titles) and ``- item`` lists of plain or quoted words. For exactly that,
:func:`load` returns what ``yaml.load(text, CSafeLoader)`` returns, without importing PyYAML
(about 11 ms, most of it compiling its regular expressions) and about four times faster per
note. For anything else (a comment, a flow list ``[a, b]``, a block scalar, a nested mapping,
an anchor or tag, an escape, a blank line inside a value, a date or float or boolean written
plainly, a tab, a character that is not printable) it returns None and the caller asks
PyYAML. The equivalence is tested against PyYAML on generated and real front matter
(tests/test_simpleyaml.py).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?")
_ITEM_LINE = re.compile(r"( *)- (.*)")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# the plain words YAML 1.1 reads as booleans or null (PyYAML's resolver)
_WORDS = frozenset(
    ("yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
     "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL")
)  # fmt: skip
# a plain scalar starting with one of these is an indicator, null (~), merge (<<) or value
# (=): left to PyYAML
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`~<=")
_NUMERIC_FIRST = frozenset("-+.0123456789")
# Python's default limit on the digits of an int it converts from or to text (a longer one
# raises ValueError): beyond it, the int is left to PyYAML, and papernotes keeps it as text
MAX_DIGITS = 4300

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
    key = ""
    lines: list[str] = []  # the value of ``key``: its first line, then continued lines
    items: list[Value] | None = None  # the list under ``key``, once one item is read
    indent = -1  # the indentation of its items

    def close() -> None:
        if items is not None:
            out[key] = items
        elif key:
            out[key] = _value(lines)

    gap = False  # a blank line since the last one
    for line in text.split("\n"):
        if not line.strip(" "):
            gap = True
            continue
        after_gap, gap = gap, False
        item = _ITEM_LINE.fullmatch(line)
        if item is not None and key:
            if items is None:
                if lines[0]:
                    raise _NotSimple  # "key: value" then an item
                items = []
            elif len(item.group(1)) != indent:
                raise _NotSimple
            indent = len(item.group(1))
            value = _value([item.group(2)])
            if value is None:
                raise _NotSimple
            items.append(value)
            continue
        if line[0] == " " and key and items is None and lines[0].strip(" "):
            if after_gap:
                raise _NotSimple  # a blank line inside a value is a newline in it
            lines.append(line)  # the value goes on
            continue
        match = _KEY_LINE.fullmatch(line)
        if match is None or match.group(1) in _WORDS:
            raise _NotSimple
        close()
        key, lines, items, indent = match.group(1), [match.group(2) or ""], None, -1
    close()
    return out


def _value(lines: list[str]) -> Value:
    """A scalar written over ``lines`` (folded: each line break is one space)."""
    parts = [line.strip(" ") for line in lines]
    value = " ".join(parts)
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
    if first in _INDICATORS and not (first == "-" and len(value) > 1 and value[1] != " "):
        raise _NotSimple
    if value in _WORDS or any(": " in p or p.endswith(":") for p in parts):
        raise _NotSimple
    if first in _NUMERIC_FIRST:
        if len(parts) == 1 and _INT.fullmatch(value):
            if len(value.lstrip("+-")) > MAX_DIGITS:
                raise _NotSimple
            return int(value)
        if any(pattern.match(value) for pattern in _numeric_patterns()):
            raise _NotSimple  # an int in another base, a float or a timestamp
    return value


@cache
def _numeric_patterns() -> tuple[re.Pattern[str], ...]:
    """PyYAML's implicit resolvers for the scalars that start like numbers (resolver.py)."""
    return (
        re.compile(
            r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
            |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
            |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
            re.X,
        ),
        re.compile(
            r"""^(?:[-+]?0b[0-1_]+
            |[-+]?0[0-7_]+
            |[-+]?(?:0|[1-9][0-9_]*)
            |[-+]?0x[0-9a-fA-F_]+
            |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
            re.X,
        ),
        re.compile(
            r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
            |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
             (?:[Tt]|[ \t]+)[0-9][0-9]?
             :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
             (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
            re.X,
        ),
    )
