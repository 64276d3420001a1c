"""Plain-text reading notes -> candidate papers.

People jot down what they read in a few recurring layouts; this importer recognises them by
their structure, never by file names or wording of particular titles:

* **labelled**: a title line followed by ``Authors ...`` (names split at commas and ``and``,
  affiliation markers such as ``1∗`` and ``3†`` removed, the affiliations kept as ``org``),
  ``Abstract ...`` and ``Arxiv: URL 18 Jan 2024 Meta`` (arXiv id, date, organisation) lines,
  then sub-headings with a bullet list (``Dataset & Evaluation``) or the reader's remarks;
* **reading sessions**: ``read on: - 08 Feb 2024``, a topic line (kept as a tag), list labels
  such as ``Required Readings:``, then titles, each followed by ``- URL`` lines and an
  abstract; a title may itself be a bullet, or carry its short name in front
  (``DPO Direct Preference Optimization: ...``);
* ``[Alias] Title🔗`` lines (the alias in brackets);
* **title and prose**: a title line followed by a paragraph (a copied daily-papers page, where
  the paragraph is the abstract, or the reader's own remarks).

A line is a title when what follows it says so: a labelled line, a line holding a URL, or a long
paragraph. Short lines that are not titles are headings; the one a paper is listed under is kept
in the note's ``Source`` section with the file name. Every line ends up in a note (front matter
or body) or in the list of skipped lines with the reason: headings with no paper under them,
named links that are not papers (``chatbot-arena-leaderboard`` and its URL), text outside any
paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from papernotes.errors import Diagnostic
from papernotes.interop.importers import Candidate, Skipped, Source
from papernotes.interop.importers.merge import SOURCE_HEADING
from papernotes.interop.importers.textfields import split_authors, split_title
from papernotes.note import normalize
from papernotes.note.model import Paper
from papernotes.note.parse import UndecodableText, decode_text

MAX_BYTES = 16 * 1024 * 1024
LONG = 200  # a paragraph at least this long is prose (an abstract), never a title
TITLE_MAX = 200
HEADING_MAX = 80
ABSTRACT, NOTES, LINKS, AUTHORS = "Abstract", "Notes", "Links", "Authors"

_BULLET = re.compile(r"^[-*•](?:\s+(?P<text>.*))?$")
_URL_LINE = re.compile(r"^<?(?P<url>https?://\S+?)>?$")
# the date up to its last non-space ((?P<date>.*?)\s*$ is quadratic in a run of spaces)
_READ_ON = re.compile(r"^read\s+on\s*:\s*(?:-\s*)?(?P<date>(?:.*\S)?)\s*$", re.IGNORECASE)
_FIELD = re.compile(
    r"^(?:(?P<bare>authors?|abstract)\b\s*:?"
    r"|(?P<colon>arxiv|url|link|links|pdf|code|doi|notes?|summary|remarks?|tl;?dr)\s*:)"
    r"\s*(?P<value>\S.*)$",
    re.IGNORECASE,
)
_LIST_LABEL = re.compile(r"^(?:\w+\s+){0,2}readings?\s*:?$", re.IGNORECASE)
_DATE_FIRST = re.compile(
    r"^(?P<date>\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2})(?:\s+(?P<rest>.*))?$"
)
_CODE_HOSTS = re.compile(
    r"^https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co/spaces)/", re.I
)
_END_OF_SENTENCE = tuple(".!?:;”\"')]|")
_QUOTES = tuple("“\"'‘«")


@dataclass(frozen=True)
class _Line:
    """A logical line: one line of the file, or a bullet whose text is on the next line, or a
    paragraph hard-wrapped over several lines. ``first``/``last`` are file line numbers."""

    first: int
    last: int
    text: str
    bullet: bool = False

    @property
    def url(self) -> str | None:
        match = _URL_LINE.match(self.text)
        return _clean_url(match.group("url")) if match else None


@dataclass
class _Draft:
    """A paper being read."""

    first: int
    last: int
    title: str
    aliases: list[str]
    default: str  # the section unlabelled text goes to
    context: list[str]
    read: str | None = None
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    published: str | None = None
    doi: str | None = None
    sections: dict[str, list[str]] = field(default_factory=dict)
    subsection: str | None = None

    def add(self, section: str, block: str) -> None:
        self.sections.setdefault(section, []).append(block)


def read(path: Path, display: str) -> Source:
    """Read a plain-text file of reading notes (the importer registered for ``.txt``)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return _failed(display, 1, f"cannot read file: {exc.strerror or exc}")
    if len(data) > MAX_BYTES:
        return _failed(display, 1, f"larger than {MAX_BYTES // 2**20} MB; not reading notes")
    try:
        text = decode_text(data)
    except UndecodableText as exc:
        return _failed(display, exc.line, exc.reason + (", not text" if exc.binary else ""))
    return parse(text, display)


