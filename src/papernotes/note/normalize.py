"""Normalisers for loose real-world values: each returns the canonical value or raises ValueError
with a message fit for ``path:line: <key>: <message>``. Importers use them too."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from papernotes.errors import shown
from papernotes.note.model import STATUSES

_NEW_ARXIV = r"\d{4}\.\d{4,5}"
_OLD_ARXIV = r"[a-z][a-z-]*(?:\.[A-Za-z]{2})?/\d{7}"
_ARXIV_ID = re.compile(rf"^(?P<id>{_NEW_ARXIV}|{_OLD_ARXIV})(?:v\d+)?$", re.ASCII)
_ARXIV_URL = re.compile(
    rf"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/"
    rf"(?P<id>{_NEW_ARXIV}|{_OLD_ARXIV})(?:v\d+)?(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE | re.ASCII,
)
_ARXIV_DOI = re.compile(
    rf"^10\.48550/arxiv\.(?P<id>{_NEW_ARXIV}|{_OLD_ARXIV})$", re.IGNORECASE | re.ASCII
)
ARXIV_IN_TEXT = re.compile(
    rf"arxiv\.org/(?:abs|pdf|html)/(?P<id>{_NEW_ARXIV}|{_OLD_ARXIV})(?:v\d+)?", re.IGNORECASE
)


def arxiv_id(value: Any) -> str:
    """``arXiv:2305.18290v2``, ``https://arxiv.org/pdf/2305.18290.pdf`` -> ``2305.18290``."""
    text = _text(value).strip()
    text = re.sub(r"^arxiv\s*:\s*", "", text, flags=re.IGNORECASE)
    for pattern in (_ARXIV_ID, _ARXIV_URL, _ARXIV_DOI):
        match = pattern.match(text)
        if match:
            return match.group("id")
    raise ValueError(f"not an arXiv id or URL: {shown(text)} (expected like 2305.18290)")


def doi(value: Any) -> str:
    """``https://doi.org/10.1/x``, ``doi:10.1/x`` -> ``10.1/x``. Short DOIs (``10/dvzd5z``,
    which Zotero writes and doi.org resolves) are accepted as they are."""
    text = _text(value).strip()
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text, flags=re.IGNORECASE)
    if not re.match(r"^10\.[0-9]{4,9}/\S+$|^10/[a-z0-9]+$", text, flags=re.IGNORECASE):
        raise ValueError(f"not a DOI: {shown(text)} (expected like 10.1145/3292500.3330701)")
    return text


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$", re.ASCII)
_HUMAN_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y")


