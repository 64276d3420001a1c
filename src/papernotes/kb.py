"""The knowledge base: a notes directory's valid papers, and how many notes were skipped.

Commands read papers through :func:`open_kb`; how they are loaded (parsed from the files, or
served from the persistent index) is this module's business."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from papernotes.errors import Diagnostic
from papernotes.model import Paper
from papernotes.parse import parse_file
from papernotes.store import Store


@dataclass
class KnowledgeBase:
    store: Store
    papers_by_id: dict[str, Paper] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)

    def papers(self) -> list[Paper]:
        """Every note without errors, sorted by id."""
        return [self.papers_by_id[k] for k in sorted(self.papers_by_id)]

    def __iter__(self) -> Iterator[Paper]:
        return iter(self.papers())

    def __len__(self) -> int:
        return len(self.papers_by_id)

    def get(self, paper_id: str) -> Paper | None:
        return self.papers_by_id.get(paper_id)

    @property
    def skipped(self) -> int:
        """Notes left out because they have errors."""
        return len({d.path for d in self.problems if d.severity == "error"})


def open_kb(store: Store) -> KnowledgeBase:
    """Load every note of ``store`` (notes with errors are counted in ``skipped``)."""
    kb = KnowledgeBase(store)
    for path in store.notes():
        result = parse_file(path, store.relative(path))
        if result.paper is None:
            kb.problems.extend(result.errors)
        elif result.paper.id in kb.papers_by_id:
            kb.problems.append(
                Diagnostic(
                    result.paper.path,
                    result.paper.line_of("id"),
                    "error",
                    f"duplicate id {result.paper.id!r}",
                )
            )
        else:
            kb.papers_by_id[result.paper.id] = result.paper
    return kb
