"""Papers -> CSL JSON, the citation data of Zotero, pandoc and citeproc (``export --format
csl-json``, ``cite --format csl-json``).

One object per paper, in the CSL data schema (csl-data.json, CSL 1.0.2): ``id`` is the paper's
citation key (the one BibTeX export gives it, so ``[@rafailov2023direct]`` in pandoc cites the
same paper as ``\\cite{rafailov2023direct}``), ``type`` one of CSL's types (from the BibTeX
entry type a note kept, else from its venue and arXiv id), names as ``family``/``given`` (with
BibTeX's rules for ``von`` and ``Jr``) or ``literal`` for an organisation, ``issued`` as
``date-parts``; ``DOI``, ``URL``, ``container-title``, ``abstract``, ``keyword``, and the
BibTeX fields CSL has a variable for (volume, issue, pages, publisher, ISBN, ...)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from papernotes.note.model import Paper

# BibTeX entry type -> CSL type
TYPES = {
    "article": "article-journal",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "proceedings": "book",
    "book": "book",
    "mvbook": "book",
    "booklet": "pamphlet",
    "inbook": "chapter",
    "incollection": "chapter",
    "bookinbook": "chapter",
    "collection": "book",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "online": "webpage",
    "www": "webpage",
    "electronic": "webpage",
    "software": "software",
    "dataset": "dataset",
    "unpublished": "manuscript",
    "patent": "patent",
    "periodical": "periodical",
    "misc": "document",
}
# kept BibTeX field -> CSL variable
FIELDS = {
    "volume": "volume",
    "number": "issue",
    "issue": "issue",
    "pages": "page",
    "publisher": "publisher",
    "address": "publisher-place",
    "location": "publisher-place",
    "edition": "edition",
    "isbn": "ISBN",
    "issn": "ISSN",
    "pmid": "PMID",
    "series": "collection-title",
    "language": "language",
    "institution": "publisher",
    "school": "publisher",
    "organization": "publisher",
}
_SUFFIXES = {"Jr", "Sr", "II", "III", "IV"}  # "Martin Luther King Jr.": BibTeX's last name
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def csl_type(paper: Paper) -> str:
    """The CSL type of ``paper``: from its kept BibTeX type, else ``paper-conference`` for a
    conference venue, ``article-journal`` for another venue, ``article`` for an arXiv
    preprint, ``document`` for the rest."""
    from papernotes.interop.bibtex import entry_type

    kind = entry_type(paper)
    if kind == "misc" and paper.arxiv:
        return "article"
    return TYPES.get(kind, "document")


def csl_name(name: str) -> dict[str, str]:
    """``Rafael Rafailov`` -> ``{"family": "Rafailov", "given": "Rafael"}``; ``John von
    Neumann`` gets ``non-dropping-particle``; an organisation is ``{"literal": ...}``."""
    from papernotes.interop.bibtex import is_organisation, name_parts

    name = " ".join(name.split())
    if is_organisation(name) or "," in name:
        return {"literal": name}
    words = name.split()
    suffix = words.pop() if len(words) > 2 and words[-1].rstrip(".") in _SUFFIXES else None
    first, von, last, lineage = name_parts(" ".join(words))
    if suffix:
        lineage = [*lineage, suffix]
    if not last:
        return {"literal": name}
    out = {"family": " ".join(last)}
    if first:
        out["given"] = " ".join(first)
    if von:
        out["non-dropping-particle"] = " ".join(von)
    if lineage:
        out["suffix"] = " ".join(lineage)
    return out


def issued(paper: Paper) -> dict[str, Any] | None:
    """``{"date-parts": [[2023, 5, 29]]}`` from ``published``, else the year."""
    match = _DATE.match(paper.published or "")
    if match and (paper.year is None or int(match.group(1)) == paper.year):
        return {"date-parts": [[int(g) for g in match.groups() if g is not None]]}
    if paper.year is not None:
        return {"date-parts": [[paper.year]]}
    return None


def csl_item(paper: Paper, key: str) -> dict[str, Any]:
    """The CSL JSON object of ``paper``, whose citation key is ``key``."""
    from papernotes.interop.bibtex import abstract_of
    from papernotes.interop.latex import to_unicode

    item: dict[str, Any] = {"id": key, "type": csl_type(paper), "title": paper.title}
    if paper.authors:
        item["author"] = [csl_name(a) for a in paper.authors]
    date = issued(paper)
    if date:
        item["issued"] = date
    if paper.venue:
        item["container-title"] = paper.venue
    kept = paper.extra.get("bibtex")
    for field, value in kept.items() if isinstance(kept, dict) else ():
        variable = FIELDS.get(str(field).lower())
        if variable and variable not in item and isinstance(value, (str, int)):
            text = to_unicode(str(value)) if isinstance(value, str) else str(value)
            item[variable] = text.replace("–", "-") if variable == "page" else text
    if paper.arxiv:
        item.setdefault("publisher", "arXiv")
        item["number"] = f"arXiv:{paper.arxiv}"
    if paper.doi:
        item["DOI"] = paper.doi
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else None)
    if url:
        item["URL"] = url
    abstract = abstract_of(paper)
    if abstract:
        item["abstract"] = abstract
    if paper.tags:
        item["keyword"] = ", ".join(paper.tags)
    return item


def to_csl_json(papers: Sequence[Paper], keys: Sequence[str] | None = None) -> str:
    """A JSON array of the CSL items of ``papers`` (``keys``: their citation keys, by default
    those BibTeX export gives them)."""
    from papernotes.interop.bibtex import keys as export_keys

    chosen = list(keys) if keys is not None else export_keys(papers)
    items = [csl_item(p, k) for p, k in zip(papers, chosen, strict=True)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
