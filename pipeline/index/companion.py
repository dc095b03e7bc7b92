"""The companion model's vectors (:mod:`pipeline.embed.use`) of every passage the index embeds, under the same
faiss ids as e5's: a clause's id, and a sentence's requirement id + ``SENTENCE_ID_BASE``.

Derived data, like ``index.faiss``. They are kept in ``index.companion.npz`` beside the SQLite record, keyed by
the passage text they were encoded from (its BLAKE2b digest) and by the model that encoded them. So a document
indexed again, or an index rebuilt, encodes only text not seen before; text that left the index is dropped at
the next write; and vectors of another model are never mixed in (the whole file is encoded again).

Consumes the store's passages and the companion embedder; produces an exact (flat) faiss index in memory.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.index.dense import VectorIndex
from pipeline.utils import atomic_write

__all__ = ["COMPANION_FILE", "CompanionModel", "companion_vectors", "kept_for", "passage_key"]

logger = logging.getLogger(__name__)

COMPANION_FILE = "index.companion.npz"
FILE_FORMAT = "koubo.companion.v1"
KEY_BYTES = 16
# what np.load raises on a file that is missing, cut short, not a zip, or without our arrays
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


class CompanionModel(Protocol):
    name: str
    revision: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def passage_key(text: str) -> bytes:
    """The 16-byte BLAKE2b digest a passage's vector is kept under."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


def _model_id(model: CompanionModel) -> str:
    """What a file records of what wrote it: the model, its version and dimension, and the file's layout."""
    return f"{model.name}@{model.revision}/{model.dim}/{FILE_FORMAT}"


def kept_for(path: Path, model: CompanionModel) -> bool:
    """Whether ``path`` holds vectors written by ``model`` (this name, version and dimension)."""
    try:
        with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
            return str(z["model"]) == _model_id(model)
    except _UNREADABLE:
        return False


def _read(path: Path, model: CompanionModel) -> dict[bytes, np.ndarray]:
    """The vectors kept in ``path`` by passage key; empty if there is no file, it is unreadable, or another
    model (or version) wrote it."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
            if str(z["model"]) != _model_id(model):
                logger.info("%s: written by %s, encoding again with %s", path, z["model"], _model_id(model))
                return {}
            keys, vectors = z["keys"], z["vectors"]
    except _UNREADABLE as e:
        logger.warning("%s: unreadable (%s); the companion vectors are encoded again", path, e)
        return {}
    if keys.shape != (len(keys), KEY_BYTES) or vectors.shape != (len(keys), model.dim):
        logger.warning("%s: malformed; the companion vectors are encoded again", path)
        return {}
    return {k.tobytes(): v for k, v in zip(keys, vectors.astype(np.float32, copy=False), strict=True)}


def _write(path: Path, model: CompanionModel, known: dict[bytes, np.ndarray]) -> None:
    # raw bytes, not numpy's "S16" strings, which drop a key's trailing zero bytes
    keys = np.frombuffer(b"".join(known), dtype=np.uint8).reshape(len(known), KEY_BYTES)
    vectors = np.stack(list(known.values())) if known else np.zeros((0, model.dim), dtype=np.float32)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.savez(f, model=np.array(_model_id(model)), keys=keys, vectors=vectors.astype(np.float32))

    atomic_write(path, write)


def companion_vectors(
    path: Path,
    model: CompanionModel,
    ids: np.ndarray,
    passages: Sequence[str],
    *,
    write: bool,
) -> VectorIndex:
    """A flat faiss index of the companion model's vectors of ``passages`` under ``ids``.

    Vectors kept in ``path`` are reused; the rest are encoded. With ``write``, the file is rewritten (atomically)
    when anything was encoded or dropped; without it (a read-only index), the new vectors live in memory only.
    """
    keys = [passage_key(p) for p in passages]
    kept = _read(path, model)
    todo: dict[bytes, str] = {}
    for k, p in zip(keys, passages, strict=True):
        if k not in kept:
            todo.setdefault(k, p)
    if todo:
        logger.info("companion model: encoding %d passages", len(todo))
        fresh = np.asarray(model.encode_passages(list(todo.values())), dtype=np.float32)
        kept.update(zip(todo, fresh, strict=True))
    used = {k: kept[k] for k in keys}
    if write and (todo or len(used) != len(kept) or not path.exists()):
        _write(path, model, used)
    elif todo:
        logger.warning(
            "%s: %d passages had no companion vector (encoded for this run only); `koubo index` stores them",
            path, len(todo),
        )  # fmt: skip
    vectors = np.stack([used[k] for k in keys]) if keys else np.zeros((0, model.dim), dtype=np.float32)
    return VectorIndex.build(np.asarray(ids, dtype=np.int64), vectors, "flat")
