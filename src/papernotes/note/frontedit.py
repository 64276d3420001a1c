"""Editing front matter as text, in place: one key changes, every other byte stays.

A note's front matter is the user's text (comments, key order, quoting, flow or block lists,
spacing), so it is never re-dumped. An edit finds the lines of one top-level key and rewrites
only them: a scalar keeps its quoting, its spacing after the colon and its trailing comment; a
block list gains item lines with its own indentation and quoting, or loses the lines of the
items removed; a flow list (``[a, 'b']``, also over several lines, YAML or TOML) gains or loses
items between its brackets; a comma string (``tags: a, b``) stays a string. A key the note
lacks is inserted after the nearest key that precedes it in the canonical order, in the note's
own style (its list style and indentation, its quote character).

This module only edits text; :mod:`papernotes.edit.fieldedit` checks that the result parses back
to the intended paper, and tries a plainer rewrite of the key when it does not.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from papernotes.note.frontmatter import FrontMatterError, split

Action = Literal["set", "delete", "add", "remove"]

# a top-level YAML key (linear time; see papernotes.note.parse) and a TOML one
_KEY = re.compile(r"""^(?:"(?P<d>[^"]+)"\s*|'(?P<s>[^']+)'\s*|(?P<p>[^\s#'"\-?:][^:]*)):(?=\s|$)""")
_TOML_KEY = re.compile(r"""^(?:"(?P<d>[^"]+)"|'(?P<s>[^']+)'|(?P<p>[A-Za-z0-9_-]+))[ \t]*=""")
_ITEM = re.compile(r"^(?P<indent>[ \t]*)-(?:[ \t]+|$)")
_TOML_TABLE = re.compile(r"^[ \t]*\[")


@dataclass(frozen=True)
class KeyEdit:
    """One change to one top-level key.

    ``names``: the spellings (lower case) that are this key in a note (``tags``, ``tag``);
    ``exact``: the key is matched as written, not in any case (an extra key the note has).
    ``set``: ``value`` becomes the key's value; ``delete``: the key goes; ``add``: the items
    of ``value`` are appended to the key's list; ``remove``: the items for which ``drop``
    holds are removed. ``rank``: where a new key goes in the canonical order (None: last).
    ``split_spaces``: a string value of this key is a list split on spaces too (tags)."""

    action: Action
    key: str
    names: tuple[str, ...] = ()
    exact: bool = False
    value: Any = None
    drop: Callable[[Any], bool] | None = None
    rank: int | None = None
    order: Sequence[str] = ()
    split_spaces: bool = False
    plain_rewrite: bool = field(default=False, compare=False)  # replace the key wholesale


class EditError(Exception):
    """The front matter cannot be edited in place; ``line`` is a line of the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def edit_text(text: str, edits: Sequence[KeyEdit]) -> str:
    """``text`` (a whole note, BOM and CRs removed) with ``edits`` made to its front matter."""
    try:
        part = split(text)
    except FrontMatterError as exc:
        raise EditError(exc.line, exc.message) from None
    if part.kind == "none":
        head = _Yaml([], 2)
        for edit in edits:
            head.apply(edit)
        if not head.lines:
            return text
        return "---\n" + "".join(f"{line}\n" for line in head.lines) + "---\n" + text
    lines = text.split("\n")
    closer = part.body_line - 2
    editor: _Yaml | _Toml = (_Toml if part.kind == "toml" else _Yaml)(lines[1:closer], 2)
    for edit in edits:
        editor.apply(edit)
    return "\n".join([lines[0], *editor.lines, *lines[closer:]])


# -- rendering values ---------------------------------------------------------------------------


def yaml_scalar(value: Any, style: str | None = None, flow: bool = False) -> str:
    """``value`` as one line of YAML: quoted with ``style`` (``'`` or ``"``) when given, else
    plain when YAML reads it back as the same value, else single-quoted."""
    import yaml

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or value is None:
        return yaml.safe_dump(value, default_flow_style=True).split("\n")[0]
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if style == '"' or (style == "'" and _unprintable(text)):
        dumped = yaml.safe_dump(text, default_style='"', width=1 << 30, allow_unicode=True)
        return str(dumped).rstrip("\n")
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if text and not _unprintable(text) and _plain_reads_back(text, flow):
        return text
    return yaml_scalar(text, "'")


def _unprintable(text: str) -> bool:
    return any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029\ufeff" for c in text)


def _plain_reads_back(text: str, flow: bool) -> bool:
    import yaml

    if text != text.strip() or text.startswith(("- ", "? ")) or text[0] in "&*!|>%@`,[]{}#'\"":
        return False
    if flow and any(c in text for c in ",[]{}"):
        return False
    try:
        loaded = yaml.safe_load(f"[{text}]" if flow else f"k: {text}")
    except yaml.YAMLError:
        return False
    got = loaded[0] if flow and isinstance(loaded, list) and loaded else None
    if not flow:
        got = loaded.get("k") if isinstance(loaded, dict) and len(loaded) == 1 else None
    return isinstance(got, str) and got == text


def toml_value(value: Any, style: str | None = None) -> str:
    """``value`` as TOML: a string basic-quoted (literal ``'...'`` when ``style`` is ``'`` and
    the text allows it), a date bare, a list as ``[a, b]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, style) for v in value) + "]"
    if isinstance(value, str):
        if style == "'" and "'" not in value and not _unprintable(value):
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    kind = "null" if value is None else type(value).__name__
    raise EditError(1, f"TOML front matter cannot hold a {kind} value")


