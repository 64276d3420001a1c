"""Math in real BibTeX exports stays math (issue 14): Zotero escapes an abstract's
``$10^{-7}$`` as ``\\$10\\^\\{-7\\}\\$``, which read as LaTeX gave ``$10{̂-7}$``."""

from __future__ import annotations

import re

from papernotes.interop.importers.bibtex import read_bibtex
from tests.conftest import needs_shared_data


def test_zotero_math_in_a_real_export_reads_as_written() -> None:
    path = needs_shared_data("bibtex", "CoreySpohn_dissertation__library.bib")
    result = read_bibtex(path, "library.bib")
    abstracts = {entry.key: entry.paper.body for entry in result.entries if "$" in entry.paper.body}
    gpi = abstracts["savranskyAutomatedAlignment2014"]
    assert "GPI's operating goal of $10^{-7}$ contrast" in gpi
    assert not any("\u0302" in text for text in abstracts.values())  # no combining circumflex
    text = " ".join(abstracts.values())
    assert "$\\sim N^2$" in text
    assert re.search(r"R\$_\\oplus\$", text)