def parse(text: str, path: str = "<text>") -> Source:
    """The papers in reading-notes ``text``; ``path`` names the file in messages."""
    parser = _Parser(path, text)
    parser.run()
    return Source(
        path,
        tuple(parser.candidates),
        tuple(sorted(parser.skipped, key=lambda s: s.line)),
        tuple(parser.diagnostics),
    )


def _failed(path: str, line: int, message: str) -> Source:
    return Source(path, diagnostics=(Diagnostic(path, line, "error", message),))


# -- lines ----------------------------------------------------------------------------------


def _logical_lines(text: str) -> tuple[list[_Line], list[int], bool]:
    """Logical lines, the numbers of empty bullets, and whether the text is laid out as a web
    page copy (every line a paragraph of its own, blank lines between)."""
    raw = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    filled = [(n, line.strip()) for n, line in enumerate(raw, 1) if line.strip()]
    gaps = sum(1 for n, _ in filled[:-1] if not raw[n].strip())
    page = len(filled) >= 4 and gaps >= 0.8 * (len(filled) - 1)
    lines: list[_Line] = []
    empty: list[int] = []
    i = 0
    while i < len(filled):
        number, content = filled[i]
        bullet = _BULLET.match(content)
        if bullet and not bullet.group("text"):
            following = filled[i + 1] if i + 1 < len(filled) else None
            if following and following[0] == number + 1 and not _BULLET.match(following[1]):
                lines.append(_Line(number, following[0], following[1], bullet=True))
                i += 2
                continue
            empty.append(number)
        elif bullet:
            lines.append(_Line(number, number, bullet.group("text").strip(), bullet=True))
        else:
            lines.append(_Line(number, number, content))
        i += 1
    joined: list[_Line] = []
    for line in lines:
        previous = joined[-1] if joined else None
        if previous is not None and not page and _continues(previous, line):
            joined[-1] = _Line(
                previous.first, line.last, f"{previous.text} {line.text}", previous.bullet
            )
        else:
            joined.append(line)
    return joined, empty, page


def _continues(previous: _Line, line: _Line) -> bool:
    """Whether ``line`` goes on with the sentence ``previous`` breaks off (a hard wrap)."""
    return (
        line.first == previous.last + 1
        and not line.bullet
        and len(previous.text) >= 60
        and not previous.text.endswith(_END_OF_SENTENCE)
        and line.text[:1].islower()
        and line.url is None
        and previous.url is None
    )


def _clean_url(url: str) -> str:
    url = url.rstrip(".,;")
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    return url


def _title_like(text: str) -> bool:
    return (
        0 < len(text) <= TITLE_MAX
        and not text.endswith((".", ",", ";"))
        and not text.startswith((*_QUOTES, "("))
        and any(c.isalpha() for c in text)
        and _URL_LINE.match(text) is None
    )


def _heading_like(line: _Line) -> bool:
    return not line.bullet and len(line.text) <= HEADING_MAX and _title_like(line.text)


def _is_label(line: _Line) -> bool:
    """``Required Readings:``, ``In this session, our readings cover:``, ``More readings``."""
    if line.bullet or len(line.text) > HEADING_MAX or line.url:
        return False
    return line.text.endswith(":") or _LIST_LABEL.match(line.text) is not None


def _is_long(line: _Line | None) -> bool:
    return line is not None and len(line.text) >= LONG and line.url is None


