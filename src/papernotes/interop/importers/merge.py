"""Merging an imported paper into an existing note: add what is missing, change nothing else.

Front matter is edited as text, not re-dumped: a missing key is inserted after the key that
precedes it in the canonical order, a missing list item is appended to a block list with the
note's own indentation, and every other line (comments included) stays as it was. A flow list
(``aliases: [DPO]``) or a one-string list (``tags: a, b``) that gains items is the only thing
rewritten, as a whole key. Body text is added paragraph by paragraph, at the end of the section
of the same heading or in a new section; a paragraph already in the note (or a slightly edited
copy of it) is not added again. The result is parsed back and compared with what was expected
before anything is returned: a merge that would change a value is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from papernotes.interop.cite import CITEKEY, CITEKEYS, key_list, new_keys, own_keys
from papernotes.note import normalize
from papernotes.note.dump import dump_meta
from papernotes.note.frontmatter import FrontMatterError, load, split
from papernotes.note.model import KNOWN_KEYS, Paper
from papernotes.note.parse import SYNONYMS, heading_text, parse_text

LIST_KEYS = ("aliases", "authors", "topics", "tags", "related")
SCALAR_KEYS = tuple(k for k in KNOWN_KEYS if k not in LIST_KEYS and k not in ("id", "title"))
SOURCE_HEADING = "Source"  # importers' provenance section; new sections go before it
FUZZY_MIN = 80  # paragraphs at least this long count as present when nearly equal
FUZZY_SCORE = 90
SHORT = 40  # shorter paragraphs and items are present only as a whole line

# linear-time forms (see papernotes.note.parse): a lazy group before "\s*" is quadratic or worse
_KEY = re.compile(r"""^(?:"(?P<d>[^"]+)"\s*|'(?P<s>[^']+)'\s*|(?P<p>[^\s#'"\-?:][^:]*)):(?:\s|$)""")
_TOML_KEY = re.compile(r"""^\s*(?:"(?P<d>[^"]+)"|'(?P<s>[^']+)'|(?P<p>[A-Za-z0-9_-]+))\s*=""")
_HEADING = re.compile(r"^(#{1,6})\s+(.+)$")  # group 2 through heading_text()
_FENCE = re.compile(r"^\s*(```|~~~)")
_ITEM = re.compile(r"^\s*[-*+]\s+")


class MergeRefused(Exception):
    """The note cannot be merged without changing what is in it; nothing is written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Merged:
    """The merged note's text and paper, and what was added (empty: nothing to do)."""

    text: str
    paper: Paper
    added: tuple[str, ...]


def merge_note(text: str, existing: Paper, incoming: Paper, path: str) -> Merged:
    """Add to note ``text`` (whose parsed form is ``existing``) what ``incoming`` has and the
    note lacks. Raises :class:`MergeRefused` when that cannot be done safely."""
    changes = field_changes(existing, incoming)
    body, body_added = merge_body(existing.body, incoming.body)
    if not changes and not body_added:
        return Merged(text, existing, ())
    bom = text.startswith("\ufeff")
    plain = text.removeprefix("\ufeff")
    crlf = plain.count("\r\n") * 2 > plain.count("\n")
    plain = plain.replace("\r\n", "\n")
    try:
        head = _merge_head(plain, changes)
    except FrontMatterError as exc:
        raise MergeRefused(f"{path}:{exc.line}: {exc.message}") from None
    merged = head + body
    paper = _verify(merged, existing, changes, body, path)
    if crlf:
        merged = merged.replace("\n", "\r\n")
    added = [_describe(name, new) for name, (_, new) in changes.items()] + body_added
    return Merged(("\ufeff" if bom else "") + merged, paper, tuple(added))


