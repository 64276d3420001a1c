"""The arXiv API client behind ``papernotes add``: an arXiv id -> a Paper.

One GET to the API's Atom feed (``id_list=``), parsed with the standard library. The feed is
refused if it declares a DTD or entities (no entity expansion, no external fetches), and read
up to a size limit. Every failure (offline, timeout, HTTP error, a feed that is not Atom, an id
arXiv does not know) is an :class:`ArxivError` with a one-line message.

The API address is a setting: ``$PAPERNOTES_ARXIV_API``, else ``api`` in the ``[arxiv]``
table of ``papernotes.toml``, else arXiv's own; tests point it at a local server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papernotes.disk.write import slugify
from papernotes.errors import EXIT_NOT_FOUND, ConfigError, PapernotesError, UsageError
from papernotes.note import normalize
from papernotes.note.model import Paper

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

DEFAULT_API = "https://export.arxiv.org/api/query"
ENV_API = "PAPERNOTES_ARXIV_API"
ENV_TIMEOUT = "PAPERNOTES_ARXIV_TIMEOUT"
DEFAULT_TIMEOUT = 20.0
MAX_BYTES = 5 * 1024 * 1024
USER_AGENT = "papernotes (https://pypi.org/project/papernotes/)"

_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class ArxivError(PapernotesError):
    """The arXiv API could not be asked, or did not answer with the paper."""

    exit_code = EXIT_NOT_FOUND


def settings(config: Mapping[str, Any] | None = None) -> tuple[str, float]:
    """The API address and timeout: environment, then ``[arxiv]`` in ``papernotes.toml``."""
    table = (config or {}).get("arxiv", {})
    if not isinstance(table, Mapping):
        raise ConfigError("papernotes.toml: [arxiv] must be a table")
    api = os.environ.get(ENV_API) or table.get("api") or DEFAULT_API
    raw_timeout = os.environ.get(ENV_TIMEOUT) or table.get("timeout") or DEFAULT_TIMEOUT
    if not isinstance(api, str) or not re.match(r"^https?://", api, re.IGNORECASE):
        raise ConfigError(f"arXiv API address must be an http(s) URL, not {api!r}")
    try:
        timeout = float(raw_timeout)
    except (TypeError, ValueError):
        raise ConfigError(
            f"arXiv timeout must be a number of seconds, not {raw_timeout!r}"
        ) from None
    if not timeout > 0:
        raise ConfigError(f"arXiv timeout must be positive, not {raw_timeout!r}")
    return api, timeout


def fetch(
    ids: Sequence[str], *, api: str = DEFAULT_API, timeout: float = DEFAULT_TIMEOUT
) -> list[Paper]:
    """The papers for arXiv ``ids`` (already normalised), in the order asked."""
    from urllib.parse import urlencode

    query = urlencode({"id_list": ",".join(ids), "max_results": str(len(ids))})
    url = f"{api}{'&' if '?' in api else '?'}{query}"
    data = _get(url, timeout)
    papers = {paper.arxiv: paper for paper in parse_feed(data)}
    missing = [i for i in ids if i not in papers]
    if missing:
        raise ArxivError(f"arXiv has no paper {', '.join(missing)}")
    return [papers[i] for i in ids]


def _get(url: str, timeout: float) -> bytes:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    shown = url.split("?")[0]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ArxivError(f"the arXiv API ({shown}) answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise ArxivError(
                f"the arXiv API ({shown}) did not answer within {timeout:g} s"
            ) from None
        raise ArxivError(f"cannot reach the arXiv API ({shown}): {reason} (offline?)") from None
    except TimeoutError:
        raise ArxivError(f"the arXiv API ({shown}) did not answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:  # connection reset, bad URL, truncated response
        raise ArxivError(f"cannot read from the arXiv API ({shown}): {exc}") from None
    if len(data) > MAX_BYTES:
        raise ArxivError(f"the arXiv API ({shown}) sent more than {MAX_BYTES // 2**20} MB")
    return data


def parse_feed(data: bytes) -> list[Paper]:
    """The papers in an arXiv API Atom feed; ArxivError for anything else."""
    from xml.etree import ElementTree

    if _DTD.search(data[:4096]) or b"<!ENTITY" in data:
        raise ArxivError("the arXiv API answer declares a DTD or entities; refused")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ArxivError(f"the arXiv API answer is not an Atom feed ({exc})") from None
    if root.tag != f"{{{_NS['atom']}}}feed":
        raise ArxivError("the arXiv API answer is not an Atom feed")
    papers = []
    for entry in root.findall("atom:entry", _NS):
        entry_id = _text(entry, "atom:id")
        if "/api/errors" in entry_id:
            raise ArxivError(f"arXiv API: {_text(entry, 'atom:summary') or 'error'}")
        paper = _paper(entry)
        if paper is not None:
            papers.append(paper)
    return papers


def _paper(entry: Element) -> Paper | None:
    try:
        arxiv = normalize.arxiv_id(_text(entry, "atom:id"))
    except ValueError:
        return None
    title = _text(entry, "atom:title")
    if not title:
        return None  # the API answers an unknown id with an empty entry
    authors = [
        name for author in entry.findall("atom:author", _NS) if (name := _text(author, "atom:name"))
    ]
    published = _date(_text(entry, "atom:published"))
    primary = entry.find("arxiv:primary_category", _NS)
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [category.get("term", "") for category in entry.findall("atom:category", _NS)]
    categories = list(dict.fromkeys(term for term in terms if term))  # linear: an API's answer
    doi = _text(entry, "arxiv:doi").split()
    journal = _text(entry, "arxiv:journal_ref")
    abstract = _text(entry, "atom:summary")
    extra: dict[str, Any] = {}
    if categories:
        extra["categories"] = categories
    updated = _date(_text(entry, "atom:updated"))
    if updated and updated != published:
        extra["updated"] = updated
    comment = _text(entry, "arxiv:comment")
    if comment:
        extra["comment"] = comment
    return Paper(
        id=slugify(title),
        title=title,
        authors=tuple(dict.fromkeys(authors)),
        year=int(published[:4]) if published else None,
        published=published,
        arxiv=arxiv,
        doi=_doi(doi[0]) if doi else None,
        url=f"https://arxiv.org/abs/{arxiv}",
        venue=journal or None,
        extra=extra,
        body=f"## Abstract\n\n{abstract}\n" if abstract else "",
    )


def _text(element: Element, path: str) -> str:
    found = element.find(path, _NS)
    if found is None or found.text is None:
        return ""
    return " ".join(found.text.split())


def _date(value: str) -> str | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None


def _doi(value: str) -> str | None:
    try:
        return normalize.doi(value)
    except ValueError:
        return None


# -- papernotes add -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    """What ``add`` did for one arXiv id: ``created`` a note, ``merged`` options into the note
    that already had the paper, found it ``unchanged``, or was ``refused`` the write."""

    arxiv: str
    kind: str
    path: Path
    title: str
    added: tuple[str, ...] = ()
    reason: str = ""


def add(
    root: Path,
    refs: Sequence[str],
    papers: Sequence[Paper],
    *,
    tags: Sequence[str] = (),
    topics: Sequence[str] = (),
    api: str = DEFAULT_API,
    timeout: float = DEFAULT_TIMEOUT,
    today: dt.date | None = None,
) -> list[Added]:
    """Write a note for each arXiv id or URL in ``refs`` under ``root``. A paper that already
    has a note (same arXiv id, DOI or title among ``papers`` and the files) is not written
    again: ``tags`` and ``topics`` are merged into that note. Only papers without a note are
    fetched, so re-adding works offline."""
    from papernotes.interop.importers import Candidate, run_import

    ids: list[str] = []
    for ref in refs:
        try:
            ids.append(normalize.arxiv_id(ref))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    ids = list(dict.fromkeys(ids))
    known = {p.arxiv: p for p in papers if p.arxiv}
    missing = [i for i in ids if i not in known]
    fetched = {p.arxiv: p for p in fetch(missing, api=api, timeout=timeout)} if missing else {}
    date = (today or dt.date.today()).isoformat()
    clean_tags = tuple(dict.fromkeys(t.strip().lstrip("#") for t in tags if t.strip()))
    clean_topics = tuple(dict.fromkeys(t.strip() for t in topics if t.strip()))
    candidates = []
    for arxiv in ids:
        if arxiv in known:
            paper = Paper(id="", title=known[arxiv].title, arxiv=arxiv)
        else:
            paper = dataclasses.replace(fetched[arxiv], id="", added=date)
        paper = dataclasses.replace(paper, tags=clean_tags, topics=clean_topics)
        candidates.append(Candidate(paper, path=f"arXiv:{arxiv}"))
    plan, report = run_import(candidates, root)
    refused = {id(action): reason for action, reason in report.refused}
    results = []
    kinds = {"create": "created", "merge": "merged", "unchanged": "unchanged"}
    for action in plan.actions:
        kind = (
            "refused" if action.kind == "refused" or id(action) in refused else kinds[action.kind]
        )
        reason = action.reason or refused.get(id(action), "")
        for candidate in action.candidates:
            arxiv = candidate.paper.arxiv or ""
            results.append(
                Added(arxiv, kind, action.path, action.title, tuple(action.added), reason)
            )
    return results
