"""The search query language, parsed into a tree and compiled to SQL over the index.

    words           all must match (``reward model``)
    "a phrase"      these words in this order
    rew*            a prefix
    a OR b          either (``AND`` may be written, it is the default)
    -word, NOT w    must not match (also ``-"a phrase"``, ``-tag:x``, ``-(a OR b)``)
    ( ... )         grouping
    field:value     ``title: alias: author: venue: org: abstract: body:`` match words in
                    that field (``title:"reward model"``, ``author:rafail*``, ``title:(a OR b)``);
                    ``tag:`` a tag or a tag nested under it (``tag:llm`` matches ``llm/rlhf``);
                    ``topic: status: arxiv: doi: id:`` exact values;
                    ``year: rating:`` numbers: ``2023``, ``2020..2023``, ``>=2023``, ``<3``;
                    ``read: published: added:`` dates: ``2024``, ``2024-02`` (the month),
                    ``>=2024-01-15``, ``2024-01..2024-03``;
                    a key papernotes does not know, present in some note (``paper_ref:baker``):
                    words in its value.

:func:`parse` raises :class:`UsageError` with a caret under the problem. :func:`plan` turns a
tree into SQL: user text only ever travels as a bound parameter, and text handed to FTS5 is
always a properly quoted FTS5 string. Which spellings a word matches (its plural, a typo
correction) is chosen by :mod:`papernotes.engine.spelling`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from papernotes.engine.filters import FILTER_FIELDS, Filter, extra_filter
from papernotes.engine.filters import field_filter as field_filter
from papernotes.engine.schema import COLUMNS as COLUMNS  # FTS5 columns, in order (bm25 weights)
from papernotes.errors import UsageError

TextKind = Literal["word", "phrase", "prefix"]

# query field -> FTS5 column it searches
TEXT_FIELDS = {
    "title": "title",
    "alias": "aliases",
    "aliases": "aliases",
    "author": "authors",
    "authors": "authors",
    "venue": "venue",
    "org": "org",
    "abstract": "abstract",
    "body": "body",
}
FIELDS = (*TEXT_FIELDS, *FILTER_FIELDS)

_TOKEN_CHAR = re.compile(r"[^\W_]")  # what FTS5's unicode61 tokenizer keeps (letters, digits)
_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.DOTALL)


@dataclass(frozen=True)
class Text:
    """Words to find with FTS5: a word, a phrase or a prefix, in ``column`` or anywhere.
    ``forms``: the spellings a word matches (itself, its plural, ``stem*`` for any word
    starting with the stem), when the searcher chose them; otherwise just ``value``."""

    value: str
    kind: TextKind
    column: str | None = None
    start: int = 0  # where the value is in the query text (to show a corrected query)
    end: int = 0
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Text | Filter | Not | And | Or


@dataclass(frozen=True)
class Query:
    """A parsed query: the text the user typed and its tree."""

    text: str
    root: Node
    strict: bool = False  # AND was written: every word must match, no ranked fallback

    def texts(self, positive_only: bool = True) -> list[Text]:
        """The Text leaves (only those not under a negation, by default), left to right."""
        return list(_texts(self.root, positive_only))

    def replace(self, leaf: Text, new: Text) -> Query:
        """This query with ``leaf`` (one of its own leaves) replaced by ``new``; the text
        changes too when the value does (a typo correction). Replace right to left."""
        text = self.text
        if new.value != leaf.value:
            text = text[: leaf.start] + new.value + text[leaf.end :]
        return Query(text, _swap(self.root, leaf, new), self.strict)


def quote(value: str) -> str:
    """``value`` as one query-language term: ``f"tag:{quote(t)}"`` is safe for any ``t``."""
    return '"' + " ".join(value.replace('"', " ").split()) + '"'


def fts_string(value: str) -> str:
    """``value`` as an FTS5 string literal (the only way user text reaches FTS5). NUL would end
    the query early in SQLite's C code: it is dropped."""
    return '"' + value.replace("\x00", "").replace('"', '""') + '"'


def has_words(value: str) -> bool:
    """Whether FTS5 would find any token in ``value`` (``&`` or ``--`` have none)."""
    return _TOKEN_CHAR.search(value) is not None


