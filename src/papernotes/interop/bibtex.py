"""Papers -> BibTeX, for ``export --format bibtex``.

Entries are valid BibTeX that BibTeX, biber and pybtex read back to the same papers: arXiv
papers as ``@misc`` (or ``@article`` once published) with ``eprint``/``archivePrefix``/
``primaryClass``, conference papers as ``@inproceedings``, keys like ``rafailov2023direct``
(or the note's own ``citekey``; its other keys, ``citekeys``, as BibLaTeX ``ids``), special
characters escaped, words such as ``DPO`` or ``LLaMA`` protected from BibTeX's lower-casing.
A note imported from BibTeX gives back its entry type and the fields papernotes has no key for
(its ``bibtex`` mapping)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from papernotes.interop.cite import own_keys
from papernotes.interop.latex import to_latex
from papernotes.note.model import Paper

_BOOKTITLE_TYPES = {"inproceedings", "incollection", "inbook", "conference"}
_CONFERENCE = re.compile(
    r"\b(?:proceedings|proc\.|conference|conf\.|symposium|workshop|meeting|congress|colloquium"
    r"|neurips|nips|icml|iclr|acl|emnlp|naacl|eacl|coling|conll|cvpr|iccv|eccv|aaai|ijcai|kdd"
    r"|sigir|sigmod|vldb|icde|www|wsdm|cikm|recsys|aistats|uai|colt|interspeech|icassp|chi"
    r"|uist|osdi|sosp|nsdi|mlsys|colm|findings)\b",
    re.IGNORECASE,
)
_ORGANISATION = re.compile(
    r"\b(?:university|institute|organi[sz]ation|consortium|collaboration|team|group|association"
    r"|society|committee|council|foundation|agency|cent(?:er|re)|laborator(?:y|ies)|project"
    r"|inc|ltd|llc|corp(?:oration)?|company|department|ministry|network|alliance|commission"
    r"|bureau|initiative|research|labs?|ai)\b|&",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "on", "of", "in", "for", "to", "with", "and", "or", "at", "by", "from",
        "is", "are", "via", "towards", "toward", "do", "does", "can", "what", "how", "why",
        "when", "your", "our", "its",
    }
)  # fmt: skip
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_VALID_KEY = re.compile(r"^[^\s\"#%'(),={}]+$")  # what BibTeX reads as a key
_VALID_FIELD = re.compile(r"^[a-z][a-z0-9_:.-]*$")
_ABSTRACT = re.compile(r"^#{1,6}\s*abstract\s*\n(?P<text>.*?)(?=^#{1,6}\s|\Z)", re.I | re.M | re.S)


def to_bibtex(papers: Iterable[Paper], entry_keys: Sequence[str] | None = None) -> str:
    """BibTeX entries for ``papers``, one blank line apart, keys unique (``entry_keys``: the
    keys to use, as :func:`papernotes.interop.cite.keys` gives them)."""
    papers = list(papers)
    entry_keys = list(entry_keys) if entry_keys is not None else keys(papers)
    taken = {k.casefold() for k in entry_keys}  # other keys are BibLaTeX ids, each once
    entries = []
    for paper, key in zip(papers, entry_keys, strict=True):
        ids = [k for k in own_keys(paper) if k.casefold() not in taken and _VALID_KEY.match(k)]
        taken.update(k.casefold() for k in ids)
        entries.append(_entry(paper, key, ids))
    return "\n".join(entries)


def entry_type(paper: Paper) -> str:
    """The note's own BibTeX type when it was imported from BibTeX; else ``inproceedings``
    for a conference venue, ``article`` for another venue, ``misc`` for the rest."""
    kept = _kept(paper)
    stored = str(kept.get("type", "")).strip().lower()
    if re.fullmatch(r"[a-z]+", stored):
        return stored
    if paper.venue:
        return "inproceedings" if _CONFERENCE.search(paper.venue) else "article"
    return "misc"


def citation_key(paper: Paper, taken: set[str] | None = None) -> str:
    """The note's ``citekey`` when it has a usable one, else ``lastname`` + year + first
    significant title word (``rafailov2023direct``); a letter is added to make it unique."""
    taken = taken if taken is not None else set()
    own = str(paper.extra.get("citekey", "")).strip()
    if own and _VALID_KEY.match(own) and own.casefold() not in taken:
        taken.add(own.casefold())
        return own
    base = _generated_key(paper)
    key = base
    number = 1
    while key.casefold() in taken:
        key = base + _letters(number)
        number += 1
    taken.add(key.casefold())
    return key


def bibtex_name(name: str) -> str:
    """``Rafael Rafailov`` -> ``Rafailov, Rafael``; ``John von Neumann`` -> ``von Neumann,
    John``; an organisation (``OpenAI Team``) in braces, so BibTeX keeps it whole. Names are
    split by pybtex, with BibTeX's rules, so that reading the entry back gives ``name``."""
    name = " ".join(name.split())
    if not name:
        return "{}"
    words = name.split()
    # a word "and" (any case) would split the name in two: braced whole, like organisations
    joined = any(w.lower() == "and" for w in words)
    if len(words) == 1 or _ORGANISATION.search(name) or len(words) > 5 or "," in name or joined:
        return "{" + to_latex(name) + "}"
    first, von, last, lineage = _name_parts(name)
    out = " ".join(to_latex(w) for w in [*von, *last])
    if lineage:
        out += ", " + " ".join(to_latex(w) for w in lineage)
    if first:
        out += ", " + " ".join(to_latex(w) for w in first)
    return out


