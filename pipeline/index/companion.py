"""The companion model's vectors (:mod:`pipeline.embed.use`) of every passage the index embeds, under the same
faiss ids as e5's: a clause's id, and a sentence's requirement id + ``SENTENCE_ID_BASE``.

Derived data, like ``index.faiss``. They are kept in ``index.companion.npz`` beside the SQLite record, keyed by
the passage text they were encoded from (its BLAKE2b digest) and by the model that encoded them:

- :func:`store_companion_vectors` (``koubo index``) encodes the passages the file lacks, drops those the index no
  longer has, and writes it (atomically). So a document indexed again encodes only its new text, and vectors of
  another model (or version) are never mixed in: the whole file is encoded again.
- :func:`load_companion_vectors` (search, the server) only reads. A few passages missing (an index changed by a
  run that could not encode them) are encoded in memory; more than :data:`MAX_MISSING` are not: search then goes
  without the companion, with a warning that names ``koubo index``, rather than stall for half a minute.

Consumes the store's passages and the companion embedder; produces an exact (flat) faiss index in memory.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from pipeline.index.dense import Embedder, VectorIndex
from pipeline.utils import atomic_write

__all__ = ["COMPANION_FILE", "MAX_MISSING", "load_companion_vectors", "passage_key", "store_companion_vectors"]

logger = logging.getLogger(__name__)

COMPANION_FILE = "index.companion.npz"
FILE_FORMAT = "koubo.companion.v1"
KEY_BYTES = 16
# Passages a search may encode for itself when the file lacks them (about a second of USE on one core).
MAX_MISSING = 200
ENCODE_BATCH = 256  # passages per call while storing (the progress advances per batch)
# what np.load raises on a file that is missing, cut short, not a zip, or without our arrays
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def passage_key(text: str) -> bytes:
    """The 16-byte BLAKE2b digest a passage's vector is kept under."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


def _model_id(model: Embedder) -> str:
    """What a file records of what wrote it: the model, its version and dimension, and the file's layout."""
    return f"{model.name}@{model.revision}/{model.dim}/{FILE_FORMAT}"


def _read(path: Path, model: Embedder) -> dict[bytes, np.ndarray]:
    """The vectors kept in ``path`` by passage key; empty if there is no file, it is unreadable, or another
    model (or version, or layout) wrote it."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
            if str(z["model"]) != _model_id(model):
                logger.info("%s: written by %s, not %s", path, z["model"], _model_id(model))
                return {}
            keys, vectors = z["keys"], z["vectors"]
    except _UNREADABLE as e:
        logger.warning("%s: unreadable (%s); `koubo index` writes it again", path, e)
        return {}
    if keys.shape != (len(keys), KEY_BYTES) or vectors.shape != (len(keys), model.dim):
        logger.warning("%s: malformed; `koubo index` writes it again", path)
        return {}
    return {k.tobytes(): v for k, v in zip(keys, vectors.astype(np.float32, copy=False), strict=True)}


def _write(path: Path, model: Embedder, kept: dict[bytes, np.ndarray]) -> None:
    # raw bytes, not numpy's "S16" strings, which drop a key's trailing zero bytes
    keys = np.frombuffer(b"".join(kept), dtype=np.uint8).reshape(len(kept), KEY_BYTES)
    vectors = np.stack(list(kept.values())) if kept else np.zeros((0, model.dim), dtype=np.float32)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.savez(f, model=np.array(_model_id(model)), keys=keys, vectors=vectors.astype(np.float32))

    atomic_write(path, write)


def _missing(keys: Sequence[bytes], passages: Sequence[str], kept: dict[bytes, np.ndarray]) -> dict[bytes, str]:
    todo: dict[bytes, str] = {}
    for k, p in zip(keys, passages, strict=True):
        if k not in kept:
            todo.setdefault(k, p)
    return todo


def _index(ids: np.ndarray, keys: Sequence[bytes], kept: dict[bytes, np.ndarray], dim: int) -> VectorIndex:
    vectors = np.stack([kept[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
    return VectorIndex.build(np.asarray(ids, dtype=np.int64), vectors, "flat")


def store_companion_vectors(
    path: Path,
    model: Embedder,
    ids: np.ndarray,
    passages: Sequence[str],
    *,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[VectorIndex, int]:
    """Bring ``path`` up to date with the index's passages and write it if anything changed.

    Args:
        path: the companion file (``index.companion.npz`` in the index folder).
        model: the companion embedder.
        ids: the faiss id of each passage (``Store.passages``).
        passages: the passage texts, as e5 embedded them.
        progress: called with (passages encoded so far, passages to encode) after each batch.

    Returns:
        The companion vectors as a flat faiss index under ``ids``, and how many passages were encoded.
    """
    keys = [passage_key(p) for p in passages]
    kept = _read(path, model)
    todo = _missing(keys, passages, kept)
    pending = list(todo.items())
    for start in range(0, len(pending), ENCODE_BATCH):
        batch = pending[start : start + ENCODE_BATCH]
        fresh = np.asarray(model.encode_passages([text for _, text in batch]), dtype=np.float32)
        kept.update(zip((key for key, _ in batch), fresh, strict=True))
        if progress is not None:
            progress(start + len(batch), len(pending))
    used = {k: kept[k] for k in keys}
    if todo or len(used) != len(kept) or not path.exists():
        _write(path, model, used)
    return _index(ids, keys, used, model.dim), len(todo)


def load_companion_vectors(
    path: Path, model: Embedder, ids: np.ndarray, passages: Sequence[str], *, max_missing: int = MAX_MISSING
) -> VectorIndex | None:
    """The companion vectors for search, read from ``path`` (never written).

    Args:
        path: the companion file.
        model: the companion embedder.
        ids: the faiss id of each passage.
        passages: the passage texts.
        max_missing: passages the file may lack and still be used (they are encoded in memory).

    Returns:
        A flat faiss index under ``ids``, or None (with a warning) when the file lacks more passages than
        ``max_missing``: hybrid search then fuses BM25 and e5 only.
    """
    keys = [passage_key(p) for p in passages]
    kept = _read(path, model)
    todo = _missing(keys, passages, kept)
    if len(todo) > max_missing:
        logger.warning(
            "%s lacks the companion model's vectors of %d passages: hybrid search runs with BM25 and e5 only "
            "until `koubo index` stores them",
            path, len(todo),
        )  # fmt: skip
        return None
    if todo:
        logger.warning("%s: %d passages without a companion vector, encoded for this run", path, len(todo))
        kept.update(zip(todo, np.asarray(model.encode_passages(list(todo.values())), dtype=np.float32), strict=True))
    return _index(ids, keys, kept, model.dim)