# --------------------------------------------------------------------------- parsing


@dataclass
class _Token:
    kind: str  # WORD, PHRASE, LPAREN, RPAREN, OR, AND, NOT, NEG, FIELD
    value: str
    start: int
    end: int
    field_name: str = ""


def _error(text: str, pos: int, message: str) -> UsageError:
    pos = max(0, min(pos, len(text)))
    shown = text.replace("\n", " ").replace("\t", " ")
    if len(shown) > _SHOWN:  # a window around the problem, marked with … where cut
        start = max(0, min(pos - _SHOWN // 2, len(shown) - _SHOWN))
        end = start + _SHOWN
        pos -= start
        shown = shown[start:end]
        if start:
            shown, pos = "…" + shown, pos + 1
        if end < len(text):
            shown += "…"
    return UsageError(f"bad query: {message}\n  {shown}\n  {' ' * pos}^")


_SHOWN = 70  # characters of a long query shown around a problem


def _lex(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            yield _Token("LPAREN" if c == "(" else "RPAREN", c, i, i + 1)
            i += 1
        elif c == '"':
            close = text.find('"', i + 1)
            if close == -1:
                raise _error(text, i, 'this " is never closed')
            yield _Token("PHRASE", text[i + 1 : close], i + 1, close)
            i = close + 1
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-":
            yield _Token("NEG", c, i, i + 1)
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            word = text[i:j]
            if word in ("OR", "AND", "NOT"):
                yield _Token(word, word, i, j)
            elif (m := _FIELD.fullmatch(word)) and not m.group(2).startswith("//"):
                yield _Token("FIELD", m.group(2), i + len(m.group(1)) + 1, j, m.group(1).lower())
            else:
                yield _Token("WORD", word, i, j)
            i = j


# Bounds on a query: deeper nesting or more terms would reach SQLite's and FTS5's parser stacks
# ("parser stack overflow") or cost time that grows with the square of the words.
MAX_NESTING = 20  # parentheses and negations inside each other
MAX_TERMS = 100  # words, phrases, field terms and operators


class _Parser:
    """Recursive descent: or := and (OR and)*; and := unary+; unary := (-|NOT) unary | atom."""

    def __init__(self, text: str, extra: Callable[[str], bool] | None = None) -> None:
        self.text = text
        self.extra = extra
        self.tokens = list(_lex(text))
        self.pos = 0
        self.depth = 0
        self.strict = False
        terms = [t for t in self.tokens if t.kind not in ("LPAREN", "RPAREN")]
        if len(terms) > MAX_TERMS:
            raise _error(
                text, terms[MAX_TERMS].start, f"too long: more than {MAX_TERMS} words and operators"
            )

    def nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _error(
                self.text,
                token.start,
                f"nested too deeply: more than {MAX_NESTING} levels of ( ) and NOT",
            )

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.or_expr()
        token = self.peek()
        if token is not None:  # only a stray ")" stops or_expr early
            raise _error(self.text, token.start, "this ) has no matching (")
        return node

    def or_expr(self) -> Node | None:
        nodes = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            nxt = self.and_expr()
            if nodes[-1] is None or nxt is None:
                raise _error(self.text, token.start, "OR needs a term on both sides")
            nodes.append(nxt)
        if len(nodes) == 1:
            return nodes[0]
        return Or(tuple(n for n in nodes if n is not None))

    def and_expr(self) -> Node | None:
        """None when there is no term at all; ``_NOTHING`` when the terms hold no word."""
        nodes: list[Node] = []
        seen = False
        while (token := self.peek()) is not None and token.kind not in ("OR", "RPAREN"):
            if token.kind == "AND":
                self.take()
                self.strict = True
                nxt = self.peek()
                if not seen or nxt is None or nxt.kind in ("OR", "RPAREN", "AND"):
                    raise _error(self.text, token.start, "AND needs a term on both sides")
                continue
            node = self.unary()
            seen = True
            if node is not None:
                nodes.append(node)
        if not seen:
            return None
        if not nodes:
            return _NOTHING
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self) -> Node | None:
        token = self.peek()
        assert token is not None
        if token.kind in ("NEG", "NOT"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", "RPAREN"):
                what = "-" if token.kind == "NEG" else "NOT"
                raise _error(self.text, token.start, f"{what} needs a term after it")
            self.nest(token)
            inner = self.unary()
            self.depth -= 1
            # a negation of no word (``-&``, ``NOT (:)``) is no condition, like the term itself
            return Not(inner) if inner is not None and inner != _NOTHING else None
        return self.atom()

    def atom(self) -> Node | None:
        token = self.take()
        if token.kind == "LPAREN":
            self.nest(token)
            inner = self.or_expr()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise _error(self.text, token.start, "this ( is never closed")
            self.take()
            if inner is None:
                raise _error(self.text, token.start, "empty parentheses")
            return inner
        if token.kind == "RPAREN":
            raise _error(self.text, token.start, "this ) has no matching (")
        if token.kind == "PHRASE":
            return _text(token.value, "phrase", None, token.start, token.end)
        if token.kind == "FIELD":
            return self.field(token)
        return _word(token.value, None, token.start, token.end, self.text)

    def field(self, token: _Token) -> Node | None:
        name = token.field_name
        extra = name not in FIELDS and self.extra is not None and self.extra(name)
        if name not in FIELDS and not extra and not name.isalpha():
            # ``gpt-4:``, ``x_y:z``: a word, as before keys papernotes does not know were fields
            start = token.start - len(name) - 1
            return _word(self.text[start : token.end], None, start, token.end, self.text)
        if name not in FIELDS and not extra:
            import difflib

            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f" (did you mean {close[0]}:?)" if close else ""
            raise _error(
                self.text,
                token.start - len(name) - 1,
                f"unknown field {name}:{hint}; fields are {', '.join(_SHOWN_FIELDS)}; "
                f'to search for the text itself, quote it: "{name}:{token.value}"',
            )
        value, start, end, kind = token.value, token.start, token.end, "word"
        glued = self.text[token.end : token.end + 1] if not value else ""
        if glued == '"':
            phrase = self.take()
            value, start, end, kind = phrase.value, phrase.start, phrase.end, "phrase"
        elif glued == "(":
            if extra or name not in TEXT_FIELDS:
                raise _error(self.text, token.end, f"{name}: takes one value, not a group")
            group = self.atom()
            return _in_column(group, TEXT_FIELDS[name]) if group is not None else None
        if not value.strip():
            raise _error(self.text, token.start - len(name) - 1, f"{name}: needs a value")
        if extra:
            kind = "prefix" if kind == "word" and value.endswith("*") else kind
            try:
                return extra_filter(name, value.rstrip("*") if kind == "prefix" else value, kind)
            except ValueError as exc:
                raise _error(self.text, start, f"{name}: {exc}") from None
        if name in TEXT_FIELDS:
            column = TEXT_FIELDS[name]
            if kind == "phrase":
                return _text(value, "phrase", column, start, end)
            return _word(value, column, start, end, self.text)
        try:
            return field_filter(name, value.strip())
        except ValueError as exc:
            raise _error(self.text, start, f"{name}: {exc}") from None


_SHOWN_FIELDS = (
    *("title", "author", "topic", "tag", "alias", "venue", "org", "abstract", "body"),
    *("status", "arxiv", "doi", "id", "year", "rating", "read", "published", "added"),
)
_NOTHING = And(())  # a term without any word in it (``&``): matches like "no condition"


def _text(value: str, kind: TextKind, column: str | None, start: int, end: int) -> Node | None:
    value = " ".join(value.split())
    if not has_words(value):
        return None
    return Text(value, kind, column, start, end)


def _word(value: str, column: str | None, start: int, end: int, text: str) -> Node | None:
    if value.endswith("*"):
        stem = value.rstrip("*")
        if not stem or "*" in stem or not has_words(stem):
            raise _error(text, start, "a prefix needs letters before the *, as in rew*")
        return Text(stem, "prefix", column, start, end)
    if "*" in value:
        raise _error(text, start + value.index("*"), "* is only allowed at the end of a word")
    return _text(value, "word", column, start, end)


def _in_column(node: Node, column: str) -> Node:
    if isinstance(node, Text):
        return Text(node.value, node.kind, column, node.start, node.end)
    if isinstance(node, Not):
        return Not(_in_column(node.node, column))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_in_column(n, column) for n in node.nodes))
    return node


def parse(text: str, extra: Callable[[str], bool] | None = None) -> Query:
    """Parse a query; :class:`UsageError` (with a caret under the problem) when malformed.
    ``extra(name)``: whether ``name:`` is a key papernotes does not know that some note has
    (:meth:`papernotes.engine.index.Index.has_extra`), a field then too."""
    parser = _Parser(text, extra)
    root = parser.parse()
    root = _simplify(root) if root is not None else None
    if root is None or root == _NOTHING:
        raise UsageError("empty query: give words to search for, or a field such as tag:rlhf")
    return Query(text, root, parser.strict)


def _simplify(node: Node) -> Node:
    if isinstance(node, (And, Or)):
        flat: list[Node] = []
        for child in (_simplify(n) for n in node.nodes):
            if child == _NOTHING:
                continue
            flat.extend(
                child.nodes
                if isinstance(child, (And, Or)) and type(child) is type(node)
                else [child]
            )
        if not flat:
            return _NOTHING
        return flat[0] if len(flat) == 1 else type(node)(tuple(flat))
    if isinstance(node, Not):
        inner = _simplify(node.node)
        return _NOTHING if inner == _NOTHING else Not(inner)
    return node


def _texts(node: Node, positive_only: bool) -> Iterator[Text]:
    if isinstance(node, Text):
        yield node
    elif isinstance(node, Not):
        if not positive_only:
            yield from _texts(node.node, positive_only)
    elif isinstance(node, (And, Or)):
        for child in node.nodes:
            yield from _texts(child, positive_only)


def _swap(node: Node, old: Text, new: Text) -> Node:
    if node is old:
        return new
    if isinstance(node, Not):
        return Not(_swap(node.node, old, new))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_swap(n, old, new) for n in node.nodes))
    return node


