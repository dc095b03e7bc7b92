"""Search quality on the hand-written query set: recall@1, recall@5 and MRR for sparse, dense and hybrid.

The query set (``tests/data/search_queries.jsonl``) was written without any
search system to hand: natural questions, most of them paraphrased away from
the clause's words, each with the clause paths that answer it. A hit is
relevant when it is in a listed document at a listed path or below it.

The index is built over ``corpora/`` into a temporary folder (or ``--index``),
with the e5 model from ``models/`` (built by ``make models``).

Modes: ``sparse`` (BM25), ``dense`` (e5), ``hybrid`` (BM25, e5 and the companion model USE fused), and
``hybrid-e5`` (BM25 and e5 only: hybrid search as it was before the companion, the obvious alternative).

Run:  .venv/bin/python bench/search_quality.py [--queries FILE ...] [--show-misses] [--modes sparse,dense,hybrid]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.document import Hit  # noqa: E402
from pipeline.index import ClauseIndex  # noqa: E402
from pipeline.search import SearchMode, search_many  # noqa: E402

QUERIES = ROOT / "tests/data/search_queries.jsonl"


def relevant(hit: Hit, stems: dict[str, str], wanted: list[dict[str, str]]) -> bool:
    stem = stems[hit.doc]
    return any(
        w["doc"] == stem and (hit.clause_path == w["path"] or hit.clause_path.startswith(w["path"] + "."))
        for w in wanted
    )


MODES = ("sparse", "dense", "hybrid-e5", "hybrid")


def evaluate(
    index: ClauseIndex, queries: list[dict], mode: SearchMode | str, k: int = 10
) -> tuple[dict[str, float], list[tuple[dict, list[Hit]]]]:
    """Recall@1, recall@5, MRR and ms per query of one mode; ``hybrid-e5`` is hybrid with the companion off."""
    stems = {d.id: Path(d.path).stem for d in index.documents()}
    companion = index.companion
    if mode == "hybrid-e5":
        index.companion, mode = None, "hybrid"
    t0 = time.perf_counter()
    try:
        results = search_many(index, [q["query"] for q in queries], k=k, mode=mode)  # type: ignore[arg-type]
    finally:
        index.companion = companion
    dt = time.perf_counter() - t0
    r1 = r5 = mrr = 0.0
    misses = []
    for q, hits in zip(queries, results, strict=True):
        ranks = [i for i, h in enumerate(hits, start=1) if relevant(h, stems, q["relevant"])]
        first = ranks[0] if ranks else None
        r1 += first == 1
        r5 += first is not None and first <= 5
        mrr += 1 / first if first else 0.0
        if first is None or first > 5:
            misses.append((q, hits))
    n = len(queries)
    return {"recall@1": r1 / n, "recall@5": r5 / n, "mrr": mrr / n, "ms_per_query": 1000 * dt / n}, misses


def build(index_dir: Path, with_model: bool, query_precision: str = "auto") -> ClauseIndex:
    from pipeline.cli import corpus_documents

    embedder = companion = None
    if with_model:
        from pipeline.embed.embedder import load_embedder
        from pipeline.embed.use import load_companion

        embedder = load_embedder(query_precision=query_precision, passage_precision=query_precision)  # type: ignore[arg-type]
        companion = load_companion()
        print(f"questions encoded in {embedder.query_precision}, passages in {embedder.passage_precision}")
    index = ClauseIndex(index_dir, embedder, companion=companion)
    for doc in corpus_documents([ROOT / "corpora"]):
        index.add(doc)
    index.save()
    index.store_companion()
    return index


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--queries", type=Path, action="append",
                    help=f"a query set (repeatable: each is scored, then all pooled) [default: {QUERIES.name}]")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    ap.add_argument("--index", type=Path, help="use this existing index folder instead of building one")
    ap.add_argument("--query-precision", choices=("auto", "fp32", "bf16", "int8"), default="auto",
                    help="encode questions (and, when it builds the index, passages) in fp32, bf16 or int8 "
                         "(auto: bf16 where the CPU has it natively, else int8; passages never int8)")
    ap.add_argument("--show-misses", action="store_true", help="list queries with no relevant hit in the top 5")
    args = ap.parse_args(argv)  # fmt: skip
    modes = [m for m in args.modes.split(",") if m in MODES]
    sets = {
        str(f): [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        for f in dict.fromkeys(args.queries or [QUERIES])
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        index = build(args.index or Path(tmp), with_model=any(m != "sparse" for m in modes),
                      query_precision=args.query_precision)  # fmt: skip
        print(f"index: {sum(d.n_clauses for d in index.documents())} clauses from {len(index.documents())} "
              f"documents in {time.perf_counter() - t0:.1f} s")
        pooled: dict[str, list[float]] = {m: [0.0, 0.0, 0.0] for m in modes}
        for name, queries in sets.items():
            print(f"\n{name}: {len(queries)} queries")
            print(f"{'mode':<10}{'recall@1':>10}{'recall@5':>10}{'MRR':>8}{'ms/query':>10}")
            for mode in modes:
                scores, misses = evaluate(index, queries, mode)
                print(f"{mode:<10}{scores['recall@1']:>10.3f}{scores['recall@5']:>10.3f}{scores['mrr']:>8.3f}"
                      f"{scores['ms_per_query']:>10.1f}")  # fmt: skip
                for j, key in enumerate(("recall@1", "recall@5", "mrr")):
                    pooled[mode][j] += scores[key] * len(queries)
                if args.show_misses:
                    for q, hits in misses:
                        got = ", ".join(h.clause_path for h in hits[:5])
                        want = ", ".join(f"{w['doc'][:14]}:{w['path']}" for w in q["relevant"])
                        print(f"   miss {q['id']} {q['query']}  want {want}  got {got}")
        if len(sets) > 1:
            n = sum(len(q) for q in sets.values())
            print(f"\nall {len(sets)} sets pooled: {n} queries")
            print(f"{'mode':<10}{'recall@1':>10}{'recall@5':>10}{'MRR':>8}")
            for mode in modes:
                r1, r5, mrr = (v / n for v in pooled[mode])
                print(f"{mode:<10}{r1:>10.3f}{r5:>10.3f}{mrr:>8.3f}")
        index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
