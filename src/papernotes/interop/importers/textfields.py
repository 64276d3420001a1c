"""Fields of plain-text reading notes: title lines (short names in front, in brackets, or before
a colon) and author lines (names split, affiliation markers removed, affiliations kept)."""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"^\[(?P<alias>[^\[\]]+)\]\s*(?P<title>\S.*)$")
_ACRONYM = re.compile(r"^(?P<acronym>[A-Z][A-Za-z0-9-]*[A-Z0-9])\s+(?P<rest>[A-Z].*)$")
_MARK = r"(?:\d+[∗*†‡§¶]*|[∗*†‡§¶]+)"
_NAME_MARK = re.compile(rf"(?<=[^\W\d_]){_MARK}(?=\s|$)|\s+[∗*†‡§¶]+(?=\s|$)")
_MARK_THEN_TEXT = re.compile(rf"(?<=[^\W\d_]){_MARK}\s+(?=\S)")
_LINK_MARK = "\U0001f517"  # 🔗


def split_title(text: str) -> tuple[str, list[str]]:
    """A title line -> (title, aliases): ``[DPO] Direct ...🔗``, ``DPO Direct Preference
    Optimization: ...`` (an acronym of the words after it) and ``OLMo: ...`` (a coined name
    before a colon) give their short names."""
    text = " ".join(text.replace(_LINK_MARK, " ").split())
    text = re.sub(r"\s+:(?=\s)", ":", text)
    aliases: list[str] = []
    bracketed = _BRACKETED.match(text)
    acronym = _ACRONYM.match(text)
    if bracketed:
        aliases.append(bracketed.group("alias").strip())
        text = bracketed.group("title").strip()
    elif acronym and _abbreviates(acronym.group("acronym"), acronym.group("rest")):
        aliases.append(acronym.group("acronym"))
        text = acronym.group("rest")
    name = _short_name(text)
    if name and name.casefold() not in {a.casefold() for a in aliases}:
        aliases.append(name)
    return text, aliases


def _abbreviates(acronym: str, rest: str) -> bool:
    letters = [c for c in acronym if c.isupper()]
    initials = [w[0] for w in re.split(r"[\s-]+", rest) if w[:1].isupper()]
    return len(letters) >= 2 and initials[: len(letters)] == letters


def _short_name(title: str) -> str | None:
    """``OLMo`` of ``OLMo: Accelerating ...``; ``Llama 2`` of ``Llama 2: Open ...``; None for
    ``The Pile: ...`` or ``Targeting Alignment: ...`` (plain words are not a name)."""
    head, colon, _ = title.partition(": ")
    words = head.split()
    if not colon or not 1 <= len(words) <= 2 or len(head) > 25:
        return None

    def coined(word: str) -> bool:
        inner_capital = any(c.isupper() for c in word[1:])
        return inner_capital or any(c.isdigit() for c in word)

    if all(w[:1].isupper() or w[:1].isdigit() for w in words) and any(coined(w) for w in words):
        return head
    return None


def split_authors(value: str) -> tuple[list[str], list[str]] | None:
    """``Sheng-Chieh Lin1∗, Luyu Gao2, and Xilun Chen3†  University of Waterloo1, Meta AI3`` ->
    (names, affiliations); None when the names cannot be told apart (no separators)."""
    names_part, affiliations = value.strip(), ""
    gap = re.search(r"\s{2,}", names_part)
    if gap:
        names_part, affiliations = names_part[: gap.start()], names_part[gap.end() :]
    items = [x.strip() for x in re.split(r",|;|\band\b|&", names_part)]
    names: list[str] = []
    for n, item in enumerate(items):
        cut = _MARK_THEN_TEXT.search(item)
        if cut and not affiliations:
            rest = ", ".join([item[cut.end() :], *items[n + 1 :]])
            names.append(item[: cut.start()])
            affiliations = rest
            break
        names.append(item)
    names = [" ".join(_NAME_MARK.sub("", x).split()) for x in names]
    names = [x for x in names if x]
    if not names or any(len(x.split()) > 4 for x in names):
        return None
    orgs = [re.sub(rf"\s*{_MARK}$", "", x.strip()).strip() for x in affiliations.split(",")]
    return names, [o for o in orgs if o]