# -- flow lists (YAML ``[a, b]``, TOML arrays) -------------------------------------------------


def _flow_spans(text: str, start: int, toml: bool) -> tuple[int, list[tuple[int, int]]]:
    """For the ``[`` at ``start`` of ``text``: the index of its ``]`` and the (start, end)
    of each item (whitespace and comments left out). ValueError when it never closes."""
    depth = 0
    spans: list[tuple[int, int]] = []
    item_start = -1
    item_end = -1
    i = start
    previous = ""  # the last character that is not a space
    while i < len(text):
        char = text[i]
        if char in "\"'" and (toml or previous in "[{,:"):  # 'ICML' but not Optimizer'
            end = _quote_end(text, i, toml)
            if depth == 1 and item_start < 0:
                item_start = i
            i = end
            item_end = i
            previous = char
            continue
        if char == "#" and (toml or i == 0 or text[i - 1] in " \t\n"):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if char in "[{":
            depth += 1
            if depth == 2 and item_start < 0:
                item_start = i
        elif char in "]}":
            depth -= 1
            if depth == 1:
                item_end = i + 1
            if depth == 0:
                if item_start >= 0:
                    spans.append((item_start, item_end))
                return i, spans
        elif depth == 1 and char == ",":
            if item_start >= 0:
                spans.append((item_start, item_end))
            item_start = item_end = -1
        elif depth == 1 and not char.isspace():
            if item_start < 0:
                item_start = i
            item_end = i + 1
        if not char.isspace():
            previous = char
        i += 1
    raise ValueError("flow list never closed")


def _quote_end(text: str, i: int, toml: bool) -> int:
    """The index after the string that starts at ``text[i]``."""
    quote = text[i]
    if toml and text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        if end < 0:
            raise ValueError("string never closed")
        end += 3
        while end < len(text) and text[end] == quote:  # """a"""" ends with the last three
            end += 1
        return end
    j = i + 1
    while j < len(text):
        if quote == '"' and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            if quote == "'" and not toml and text.startswith("''", j):
                j += 2
                continue
            return j + 1
        j += 1
    raise ValueError("string never closed")


def _load_item(text: str, toml: bool) -> Any:
    if toml:
        import tomllib

        try:
            return tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            return None
    import yaml

    try:
        loaded = yaml.safe_load(f"[{text}]")
    except yaml.YAMLError:
        return None
    return loaded[0] if isinstance(loaded, list) and len(loaded) == 1 else None


def _quote_style(item: str) -> str | None:
    return item[0] if item[:1] in ("'", '"') else None


