"""How similar two notes are, and why: TF-IDF cosine over title, abstract and body, plus shared
topics, tags, authors and links. Every match carries its reasons (the shared distinctive words,
tags, authors, links), the way arxiv-sanity shows the words behind a recommendation. Which
notes are compared, and the document frequencies, come from the index
(:mod:`papernotes.engine.neighbours`)."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from papernotes.note.model import Paper
from papernotes.note.normalize import fold

# How much each kind of evidence adds to the score (the content cosine is in 0..1).
W_CONTENT = 0.6
W_TOPICS = 0.15
W_TAGS = 0.15
W_AUTHORS = 0.1
W_LINK = 0.15
TITLE_WEIGHT = 3  # a word of the title counts like this many words of the body
MAX_TERMS = 5

_WORD = re.compile(r"[^\W_]+")
_LONG_WORD = re.compile(r"[^\W_]{3,}")  # the words of _WORD of three characters or more
_HASH = re.compile(r"^(?=[a-z]*\d)[0-9a-f]{8,}$")  # file hashes, commit ids
_MARKUP = re.compile(r"https?://\S+|\[\[|\]\]|`{3}.*?`{3}", re.DOTALL)
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours use used uses using via may might must one two three new based show
    shows shown paper papers work works propose proposes proposed approach method methods model
    models result results et al e g i e eg ie fig figure table section see well however thus
    therefore since without within across per many much often like get gets make makes made
    first second also different given given large small high low better best good way ways http
    https www com org arxiv abs pdf html note notes links link source sources abstract summary
    call called calls key ideas idea question questions"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Match:
    """A note similar to the target, its score and the evidence for it."""

    paper: Paper
    score: float
    content: float  # cosine of the word vectors, 0..1
    terms: tuple[str, ...] = ()  # distinctive words both notes use, most telling first
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # "links to it", "linked from it", "both link to <id>"

    def reasons(self) -> list[str]:
        """The evidence in words, strongest kinds first."""
        out: list[str] = []
        if self.links:
            out.append("; ".join(self.links))
        if self.topics:
            out.append("topics: " + ", ".join(self.topics))
        if self.tags:
            out.append("tags: " + ", ".join(self.tags))
        if self.authors:
            out.append("authors: " + ", ".join(self.authors))
        if self.terms:
            out.append("words: " + ", ".join(self.terms))
        return out


def tokens(text: str) -> list[str]:
    """Content words of ``text``, cut the way the search index cuts them (letters and digits;
    case and accents folded), without stop words, numbers, hashes, URLs or link brackets."""
    words = _WORD.findall(fold(_MARKUP.sub(" ", text)))
    return [
        w
        for w in words
        if len(w) > 2 and w not in STOPWORDS and not w.isdigit() and not _HASH.match(w)
    ]


def document(paper: Paper) -> Counter[str]:
    """The words of a note with their counts: title and aliases, abstract, body."""
    counts: Counter[str] = Counter()
    for word, count in _counted(" ".join((paper.title, *paper.aliases))).items():
        counts[word] += TITLE_WEIGHT * count
    counts.update(_counted(paper.abstract or ""))
    counts.update(_counted(paper.body))
    return counts


def _counted(text: str) -> Counter[str]:
    """:func:`tokens` of ``text`` with their counts: the words of three characters or more
    counted first, and each distinct one then kept or dropped once (not once an occurrence:
    twice as fast); only a word with a character that is not a letter can be a number or a
    hash."""
    if "//" in text or "[[" in text or "]]" in text or "```" in text:
        text = _MARKUP.sub(" ", text)  # else it would change nothing
    found = Counter(_LONG_WORD.findall(fold(text)))
    for word in found.keys() & STOPWORDS:
        del found[word]
    for word in [
        w for w in found if not w.isalpha() and (w.isdigit() or (len(w) >= 8 and _HASH.match(w)))
    ]:
        del found[word]
    return found


@dataclass(frozen=True)
class Vocabulary:
    """How many notes there are and how many use each word (document frequency)."""

    notes: int
    df: Mapping[str, int]

    @functools.cached_property
    def idf(self) -> dict[str, float]:
        """The smoothed idf of each word more than one note uses (worked out once: ``related``
        weighs some 5,000 words of 50 notes, ~2,300 of them distinct)."""
        return {w: math.log((1 + self.notes) / (1 + n)) + 1.0 for w, n in self.df.items() if n > 1}

    def vector(self, doc: Counter[str]) -> dict[str, float]:
        """A unit-length TF-IDF vector (sublinear tf, smoothed idf). Words no other note uses
        say nothing about similarity: they are left out, of the norm too."""
        idf = self.idf
        vec = {
            w: (1.0 + math.log(c)) * idf[w] if c > 1 else idf[w] for w, c in doc.items() if w in idf
        }
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {w: v / norm for w, v in vec.items()}


def _shared(a: Sequence[str], b: Sequence[str]) -> tuple[str, ...]:
    other = {fold(x) for x in b}
    return tuple(x for x in dict.fromkeys(a) if fold(x) in other)


def _jaccard(shared: int, a: Sequence[str], b: Sequence[str]) -> float:
    union = len({fold(x) for x in a} | {fold(x) for x in b})
    return shared / union if union else 0.0


def rank(
    target: Paper,
    candidates: Iterable[Paper],
    vocabulary: Vocabulary,
    link_targets: Mapping[str, set[str]],
    limit: int = 10,
    documents: Mapping[str, Counter[str]] | None = None,
) -> list[Match]:
    """Score ``candidates`` against ``target``, best first (ties by id). ``link_targets``
    maps a note id to the ids its links resolve to (for the target and the candidates);
    ``documents`` their words by id, when already counted (:func:`document`)."""
    documents = documents or {}

    def words(paper: Paper) -> Counter[str]:
        found = documents.get(paper.id)
        return document(paper) if found is None else found

    mine = vocabulary.vector(words(target))
    matches: list[Match] = []
    for other in candidates:
        if other.id == target.id:
            continue
        vec = vocabulary.vector(words(other))
        products = {w: mine[w] * vec[w] for w in mine.keys() & vec.keys()}
        content = min(1.0, sum(products.values()))
        terms = tuple(sorted(products, key=lambda w: (-products[w], w))[:MAX_TERMS])
        topics = _shared(target.topics, other.topics)
        tags = _shared(target.tags, other.tags)
        authors = _shared(target.authors, other.authors)
        links = _link_reasons(target.id, other.id, link_targets)
        score = (
            W_CONTENT * content
            + W_TOPICS * _jaccard(len(topics), target.topics, other.topics)
            + W_TAGS * _jaccard(len(tags), target.tags, other.tags)
            + W_AUTHORS * min(1.0, len(authors) / 2)
            + (W_LINK if links else 0.0)
        )
        if score <= 0.0:
            continue
        matches.append(
            Match(other, round(score, 4), round(content, 4), terms, topics, tags, authors, links)
        )
    matches.sort(key=lambda m: (-m.score, m.paper.id))
    return matches[:limit] if limit > 0 else matches


def _link_reasons(mine: str, other: str, targets: Mapping[str, set[str]]) -> tuple[str, ...]:
    reasons: list[str] = []
    if other in targets.get(mine, set()):
        reasons.append("links to it")
    if mine in targets.get(other, set()):
        reasons.append("linked from it")
    both = sorted((targets.get(mine, set()) & targets.get(other, set())) - {mine, other})
    if both:
        reasons.append("both link to " + ", ".join(both))
    return tuple(reasons)


@dataclass(frozen=True)
class Connections:
    """What ``show`` prints under a note: where it links, what links to it, what is like it."""

    links: tuple[tuple[str, Paper | None], ...]  # (target as written, the note or None)
    backlinks: tuple[Paper, ...]
    related: tuple[Match, ...]
