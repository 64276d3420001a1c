"""BibTeX / BibLaTeX -> candidate papers.

Parsing is pybtex's (BibTeX's own rules: ``@string`` macros, ``#`` concatenation, month
macros, ``Last, First and {Organisation}`` name splitting); this module maps each entry to a
:class:`Paper` and says why an entry was left out. Reference managers write LaTeX in their
fields; :func:`papernotes.interop.latex.to_unicode` turns it into text.

What papernotes has no key for (pages, volume, publisher, isbn, ...) is kept verbatim in the
note's ``bibtex`` mapping, with the entry type, so that ``export --format bibtex`` gives the
entry back; the citation key is kept as ``citekey`` (the Obsidian/Zotero convention) and as an
alias, so ``[[Luhring2007]]`` links resolve; BibLaTeX's ``ids`` (other keys) as ``citekeys``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papernotes.disk.write import slugify
from papernotes.errors import Diagnostic
from papernotes.interop.cite import key_list
from papernotes.interop.latex import to_unicode
from papernotes.note import normalize
from papernotes.note.model import Paper

if TYPE_CHECKING:
    from papernotes.interop.importers import Source

SUFFIXES = (".bib", ".bibtex", ".biblatex")
SHARED_ID_TITLES = 3
MAX_BYTES = 64 * 1024 * 1024

# BibTeX fields that become Paper fields; every other field is kept in the ``bibtex`` mapping.
MAPPED = frozenset(
    {
        "title", "author", "year", "date", "month", "journal", "journaltitle", "booktitle",
        "doi", "url", "eprint", "archiveprefix", "eprinttype", "primaryclass", "eprintclass",
        "abstract", "keywords", "ids",
    }
)  # fmt: skip
ARXIV_VENUE = re.compile(r"^\s*(?:arxiv(?:\s+e-?prints?|\s+preprint.*)?|arxiv\.org)\s*$", re.I)
_ARXIV_IN_NOTE = re.compile(
    r"arxiv\s*[:/]?\s*(?:abs/)?(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z]{2})?/\d{7})"
    r"(?:v\d+)?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(1\d{3}|2\d{3})(?!\d)")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_PARAGRAPH = "\ue000"  # survives pybtex's whitespace normalisation; marks a blank line
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
_SENTINEL = re.compile(rf"\s*{_PARAGRAPH}\s*")
PARAGRAPH_FIELDS = frozenset({"abstract", "annotation", "annote", "note", "comment"})


@dataclass(frozen=True)
class Entry:
    """One BibTeX entry turned into a Paper; ``line`` is where ``@type{key`` starts."""

    key: str
    line: int
    paper: Paper


@dataclass(frozen=True)
class Problem:
    """Something in the file that did not become a paper (or not wholly), and why."""

    line: int
    what: str  # "@article{key}", "@preamble", "syntax error"
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}: {self.reason}"


@dataclass
class BibFile:
    """What a ``.bib`` file holds: entries turned into papers, what was left out
    (``skipped``) and what was read with a problem (``warnings``)."""

    source: str
    entries: list[Entry] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class SkipEntry(Exception):
    """An entry that cannot become a note (the message says why)."""


def read_bibtex(path: Path, source: str | None = None) -> BibFile:
    """Parse the file at ``path``; nothing but :class:`OSError` escapes."""
    shown = source if source is not None else str(path)
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        result = BibFile(shown)
        limit = MAX_BYTES // (1024 * 1024)
        result.skipped.append(Problem(1, "file", f"larger than {limit} MB; not read"))
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # older Mendeley and JabRef files are Latin-1 / Windows-1252
        line = data[: exc.start].count(b"\n") + 1
        text = data.decode("cp1252", errors="replace")
        result = parse_bibtex(text.removeprefix("\ufeff"), shown)
        reason = f"not UTF-8 (byte 0x{data[exc.start]:02x}); read as Windows-1252"
        result.warnings.insert(0, Problem(line, "encoding", reason))
        return result
    return parse_bibtex(text.removeprefix("\ufeff"), shown)


def parse_bibtex(text: str, source: str = "<bibtex>") -> BibFile:
    """Every entry of BibTeX ``text`` as a Paper; syntax errors, duplicate keys and entries
    without a title are reported in ``skipped``. Raises nothing on any input."""
    import pybtex.errors
    from pybtex.database.input.bibtex import Parser
    from pybtex.scanner import PybtexError

    class _Parser(Parser):  # type: ignore[misc]
        def flatten_value_list(self, value_list: list[str]) -> str:
            return _BLANK_LINE.sub(f" {_PARAGRAPH} ", "".join(value_list))

    result = BibFile(source)
    text = text.replace(_PARAGRAPH, " ").replace("\r\n", "\n").replace("\x00", "")
    errors: list[Any] = []
    try:
        with pybtex.errors.capture() as errors:
            database = _Parser().parse_string(text)
    except (PybtexError, RecursionError, ValueError) as exc:
        result.skipped.append(Problem(1, "file", f"cannot be read as BibTeX: {exc}"))
        return result
    lines = _entry_lines(text)
    for error in errors:
        problem = _from_pybtex_error(error, lines)
        skips = problem.reason.endswith("is skipped")
        (result.skipped if skips else result.warnings).append(problem)
    if database.preamble:
        line = _line_of(text, r"@\s*preamble\b")
        result.skipped.append(Problem(line, "@preamble", "LaTeX set-up, not a reference"))
    for key, entry in database.entries.items():
        if key.casefold() not in lines and re.fullmatch(r"unnamed-\d+", key):
            continue  # an entry without a key: pybtex reported the syntax error above
        line = lines.get(key.casefold(), [1])[0]
        what = f"@{entry.type.lower()}{{{key}}}"
        try:
            paper, warnings = entry_to_paper(key, entry)
        except SkipEntry as exc:
            result.skipped.append(Problem(line, what, str(exc)))
            continue
        result.entries.append(Entry(key, line, paper))
        result.warnings.extend(Problem(line, what, warning) for warning in warnings)
    _drop_shared_ids(result)
    result.skipped.sort(key=lambda s: s.line)
    result.warnings.sort(key=lambda s: s.line)
    return result


def _drop_shared_ids(result: BibFile) -> None:
    """An arXiv id or DOI given to entries with three or more titles identifies none of
    them (Zotero exports carry such leftovers: one ``eprint`` on ten books, a book's DOI on
    each of its chapters); it is left out, or the import would merge different works."""
    for name in ("arxiv", "doi"):
        titles: dict[str, set[str]] = {}
        for entry in result.entries:
            value = getattr(entry.paper, name)
            if value:
                titles.setdefault(value.casefold(), set()).add(
                    normalize.title_key(entry.paper.title)
                )
        # two titles may be one paper renamed between versions; three or more are not
        shared = {value for value, keys in titles.items() if len(keys) >= SHARED_ID_TITLES}
        if not shared:
            continue
        for index, entry in enumerate(result.entries):
            value = getattr(entry.paper, name)
            if value and value.casefold() in shared:
                if name == "arxiv":
                    paper = dataclasses.replace(entry.paper, arxiv=None)
                else:
                    paper = dataclasses.replace(entry.paper, doi=None)
                result.entries[index] = dataclasses.replace(entry, paper=paper)
                label = "arXiv id" if name == "arxiv" else "DOI"
                what = f"@{paper.extra['bibtex']['type']}{{{entry.key}}}"
                reason = f"{label} {value} is also given to entries with other titles; left out"
                result.warnings.append(Problem(entry.line, what, reason))


def entry_to_paper(key: str, entry: Any) -> tuple[Paper, list[str]]:
    """A pybtex entry as a Paper, and warnings about values that were dropped."""
    fields: dict[str, str] = {}
    for name, value in entry.fields.items():
        name = str(name).lower()
        breaks = "\n\n" if name in PARAGRAPH_FIELDS else " "
        text = _SENTINEL.sub(breaks, str(value)).strip()
        if text:
            fields[name] = text
    warnings: list[str] = []
    title = to_unicode(fields.get("title", ""))
    if not title:
        raise SkipEntry("no title" if "title" not in fields else "empty title")

    authors, others = _people(entry.persons.get("author", ()))
    year, published = _dates(fields, warnings)
    arxiv, categories = _arxiv(fields)
    doi = _doi(fields, warnings)
    venue = next(
        (to_unicode(fields[n]) for n in ("journaltitle", "journal", "booktitle") if n in fields),
        None,
    )
    if venue and (ARXIV_VENUE.match(venue) or _ARXIV_IN_NOTE.fullmatch(venue.strip())):
        venue = None  # "arXiv e-prints", "arXiv preprint arXiv:2305.18290": the arxiv field says it
    url, all_urls = _url(fields.get("url"))
    tags = _tags(fields.get("keywords", ""))
    abstract = to_unicode(fields["abstract"], paragraphs=True) if "abstract" in fields else ""

    kept: dict[str, Any] = {"type": entry.type.lower()}
    for name, value in fields.items():
        if name not in MAPPED:
            kept[name] = value
    for role, people in entry.persons.items():
        if role.lower() != "author":
            kept[role.lower()] = " and ".join(str(p) for p in people)
    if others:
        kept["others"] = "author"  # the author list ended with "and others"
    if all_urls:
        kept["url"] = all_urls
    extra: dict[str, Any] = {"citekey": key, "bibtex": kept}
    other_keys = [k for k in key_list(fields.get("ids", "")) if k.casefold() != key.casefold()]
    if other_keys:  # BibLaTeX's other keys of the entry
        extra["citekeys"] = other_keys
    if categories:
        extra["categories"] = categories

    body = f"## Abstract\n\n{abstract}\n" if abstract else ""
    paper = Paper(
        id=slugify(title),
        title=title,
        aliases=(key, *other_keys) if key else (),
        authors=tuple(authors),
        year=year,
        published=published,
        arxiv=arxiv,
        doi=doi,
        url=url,
        venue=venue or None,
        tags=tuple(tags),
        extra=extra,
        body=body,
    )
    return paper, warnings


def display_name(person: Any) -> str:
    """``Rafailov, Rafael`` -> ``Rafael Rafailov``; ``von Neumann, Jr., John`` -> ``John von
    Neumann Jr.``; ``{World Health Organization}`` -> ``World Health Organization``."""
    parts = [
        *person.first_names,
        *person.middle_names,
        *person.prelast_names,
        *person.last_names,
        *person.lineage_names,
    ]
    return to_unicode(" ".join(parts).replace(_PARAGRAPH, " "))


def _people(persons: Iterable[Any]) -> tuple[list[str], bool]:
    """The names of ``persons``, each once (in linear time: a list compared with every name
    kept took minutes on 100,000 authors), and whether the list ends "and others"."""
    names: dict[str, None] = {}
    others = False
    for person in persons:
        name = display_name(person)
        if name.casefold() in ("others", "et al.", "et al"):
            others = True
        elif name:
            names[name] = None
    return list(names), others


def _dates(fields: Mapping[str, str], warnings: list[str]) -> tuple[int | None, str | None]:
    """Year and ISO publication date from ``date`` (BibLaTeX) or ``year`` + ``month``."""
    date = fields.get("date", "").split("/")[0].strip()  # a range: its start
    if date:
        try:
            published = normalize.date(date)
        except ValueError:
            published = None
        found = _YEAR.search(date)
        if found:
            return int(found.group(1)), published
    raw_year = fields.get("year", "")
    found = _YEAR.search(raw_year)
    if not found:
        if raw_year or date:
            warnings.append(f"no year in {raw_year or date!r}; left out")
        return None, None
    year = int(found.group(1))
    month = _month(fields.get("month", ""))
    return year, f"{year:04d}-{month:02d}" if month else None


def _month(value: str) -> int | None:
    text = value.strip().rstrip(".").lower()
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    return _MONTHS.get(text) or _MONTHS.get(text[:3] if len(text) > 3 else "")


def _arxiv(fields: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The arXiv id from ``eprint`` (+ ``archivePrefix``/``eprinttype``), an arXiv URL or DOI,
    or ``arXiv:ID`` in the journal or note; and the arXiv categories (``primaryClass``)."""
    classes = fields.get("primaryclass") or fields.get("eprintclass") or ""
    categories = [c.strip() for c in re.split(r"[,;\s]+", classes) if c.strip()]
    archive = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    candidates: list[str] = []
    if "eprint" in fields and archive in ("arxiv", ""):
        candidates.append(fields["eprint"])
    candidates += [fields.get("doi", ""), fields.get("url", "")]
    for name in ("journal", "journaltitle", "note", "howpublished"):
        found = _ARXIV_IN_NOTE.search(fields.get(name, ""))
        if found:
            candidates.append(found.group("id"))
    for candidate in candidates:
        for token in candidate.split():
            try:
                return normalize.arxiv_id(token), categories
            except ValueError:
                continue
    return None, categories


def _doi(fields: Mapping[str, str], warnings: list[str]) -> str | None:
    raw = fields.get("doi", "").strip()
    if not raw:
        return None
    try:
        return normalize.doi(to_unicode(raw).split()[0])
    except (ValueError, IndexError):
        if raw.strip().upper() not in ("N/A", "NA", "NONE", "-"):
            warnings.append(f"doi {raw!r} is not a DOI; left out")
        return None


def _url(raw: str | None) -> tuple[str | None, str | None]:
    """The first URL, and all of them when the field holds several."""
    if not raw:
        return None, None
    text = to_unicode(raw) if "\\" in raw or "{" in raw else raw
    urls = text.split()
    if not urls:
        return None, None
    return urls[0], (raw if len(urls) > 1 else None)


def _tags(keywords: str) -> list[str]:
    """``keywords`` as Obsidian tags. Zotero separates keywords with commas and writes a comma
    inside one keyword as ``;`` (``Models; Statistical``); others use ``;`` alone."""
    text = to_unicode(keywords)
    separator = "," if "," in text else ";"
    tags = (normalize.obsidian_tag(word) for word in text.split(separator))
    return list(dict.fromkeys(tag for tag in tags if tag))  # each once, in linear time


def _from_pybtex_error(error: Any, lines: Mapping[str, list[int]]) -> Problem:
    message = str(error)
    found = re.search(r"\bline (\d+)", message)
    line = int(found.group(1)) if found else 1
    message = re.sub(r"\s*in line \d+", "", message)
    repeated = re.fullmatch(r"repeated bibliography entry: (.+)", message)
    if repeated:
        key = repeated.group(1)
        seen = lines.get(key.casefold(), [])
        line = seen[1] if len(seen) > 1 else line
        return Problem(line, key, "citation key already used above; this entry is skipped")
    undefined = re.fullmatch(r"undefined string: (.+)", message)
    if undefined:
        name = undefined.group(1)
        return Problem(line, "@string", f"undefined @string macro {name!r}; left empty")
    duplicate = re.fullmatch(r"entry with key (.+) has a duplicate (\S+) field", message)
    if duplicate:
        key, name = duplicate.groups()
        line = lines.get(key.casefold(), [line])[0]
        return Problem(line, key, f"field {name!r} given twice; the first value is kept")
    return Problem(
        line,
        "syntax error",
        f"{message.removeprefix('syntax error: ')}; what follows "
        "up to the next entry may be missing or wrong",
    )


_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*[{(]\s*([^\s,{}()=\"#%']+)")


def _entry_lines(text: str) -> dict[str, list[int]]:
    """Citation key (case-folded) -> the lines where an ``@type{key,`` starts."""
    lines: dict[str, list[int]] = {}
    line = 1
    last = 0
    for match in _ENTRY_START.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        lines.setdefault(match.group(2).casefold(), []).append(line)
    return lines


def _line_of(text: str, pattern: str) -> int:
    found = re.search(pattern, text, re.IGNORECASE)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def read(path: Path, display: str) -> Source:
    """The importer of ``papernotes import refs.bib``: every entry a candidate paper (its
    file name made from the title), skipped entries and warnings for the report."""
    from papernotes.interop.importers import Candidate, Skipped, Source

    try:
        bib = read_bibtex(path, display)
    except OSError as exc:
        message = f"cannot read: {exc.strerror or exc}"
        return Source(display, diagnostics=(Diagnostic(display, 1, "error", message),))
    candidates = tuple(
        Candidate(dataclasses.replace(e.paper, id=""), display, e.line) for e in bib.entries
    )
    skipped = tuple(
        Skipped(display, p.line, p.what, p.reason) for p in bib.skipped if p.what != "file"
    )
    errors = [
        Diagnostic(display, p.line, "error", p.reason) for p in bib.skipped if p.what == "file"
    ]
    warnings = [
        Diagnostic(display, p.line, "warning", f"{p.what}: {p.reason}") for p in bib.warnings
    ]
    diagnostics = (*errors, *warnings)
    return Source(display, candidates, skipped, diagnostics)
