"""``papernotes cite REF...``: the citation keys of papers, or their entries."""

from __future__ import annotations

import click

from papernotes.cli.common import format_option, get_kb
from papernotes.cli.complete import complete_ref


@click.command("cite")
@click.argument("refs", nargs=-1, required=True, metavar="REF...", shell_complete=complete_ref)
@format_option("keys", "bibtex", "csl-json", "text")
@click.pass_context
def cite_cmd(ctx: click.Context, refs: tuple[str, ...], fmt: str) -> None:
    """Print the citation keys of papers (one a line), or with --format their BibTeX entries,
    their CSL JSON (pandoc, Zotero) or a reference as text.

    REF is anything `papernotes show` takes. A key is the note's citekey, else the key
    `export --format bibtex` gives the paper (rafailov2023direct), so that it cites the
    entry of the exported file.

    \b
    Examples:
      papernotes cite dpo
      papernotes cite dpo kto --format bibtex >> refs.bib
      papernotes cite mixtral --format text
    """
    from papernotes.engine.resolve import resolve_in_kb
    from papernotes.engine.selection import papers, rowids
    from papernotes.interop.cite import cite
    from papernotes.render import print_data

    kb = get_kb(ctx)
    cited = [resolve_in_kb(kb, ref) for ref in refs]
    collection = list(papers(kb, rowids(kb, sort="title")))  # as export sorts them
    print_data(cite(cited, collection, fmt))