def is_organisation(name: str) -> bool:
    """Whether ``name`` is one name to keep whole (``OpenAI Team``, ``Meta``), not a person's."""
    words = name.split()
    joined = any(w.lower() == "and" for w in words)
    return len(words) <= 1 or bool(_ORGANISATION.search(name)) or len(words) > 5 or joined


def name_parts(name: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """First (with middle), von, last and Jr parts of a ``First von Last`` name, split with
    BibTeX's rules."""
    return _name_parts(" ".join(name.split()))


def _name_parts(name: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """First (with middle), von, last and Jr parts of a ``First von Last`` name."""
    import pybtex.errors
    from pybtex.database import Person

    with pybtex.errors.capture():
        person = Person(name)
    return (
        [*person.first_names, *person.middle_names],
        list(person.prelast_names),
        list(person.last_names),
        list(person.lineage_names),
    )


def _entry(paper: Paper, key: str, ids: Sequence[str]) -> str:
    kind = entry_type(paper)
    kept = _kept(paper)
    fields: list[tuple[str, str]] = []
    if ids:  # the paper's other citation keys (BibLaTeX; BibTeX ignores the field)
        fields.append(("ids", ", ".join(ids)))
    authors = [bibtex_name(a) for a in paper.authors]
    if str(kept.get("others", "")).lower() == "author":
        authors.append("others")
    if authors:
        fields.append(("author", " and ".join(authors)))
    fields.append(("title", protect_title(paper.title)))
    year = paper.year or _year_of(paper.published)
    if year:
        fields.append(("year", str(year)))
    month = _month_of(paper.published)
    if month:
        fields.append(("month", month))
    if paper.published and len(paper.published) == 10:
        fields.append(("date", paper.published))  # BibLaTeX's full date; BibTeX ignores it
    if paper.venue:
        name = "booktitle" if kind in _BOOKTITLE_TYPES else "journal"
        fields.append((name, to_latex(paper.venue)))
    for name, value in kept.items():
        lowered = name.lower()
        if lowered in _OWN_FIELDS or not _VALID_FIELD.match(lowered):
            continue
        fields.append((lowered, _verbatim(value)))
    if paper.doi:
        fields.append(("doi", _verbatim_plain(paper.doi)))
    if paper.url:
        fields.append(("url", _verbatim_plain(paper.url)))
    if paper.arxiv:
        fields.append(("eprint", paper.arxiv))
        fields.append(("archiveprefix", "arXiv"))
        primary = _primary_class(paper, kept)
        if primary:
            fields.append(("primaryclass", primary))
    if paper.tags:
        fields.append(("keywords", to_latex(", ".join(paper.tags))))
    abstract = paper.abstract or _abstract_in_body(paper.body)
    if abstract:
        fields.append(("abstract", to_latex(abstract)))
    lines = [f"@{kind}{{{key},"]
    for name, value in fields:
        if name == "month":
            lines.append(f"  {name} = {value},")  # a month macro: jan, feb, ...
        else:
            lines.append(f"  {name} = {{{value}}},")
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    return "\n".join(lines) + "\n"


# fields written from the Paper itself, never from the kept mapping
_OWN_FIELDS = frozenset(
    {
        "type", "others", "author", "title", "year", "date", "month", "journal", "journaltitle",
        "booktitle", "doi", "url", "eprint", "archiveprefix", "eprinttype", "primaryclass",
        "eprintclass", "keywords", "abstract", "ids",
    }
)  # fmt: skip


def protect_title(title: str) -> str:
    """``title`` escaped, with words BibTeX styles must not lower-case (``DPO``, ``LLaMA``,
    ``GPT-4``, ``BERTScore``) in braces."""
    out = []
    for word in re.split(r"(\s+)", " ".join(title.split())):
        lead, core, trail = _PUNCTUATION.match(word).groups()  # type: ignore[union-attr]
        latex = to_latex(core)
        if re.search(r"[A-Z]", core[1:]):
            latex = "{" + latex + "}"
        out.append(to_latex(lead) + latex + to_latex(trail))
    return "".join(out)


# the core ends at its last character that is not closing punctuation (a lazy core before the
# closing run was quadratic in the length of that run)
_PUNCTUATION = re.compile(r"^([(\[\"'`]*)((?:.*[^)\]\"'.,:;!?])?)([)\]\"'.,:;!?]*)$", re.DOTALL)


def _kept(paper: Paper) -> Mapping[str, Any]:
    kept = paper.extra.get("bibtex")
    return kept if isinstance(kept, Mapping) else {}


def _primary_class(paper: Paper, kept: Mapping[str, Any]) -> str | None:
    categories = paper.extra.get("categories")
    if isinstance(categories, list) and categories and isinstance(categories[0], str):
        return categories[0]
    if isinstance(categories, str) and categories.strip():
        return categories.split(",")[0].strip()
    return None


def _verbatim(value: Any) -> str:
    """A kept BibTeX value as it was written, when its braces balance the way BibTeX counts
    them (escaped or not); else escaped text."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    return text if depth == 0 else to_latex(text)


def _verbatim_plain(value: str) -> str:
    """DOIs and URLs: only what would break the entry is escaped (``%`` starts a comment in
    LaTeX, braces would unbalance it)."""
    return value.replace("\\", "").replace("{", "%7B").replace("}", "%7D").replace(" ", "%20")


def _year_of(published: str | None) -> int | None:
    return int(published[:4]) if published and published[:4].isdigit() else None


def _month_of(published: str | None) -> str | None:
    if published and re.match(r"^\d{4}-\d{2}", published):
        month = int(published[5:7])
        if 1 <= month <= 12:
            return _MONTHS[month - 1]
    return None


def abstract_of(paper: Paper) -> str | None:
    """The paper's abstract: its ``abstract`` key, else the section ``## Abstract``."""
    return paper.abstract or _abstract_in_body(paper.body)


def _abstract_in_body(body: str) -> str | None:
    found = _ABSTRACT.search(body)
    if not found:
        return None
    text = found.group("text").strip()
    return text or None


def _ascii_word(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def _generated_key(paper: Paper) -> str:
    author = "anon"
    if paper.authors:
        first = paper.authors[0]
        if "," in first or _ORGANISATION.search(first) or len(first.split()) == 1:
            surname = first.split()[0]
        else:
            _, von, last, _ = _name_parts(first)
            surname = "".join([*von, *last])
        author = _ascii_word(surname) or "anon"
    year = paper.year or _year_of(paper.published)
    words = [_ascii_word(w) for w in re.split(r"[\s\-:/]+", paper.title)]
    significant = [w for w in words if w and w not in _STOPWORDS]
    word = significant[0] if significant else (words[0] if words and words[0] else "")
    return f"{author}{year or ''}{word}"


def _letters(number: int) -> str:
    """1 -> a, 2 -> b, ..., 26 -> z, 27 -> aa."""
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def keys(papers: Sequence[Paper]) -> list[str]:
    """The citation keys ``to_bibtex`` gives ``papers``, in order."""
    taken: set[str] = set()
    return [citation_key(p, taken) for p in papers]
