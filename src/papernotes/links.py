"""Resolving ``related`` ids and ``[[wikilinks]]`` to notes.

Obsidian resolves a link by file name: ``[[direct-preference-optimization]]``,
``[[papers/direct-preference-optimization.md]]``, ``[[Direct-Preference-Optimization#Method]]``
(case-insensitive, the folder, the ``.md``, a ``#heading`` or ``^block`` part and a ``|label``
ignored). papernotes does the same, then also accepts an alias and then a title, so that
``[[DPO]]`` works in the terminal; in Obsidian an alias only *suggests* the link, which it
writes as ``[[direct-preference-optimization|DPO]]`` (see :func:`wikilink`). In front matter
Obsidian writes links as quoted ``"[[kto]]"`` strings; those resolve too."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from papernotes.model import Paper

MatchKind = Literal["file", "alias", "title"]

_WRAPPED = re.compile(r"^!?\[\[(?P<inner>[^\[\]]*)\]\]$")


@dataclass(frozen=True)
class LinkMatch:
    """Where a link target leads: the note id, and what of the note it matched (its file name,
    which Obsidian also resolves, or an alias or title, which only papernotes resolves)."""

    id: str
    kind: MatchKind


def link_key(target: str) -> str:
    """The part of a link target that names the note, folded for comparison:
    ``"[[Papers/DPO.md#Method|the DPO paper]]"`` -> ``dpo``."""
    text = target.strip()
    wrapped = _WRAPPED.match(text)
    if wrapped:
        text = wrapped.group("inner")
    text = text.split("|", 1)[0]
    text = re.split(r"#|\^", text, maxsplit=1)[0].strip()
    if text.lower().endswith(".md"):
        text = text[:-3]
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return _fold(text)


def _fold(text: str) -> str:
    # macOS stores file names decomposed (NFD); links typed on other systems are composed
    return unicodedata.normalize("NFC", text).casefold()


class LinkResolver:
    """Maps link targets to note ids: file name (the id) first, then alias, then title."""

    def __init__(self, papers: Iterable[Paper], other_ids: Iterable[str] = ()) -> None:
        self._by_key: dict[str, LinkMatch] = {}
        papers = list(papers)
        # later loops must not override earlier, stronger kinds of match
        for paper in papers:
            self._add(paper.id, paper.id, "file")
            if paper.path:
                self._add(Path(paper.path).stem, paper.id, "file")
        for other in other_ids:
            self._add(other, other, "file")
        for paper in papers:
            for alias in paper.aliases:
                self._add(alias, paper.id, "alias")
        for paper in papers:
            self._add(paper.title, paper.id, "title")

    def _add(self, key: str, paper_id: str, kind: MatchKind) -> None:
        folded = _fold(key.strip())
        if folded:
            self._by_key.setdefault(folded, LinkMatch(paper_id, kind))

    def match(self, target: str) -> LinkMatch | None:
        """The note ``target`` points to and how it was found, or None."""
        key = link_key(target)
        return self._by_key.get(key) if key else None

    def resolve(self, target: str) -> str | None:
        """The id of the note ``target`` points to, or None."""
        found = self.match(target)
        return found.id if found else None


def wikilink(paper: Paper, label: str | None = None) -> str:
    """A link to ``paper`` that Obsidian and papernotes both resolve: the file name, with
    ``label`` (an alias, say) as the text shown: ``[[direct-preference-optimization|DPO]]``."""
    name = Path(paper.path).stem if paper.path else paper.id
    return f"[[{name}|{label}]]" if label and label != name else f"[[{name}]]"


def outgoing(paper: Paper) -> tuple[str, ...]:
    """Link targets of a note: its ``related`` ids, then its wikilinks, each once."""
    return tuple(dict.fromkeys((*paper.related, *paper.links)))
