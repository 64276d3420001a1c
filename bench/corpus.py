"""Benchmark corpora: one papernotes note per arXiv listing, written with papernotes' own writer.

Reads ``../shared/data/arxiv/arxiv-75k.jsonl.gz`` (never copied into the repository); when it is
absent, a seeded synthetic generator stands in. A corpus is built once per size under
``bench/corpora/`` (git-ignored) and reused while its stamp matches.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from papernotes.disk.write import slugify
from papernotes.note.dump import dump
from papernotes.note.model import Paper

ROOT = Path(__file__).resolve().parent.parent
ARXIV = ROOT.parent / "shared" / "data" / "arxiv" / "arxiv-75k.jsonl.gz"
CORPORA = ROOT / "bench" / "corpora"
GENERATOR_VERSION = 1

# arXiv primary category -> the topic a reader would file the paper under.
TOPICS = {
    "cs.CV": "computer-vision",
    "cs.CL": "nlp",
    "cs.AI": "ai",
    "cs.LG": "machine-learning",
    "cs.IT": "information-theory",
    "cs.GR": "graphics",
    "cs.RO": "robotics",
    "cs.IR": "retrieval",
    "eess.IV": "imaging",
}

Listing = dict[str, Any]


def listings(source: Path | None = ARXIV, limit: int | None = None) -> list[Listing]:
    """The first ``limit`` arXiv listings of ``source``, or synthetic ones when it is absent."""
    if source is not None and source.exists():
        rows: list[Listing] = []
        with gzip.open(source, "rt", encoding="utf-8") as handle:
            for line in handle:
                rows.append(json.loads(line))
                if limit is not None and len(rows) >= limit:
                    break
        return rows
    return list(synthetic(limit if limit is not None else 74_728))


_WORDS = """transformer diffusion model language large learning reinforcement video segmentation
gaussian splatting contrastive retrieval graph neural network attention policy reward benchmark
dataset robust efficient scalable sparse dense alignment preference agent reasoning vision
multimodal token decoding training inference quantization pruning generation detection tracking
depth pose point cloud medical image speech audio code""".split()  # noqa: SIM905
_NAMES = """Wang Li Zhang Chen Liu Smith Garcia Müller Rossi Tanaka Kim Singh Novak
Silva""".split()  # noqa: SIM905
_FIRST = """Wei Jing Anna Luca Maria Kenji Ji-ho Arjun Petra Tomás Xin Lei Sara
Omar""".split()  # noqa: SIM905


def synthetic(count: int, seed: int = 7) -> Iterator[Listing]:
    """Listings shaped like the arXiv ones, from a fixed seed (a stand-in when data is absent)."""
    rng = random.Random(seed)
    categories = list(TOPICS)
    for number in range(count):
        words = rng.choices(_WORDS, k=rng.randint(5, 12))
        summary = " ".join(rng.choices(_WORDS, k=rng.randint(120, 220)))
        yield {
            "id": f"25{number // 10000 % 100:02d}.{number % 100000:05d}",
            "title": " ".join(words).capitalize(),
            "authors": [
                f"{rng.choice(_FIRST)} {rng.choice(_NAMES)}" for _ in range(rng.randint(1, 8))
            ],
            "categories": rng.sample(categories, rng.randint(1, 3)),
            "summary": summary.capitalize() + ".",
            "abs": "",
            "listing_date": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }


def paper_of(listing: Listing, stem: str) -> Paper:
    """The note a researcher would keep for ``listing``; the abstract is the body."""
    date = listing["listing_date"]
    categories = list(listing["categories"])
    topic = TOPICS.get(categories[0]) if categories else None
    body = " ".join(listing["summary"].split())
    return Paper(
        id=stem,
        title=" ".join(listing["title"].split()),
        authors=tuple(listing["authors"]),
        year=int(date[:4]),
        published=date,
        arxiv=listing["id"],
        url=listing.get("abs") or None,
        topics=(topic,) if topic else (),
        tags=tuple(categories),
        body=f"\n## Abstract\n\n{body}\n",
        path=f"{stem}.md",
    )


def stems(rows: list[Listing]) -> list[str]:
    """A unique file stem (slug of the title) per listing, ``-2``, ``-3``... on clashes."""
    seen: set[str] = set()
    out: list[str] = []
    for row in rows:
        base = slugify(row["title"])
        stem, number = base, 2
        while stem in seen:
            stem, number = f"{base}-{number}", number + 1
        seen.add(stem)
        out.append(stem)
    return out


def write_notes(directory: Path, rows: list[Listing], stem_list: list[str]) -> list[Path]:
    """Write one note per listing into ``directory``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for row, stem in zip(rows, stem_list, strict=True):
        path = directory / f"{stem}.md"
        path.write_text(dump(paper_of(row, stem)), encoding="utf-8")
        paths.append(path)
    return paths


def build(size: int, rows: list[Listing], source: str, base: Path = CORPORA) -> Path:
    """``base/<source>-<size>/notes``, (re)written unless its stamp says it is already there."""
    if len(rows) < size:
        raise ValueError(f"{size} notes asked for, {len(rows)} listings available")
    corpus = base / f"{source}-{size}"
    notes = corpus / "notes"
    stamp = json.dumps({"size": size, "generator": GENERATOR_VERSION, "source": source})
    stamp_file = corpus / "stamp.json"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        count = sum(1 for name in os.listdir(notes) if name.endswith(".md"))
        if count == size:
            return notes
    if corpus.exists():
        shutil.rmtree(corpus)
    subset = rows[:size]
    write_notes(notes, subset, stems(subset))
    stamp_file.write_text(stamp)
    return notes
