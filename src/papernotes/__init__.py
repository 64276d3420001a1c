"""papernotes: a local-first knowledge base for research-paper reading notes."""

__version__ = "0.1.0"