def _edit_flow(
    text: str, start: int, edit: KeyEdit, toml: bool, render: Callable[[Any, str | None], str]
) -> str:
    """``text`` with the flow list at ``start`` edited (``add`` or ``remove``)."""
    close, spans = _flow_spans(text, start, toml)
    if edit.action == "remove":
        assert edit.drop is not None
        keep = [not edit.drop(_load_item(text[a:b], toml)) for a, b in spans]
        if all(keep):
            return text
        if not any(keep):
            return text[:start] + "[]" + text[close + 1 :]
        out = text
        for n in range(len(spans) - 1, -1, -1):
            if keep[n]:
                continue
            a, b = spans[n]
            if n + 1 < len(spans):  # up to the next item
                b = spans[n + 1][0]
            else:  # from the end of the previous kept item
                a = spans[n - 1][1]
            out = out[:a] + out[b:]
            spans = spans[:n] + [(x - (b - a), y - (b - a)) for x, y in spans[n + 1 :]]
        return out
    items = list(edit.value)
    style = _quote_style(text[spans[-1][0] : spans[-1][1]]) if spans else None
    rendered = [render(v, style) for v in items]
    if not spans:
        inner = text[start + 1 : close]
        pad = " " if inner.startswith(" ") else ""
        return text[: start + 1] + pad + ", ".join(rendered) + pad + text[close:]
    separator = ", "
    if len(spans) > 1:
        between = text[spans[-2][1] : spans[-1][0]]
        if "#" not in between:
            separator = between
    elif "\n" in text[start:close]:  # one item a line
        indent = text[: spans[0][0]].rsplit("\n", 1)[-1]
        separator = ",\n" + indent
    end = spans[-1][1]
    return text[:end] + "".join(separator + r for r in rendered) + text[end:]


# -- YAML ----------------------------------------------------------------------------------------


def _key_of(line: str) -> str | None:
    match = _KEY.match(line)
    if not match:
        return None
    return next(g for g in match.groups() if g is not None).strip()


def _split_comment(rest: str) -> tuple[str, str]:
    """The text after ``key:`` cut into (value, comment): the comment starts with the spaces
    before a ``#`` that is outside quotes."""
    quote = ""
    for i, char in enumerate(rest):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"" and (i == 0 or rest[i - 1] in " \t[{,:"):
            quote = char
        elif char == "#" and (i == 0 or rest[i - 1] in " \t"):
            value = rest[:i].rstrip()
            return value, rest[len(value) :]
    return rest.rstrip(), rest[len(rest.rstrip()) :]