def field_changes(existing: Paper, incoming: Paper) -> dict[str, tuple[Any, list[Any]]]:
    """Front-matter keys ``incoming`` adds to ``existing``: name -> (new value, what is new).
    A differing title becomes an alias; values ``existing`` already has are never replaced."""
    changes: dict[str, tuple[Any, list[Any]]] = {}
    for name in SCALAR_KEYS:
        value = getattr(incoming, name)
        if value is not None and getattr(existing, name) is None:
            changes[name] = (value, [value])
    for name in LIST_KEYS:
        have = list(getattr(existing, name))
        wanted = list(getattr(incoming, name))
        if name == "aliases":
            wanted.append(incoming.title)
            seen = {compact_key(v) for v in (existing.title, *have)}
        else:
            seen = {_item_key(name, v) for v in have}
        new: list[str] = []
        for value in wanted:
            key = compact_key(value) if name == "aliases" else _item_key(name, value)
            if key and key not in seen:
                seen.add(key)
                new.append(value)
        if new:
            changes[name] = (tuple(have + new), new)
    keys = new_keys(existing, incoming)  # a citation key of a folded BibTeX entry is kept
    if keys and not own_keys(existing) and keys[0] in key_list(incoming.extra.get(CITEKEY)):
        keys = keys[1:]  # the note takes it as its citekey (below)
    if keys:
        changes[CITEKEYS] = (tuple(key_list(existing.extra.get(CITEKEYS)) + keys), keys)
    known = {k.casefold() for k in existing.extra} | set(KNOWN_KEYS) | set(SYNONYMS) | {CITEKEYS}
    for key, value in incoming.extra.items():
        if key.casefold() not in known and value not in (None, "", [], {}):
            changes[key] = (value, [value])
    rank = {name: n for n, name in enumerate(KNOWN_KEYS)}
    return dict(sorted(changes.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def merge_body(body: str, incoming: str) -> tuple[str, list[str]]:
    """``body`` with the paragraphs and list items of ``incoming`` it lacks, each under the
    heading it has in ``incoming``; and a line per section saying what was added."""
    added: list[str] = []
    for heading, blocks in _sections(incoming):
        missing: list[str] = []
        for block in blocks:
            if not _present(block, body) and block not in missing:
                missing.append(block)
        if not missing:
            continue
        body = _insert(body, heading, missing)
        items = all(_ITEM.match(b) for b in missing)
        noun = "item" if items else "paragraph"
        count = len(missing)
        added.append(f"{heading or 'body'}: {count} {noun}{'' if count == 1 else 's'}")
    return body, added


# -- front matter ---------------------------------------------------------------------------


def _merge_head(text: str, changes: dict[str, tuple[Any, list[Any]]]) -> str:
    """The front matter (with its fences) of ``text`` with the changed keys set."""
    values = {name: value for name, (value, _) in changes.items()}
    part = split(text)
    if part.kind == "none":
        plain = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        return f"---\n{dump_meta(plain)}---\n"
    lines = text.split("\n")
    closer = part.body_line - 2  # index of the closing fence
    meta = lines[1:closer]
    raw_keys = [str(k) for k in load(part)]
    for name, value in values.items():
        raw = _raw_key(raw_keys, name)
        if part.kind == "toml":
            meta = _toml_set(meta, raw or name, value, part.meta_line)
        else:
            meta = _yaml_set(meta, name, raw, value, changes[name][1], part.meta_line)
    return "\n".join([lines[0], *meta, lines[closer]]) + "\n"


def _raw_key(raw_keys: Sequence[str], name: str) -> str | None:
    """How the note spells key ``name`` (``Tags``, ``tag``), when it has it."""
    for raw in raw_keys:
        low = raw.lower()
        if low == name.lower() or (name in LIST_KEYS and SYNONYMS.get(low) == name):
            return raw
    return None


def _key_of(line: str) -> str | None:
    match = _KEY.match(line)
    if not match:
        return None
    return next(g for g in match.groups() if g is not None).strip()


def _block(meta: list[str], start: int) -> int:
    """The index after the last line of the top-level key that starts at ``start``."""
    end = start + 1
    while end < len(meta):
        line = meta[end]
        if line[:1] in (" ", "\t", "-"):
            end += 1
        elif not line.strip():
            ahead = end
            while ahead < len(meta) and not meta[ahead].strip():
                ahead += 1
            if ahead < len(meta) and meta[ahead][:1] in (" ", "\t"):
                end = ahead
            else:
                break
        else:
            break
    return end


def _yaml_set(
    meta: list[str], name: str, raw: str | None, value: Any, new: list[Any], line0: int
) -> list[str]:
    keys = [(i, _key_of(line)) for i, line in enumerate(meta)]
    starts = [(i, k) for i, k in keys if k is not None]
    if raw is not None:
        found = [i for i, k in starts if k == raw]
        if len(found) != 1:
            why = "cannot find key" if not found else "two lines set key"
            at = line0 + (found[-1] if found else 0)
            raise FrontMatterError(at, f"{why} {raw!r}; not merged (add to it by hand)")
        start = found[0]
        end = _block(meta, start)
        after_colon = meta[start].split(":", 1)[1].split(" #")[0].strip()
        items = [j for j in range(start + 1, end) if _ITEM.match(meta[j])]
        if name in LIST_KEYS and not after_colon and items:
            indent = meta[items[0]][: len(meta[items[0]]) - len(meta[items[0]].lstrip())]
            last = max(j for j in range(start, end) if meta[j].strip())
            lines = [f"{indent}- {_inline(v)}" for v in new]
            return meta[: last + 1] + lines + meta[last + 1 :]
        return meta[:start] + _dumped(raw, value) + meta[end:]
    # a new key: after the nearest key that comes before it in the canonical order
    rank = KNOWN_KEYS.index(name) if name in KNOWN_KEYS else len(KNOWN_KEYS)
    best: int | None = None
    best_rank = -1
    for i, key in starts:
        canon = key.lower() if key.lower() in KNOWN_KEYS else SYNONYMS.get(key.lower())
        if canon is not None and best_rank < KNOWN_KEYS.index(canon) < rank:
            best, best_rank = i, KNOWN_KEYS.index(canon)
    if best is None or rank == len(KNOWN_KEYS):
        at = len(meta)
        while at > 0 and not meta[at - 1].strip():
            at -= 1
    else:
        at = _block(meta, best)
        while at > best + 1 and not meta[at - 1].strip():
            at -= 1
    return meta[:at] + _dumped(name, value) + meta[at:]


def _dumped(key: str, value: Any) -> list[str]:
    data = list(value) if isinstance(value, tuple) else value
    return dump_meta({key: data}).rstrip("\n").split("\n")


def _inline(value: Any) -> str:
    """``value`` as one line of YAML (a list item)."""
    text = yaml.safe_dump([value], allow_unicode=True, width=1_000_000, default_flow_style=False)
    return text.rstrip("\n").removeprefix("- ")


def _toml_set(meta: list[str], key: str, value: Any, line0: int) -> list[str]:
    rendered = f"{key} = {_toml_value(value, line0)}"
    for i, line in enumerate(meta):
        match = _TOML_KEY.match(line)
        if match and next(g for g in match.groups() if g is not None) == key:
            rest = line.split("=", 1)[1].split("#")[0].strip()
            if rest.startswith("[") and not rest.endswith("]"):
                raise FrontMatterError(
                    line0 + i, f"{key!r} spans several lines; not merged (add to it by hand)"
                )
            return [*meta[:i], rendered, *meta[i + 1 :]]
    return [*meta, rendered]


def _toml_value(value: Any, line0: int) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v, line0) for v in value) + "]"
    if isinstance(value, (bool, int, float, str)):
        return json.dumps(value, ensure_ascii=False)
    raise FrontMatterError(line0, f"cannot write a {type(value).__name__} in TOML; not merged")


