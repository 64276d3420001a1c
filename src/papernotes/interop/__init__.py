"""Other formats in and out: imports (BibTeX, CSL JSON, RIS, text; arXiv), exports (BibTeX,
BibLaTeX, CSL JSON, JSON, CSV, Markdown) and citations. Above :mod:`papernotes.engine`."""