class _Yaml:
    """The lines of YAML front matter (without fences), edited key by key."""

    def __init__(self, lines: list[str], line0: int) -> None:
        self.lines = lines
        self.line0 = line0

    # finding keys

    def starts(self) -> list[tuple[int, str]]:
        return [(i, k) for i, line in enumerate(self.lines) if (k := _key_of(line)) is not None]

    def end(self, start: int) -> int:
        """The index after the last line of the key at ``start``: indented lines, items of an
        indentless list, and blank lines or comment lines that such lines follow."""
        lines = self.lines
        end = start + 1
        bracket = self._bracket(start)
        if bracket is not None:  # a flow list may close at column 0
            text = "\n".join(lines[start:])
            try:
                close, _ = _flow_spans(text, bracket, False)
            except ValueError:
                pass
            else:
                end = start + text.count("\n", 0, close) + 1
        ahead = end
        while ahead < len(lines):
            line = lines[ahead]
            if (line[:1] in (" ", "\t") and line.strip()) or (
                _ITEM.match(line) and not line.startswith(("---", "..."))
            ):
                end = ahead = ahead + 1
            elif not line.strip() or line.startswith("#"):
                ahead += 1
            else:
                break
        return end

    def _bracket(self, start: int) -> int | None:
        """Where the ``[`` of the key at ``start`` is in its lines joined by newlines, when
        its value is a flow list (on the key's line, or alone on the next)."""
        line = self.lines[start]
        match = _KEY.match(line)
        if match is None:
            return None
        value, _ = _split_comment(line[match.end() :])
        if value.strip().startswith("["):
            return match.end() + line[match.end() :].index("[")
        following = self.lines[start + 1] if start + 1 < len(self.lines) else ""
        if not value.strip() and following.lstrip().startswith("["):
            return len(line) + 1 + len(following) - len(following.lstrip())
        return None

    def find(self, edit: KeyEdit) -> list[int]:
        starts = self.starts()
        if edit.exact:
            found = [i for i, k in starts if k == edit.key]
            if found:
                return found
            folded = [i for i, k in starts if k.lower() == edit.key.lower()]
            return folded if len(folded) == 1 else []
        return [i for i, k in starts if k.lower() in edit.names]

    # the note's style, for what is new

    def list_indent(self) -> tuple[bool, str]:
        """(whether the note writes lists in flow style, the indent of block list items)."""
        flow = block = 0
        indent = ""
        for i, _ in self.starts():
            value, _ = _split_comment(self.lines[i].split(":", 1)[1])
            if value.strip().startswith("["):
                flow += 1
            elif not value.strip() and i + 1 < len(self.lines):
                item = _ITEM.match(self.lines[i + 1])
                if item:
                    if not block:
                        indent = item.group("indent")
                    block += 1
        return flow > block, indent

    def quote(self) -> str:
        doubles = sum(1 for line in self.lines if re.search(r':[ \t]+"', line))
        singles = sum(1 for line in self.lines if re.search(r":[ \t]+'", line))
        return '"' if doubles > singles else "'"

    # edits

    def apply(self, edit: KeyEdit) -> None:
        found = self.find(edit)
        if edit.action == "delete":
            for start in reversed(found):
                del self.lines[start : self.end(start)]
            return
        if edit.action == "remove":
            for start in reversed(found):
                self._remove(start, edit)
            return
        if not found:
            if edit.action == "add":
                edit = KeyEdit("set", edit.key, value=list(edit.value), rank=edit.rank,
                               order=edit.order)  # fmt: skip
            self._insert(edit)
            return
        start = found[0]
        if edit.action == "set":
            for other in reversed(found[1:]):  # "tag:" beside "tags:": one key remains
                del self.lines[other : self.end(other)]
            self._set(start, edit)
        else:
            self._add(start, edit)

    def _parts(self, start: int) -> tuple[str, str, str, str]:
        """The key's first line as (through the colon, spaces, value, comment)."""
        line = self.lines[start]
        match = _KEY.match(line)
        assert match is not None
        head, rest = line[: match.end()], line[match.end() :]
        value, comment = _split_comment(rest)
        stripped = value.lstrip(" \t")
        return head, value[: len(value) - len(stripped)], stripped, comment

    def _kind(self, start: int) -> str:
        _, _, value, _ = self._parts(start)
        end = self.end(start)
        content = [line for line in self.lines[start + 1 : end] if line.strip()]
        content = [line for line in content if not line.lstrip().startswith("#")]
        if not value:
            if not content:
                return "empty"
            if _ITEM.match(content[0]):
                return "block"
            return "flow" if self._bracket(start) is not None else "other"
        if value.startswith("["):
            return "flow"
        if value[0] in "{|>&*!":
            return "other"
        if content:
            return "multiline"
        return "quoted" if value[0] in "'\"" else "plain"

    def _set(self, start: int, edit: KeyEdit) -> None:
        head, space, old, comment = self._parts(start)
        end = self.end(start)
        kind = "other" if edit.plain_rewrite else self._kind(start)
        value = edit.value
        if isinstance(value, (list, tuple)):
            new = self._list_lines(head, space, comment, kind, start, list(value))
        elif kind in ("plain", "quoted") and not (isinstance(value, str) and "\n" in value):
            style = _quote_style(old) if kind == "quoted" else None
            new = [head + (space or " ") + self._scalar(value, style) + comment]
        else:
            new = self._dumped(head[:-1], value)
        self.lines[start:end] = new

    def _scalar(self, value: Any, style: str | None) -> str:
        """``value`` in ``style``, or plain, or in the note's quotes when it must be quoted."""
        rendered = yaml_scalar(value, style)
        if style is None and rendered.startswith("'") and self.quote() == '"':
            rendered = yaml_scalar(value, '"')
        return rendered

    def _list_lines(
        self, head: str, space: str, comment: str, kind: str, start: int, items: list[Any]
    ) -> list[str]:
        if kind == "block":
            first = next(
                m for line in self.lines[start + 1 : self.end(start)] if (m := _ITEM.match(line))
            )
            item_lines = self.lines[start + 1 : self.end(start)]
            styles = [
                _quote_style(line[m.end() :]) for line in item_lines if (m := _ITEM.match(line))
            ]
            style = styles[-1] if styles else None
            indent = first.group("indent")
            return [head + comment] + [f"{indent}- {yaml_scalar(v, style)}" for v in items]
        if kind == "flow" and "\n" not in "".join(self.lines[start : self.end(start)]):
            _, _, old, _ = self._parts(start)
            try:
                _, spans = _flow_spans(old, 0, False)
            except ValueError:
                spans = []
            style = _quote_style(old[spans[-1][0] :]) if spans else None
            inner = " " if old.startswith("[ ") else ""
            rendered = ", ".join(yaml_scalar(v, style, flow=True) for v in items)
            return [head + space + f"[{inner}{rendered}{inner}]" + comment]
        if not items:
            return [head + (space or " ") + "[]" + comment]
        flow, indent = self.list_indent()
        if flow:
            rendered = ", ".join(yaml_scalar(v, None, flow=True) for v in items)
            return [head + " " + f"[{rendered}]" + comment]
        return [head + comment] + [f"{indent}- {yaml_scalar(v)}" for v in items]

    def _dumped(self, key: str, value: Any) -> list[str]:
        from papernotes.note.dump import dump_meta

        if isinstance(value, dt.date):
            return [f"{key}: {value.isoformat()}"]
        text = dump_meta({"k": value}).rstrip("\n")
        return (key + text[1:]).split("\n")

    def _insert(self, edit: KeyEdit) -> None:
        """A key the note lacks: after the nearest key that precedes it in the canonical
        order, else before the first that follows it; an unknown key last."""
        raw = _key_text(edit.key)
        order = list(edit.order)
        ranked = [
            (order.index(c), i) for i, k in self.starts() if (c := _canonical(k, order)) is not None
        ]
        before = [(r, i) for r, i in ranked if edit.rank is not None and r < edit.rank]
        after = [i for r, i in ranked if edit.rank is not None and r > edit.rank]
        if before:
            at = self.end(max(before)[1])
        elif after:
            at = min(after)
        else:
            at = len(self.lines)
            while at > 0 and not self.lines[at - 1].strip():
                at -= 1
        value = edit.value
        if isinstance(value, (list, tuple)):
            new = self._list_lines(raw + ":", " ", "", "new", at, list(value))
        elif isinstance(value, str) and "\n" in value:
            new = self._dumped(raw, value)
        else:
            new = [f"{raw}: {self._scalar(value, None)}"]
        self.lines[at:at] = new

    def _add(self, start: int, edit: KeyEdit) -> None:
        kind = self._kind(start)
        end = self.end(start)
        items = list(edit.value)
        if kind == "block":
            matches = [(j, m) for j in range(start + 1, end) if (m := _ITEM.match(self.lines[j]))]
            indent = matches[0][1].group("indent")
            last, match = [(j, m) for j, m in matches if m.group("indent") == indent][-1]
            style = _quote_style(self.lines[last][match.end() :])
            after = max(j for j in range(start, end) if self.lines[j].strip())
            new = [f"{indent}- {yaml_scalar(v, style)}" for v in items]
            self.lines[after + 1 : after + 1] = new
        elif kind == "flow":
            self._flow(start, end, edit)
        elif kind in ("plain", "quoted"):
            self._string_list(start, edit)
        elif kind == "empty":
            head, _, _, comment = self._parts(start)
            self.lines[start:end] = self._list_lines(head, " ", comment, "new", start, items)
        else:
            raise EditError(self.line0 + start, f"cannot add to {_key_of(self.lines[start])!r} "
                            "in place (edit it by hand)")  # fmt: skip

    def _remove(self, start: int, edit: KeyEdit) -> None:
        kind = self._kind(start)
        end = self.end(start)
        assert edit.drop is not None
        if kind == "block":
            head, _, _, comment = self._parts(start)
            indent = next(m for line in self.lines[start + 1 : end] if (m := _ITEM.match(line)))
            items = _block_items(self.lines, start + 1, end, indent.group("indent"))
            gone = [(a, b) for a, b in items if edit.drop(_load_block_item(self.lines[a:b]))]
            if len(gone) == len(items):
                self.lines[start:end] = [head + " []" + comment]
                return
            for a, b in reversed(gone):
                del self.lines[a:b]
        elif kind == "flow":
            self._flow(start, end, edit)
        elif kind in ("plain", "quoted"):
            self._string_list(start, edit)
        elif kind != "empty":
            raise EditError(self.line0 + start, f"cannot remove from {_key_of(self.lines[start])!r}"
                            " in place (edit it by hand)")  # fmt: skip

    def _flow(self, start: int, end: int, edit: KeyEdit) -> None:
        text = "\n".join(self.lines[start:end])
        bracket = self._bracket(start)
        assert bracket is not None
        try:
            new = _edit_flow(text, bracket, edit, False, lambda v, s: yaml_scalar(v, s, flow=True))
        except ValueError:
            raise EditError(self.line0 + start, "a flow list that never closes") from None
        self.lines[start:end] = new.split("\n")

    def _string_list(self, start: int, edit: KeyEdit) -> None:
        head, space, old, comment = self._parts(start)
        style = _quote_style(old)
        loaded = _load_item(old, False)
        text = str(loaded) if loaded is not None else old
        edited = _edit_string_list(text, edit)
        if edited is None:  # one value: a flow list from now on
            items = [text.strip(), *edit.value] if edit.action == "add" else []
            rendered = ", ".join(yaml_scalar(v, style, flow=True) for v in items)
            self.lines[start] = head + (space or " ") + f"[{rendered}]" + comment
            return
        new = yaml_scalar(edited, style) if edited else "[]"
        self.lines[start] = head + (space or " ") + new + comment