# -- checking the result --------------------------------------------------------------------


def _verify(
    text: str, existing: Paper, changes: dict[str, tuple[Any, list[Any]]], body: str, path: str
) -> Paper:
    result = parse_text(text, path, stem=_stem(existing, path))
    paper = result.paper
    if paper is None:
        first = result.errors[0] if result.errors else None
        why = first.message if first else "does not parse"
        raise MergeRefused(f"{path}: the merged note would not parse ({why}); nothing written")
    for name in KNOWN_KEYS:
        expected = changes[name][0] if name in changes else getattr(existing, name)
        if getattr(paper, name) != expected:
            raise MergeRefused(f"{path}: merging would change {name!r}; nothing written")
    extra = dict(existing.extra)
    extra.update({k: normalize.plain(v[0]) for k, v in changes.items() if k not in KNOWN_KEYS})
    if dict(paper.extra) != extra or paper.body != body:
        raise MergeRefused(f"{path}: merging would change the note's text; nothing written")
    if not _subsequence(existing.body.split("\n"), body.split("\n")):
        raise MergeRefused(f"{path}: merging would change the note's body; nothing written")
    return replace(paper, path=existing.path or path)


def _stem(existing: Paper, path: str) -> str:
    return Path(existing.path or path).stem


def _subsequence(old: list[str], new: list[str]) -> bool:
    remaining = iter(new)
    return all(any(line == candidate for candidate in remaining) for line in old)


