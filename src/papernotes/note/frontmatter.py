"""Split a note's text into front matter and body, and load the front matter safely.

Handles what real collections contain: a UTF-8 BOM, CRLF line endings, fences with trailing
spaces, a YAML block closed by ``...``, ``---`` rules in the body (only the first closing
fence ends the front matter), empty front matter and TOML between ``+++`` fences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from papernotes.note.simpleyaml import MAX_DIGITS

if TYPE_CHECKING:
    import yaml

# PyYAML (about 20 ms of imports, most of it compiling its regexes) and tomllib are imported on
# first use: a command answered from the index never parses a note, so never pays for them.

Kind = Literal["yaml", "toml", "none"]


@dataclass(frozen=True)
class Split:
    """A note's text cut in two. Line numbers are 1-based lines of the file."""

    kind: Kind
    meta_text: str  # the front matter between the fences
    meta_line: int  # file line of the first front-matter line
    body: str
    body_line: int  # file line where the body starts


class FrontMatterError(Exception):
    """A problem in the front matter, at ``line`` of the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def split(text: str) -> Split:
    """Cut ``text`` (already decoded, BOM and CRs removed) at its front-matter fences."""
    first, _, rest = text.partition("\n")
    opener = first.rstrip()
    if opener not in ("---", "+++"):
        return Split("none", "", 1, text, 1)
    closers = ("---", "...") if opener == "---" else ("+++",)
    kind: Kind = "yaml" if opener == "---" else "toml"
    pos = 0
    line = 2
    while pos <= len(rest):
        end = rest.find("\n", pos)
        current = rest[pos:] if end == -1 else rest[pos:end]
        if current.rstrip() in closers:
            body_start = len(rest) if end == -1 else end + 1
            return Split(kind, rest[:pos], 2, rest[body_start:], line + 1)
        if end == -1:
            break
        pos = end + 1
        line += 1
    raise FrontMatterError(1, f"front matter opened with {opener!r} on line 1 is never closed")


_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")


def load(part: Split, problems: list[FrontMatterError] | None = None) -> dict[Any, Any]:
    """Load the front matter of ``part`` into a dict (empty when there is none). A YAML value
    that cannot be built (a date that does not exist, an integer too long to print) is kept
    as its text, and said so in ``problems``, when given."""
    if part.kind == "none" or not part.meta_text.strip():
        return {}
    if part.kind == "toml":
        return _load_toml(part, [] if problems is None else problems)
    return _load_yaml(part, [] if problems is None else problems)


# "year = " with nothing after it, as a template leaves it: TOML refuses the whole file
_EMPTY_TOML = re.compile(r"""^\s*(?P<key>"[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=\s*(?:#.*)?$""")
MAX_EMPTY_TOML = 20  # such lines read as empty in one note; more is not a note half-filled


def _load_toml(part: Split, problems: list[FrontMatterError]) -> dict[Any, Any]:
    """TOML front matter; a key with no value (``year = ``) reads as empty, with a warning,
    as ``year:`` does in YAML."""
    lines = part.meta_text.split("\n")
    emptied: list[FrontMatterError] = []
    while True:
        try:
            data = _parse_toml("\n".join(lines), part.meta_line)
            break
        except _TomlError as exc:
            index = exc.line - part.meta_line
            empty = _EMPTY_TOML.match(lines[index]) if 0 <= index < len(lines) else None
            if empty is None or len(emptied) >= MAX_EMPTY_TOML:
                raise FrontMatterError(exc.line, exc.message) from None
            key = empty.group("key").strip("\"'")
            emptied.append(FrontMatterError(exc.line, f"{key}: no value after '='; read as empty"))
            lines[index] = ""
    problems.extend(emptied)
    _check_size(data, part.meta_line, "TOML")
    return data


class _TomlError(FrontMatterError):
    """tomllib's complaint, at a line of the file."""


def _parse_toml(text: str, first_line: int) -> dict[Any, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POS.search(message)
        line = first_line + int(match.group(1)) - 1 if match else first_line
        message = _TOML_POS.sub("", message).strip()
        raise _TomlError(line, f"invalid TOML front matter: {message}") from None
    except RecursionError:
        raise FrontMatterError(first_line, _TOO_DEEP.format("TOML")) from None
    except ValueError:  # an integer of more digits than Python converts
        raise FrontMatterError(first_line, _TOO_LONG.format("TOML")) from None


_TAB_SEPARATOR = re.compile(r"^ *\t|^\s*(?:- +)?[^\s:#'\"][^:'\"]*: *\t")


@cache
def _safe_loader() -> type[yaml.SafeLoader]:
    """PyYAML's safe loader (its C one when it was built with libyaml: several times faster,
    just as safe) that keeps a scalar it cannot build as text (see :func:`_lenient`)."""
    import yaml

    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type, misc]
        problems: list[tuple[int, str]]  # (0-based line, message) of each scalar kept as text

    for kind in ("int", "float", "bool", "timestamp"):
        tag = f"tag:yaml.org,2002:{kind}"
        Loader.add_constructor(tag, _lenient(base.yaml_constructors[tag], kind))
    return Loader