# --------------------------------------------------------------------------- compiling


def variants(word: str) -> list[str]:
    """``word`` (lower case) and its plural or singular form: ``model`` -> ``model``,
    ``models``; ``policies`` -> ``policies``, ``policy``. Short or non-alphabetic words have
    none."""
    low = word.lower()
    if len(low) < 4 or not low.isalpha():
        return [low]
    if low.endswith("ies") and len(low) > 4:
        return [low, low[:-3] + "y"]
    if low.endswith(("sses", "xes", "ches", "shes")):
        return [low, low[:-2]]
    if low.endswith("as"):  # ideas -> idea, but bias -> biases
        return [low, low[:-1], low + "es"]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")):
        return [low, low[:-1]]
    if low.endswith("y") and low[-2] not in "aeiou":
        return [low, low[:-1] + "ies"]
    if low.endswith(("s", "x", "ch", "sh")):
        return [low, low + "es"]
    return [low, low + "s"]


def stem(word: str) -> str | None:
    """The part of ``word`` its inflections share, when it is long enough to search as a
    prefix without catching unrelated words: ``benchmarks`` -> ``benchmark`` (which finds
    ``benchmarking``); None for short words and ``-ies``/``-y`` words (``policy`` would catch
    ``police``)."""
    low = word.lower()
    if not low.isalpha() or low.endswith(("ies", "y")):
        return None
    base = next((v for v in variants(low)[1:] if len(v) < len(low)), low)
    return base if len(base) >= STEM_MIN else None