def _describe(name: str, new: list[Any]) -> str:
    if name in LIST_KEYS or name == CITEKEYS:
        return f"{name}: {', '.join(str(v) for v in new)}"
    text = str(new[0]) if new else ""
    return f"{name}: {text if len(text) <= 60 else text[:57] + '...'}"


def compact_key(title: str) -> str:
    """Titles equal after this are the same paper: :func:`normalize.title_key` with spaces
    removed too (text copied from PDFs joins or splits words: ``andInference``)."""
    return normalize.title_key(title).replace(" ", "")


def _item_key(name: str, value: str) -> str:
    if name == "related":
        return value
    return " ".join(normalize.fold(value).split())


# -- body -----------------------------------------------------------------------------------


def _sections(text: str) -> list[tuple[str, list[str]]]:
    """``text`` cut at its headings: (heading or "", blocks), where a block is a paragraph or,
    in a list, one item (with its continuation lines)."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    paragraph: list[str] = []

    def flush() -> None:
        if not paragraph:
            return
        if all(_ITEM.match(line) or line.startswith("  ") for line in paragraph):
            item: list[str] = []
            for line in paragraph:
                if _ITEM.match(line) and item:
                    sections[-1][1].append("\n".join(item))
                    item = []
                item.append(line)
            sections[-1][1].append("\n".join(item))
        else:
            sections[-1][1].append("\n".join(paragraph))
        paragraph.clear()

    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            flush()
            sections.append((heading_text(heading.group(2)), []))
        elif line.strip():
            paragraph.append(line.rstrip())
        else:
            flush()
    flush()
    return [(h, blocks) for h, blocks in sections if blocks]


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _present(block: str, body: str) -> bool:
    """Whether ``body`` already holds the text of ``block``."""
    key = _squash(_ITEM.sub("", block, count=1))
    if not key:
        return True
    if len(key) < SHORT:
        return any(_squash(_ITEM.sub("", line, count=1)) == key for line in body.split("\n"))
    whole = _squash(body)
    if key in whole:
        return True
    if len(key) < FUZZY_MIN or not whole:
        return False
    from rapidfuzz import fuzz

    return bool(fuzz.partial_ratio(key, whole, score_cutoff=FUZZY_SCORE))


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(index, level, text) of the Markdown headings outside code fences."""
    out: list[tuple[int, int, str]] = []
    fence: str | None = None
    for i, line in enumerate(lines):
        marker = _FENCE.match(line)
        if marker:
            fence = None if fence == marker.group(1) else (fence or marker.group(1))
            continue
        heading = _HEADING.match(line) if fence is None else None
        if heading:
            out.append((i, len(heading.group(1)), heading_text(heading.group(2))))
    return out


def _insert(body: str, heading: str, blocks: list[str]) -> str:
    lines = body.split("\n")
    headings = _headings(lines)
    for n, (index, level, text) in enumerate(headings):
        if heading and text.casefold() == heading.casefold():
            end = next((i for i, lv, _ in headings[n + 1 :] if lv <= level), len(lines))
            last = max(i for i in range(index, end) if lines[i].strip())
            lines[last + 1 : last + 1] = _render(blocks, lines[last])
            return "\n".join(lines)
    section = [f"## {heading}", *_render(blocks, "")] if heading else _render(blocks, "")
    if heading != SOURCE_HEADING and headings and headings[-1][2] == SOURCE_HEADING:
        at = headings[-1][0]
        lines[at:at] = [*section, ""]
        if at > 0 and lines[at - 1].strip():
            lines.insert(at, "")
        return "\n".join(lines)
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    lines[last + 1 : last + 1] = ["", *section] if heading else section
    if lines[-1] != "":
        lines.append("")
    return "\n".join(lines)


def _render(blocks: list[str], previous: str) -> list[str]:
    """Lines for ``blocks`` after line ``previous``: paragraphs a blank line apart, list items
    of one list together."""
    out: list[str] = []
    after_item = bool(_ITEM.match(previous))
    for block in blocks:
        item = bool(_ITEM.match(block))
        if not (item and after_item):
            out.append("")
        out.extend(block.split("\n"))
        after_item = item
    return out
