"""What a note means beyond its front matter, as people write notes: Dataview inline fields
(``Title:: ...``) below the front matter, the title when there is no ``title:`` key, the
``## Abstract`` section as the abstract, a read date meaning read, a Jekyll or Obsidian
``date:`` as the day the note was added, and the ``# Author - Title - Year`` heading of a
literature note. The front matter always wins: these only fill fields it leaves empty."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from papernotes.note import inline, normalize, sections

if TYPE_CHECKING:
    from papernotes.note.parse import Draft

# Written to run in linear time: "(.+?)\s*#*\s*$" took minutes on a heading with a few
# thousand spaces in it. The closing "#"s and spaces are stripped by heading_text().
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)

# Section headings of note templates: "# Notes" is where the reader writes, not the title.
TEMPLATE_HEADINGS = frozenset(
    (
        *("notes", "note", "my notes", "reading notes", "literature notes", "summary"),
        *("abstract", "annotations", "highlights", "comments", "contents", "overview"),
        *("table of contents", "introduction", "metadata", "references", "key points"),
        *("takeaways", "thoughts", "questions", "todo", "tl;dr", "tldr"),
    )
)

# Inline keys of Zotero templates for Obsidian: "FirstAuthor:: Amoore, Louise" followed by
# one "Author::" line for each other author.
INLINE_SYNONYMS = {"firstauthor": "authors"}
LIST_FIELDS = ("aliases", "authors", "topics", "tags", "related")
_YEAR_PART = re.compile(r"(?:[A-Za-z]+\.?\s+)?(?:\d{1,2},?\s+)?(\d{4})")


def read_inline_fields(draft: Draft) -> None:
    """Dataview inline fields of the body: a known field the front matter leaves empty is
    filled from them, any other key is kept among the extra keys (unless the front matter
    has it). A value a field cannot use is reported at its line (its text stays in the body)."""
    from papernotes.note.parse import field_name

    found = inline.fields(draft.part.body)
    if not found:
        return
    known: dict[str, list[inline.InlineField]] = {}
    other: dict[str, list[inline.InlineField]] = {}
    for item in found:
        lower = item.key.lower()
        name = field_name(item.key) or INLINE_SYNONYMS.get(lower)
        if name == "id":
            continue  # a note's id comes from its front matter or its file name
        if name is None:
            other.setdefault(lower, []).append(item)
        else:
            known.setdefault(name, []).append(item)
    for name, items in known.items():
        if name in draft.fields:
            continue
        exact = [i for i in items if i.key.lower() == name]
        chosen = exact or sorted(items, key=lambda i: i.key.lower() != "firstauthor")
        line = _file_line(draft, chosen[0].line)
        if draft.put(name, chosen[0].key, _value(name, chosen), line):
            draft.key_lines.setdefault(name, line)
    taken = {key.lower() for key in draft.extra}
    for lower, items in other.items():
        if lower in taken:
            continue
        values = list(dict.fromkeys(i.value for i in items))
        draft.extra[items[0].key] = values[0] if len(values) == 1 else values
        draft.key_lines.setdefault(items[0].key, _file_line(draft, items[0].line))


def _value(name: str, items: list[inline.InlineField]) -> Any:
    """What a field reads from its inline values: a list field every value (or one string,
    which its normaliser splits), wikilinks as their targets; another field the first."""
    if name not in LIST_FIELDS:
        return inline.plain_links(items[0].value)
    values: list[str] = []
    for item in items:
        targets = inline.link_targets(item.value)
        values.extend(targets if targets is not None else [inline.plain_links(item.value)])
    # "authors:: A, B" is a list in one string; "Author:: Amoore, Louise" is one name
    one_string = len(values) == 1 and items[0].key.lower() == name
    return values[0] if one_string else values


def _file_line(draft: Draft, body_line: int) -> int:
    return draft.part.body_line + body_line - 1


def title(draft: Draft, default_id: str, understood: bool) -> str:
    """The note's title: ``title:`` (or ``Title::``); else its first ``# heading`` (``#
    Author - Title - Year`` gives authors and year too); else, when that heading is a
    template's (``# Notes``), the first alias; else the file name. Each guess is a warning;
    not ``understood``: the heading or the file name only."""
    given = draft.fields.get("title")
    if given:
        return str(given)
    part = draft.part
    why = "no front matter" if part.kind == "none" else "no title in the front matter"
    heading = _HEADING.search(part.body)
    text = _heading_text(heading.group(1)) if heading else ""
    if text and (not understood or text.lower().rstrip(":") not in TEMPLATE_HEADINGS):
        line = part.body_line + part.body.count("\n", 0, heading.start()) if heading else 1
        if understood and _split_heading(draft, text):
            draft.say(line, f"{why}; title, authors and year taken from the heading", "warning")
            return str(draft.fields["title"])
        draft.say(line, f"{why}; title taken from the heading", "warning")
        return text
    aliases = draft.fields.get("aliases") or []
    if text and aliases:
        draft.say(draft.line_of("aliases"), f"{why}; title taken from the first alias", "warning")
        return str(aliases[0])
    if text:  # a template's heading and nothing better: the file name says more than "Notes"
        message = f"{why}; title taken from the file name, not the heading {text!r}"
        draft.say(draft.line_of("title"), message, "warning")
        return default_id
    if part.kind == "none":
        message, strict = "no front matter and no '# heading'", ": missing title"
    else:
        message, strict = "missing title (add 'title:' to the front matter)", ""
    if draft.severity == "error":
        draft.say(draft.line_of("title"), message + strict)
        return ""
    draft.say(draft.line_of("title"), f"{message}; title taken from the file name", "warning")
    return default_id


def _heading_text(text: str) -> str:
    from papernotes.note.parse import heading_text

    return heading_text(text).strip()


def _split_heading(draft: Draft, text: str) -> bool:
    """A literature note's ``# Sönke Ahrens - How To Take Smart Notes - 2017``: title,
    authors and year, each where the note has none."""
    parts = text.split(" - ")
    year = _YEAR_PART.fullmatch(parts[-1].strip())
    if len(parts) < 3 or not year or not parts[0].strip() or not 1000 <= int(year[1]) <= 2999:
        return False
    draft.fields["title"] = " - ".join(parts[1:-1]).strip()
    draft.fields.setdefault("authors", normalize.authors(parts[0]))
    draft.fields.setdefault("year", int(year[1]))
    return True


def derive(draft: Draft) -> None:
    """Fields that follow from others: the abstract from the ``## Abstract`` section, the
    day added from ``date:``, status ``read`` from a read date when no status is given, the
    year from a tag that is one."""
    fields, part = draft.fields, draft.part
    if "abstract" not in fields:
        found = sections.abstract_section(part.body)
        if found is not None:
            fields["abstract"] = found.text
            line = part.body_line + part.body.count("\n", 0, found.start)
            draft.key_lines.setdefault("abstract", line)
    if "added" not in fields:
        _added_from_date(draft)
    has_status = any(key.lower() == "status" for key in draft.extra)
    if "status" not in fields and not has_status and fields.get("read"):
        fields["status"] = "read"
    _year_from_tags(draft)


def _year_from_tags(draft: Draft) -> None:
    """Jekyll blogs of paper notes tag a note with the paper's year (papers-I-read: all 145
    notes, ``tags: ['2015', 'ICCV 2015', VQA]``, and no year key): a note with no year and
    no ``published`` date (as a field, as text kept from a bad value, or inline) takes the
    year of its one tag that is a year. Two such tags say nothing. (Obsidian refuses a tag
    of digits only, so ``#2023`` is no vault's "read in 2023" tag.)"""
    fields = draft.fields
    if "year" in fields or "published" in fields:
        return
    if any(key.lower() in ("year", "published") for key in draft.extra):
        return
    found: set[int] = set()
    for tag in fields.get("tags", ()):
        if len(tag) == 4:
            try:
                found.add(normalize.year(tag))
            except ValueError:
                continue
    if len(found) == 1:
        fields["year"] = found.pop()
        draft.key_lines.setdefault("year", draft.line_of("tags"))


def _added_from_date(draft: Draft) -> None:
    """Jekyll's and many Obsidian templates' ``date:`` is the day the note was written: the
    day it was added (not when the paper appeared: a blog post of 2017 summarises a paper
    of 2015). One that is no date stays an extra key, without a word."""
    for key in list(draft.extra):
        if key.lower() != "date":
            continue
        try:
            draft.fields["added"] = normalize.date(draft.extra[key])
        except ValueError:
            return
        draft.key_lines.setdefault("added", draft.line_of(key))
        del draft.extra[key]
        return