STEM_MIN = 5


def fts(node: Text) -> str:
    """The FTS5 expression of one Text leaf (with its column filter)."""
    if node.kind == "phrase":
        expr = fts_string(node.value)
    elif node.kind == "prefix":
        expr = fts_string(node.value) + "*"
    elif node.forms:  # a form ending in * is a prefix
        parts = [fts_string(f.rstrip("*")) + ("*" if f.endswith("*") else "") for f in node.forms]
        expr = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    else:
        expr = fts_string(node.value)
    return f"{{{node.column}}} : {expr}" if node.column else expr


def fts_expr(node: Node) -> str | None:
    """``node`` as one FTS5 expression, or None when it needs SQL (field filters, a negation
    with nothing positive beside it)."""
    if isinstance(node, Text):
        return fts(node)
    if isinstance(node, Or):
        parts = [fts_expr(n) for n in node.nodes]
        if any(p is None for p in parts):
            return None
        return "(" + " OR ".join(f"({p})" for p in parts) + ")"
    if isinstance(node, And):
        positive, negative = [], []
        for child in node.nodes:
            if isinstance(child, Not):
                inner = fts_expr(child.node)
                if inner is None:
                    return None
                negative.append(inner)
            else:
                expr = fts_expr(child)
                if expr is None:
                    return None
                positive.append(expr)
        if not positive:
            return None
        expr = "(" + " AND ".join(f"({p})" for p in positive) + ")"
        if negative:
            expr += " NOT (" + " OR ".join(f"({n})" for n in negative) + ")"
        return expr
    return None