# -- the parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.name = Path(path).name
        self.lines, empty, self.page = _logical_lines(text)
        self.candidates: list[Candidate] = []
        self.skipped: list[Skipped] = [Skipped(path, n, "-", "empty bullet") for n in empty]
        self.diagnostics: list[Diagnostic] = []
        self.draft: _Draft | None = None
        self.read_on: _Line | None = None
        self.read_date: str | None = None
        self.topic: _Line | None = None
        self.label: _Line | None = None
        self.heading: _Line | None = None
        self.used: set[int] = set()  # first lines of context lines some paper is listed under
        self.expect_topic = False
        self.link_name = ""  # the named link (not a paper) whose URLs follow

    def run(self) -> None:
        for i, line in enumerate(self.lines):
            self.step(i, line)
        self.close()
        for context in (self.read_on, self.topic, self.label, self.heading):
            self.retire(context)

    # context: session date and topic, list label, heading

    def retire(self, line: _Line | None) -> None:
        """``line`` stops being context; report it if no paper was listed under it."""
        if line is None or line.first in self.used:
            return
        if line is self.read_on:
            why = "reading-session date with no paper under it"
        elif line is self.topic:
            why = "session topic with no paper under it"
        elif line is self.label:
            why = "label with no paper under it"
        else:
            why = "heading with no paper directly under it"
        self.skip(line, why)

    def skip(self, line: _Line, why: str) -> None:
        for number in range(line.first, line.last + 1):
            text = line.text if number == line.first else "(continued)"
            self.skipped.append(Skipped(self.path, number, text, why))

    def warn(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, "warning", message))

    def context(self) -> list[str]:
        lines = [x for x in (self.topic, self.label, self.heading) if x is not None]
        self.used.update(x.first for x in lines)
        if self.read_on is not None:
            self.used.add(self.read_on.first)
        return [x.text.rstrip(":").strip() for x in lines]

    # one logical line

    def step(self, i: int, line: _Line) -> None:
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        read_on = None if line.bullet else _READ_ON.match(line.text)
        if read_on:
            self.start_session(line, read_on.group("date"))
            return
        if self.expect_topic:
            self.expect_topic = False
            if _heading_like(line) and not _is_label(line) and self.opens(i) is None:
                self.topic = line
                return
        draft = self.draft
        if draft is not None and not line.bullet:
            labelled = _FIELD.match(line.text)
            if labelled:
                self.field(draft, line, labelled)
                return
        if draft is not None and line.url:
            draft.urls.append(line.url)
            draft.last = line.last
            return
        lists = following is not None and following.bullet and following.url is None
        if _is_label(line) and not (draft is not None and lists and not _is_long(following)):
            self.close()
            self.retire(self.label)
            self.retire(self.heading)
            self.label, self.heading = line, None
            return
        opens = self.opens(i)
        if opens == "link":
            self.close()
            self.link_name = line.text
            self.skip(line, "a named link, not a paper")
            return
        if opens is not None:
            self.close()
            self.open(line, opens)
            return
        if draft is not None:
            self.content(draft, line, lists)
            return
        if line.url:
            where = f"link of {self.link_name!r}, not a paper" if self.link_name else ""
            self.skip(line, where or "link outside any paper")
        elif _heading_like(line):
            self.retire(self.heading)
            self.heading = line
        else:
            self.skip(line, "text outside any paper")

    def start_session(self, line: _Line, raw_date: str) -> None:
        self.close()
        for old in (self.read_on, self.topic, self.label, self.heading):
            self.retire(old)
        self.topic = self.label = self.heading = None
        self.read_on, self.read_date, self.expect_topic = line, None, True
        try:
            self.read_date = normalize.date(raw_date)
        except ValueError as exc:
            self.warn(line.first, f"read on: {exc}")

    def opens(self, i: int) -> str | None:
        """Whether line ``i`` is the title of a paper: the section its unlabelled text goes
        to, ``"link"`` for a named link that is not a paper, or None."""
        line = self.lines[i]
        following = self.lines[i + 1] if i + 1 < len(self.lines) else None
        if following is None or not _title_like(line.text) or _is_label(line):
            return None
        if line.bullet and self.draft is not None and self.draft.subsection is not None:
            return None
        if not line.bullet:
            if not following.bullet and _FIELD.match(following.text):
                return NOTES
            if following.url:
                urls = [x.url for x in self.lines[i + 1 :]]
                urls = urls[: next((n for n, u in enumerate(urls) if u is None), len(urls))]
                if " " not in line.text.strip() or all(_CODE_HOSTS.match(u or "") for u in urls):
                    return "link"
                return ABSTRACT
        if _is_long(following) and not (not following.bullet and _FIELD.match(following.text)):
            return ABSTRACT if following.bullet or self.page else NOTES
        return None

    def open(self, line: _Line, default: str) -> None:
        title, aliases = split_title(line.text)
        self.link_name = ""
        self.draft = _Draft(line.first, line.last, title, aliases, default, self.context())
        self.draft.read = self.read_date
        if self.topic is not None:
            self.draft.tags.append("-".join(self.topic.text.split()))

    def field(self, draft: _Draft, line: _Line, match: re.Match[str]) -> None:
        label = (match.group("bare") or match.group("colon")).lower()
        value = match.group("value").strip()
        draft.last = line.last
        draft.subsection = None
        if label.startswith("author"):
            parsed = split_authors(value)
            if parsed is None:
                draft.add(AUTHORS, value)
                self.warn(
                    line.first,
                    "author names are not separated by commas; "
                    f"kept as written under '{AUTHORS}' in the note",
                )
            else:
                draft.authors.extend(parsed[0])  # each kept once by _paper()
                draft.orgs.extend(parsed[1])
        elif label == "abstract":
            draft.add(ABSTRACT, value)
        elif label.startswith(("note", "summary", "remark", "tl")):
            draft.add(NOTES, value)
        elif label == "doi":
            try:
                draft.doi = draft.doi or normalize.doi(value)
            except ValueError:
                draft.add(NOTES, line.text)
        else:
            self.link_field(draft, line, value)

    def link_field(self, draft: _Draft, line: _Line, value: str) -> None:
        """``Arxiv: https://arxiv.org/abs/2401.10020 18 Jan 2024 Meta``."""
        url, _, rest = value.partition(" ")
        if not url.lower().startswith(("http://", "https://")):
            draft.add(NOTES, line.text)
            return
        draft.urls.append(_clean_url(url))
        rest = rest.strip()
        if not rest:
            return
        dated = _DATE_FIRST.match(rest)
        published = None
        if dated:
            try:
                published = normalize.date(dated.group("date"))
            except ValueError:
                published = None
        if published is None:
            draft.add(NOTES, line.text)
            self.warn(line.first, f"no date after the link: {rest!r} kept in the note")
            return
        draft.published = draft.published or published
        org = (dated.group("rest") or "").strip() if dated else ""
        if org:
            draft.orgs.append(org)

    def content(self, draft: _Draft, line: _Line, lists: bool) -> None:
        draft.last = line.last
        if not line.bullet and _heading_like(line) and lists:
            draft.subsection = line.text.rstrip(":").strip()
            return
        if line.bullet and draft.subsection is not None:
            draft.add(draft.subsection, f"- {line.text}")
            return
        draft.subsection = None
        section = NOTES if line.text.startswith(_QUOTES) else draft.default
        draft.add(section, line.text)

    def close(self) -> None:
        draft, self.draft = self.draft, None
        if draft is None:
            return
        self.candidates.append(
            Candidate(_paper(draft, self.name), self.path, draft.first, draft.last)
        )


