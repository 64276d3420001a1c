"""Citing notes: their citation keys, and entries for ``papernotes cite``.

A paper's key is its note's ``citekey`` (Zotero's and Obsidian's key), or one made from the
first author, the year and a title word (``rafailov2023direct``: see
:func:`papernotes.interop.bibtex.citation_key`). ``citekeys`` lists the paper's other keys: when a
BibTeX import folds two entries of one paper into one note, the second entry's key is kept
there (``\\cite{Marquardt2019}`` still works), and a BibLaTeX entry's ``ids`` land there too;
BibTeX export writes them back as BibLaTeX ``ids``.

Keys are given as ``export --format bibtex`` gives them over the whole collection (a made-up
key that two papers share gets a letter, in the order of the export: by title), so that a
key printed here cites the entry of the exported file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from papernotes.note.model import Paper

CITEKEY = "citekey"
CITEKEYS = "citekeys"
FORMATS = ("keys", "bibtex", "csl-json", "text")


def key_list(value: Any) -> list[str]:
    """Keys written as a list or as one string (``a, b``, BibLaTeX's ``ids``)."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value if v is not None]
    elif isinstance(value, str):
        items = value.replace(";", ",").split(",")
    else:
        return []
    return list(dict.fromkeys(k.strip() for k in items if k.strip()))


def own_keys(paper: Paper) -> list[str]:
    """Every key the note gives its paper: ``citekey`` first, then ``citekeys``, then the
    ``ids`` of its kept BibTeX fields; each once (case-insensitive)."""
    kept = paper.extra.get("bibtex")
    keys = [
        *key_list(paper.extra.get(CITEKEY)),
        *key_list(paper.extra.get(CITEKEYS)),
        *key_list(kept.get("ids") if isinstance(kept, dict) else None),
    ]
    seen: set[str] = set()
    out = []
    for key in keys:
        if key.casefold() not in seen:
            seen.add(key.casefold())
            out.append(key)
    return out


def new_keys(existing: Paper, incoming: Paper) -> list[str]:
    """The keys ``incoming`` gives its paper that ``existing`` lacks (a merge adds them to
    ``citekeys``)."""
    have = {k.casefold() for k in own_keys(existing)}
    return [k for k in own_keys(incoming) if k.casefold() not in have]


def keys(papers: Sequence[Paper], collection: Sequence[Paper]) -> list[str]:
    """The citation keys of ``papers`` as the BibTeX export of ``collection`` (the notes,
    sorted by title as ``export`` sorts them) gives them."""
    from papernotes.interop.bibtex import keys as export_keys

    ordered = list(collection)
    by_id = dict(zip((p.id for p in ordered), export_keys(ordered), strict=True))
    alone = export_keys(papers)  # papers outside the collection: keys among themselves
    return [by_id.get(p.id) or alone[n] for n, p in enumerate(papers)]


def cite(papers: Sequence[Paper], collection: Sequence[Paper], fmt: str) -> str:
    """``papers`` cited in ``fmt`` (one of :data:`FORMATS`): their keys a line each, their
    BibTeX entries, their CSL JSON, or a reference a line; keys as in the export of
    ``collection``."""
    chosen = keys(papers, collection)
    if fmt == "bibtex":
        from papernotes.interop.bibtex import to_bibtex

        return to_bibtex(papers, chosen)
    if fmt == "csl-json":
        from papernotes.interop.csl import to_csl_json

        return to_csl_json(papers, chosen)
    if fmt == "text":
        return "".join(reference(p) + "\n" for p in papers)
    return "".join(k + "\n" for k in chosen)


def reference(paper: Paper) -> str:
    """A reference as text, the way author-date styles write one: ``Rafailov, R., Sharma, A.,
    & Finn, C. (2023). Direct Preference Optimization: ... NeurIPS 2023.
    https://arxiv.org/abs/2305.18290``."""
    from papernotes.interop.csl import csl_name

    names = []
    for author in paper.authors:
        name = csl_name(author)
        if "literal" in name:
            names.append(name["literal"])
            continue
        family = " ".join(filter(None, (name.get("non-dropping-particle"), name["family"])))
        initials = " ".join(f"{part[0]}." for part in name.get("given", "").split() if part)
        names.append(", ".join(filter(None, (family, initials, name.get("suffix")))))
    if len(names) > 1:
        who = ", ".join(names[:-1]) + ", & " + names[-1]
    else:
        who = names[0] if names else ""
    title = paper.title.rstrip(".")
    when = f"({paper.year or 'n.d.'})."
    parts = [who, when, f"{title}."] if who else [f"{title}.", when]
    if paper.venue:
        parts.append(f"{paper.venue.rstrip('.')}.")
    elif paper.arxiv:
        parts.append(f"arXiv:{paper.arxiv}.")
    if paper.doi:
        parts.append(f"https://doi.org/{paper.doi}")
    elif paper.url or paper.arxiv:
        parts.append(paper.url or f"https://arxiv.org/abs/{paper.arxiv}")
    return " ".join(" ".join(parts).split())