def _lenient(construct: Callable[[Any, Any], Any], kind: str) -> Callable[[Any, Any], Any]:
    """``construct`` (PyYAML's for ``kind``), except that a scalar it cannot build is its text.
    PyYAML raises whatever Python does: ``2024-02-30`` and ``2024-01-01 25:00:00`` a
    ValueError (once a traceback in every command), ``!!bool maybe`` a KeyError; an integer
    of more than 4,300 digits a ValueError, in base 60 (``1:30:30...``) it took quadratic
    time first, in base 16 it was built and could not be printed or stored afterwards."""

    def build(loader: Any, node: Any) -> Any:
        text = str(node.value)
        if kind == "int" and len(text.lstrip("+-")) > MAX_DIGITS:
            return _kept(loader, node, f"not an integer (more than {MAX_DIGITS:,} digits)")
        try:
            value = construct(loader, node)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            return _kept(loader, node, _why_not(kind, text))
        if kind == "int" and abs(value) >= _PRINTABLE_INT:
            return _kept(loader, node, f"not an integer (more than {MAX_DIGITS:,} digits)")
        return value

    return build


_PRINTABLE_INT = 10**MAX_DIGITS  # ints from here on have more digits than Python prints


def _kept(loader: Any, node: Any, why: str) -> str:
    from papernotes.errors import shown

    text = str(node.value)
    loader.problems.append((node.start_mark.line, f"{shown(text)} is {why}; taken as text"))
    return text


def _why_not(kind: str, text: str) -> str:
    """Why PyYAML could not build ``text`` as a ``kind``: ``not a date (there is no such day)``."""
    if kind != "timestamp":
        return {"int": "not an integer", "float": "not a number", "bool": "not a boolean"}[kind]
    from papernotes.note.normalize import date_problem

    match = _TIMESTAMP.match(text)
    if match is None:
        return "not a date"
    what = "not a date and time" if match.group("hour") else "not a date"
    year, month, day = (int(match.group(g)) for g in ("year", "month", "day"))
    problem = date_problem(year, month, day)
    for unit, limit in (("hour", 23), ("minute", 59), ("second", 59)):
        if problem is None and match.group(unit) and int(match.group(unit)) > limit:
            problem = f"there is no {unit} {int(match.group(unit))}"
    if problem is None and match.group("zone"):
        problem = f"there is no time zone {match.group('zone')}"
    return f"{what} ({problem})" if problem else what


# PyYAML's timestamp (resolver.py), its parts named
_TIMESTAMP = re.compile(
    r"""(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})
    (?:(?:[Tt]|[ \t]+)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})
    (?:\.[0-9]*)?(?:[ \t]*(?P<zone>Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$""",
    re.X,
)


# A TAB between "key:" and its value (Jekyll sites have them: "title:\t..."): separation
# whitespace to YAML 1.2 and libyaml, an error to YAML 1.1 and PyYAML's pure loader. Read as
# a space, so the note is read whichever way PyYAML was built. A TAB in indentation stays an
# error (YAML forbids it everywhere).
_SEPARATOR_TAB = re.compile(r"^( *(?:- +)?[^\s:#'\"][^:'\"\t\n]*:)[ \t]*\t[ \t]*", re.M)


def _load_yaml(part: Split, problems: list[FrontMatterError]) -> dict[Any, Any]:
    from papernotes.note import simpleyaml

    if "\t" in part.meta_text:
        part = replace(part, meta_text=_SEPARATOR_TAB.sub(r"\1 ", part.meta_text))
    simple = simpleyaml.load(part.meta_text)  # PyYAML's answer, when the form is simple
    if simple is not None:
        _check_size(simple, part.meta_line, "YAML")
        return simple
    import yaml

    # What is left of TABs (in indentation, after a "- "): libyaml accepts some that PyYAML's
    # pure loader does not. Refuse them up front, so the answer does not depend on the build.
    for offset, source in enumerate(part.meta_text.split("\n")):
        if "\t" in source and _TAB_SEPARATOR.match(source):
            raise FrontMatterError(
                part.meta_line + offset, "TAB character in YAML front matter (use spaces)"
            )
    try:
        if _may_nest_deeply(part.meta_text):
            _check_depth(part)
        loader: Any = _safe_loader()(part.meta_text)
        loader.problems = []
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(part, exc) from None
    except yaml.YAMLError as exc:
        if _is_depth_error(exc):
            raise FrontMatterError(part.meta_line, _TOO_DEEP.format("YAML")) from None
        raise FrontMatterError(part.meta_line, f"invalid YAML front matter: {exc}") from None
    except RecursionError:
        raise FrontMatterError(part.meta_line, _TOO_DEEP.format("YAML")) from None
    problems.extend(FrontMatterError(part.meta_line + i, text) for i, text in loader.problems)
    if data is None:
        return {}
    _check_size(data, part.meta_line, "YAML")
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise FrontMatterError(
            part.meta_line, f"front matter must be a mapping of keys to values, not a {kind}"
        )
    return data