# -- the paper -----------------------------------------------------------------------------


def _paper(draft: _Draft, file_name: str) -> Paper:
    arxiv = None
    links: dict[str, None] = {}  # each once, in linear time (a list: minutes on 100,000)
    for url in draft.urls:
        found = normalize.ARXIV_IN_TEXT.search(url)
        if found and arxiv is None:
            arxiv = found.group("id")
        elif not (found and found.group("id") == arxiv):
            links[url] = None
    others = list(links)
    main_url = others.pop(0) if others and arxiv is None else None
    year = int(draft.published[:4]) if draft.published else None
    if year is None and arxiv and re.match(r"^\d{4}\.", arxiv):
        year = 2000 + int(arxiv[:2])
    sections = dict(draft.sections)
    if others:
        sections[LINKS] = [f"- {u}" for u in others]
    context = " › ".join(draft.context)
    sections[SOURCE_HEADING] = [f"- {file_name}: {context}" if context else f"- {file_name}"]
    body = "\n" + "\n".join(_section(h, blocks) for h, blocks in sections.items())
    return Paper(
        id="",
        title=draft.title,
        aliases=tuple(draft.aliases),
        authors=tuple(dict.fromkeys(draft.authors)),
        year=year,
        published=draft.published,
        read=draft.read,
        arxiv=arxiv,
        doi=draft.doi,
        url=main_url,
        org=", ".join(dict.fromkeys(draft.orgs)) or None,
        tags=tuple(draft.tags),
        body=body,
    )


def _section(heading: str, blocks: list[str]) -> str:
    parts: list[str] = []
    for block in blocks:
        item = block.startswith("- ")
        if parts and not (item and parts[-1].startswith("- ")):
            parts.append("")
        parts.append(block)
    return f"## {heading}\n\n" + "\n".join(parts) + "\n"
