"""Search speed: index build, warm query latency per mode, and faiss alone at 1M vectors.

1. Build: the clause index over ``corpora/`` from scratch (documents already
   ingested are read from outputs/documents), with the e5 model and the companion
   (USE): seconds and clauses per second, and the share spent embedding by each.
2. Latency: the models loaded and the index open, each query of the query set
   searched alone (as a user would), after a warm-up: p50 and p95 per mode, and
   hybrid without the companion (``hybrid-e5``, BM25 and e5 only) beside it.
3. faiss alone: 1,000,000 synthetic 384-d vectors (a mixture of 2,000 Gaussian
   clusters, normalised: real clause vectors are clustered, uniform noise is
   not), exact search against the IVF option: build time, p50/p95 per query and
   recall@10 of IVF against exact, for a few ``nprobe``.

Run:  .venv/bin/python bench/search_speed.py [--n-vectors 1000000] [--skip-faiss] [--skip-corpus] [--index DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.index import ClauseIndex  # noqa: E402
from pipeline.index.dense import VectorIndex  # noqa: E402
from pipeline.search import search  # noqa: E402

QUERIES = ROOT / "tests/data/search_queries.jsonl"
# Spread of each synthetic cluster: the noise vector is longer than the centre's (1.2·√d vs √d), so
# clusters overlap and a query's neighbours fall in several IVF cells, as with real clause vectors.
NOISE = 1.2


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.array(xs), p))


class _TimedEmbedder:
    """Wraps the embedder to count the time spent embedding passages."""

    def __init__(self, inner: object):
        self.inner = inner
        self.seconds = 0.0
        self.name, self.revision, self.dim = inner.name, inner.revision, inner.dim  # type: ignore[attr-defined]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)  # type: ignore[attr-defined, no-any-return]

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        t0 = time.perf_counter()
        try:
            return self.inner.encode_passages(texts)  # type: ignore[attr-defined, no-any-return]
        finally:
            self.seconds += time.perf_counter() - t0


def corpus_bench(index_dir: Path | None = None) -> None:
    from pipeline.cli import corpus_documents
    from pipeline.embed.embedder import load_embedder
    from pipeline.embed.use import load_companion

    t0 = time.perf_counter()
    embedder = load_embedder(ROOT / "models")
    embedder.model  # noqa: B018  (loads lazily: load it here so that the build below is embedding only)
    print(f"model load: {time.perf_counter() - t0:.1f} s")
    timed = _TimedEmbedder(embedder)
    companion = load_companion()
    timed_companion = _TimedEmbedder(companion) if companion is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        if index_dir is not None:  # latency only, over an index built before (opened read-only, as the server does)
            ix = ClauseIndex(index_dir, timed, companion=timed_companion, read_only=True)  # type: ignore[arg-type]
            print(f"index {index_dir}: {sum(d.n_clauses for d in ix.documents())} clauses (not built here)")
        else:
            docs = list(corpus_documents([ROOT / "corpora"]))
            ix = ClauseIndex(Path(tmp), timed, companion=timed_companion)  # type: ignore[arg-type]
            t0 = time.perf_counter()
            for d in docs:
                ix.add(d)
            ix.save()
            ix.store_companion()
            build = time.perf_counter() - t0
            n = sum(d.n_clauses for d in ix.documents())
            print(
                f"index build: {n} clauses from {len(docs)} documents in {build:.1f} s = {n / build:.1f} clauses/s "
                f"(embedding {timed.seconds:.1f} s, {100 * timed.seconds / build:.0f} %; documents prepared "
                f"beforehand); {ix.store.n_vectors()} vectors: the clauses and the sentences of clauses of several "
                f"sentences, passages in {embedder.passage_precision}"
            )
            if timed_companion is not None:
                print(f"  companion (USE): the same passages in {timed_companion.seconds:.1f} s (within the build)")
        queries = [json.loads(x)["query"] for x in QUERIES.read_text(encoding="utf-8").splitlines() if x.strip()]
        for q in queries[:5]:  # warm-up: first calls build BM25 and touch the model
            search(ix, q, k=10)
        print(f"warm query latency over {len(queries)} queries, one at a time, k=10:")
        print(f"{'mode':<10}{'p50 ms':>9}{'p95 ms':>9}")
        for label in ("sparse", "dense", "hybrid-e5", "hybrid"):
            ix.companion = None if label == "hybrid-e5" else timed_companion  # type: ignore[assignment]
            mode = "hybrid" if label == "hybrid-e5" else label
            times = []
            for q in queries:
                t0 = time.perf_counter()
                search(ix, q, k=10, mode=mode)  # type: ignore[arg-type]
                times.append(1000 * (time.perf_counter() - t0))
            print(f"{label:<10}{pct(times, 50):>9.1f}{pct(times, 95):>9.1f}")
        ix.close()


def faiss_bench(n: int, dim: int = 384, n_queries: int = 300) -> None:
    rng = np.random.default_rng(20261122)
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    x = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, 100_000):  # in slices, to keep the peak memory down
        m = min(100_000, n - s)
        x[s : s + m] = centres[rng.integers(0, len(centres), m)] + NOISE * rng.normal(size=(m, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.arange(n, dtype=np.int64) + 1
    q = x[rng.integers(0, n, n_queries)] + 0.05 * rng.normal(size=(n_queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    print(f"faiss alone: {n:,} synthetic {dim}-d vectors (2,000 clusters), {n_queries} queries, k=10")

    t0 = time.perf_counter()
    flat = VectorIndex.build(ids, x)
    print(f"  flat (exact) build {time.perf_counter() - t0:.1f} s")
    exact = flat.search(q, 10)[1]  # ground truth, batched
    flat_times = []
    for i in range(min(50, n_queries)):
        t0 = time.perf_counter()
        flat.search(q[i : i + 1], 10)
        flat_times.append(1000 * (time.perf_counter() - t0))
    print(f"  flat  p50 {pct(flat_times, 50):7.2f} ms  p95 {pct(flat_times, 95):7.2f} ms  recall@10 1.000")
    del flat

    t0 = time.perf_counter()
    ivf = VectorIndex.build(ids, x, "ivf")
    nlist = ivf._index.nlist
    print(f"  ivf (nlist {nlist}) build, k-means training included: {time.perf_counter() - t0:.1f} s")
    for nprobe in (8, 16, 32, 64):
        ivf.nprobe = nprobe
        times, found = [], []
        for i in range(n_queries):
            t0 = time.perf_counter()
            got = ivf.search(q[i : i + 1], 10)[1][0]
            times.append(1000 * (time.perf_counter() - t0))
            found.append(len(set(got) & set(exact[i])) / 10)
        print(
            f"  ivf nprobe {nprobe:>3}  p50 {pct(times, 50):7.2f} ms  p95 {pct(times, 95):7.2f} ms  "
            f"recall@10 {np.mean(found):.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--n-vectors", type=int, default=1_000_000)
    ap.add_argument("--skip-faiss", action="store_true")
    ap.add_argument("--skip-corpus", action="store_true")
    ap.add_argument("--index", type=Path, help="measure latency over this index (built before) instead of building one")
    args = ap.parse_args(argv)
    if not args.skip_corpus:
        corpus_bench(args.index)
    if not args.skip_faiss:
        faiss_bench(args.n_vectors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
