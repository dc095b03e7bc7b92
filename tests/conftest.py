"""Shared fixtures: the corpus as listed in corpora/MANIFEST.csv, and a cache so
that each PDF is read once per test session (reading is the slow part)."""

from __future__ import annotations

import csv
import itertools
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from pipeline.document import Document
from pipeline.ingest import read_pdf, read_text

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"
REALPDFS = ROOT / "tests" / "data" / "realpdfs"
DATA = ROOT / "tests" / "data"


def corpus_rows() -> list[dict[str, str]]:
    with (CORPORA / "MANIFEST.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def corpus_stems() -> list[str]:
    """The five call documents, by the path of their text file without suffix."""
    return [r["file"][: -len(".txt")] for r in corpus_rows() if r["file"].endswith(".txt")]


@cache
def _read(path: str) -> Document:
    p = Path(path)
    return read_pdf(p) if p.suffix == ".pdf" else read_text(p)


@pytest.fixture(scope="session")
def ingested() -> Callable[[Path], Document]:
    """Read a corpus or test file once per session; the Document is frozen, so sharing it is safe."""
    return lambda path: _read(str(path))


@pytest.fixture(autouse=True)
def _outputs_in_tmp(tmp_path_factory, monkeypatch):
    """Commands cache what they ingest under outputs/: keep tests out of the checkout's outputs/."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path_factory.mktemp("outputs")))


class FakeEmbedder:
    """A deterministic stand-in for the e5 model: hashed character bigrams, L2-normalised.

    It has the embedder's interface (name, revision, dim, encode_queries, encode_passages)
    and real lexical behaviour, so index and search tests are fast and still meaningful.
    """

    def __init__(self, name: str = "fake-bigram", revision: str = "1", dim: int = 256):
        self.name, self.revision, self.dim = name, revision, dim

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            t = "".join(t.split())
            for a, b in itertools.pairwise(t):
                out[i, zlib.crc32((a + b).encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts))

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts))


class FakeCompanion:
    """A stand-in for the companion model (USE): hashed character trigrams, L2-normalised, unlike
    FakeEmbedder's bigrams; remembers the passages it encoded, and gives a question a ``pinned`` vector if told."""

    def __init__(self, revision: str = "1", dim: int = 128):
        self.name, self.revision, self.dim = "fake-trigram", revision, dim
        self.passages: list[str] = []
        self.pinned: dict[str, np.ndarray] = {}  # question → the vector to give it

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            t = "".join(t.split())
            for j in range(len(t) - 2):
                out[i, zlib.crc32(t[j : j + 3].encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.pinned[t] if t in self.pinned else self._encode([t])[0] for t in texts])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passages.extend(texts)
        return self._encode(list(texts))


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()