def _edit_string_list(text: str, edit: KeyEdit) -> str | None:
    """A comma (or, for tags, space) separated string with items added or removed; None for
    a single value without separators that gains an item (it becomes a list)."""
    if "," in text:
        pieces = text.split(",")
        separator = ", " if all(p.startswith(" ") for p in pieces[1:]) else ","
    elif edit.split_spaces and len(text.split()) > 1:
        pieces = text.split()
        separator = " "
    else:
        if edit.action == "add":
            return None
        pieces = [text]
        separator = ", "
    words = [p.strip() for p in pieces if p.strip()]
    if edit.action == "add":
        hashed = bool(words) and all(w.startswith("#") for w in words)
        words += [f"#{v}" if hashed else str(v) for v in edit.value]
    else:
        assert edit.drop is not None
        words = [w for w in words if not edit.drop(w)]
    return separator.join(words)


def _block_items(lines: list[str], start: int, end: int, indent: str) -> list[tuple[int, int]]:
    """(first, after last) line of each item of a block list at ``indent``."""
    items: list[tuple[int, int]] = []
    for j in range(start, end):
        match = _ITEM.match(lines[j])
        if match and match.group("indent") == indent:
            items.append((j, j + 1))
        elif items and lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) > len(indent):
            items[-1] = (items[-1][0], j + 1)
    return items