# Front matter is a handful of keys. Beyond these bounds it is hostile or broken: libyaml's
# composer recurses in C (a few ten thousand nested "[" crash the interpreter), and aliases
# that repeat aliases ("billion laughs") load as a small graph of shared references that
# anything walking it (normalising, JSON, printing) expands exponentially.
MAX_DEPTH = 64
MAX_VALUES = 100_000
MAX_CHARS = 10_000_000  # twice what a note's 5 MB can hold without aliases
_TOO_DEEP = f"{{}} front matter is nested more than {MAX_DEPTH} levels deep; not loaded"
_TOO_BIG = (
    f"{{}} front matter holds more than {MAX_VALUES} values or {MAX_CHARS // 10**6} million "
    "characters{}; not loaded"
)
_EXPANDED = " once its aliases are expanded (an alias bomb?)"
_TOO_LONG = f"{{}} front matter holds an integer of more than {MAX_DIGITS:,} digits; not loaded"


def _may_nest_deeply(text: str) -> bool:
    """Whether ``text`` could nest more than MAX_DEPTH levels: each level needs one of
    ``[ { - ? :`` (so the scan below is needed for few notes)."""
    return sum(text.count(c) for c in "[{-?:") > MAX_DEPTH


def _check_depth(part: Split) -> None:
    """Refuse YAML nested more than MAX_DEPTH levels, from libyaml's event stream (which is
    produced without recursion), before it is composed."""
    import yaml

    depth = 0
    for event in yaml.parse(part.meta_text, Loader=_safe_loader()):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = part.meta_line + (event.start_mark.line if event.start_mark else 0)
                raise FrontMatterError(line, _TOO_DEEP.format("YAML"))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_size(data: Any, line: int, kind: str) -> None:
    """Refuse loaded front matter that, walked as anything will walk it (normalising, JSON),
    holds more than MAX_VALUES values or MAX_CHARS characters, or nests more than MAX_DEPTH
    levels (a self-referencing alias); stops as soon as it does."""
    values = chars = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if isinstance(value, (str, bytes)):
            chars += len(value)
        if values > MAX_VALUES or chars > MAX_CHARS:
            raise FrontMatterError(line, _TOO_BIG.format(kind, _EXPANDED if kind == "YAML" else ""))
        if type(value) is int and abs(value) >= _PRINTABLE_INT:  # TOML's 0xfff...: unprintable
            raise FrontMatterError(line, _TOO_LONG.format(kind))
        if depth > MAX_DEPTH:
            raise FrontMatterError(line, _TOO_DEEP.format(kind))
        if isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _is_depth_error(exc: Exception) -> bool:
    """Whether ``exc`` is PyYAML's or libyaml's own nesting limit (libyaml 0.2.6 and later:
    "exceeded maximum nesting depth"), which may come before ours: one message for both."""
    return "nesting depth" in str(exc) or "maximum depth" in str(exc)


def _yaml_error(part: Split, exc: yaml.MarkedYAMLError) -> FrontMatterError:
    import yaml

    mark = exc.problem_mark or exc.context_mark
    index = mark.line if mark is not None else 0
    line = part.meta_line + index
    if _is_depth_error(exc):
        return FrontMatterError(line, _TOO_DEEP.format("YAML"))
    lines = part.meta_text.split("\n")
    source = lines[index] if index < len(lines) else ""
    if "\t" in source[: len(source) - len(source.lstrip())] or (
        "\t" in source and "'\\t'" in str(exc)
    ):
        return FrontMatterError(line, "TAB character in YAML front matter (use spaces)")
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in str(exc.problem):
        return FrontMatterError(line, f"unsafe or unknown YAML tag refused: {exc.problem}")
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return FrontMatterError(line, f"invalid YAML front matter: {problem}{context}")
