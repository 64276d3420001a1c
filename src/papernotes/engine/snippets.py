"""The passage of a note that best matches a query, with the matched words marked.

Computed here from the hit's abstract and body rather than with FTS5's ``snippet()``, which
evaluates the whole query again for each call (prefix terms make that costly on a large
index). Words are cut and folded about as FTS5's unicode61 tokenizer does."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from papernotes.engine.query import Text
from papernotes.note.model import Paper

WINDOW = 24  # words in a snippet
SCAN_CHARS = 50_000  # of a long body, only the start is searched for the passage
_TOKEN = re.compile(r"[^\W_]+")
_HEADING = re.compile(r"(?m)^ {0,3}#{1,6}(?:[ \t].*)?$")  # a Markdown heading line
_TRAILING = ".,;:!?)]"

Span = tuple[int, int]


@dataclass(frozen=True)
class Matcher:
    """What counts as a match: words, word prefixes and phrases, folded."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, leaves: Sequence[Text]) -> Matcher:
        """The matcher of a query's positive words (those not limited to other fields)."""
        words: set[str] = set()
        prefixes: list[str] = []
        phrases: list[tuple[str, ...]] = []
        for leaf in leaves:
            if leaf.column not in (None, "abstract", "body"):
                continue
            if leaf.kind == "phrase":
                tokens = tuple(fold(t) for t in _TOKEN.findall(leaf.value))
                if len(tokens) == 1:
                    words.add(tokens[0])
                elif tokens:
                    phrases.append(tokens)
            elif leaf.kind == "prefix":
                prefixes.extend(fold(t) for t in _TOKEN.findall(leaf.value)[-1:])
            else:
                for form in leaf.forms or (leaf.value,):
                    parts = tuple(fold(t) for t in _TOKEN.findall(form))
                    if form.endswith("*") and parts:
                        prefixes.append(parts[-1])
                    elif len(parts) == 1:
                        words.add(parts[0])
                    elif parts:
                        phrases.append(parts)
        return cls(frozenset(words), tuple(prefixes), tuple(phrases))


def fold(word: str) -> str:
    """Lower case without accents (``Élan`` -> ``elan``), as the index compares words."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def snippet(paper: Paper, matcher: Matcher) -> tuple[str, tuple[Span, ...]]:
    """The best window of the abstract or the body, on one line, and where its matched
    words are; the start of the abstract (or body) when nothing matches there. The body is
    the reader's text: an ``## Abstract`` section that is the abstract is not searched twice,
    and the importers' ``## Source`` list (seed file names) is not note text."""
    best: tuple[str, list[tuple[int, int]], list[bool]] | None = None
    for source in (paper.abstract or "", paper.body_text()):
        text = " ".join(_HEADING.sub("", source[:SCAN_CHARS]).split())
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        if not tokens:
            continue
        hits = _matches(text, tokens, matcher)
        if best is None or sum(hits) > sum(best[2]):
            best = (text, tokens, hits)
    if best is None:
        return "", ()
    text, tokens, hits = best
    start = _best_window(hits)
    end = min(start + WINDOW, len(tokens))
    first = tokens[start][0]
    last = tokens[end - 1][1]
    while last < len(text) and text[last] in _TRAILING:
        last += 1
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(tokens) else ""
    shift = len(prefix) - first
    spans = tuple(
        (a + shift, b + shift) for (a, b), hit in zip(tokens[start:end], hits[start:end]) if hit
    )
    return prefix + text[first:last] + suffix, spans


def _matches(text: str, tokens: list[tuple[int, int]], matcher: Matcher) -> list[bool]:
    folded = [fold(text[a:b]) for a, b in tokens]
    hits = [w in matcher.words or w.startswith(matcher.prefixes) for w in folded]
    for phrase in matcher.phrases:
        size = len(phrase)
        for i in range(len(folded) - size + 1):
            if tuple(folded[i : i + size]) == phrase:
                hits[i : i + size] = [True] * size
    return hits


def _best_window(hits: list[bool]) -> int:
    """Where the window of WINDOW words with the most matches (the first such) starts: a few
    words before its first match, for context."""
    if not any(hits):
        return 0
    count = sum(hits[:WINDOW])
    best, best_start = count, 0
    for start in range(1, max(1, len(hits) - WINDOW + 1)):
        count += hits[start + WINDOW - 1] - hits[start - 1]
        if count > best:
            best, best_start = count, start
    first_hit = hits.index(True, best_start)
    return max(0, min(first_hit - 3, len(hits) - WINDOW))