def sql(node: Node, params: list[object]) -> str:
    """``node`` as an SQL condition on ``papers p``; parameters are appended to ``params``."""
    expr = fts_expr(node)
    if expr is not None:
        params.append(expr)
        return "p.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)"
    if isinstance(node, Filter):
        params.extend(node.params)
        return f"({node.sql})"
    if isinstance(node, Not):
        return f"NOT ({sql(node.node, params)})"
    if isinstance(node, (And, Or)):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(sql(n, params) for n in node.nodes) + ")"
    raise AssertionError(node)  # pragma: no cover


@dataclass(frozen=True)
class Plan:
    """How to run a query. ``match`` (an FTS5 expression) drives the search and scores it, and
    ``where`` (SQL on ``papers p``, with ``params``) must hold too. Without ``match``, ``where``
    alone selects, and ``rank`` (the positive words, ORed) scores the hits that contain them."""

    match: str | None
    where: str
    params: tuple[object, ...]
    rank: str | None


def plan(query: Query) -> Plan:
    """Split ``query`` into an FTS5 part and an SQL part (see :class:`Plan`)."""
    children = query.root.nodes if isinstance(query.root, And) else (query.root,)
    fts_part: list[Node] = []
    rest: list[Node] = []
    for child in children:
        inner = child.node if isinstance(child, Not) else child
        (fts_part if fts_expr(inner) is not None else rest).append(child)
    match = fts_expr(And(tuple(fts_part))) if fts_part else None
    if match is None:
        rest = list(children)
    params: list[object] = []
    where = " AND ".join(sql(n, params) for n in rest) if rest else "1"
    leaves = query.texts()
    rank = " OR ".join(f"({fts(t)})" for t in leaves) if leaves else None
    return Plan(match, where, tuple(params), match or rank)


def free_words(query: Query) -> tuple[list[Text], str, tuple[object, ...]] | None:
    """The query's free words (words, phrases and prefixes in no field, not negated, not in a
    group), and its other conditions as SQL on ``papers p`` with their parameters: the parts
    that ranking may loosen and those that stay conditions. None when an AND was written or
    there is no free word."""
    if query.strict:
        return None
    children = query.root.nodes if isinstance(query.root, And) else (query.root,)
    free = [c for c in children if isinstance(c, Text) and c.column is None]
    if not free:
        return None
    params: list[object] = []
    rest = [c for c in children if c not in free]
    where = " AND ".join(sql(n, params) for n in rest) if rest else "1"
    return free, where, tuple(params)


def loose_plan(query: Query) -> Plan | None:
    """The ranked fallback of ``query``: notes with ANY of its free words (stop words left
    out, unless that leaves none), under all of its other conditions (fields, filters,
    negations, groups), which keep their meaning. None when there is nothing to loosen: fewer
    than two free words, or an AND written in the query."""
    from papernotes.note.stopwords import is_stop_word

    split = free_words(query)
    if split is None or len(split[0]) < 2:
        return None
    free, where, params = split
    kept = [w for w in free if not (w.kind == "word" and is_stop_word(w.value))] or free
    match = " OR ".join(f"({fts(w)})" for w in kept)
    return Plan(match, where, params, match)