def date(value: Any) -> str:
    """A date as ``YYYY-MM-DD`` (or ``YYYY-MM`` when only the month is given).

    Takes YAML/TOML dates and datetimes, ISO strings, datetimes with offsets such as
    ``2023-08-02 16:03:30 +0800``, ``2024-02`` and ``08 Feb 2024``.
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value).strip()
    match = _MONTH.match(text) or _ISO_DAY.match(text)
    if match:
        numbers = [int(g) for g in match.groups()]
        problem = date_problem(*numbers)
        if problem:
            raise ValueError(f"not a date: {shown(text)} ({problem})")
        if len(numbers) == 2:
            return f"{numbers[0]:04d}-{numbers[1]:02d}"
        return dt.date(*numbers).isoformat()
    for fmt in _HUMAN_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"not a date: {shown(text)} (expected YYYY-MM-DD or YYYY-MM)")


def date_problem(year: int, month: int, day: int = 1) -> str | None:
    """Why ``year-month-day`` is no date (``there is no month 13``), or None."""
    if year < dt.MINYEAR:
        return f"there is no year {year}"
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    try:
        dt.date(year, month, day)
    except ValueError:
        return "there is no such day"
    return None


def year(value: Any) -> int:
    """``2023`` or ``"2023"`` -> 2023."""
    if isinstance(value, bool):
        raise ValueError(f"not a year: {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = _text(value).strip()
        if not re.fullmatch(r"[0-9]{4}", text):
            raise ValueError(f"not a year: {shown(text)} (expected a number like 2023)")
        number = int(text)
    if not 1000 <= number <= 2999:
        raise ValueError(f"not a year: {number} (expected a number like 2023)")
    return number


def rating(value: Any) -> int:
    """1 to 5, as an int or a digit string (``"4"``, ``"4/5"``)."""
    if isinstance(value, bool):
        raise ValueError(f"not a rating: {value!r} (expected 1 to 5)")
    if isinstance(value, int):
        number = value
    else:
        match = re.fullmatch(r"\s*([0-9])\s*(?:/\s*5\s*)?", _text(value), re.ASCII)
        if not match:
            raise ValueError(f"not a rating: {shown(_text(value))} (expected 1 to 5)")
        number = int(match.group(1))
    if not 1 <= number <= 5:
        raise ValueError(f"rating must be 1 to 5, not {number}")
    return number


# What reading lists, Notion boards, Goodreads shelves and note templates call the statuses
# (spaces and "_" read as "-", case ignored): "Finished" is read, "In progress" reading.
STATUS_SYNONYMS = {
    **dict.fromkeys(("done", "finished", "complete", "completed"), "read"),
    **dict.fromkeys(("in-progress", "inprogress", "currently-reading", "started"), "reading"),
    **dict.fromkeys(("toread", "todo", "to-do", "unread", "not-read", "not-started"), "to-read"),
    **dict.fromkeys(("want-to-read", "backlog"), "to-read"),
    "skim": "skimmed",
}


def status(value: Any) -> str:
    """One of to-read, reading, read, skimmed, or a common other name of one
    (:data:`STATUS_SYNONYMS`: ``finished`` -> read, ``In progress`` -> reading)."""
    text = re.sub(r"[\s_]+", "-", _text(value).strip().lower())
    text = STATUS_SYNONYMS.get(text, text)
    if text not in STATUSES:
        choices = ", ".join(STATUSES)
        raise ValueError(f"unknown status {shown(_text(value))} (expected one of {choices})")
    return text


def text(value: Any) -> str:
    """A scalar as one line of text; a list or mapping is an error."""
    if isinstance(value, (list, dict)):
        raise ValueError(f"expected text, got a {'list' if isinstance(value, list) else 'mapping'}")
    return _text(value).strip()


def string_list(value: Any, *, split_spaces: bool = False, strip_hash: bool = False) -> list[str]:
    """A list of strings from a list or a comma-separated string; null and empty items dropped.
    ``split_spaces``: a string without commas is split on spaces (``#ml #rlhf``); one with
    commas on commas only (``Power (Social sciences), to read`` is two tags)."""
    if value is None:
        return []
    if isinstance(value, dict):
        raise ValueError("expected a list, got a mapping")
    raw: Iterable[Any]
    if isinstance(value, (list, tuple)):
        raw = value
    else:
        text = _text(value)
        raw = text.split(",") if "," in text or not split_spaces else text.split()
    out: dict[str, None] = {}  # the words in order, each once (a list's "in" was quadratic)
    for position, item in enumerate(raw, 1):
        if item is None:
            continue
        if isinstance(item, dict) and len(item) == 1:
            # an unquoted "A: B" list item loads as a mapping; the writer meant the text
            ((key, val),) = item.items()
            item = f"{_text(key)}: {_text(val)}" if val is not None else _text(key)
        if isinstance(item, (list, dict)):
            kind = "list" if isinstance(item, list) else "mapping"
            raise ValueError(f"item {position} is a {kind}, expected text")
        word = _text(item).strip()
        if strip_hash:
            word = word.lstrip("#").strip()
        if word:
            out[word] = None
    return list(out)


def authors(value: Any) -> list[str]:
    """Authors from a list, or one string: ``A, B and C``, ``A and B``, ``Last, First and ...``."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return string_list(value)
    whole = " ".join(_text(value).split())
    parts = [p.strip() for p in re.split(r"\s+and\s+|\s*&\s*|\s*;\s*", whole) if p.strip()]
    if len(parts) > 1 and all(p.count(",") == 1 for p in parts):
        # BibTeX style: "Rafailov, Rafael and Sharma, Archit"
        return [" ".join(reversed([s.strip() for s in p.split(",")])) for p in parts]
    names = dict.fromkeys(name.strip() for part in parts for name in part.split(","))
    names.pop("", None)
    return list(names)


_TAG_JUNK = re.compile(r"[^\w/-]+")


def obsidian_tag(value: str) -> str | None:
    """A keyword as a tag Obsidian accepts (letters, digits, ``_``, ``-``, ``/``; not only
    digits): ``Computer Simulation`` -> ``computer-simulation``; None when no letter is left."""
    tag = _TAG_JUNK.sub("-", unicodedata.normalize("NFC", value).strip().lstrip("#").lower())
    tag = re.sub(r"/+", "/", re.sub(r"-{2,}", "-", tag)).strip("-/")
    return tag if any(char.isalpha() for char in tag) else None


def fold(value: str) -> str:
    """Case- and accent-insensitive form for comparisons (``Sönke`` -> ``sonke``)."""
    if value.isascii():  # most text: nothing to decompose (and ten times faster)
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def title_key(title: str) -> str:
    """Titles equal after this are the same paper (case, accents, punctuation, spacing ignored)."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(title)).split())


def plain(value: Any) -> Any:
    """A loaded YAML/TOML value made JSON-compatible (dates become ISO strings)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):  # YAML's !!set
        return sorted((plain(v) for v in value), key=str)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):  # NaN and .inf are not JSON
        return None
    return value


def _text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)