def _load_block_item(lines: list[str]) -> Any:
    import yaml

    text = "\n".join(lines)
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return loaded[0] if isinstance(loaded, list) and len(loaded) == 1 else None


def _canonical(key: str, order: Sequence[str]) -> str | None:
    low = key.lower()
    if low in order:
        return low
    plural = {"alias": "aliases", "tag": "tags", "author": "authors", "topic": "topics"}.get(low)
    return plural if plural in order else None


def _key_text(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key) else json.dumps(key)


# -- TOML ----------------------------------------------------------------------------------------


class _Toml:
    """The lines of TOML front matter (without fences): top-level keys only, before any
    ``[table]``."""

    def __init__(self, lines: list[str], line0: int) -> None:
        self.lines = lines
        self.line0 = line0

    def keys(self) -> tuple[list[tuple[int, int, str]], int]:
        """((first line, after last line, key) of each top-level key, the first table line)."""
        out: list[tuple[int, int, str]] = []
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            match = _TOML_KEY.match(line.lstrip())
            if match:
                key = next(g for g in match.groups() if g is not None)
                end = self._value_end(i, line.index("=") + 1)
                out.append((i, end, key))
                i = end
                continue
            if _TOML_TABLE.match(line):
                return out, i
            i += 1
        return out, len(self.lines)

    def _value_end(self, i: int, at: int) -> int:
        text = "\n".join(self.lines[i:])
        offset = at
        while offset < len(text) and text[offset] in " \t":
            offset += 1
        try:
            if text.startswith("[", offset):
                close, _ = _flow_spans(text, offset, True)
                stop = close
            elif text[offset : offset + 1] in ("'", '"'):
                stop = _quote_end(text, offset, True) - 1
            else:
                stop = offset
        except ValueError:
            raise EditError(self.line0 + i, "a TOML value that never ends") from None
        return i + text.count("\n", 0, stop) + 1

    def find(self, edit: KeyEdit) -> list[tuple[int, int, str]]:
        keys, _ = self.keys()
        if edit.exact:
            found = [k for k in keys if k[2] == edit.key]
            folded = [k for k in keys if k[2].lower() == edit.key.lower()]
            return found or (folded if len(folded) == 1 else [])
        return [k for k in keys if k[2].lower() in edit.names]

    def apply(self, edit: KeyEdit) -> None:
        found = self.find(edit)
        if edit.action == "delete":
            for start, end, _ in reversed(found):
                del self.lines[start:end]
            return
        if not found:
            if edit.action == "remove":
                return
            self._insert(edit)
            return
        if edit.action == "set":
            for start, end, _ in reversed(found[1:]):
                del self.lines[start:end]
        start, end, _ = found[0]
        if edit.action == "remove":
            for a, b, _ in reversed(found):
                self._change_list(a, b, edit)
            return
        if edit.action == "add":
            self._change_list(start, end, edit)
            return
        text = "\n".join(self.lines[start:end])
        eq = text.index("=") + 1
        rest = text[eq:]
        space = rest[: len(rest) - len(rest.lstrip(" \t"))]
        value_text = rest.lstrip(" \t")
        comment = ""
        if end == start + 1:
            value_part, comment = _toml_comment(value_text)
        else:
            value_part = value_text
        style = _quote_style(value_part)
        if isinstance(edit.value, (list, tuple)) and value_part.startswith("["):
            _, spans = _flow_spans(value_part, 0, True)
            style = _quote_style(value_part[spans[-1][0] :]) if spans else None
        self.lines[start:end] = [
            text[:eq] + (space or " ") + toml_value(edit.value, style) + comment
        ]

    def _change_list(self, start: int, end: int, edit: KeyEdit) -> None:
        text = "\n".join(self.lines[start:end])
        eq = text.index("=") + 1
        value = text[eq:].lstrip(" \t")
        at = len(text) - len(value)
        if value.startswith("["):
            try:
                new = _edit_flow(text, at, edit, True, lambda v, s: toml_value(v, s))
            except ValueError:
                raise EditError(self.line0 + start, "a TOML array that never closes") from None
            self.lines[start:end] = new.split("\n")
            return
        value_part, comment = _toml_comment(value)
        loaded = _load_item(value_part, True)
        if not isinstance(loaded, str):
            raise EditError(self.line0 + start, "not a list; cannot add to it in place")
        edited = _edit_string_list(loaded, edit)
        if edited is None:
            items = [loaded.strip(), *edit.value] if edit.action == "add" else []
            rendered = toml_value(items, _quote_style(value_part))
        else:
            rendered = toml_value(edited, _quote_style(value_part)) if edited else "[]"
        self.lines[start:end] = [text[:at] + rendered + comment]

    def _insert(self, edit: KeyEdit) -> None:
        keys, table = self.keys()
        order = list(edit.order)
        ranked = [(order.index(c), s, e) for s, e, k in keys if (c := _canonical(k, order))]
        before = [(r, e) for r, _, e in ranked if edit.rank is not None and r < edit.rank]
        after = [s for r, s, _ in ranked if edit.rank is not None and r > edit.rank]
        if before:
            at = max(before)[1]
        elif after:
            at = min(after)
        else:
            at = keys[-1][1] if keys else table
        value = list(edit.value) if isinstance(edit.value, tuple) else edit.value
        singles = sum(line.count("'") for line in self.lines)
        style = "'" if singles > sum(line.count('"') for line in self.lines) else None
        self.lines[at:at] = [f"{_key_text(edit.key)} = {toml_value(value, style)}"]


def _toml_comment(value: str) -> tuple[str, str]:
    """A one-line TOML value cut into (value, trailing spaces and comment)."""
    i = 0
    while i < len(value):
        char = value[i]
        if char in "'\"":
            try:
                i = _quote_end(value, i, True)
            except ValueError:
                break
            continue
        if char == "#":
            stripped = value[:i].rstrip()
            return stripped, value[len(stripped) :]
        i += 1
    stripped = value.rstrip()
    return stripped, value[len(stripped) :]
