"""Dense retrieval: vectors in faiss, kept under koubo's own ids.

Consumes L2-normalised float32 vectors with int64 ids (the clause row ids of the
store, and for sentence vectors their requirement ids + ``SENTENCE_ID_BASE``);
produces the ``k`` nearest ids by inner product (= cosine), optionally only
among allowed ids. Saves and loads itself.

Heavy dependencies: faiss (``faiss-cpu``), NumPy. This is the only module that
imports faiss.

Two kinds of index:

- ``flat`` (default): exact search, ``IndexIDMap2(IndexFlatIP)``; adds and removes
  by id. Right for up to a few hundred thousand clauses.
- ``ivf``: ``IndexIVFFlat`` with inner product, ``nlist`` cells trained by k-means
  on the vectors it is built from, ``nprobe`` cells searched per query. For large
  corpora; approximate. Adds and removes by id once trained.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from pipeline.errors import ModelUnavailableError
from pipeline.utils import atomic_write

try:
    import faiss as _faiss
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ModelUnavailableError("faiss is not installed: pip install '.[index]'") from e

# faiss's bundled stubs lag its SWIG API (SearchParameters(sel=…), IndexIVF.nprobe): use it untyped.
faiss: Any = _faiss

__all__ = ["IVF_NPROBE", "Embedder", "IndexKind", "VectorIndex"]

IndexKind = Literal["flat", "ivf"]


class Embedder(Protocol):
    """What the index needs of an embedding model (e5, :mod:`pipeline.embed`, and the companion,
    :mod:`pipeline.embed.use`): what it records of the model, and L2-normalised float32 vectors."""

    name: str
    revision: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...

IVF_NPROBE = 32  # cells searched per query; recall vs speed
IVF_MIN_POINTS_PER_CELL = 39  # faiss warns below this many training points per cell
IVF_TRAIN_POINTS_PER_CELL = 64  # k-means runs on a sample of this many points per cell
IVF_MAX_NLIST = 1024  # more cells train slowly on two cores; 1M vectors in 1,024 cells scan ~1k per cell
# A search of this many questions or fewer runs on one OpenMP thread. faiss's threads gain nothing on a few
# questions, and after a search they spin waiting for more work, taking a core from the question encoder that runs
# next: on two cores one-question hybrid search took 40 ms p50 with faiss's default threads and 31 ms with one
# (bench/search_speed.py, 83 questions × 3, each setting in its own process, twice).
FEW_QUERIES = 8


def _nlist_for(n: int) -> int:
    """Cells for ``n`` vectors: about 4·√n (faiss's guidelines), at most IVF_MAX_NLIST, at least 1."""
    return max(1, min(int(4 * math.sqrt(n)), IVF_MAX_NLIST, n // IVF_MIN_POINTS_PER_CELL))


class VectorIndex:
    """Nearest clause vectors by inner product, under stable int64 ids.

    Args:
        dim: vector dimension.
        kind: ``"flat"`` (exact) or ``"ivf"`` (approximate; see :meth:`build`).
        nprobe: IVF cells searched per query.

    Example:
        >>> vi = VectorIndex(4)
        >>> vi.add(np.array([7, 9]), np.eye(4, dtype=np.float32)[:2])
        >>> vi.search(np.eye(4, dtype=np.float32)[:1], 1)[1].tolist()
        [[7]]
    """

    def __init__(self, dim: int, kind: IndexKind = "flat", *, nprobe: int = IVF_NPROBE):
        self.dim = dim
        self.kind: IndexKind = kind
        self.nprobe = nprobe
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        vectors: np.ndarray,
        kind: IndexKind = "flat",
        *,
        nlist: int | None = None,
        nprobe: int = IVF_NPROBE,
    ) -> VectorIndex:
        """An index over ``vectors``; for ``ivf``, its cells are trained on them first.

        Too few vectors to train ``nlist`` cells (fewer than 39 per cell) gives an
        IVF with fewer cells; a single cell is an exact search.
        """
        vi = cls(vectors.shape[1], kind, nprobe=nprobe)
        if kind == "ivf" and len(vectors):
            cells = nlist or _nlist_for(len(vectors))
            cells = max(1, min(cells, len(vectors) // IVF_MIN_POINTS_PER_CELL))
            quantizer = faiss.IndexFlatIP(vi.dim)
            ivf = faiss.IndexIVFFlat(quantizer, vi.dim, cells, faiss.METRIC_INNER_PRODUCT)
            sample = vectors
            if len(vectors) > IVF_TRAIN_POINTS_PER_CELL * cells:
                pick = np.random.default_rng(0).choice(len(vectors), IVF_TRAIN_POINTS_PER_CELL * cells, replace=False)
                sample = vectors[np.sort(pick)]
            ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
            ivf.nprobe = min(nprobe, cells)
            vi._index = ivf
        vi.add(ids, vectors)
        return vi

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """Every id the index holds, sorted (to check it against the store before trusting a saved file)."""
        if self.kind == "ivf":
            lists = self._index.invlists
            parts = [
                faiss.rev_swig_ptr(lists.get_ids(c), lists.list_size(c)).copy()
                for c in range(self._index.nlist)
                if lists.list_size(c)
            ]
            out = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        else:
            out = faiss.vector_to_array(self._index.id_map)
        return np.sort(np.asarray(out, dtype=np.int64))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(ids):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64)
            )

    def remove(self, ids: np.ndarray) -> int:
        """Remove vectors by id; returns how many were removed."""
        if not len(ids):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))))

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each of shape (n_queries, k), best first; id -1 pads missing hits.

        Args:
            queries: normalised query vectors, shape (n, dim).
            k: hits per query.
            allowed: if given, only these ids can be returned (a filter).
        """
        q = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, max(self.ntotal, 1)))
        if allowed is None:
            params = faiss.SearchParametersIVF(nprobe=self.nprobe) if self.kind == "ivf" else None
        else:
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = (
                faiss.SearchParametersIVF(sel=sel, nprobe=self.nprobe)
                if self.kind == "ivf"
                else faiss.SearchParameters(sel=sel)
            )
        threads = faiss.omp_get_max_threads()
        if len(q) > FEW_QUERIES or threads == 1:
            return self._index.search(q, k, params=params)  # type: ignore[no-any-return]
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(q, k, params=params)  # type: ignore[no-any-return]
        finally:
            faiss.omp_set_num_threads(threads)

    def to_disk(self, path: Path) -> None:
        """Write the index to ``path`` atomically."""
        atomic_write(path, lambda tmp: faiss.write_index(self._index, str(tmp)))

    @classmethod
    def from_disk(cls, path: Path, *, nprobe: int = IVF_NPROBE) -> VectorIndex:
        index = faiss.read_index(str(path))
        kind: IndexKind = "ivf" if isinstance(index, faiss.IndexIVF) else "flat"
        vi = cls(index.d, kind, nprobe=nprobe)
        if kind == "ivf":
            index.nprobe = min(nprobe, index.nlist)
        vi._index = index
        return vi
