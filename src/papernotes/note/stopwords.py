"""English stop words: left out of the ranked fallback of a search (``which paper trains a
model to judge its own outputs`` ranks on ``paper trains model judge outputs``), never out of
a query whose words must all match."""

from __future__ import annotations

_WORDS = """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    us very was we were what when where which while who whom why will with would you your
    yours yourself yourselves paper papers find show note notes one using use used"""
STOP_WORDS = frozenset(_WORDS.split())


def is_stop_word(word: str) -> bool:
    return word.lower() in STOP_WORDS
