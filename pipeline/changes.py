"""What-changed answers: a question in Japanese × a DocumentDiff → the change items that answer it.

Consumes a :class:`~pipeline.document.DocumentDiff` and questions (「常駐支援者の要件はどう変わった？」);
produces, per question, the ``k`` most relevant change items with a score.

Heavy dependencies: SudachiPy and NumPy (BM25, from :mod:`pipeline.index.sparse`); the embedder if one
is passed.

Each change item is read as one passage: its heading(s) and clause path, its reason and value deltas,
the words that changed, and the clause text. Items are ranked by BM25 over Sudachi tokens and, with an
embedder, by e5 similarity, fused by reciprocal rank; substantive items are preferred over editorial ones
of equal rank.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.document import Change, DocumentDiff
from pipeline.index import Embedder
from pipeline.index.sparse import BM25, tokenize

__all__ = ["change_passage", "rank_changes"]

RRF_K = 60
EDITORIAL_PENALTY = 0.5  # an editorial item's fused score is multiplied by this


def change_passage(c: Change) -> str:
    """The text a change item is matched by."""
    changed = "".join(op.text for op in c.diff if op.op != "equal")
    parts = [
        c.new_heading or c.old_heading or "",
        c.new_path or c.old_path or "",
        c.category.value,
        c.reason,
        changed[:400],
        (c.new_text or c.old_text or "")[:600],
    ]
    return "\n".join(p for p in parts if p)


def rank_changes(
    diff: DocumentDiff, questions: Sequence[str], *, k: int = 5, embedder: Embedder | None = None
) -> list[list[tuple[Change, float]]]:
    """The ``k`` change items that best answer each question, best first.

    Args:
        diff: the comparison of two calls.
        questions: questions or keywords in Japanese.
        k: items per question.
        embedder: the e5 embedder; without it, ranking is lexical only.

    Example:
        >>> rank_changes(diff, ["業務委託費の上限はどう変わった？"], k=1)[0][0][0].new_path   # doctest: +SKIP
        'II.2'
    """
    items = diff.changes
    if not items:
        return [[] for _ in questions]
    passages = [change_passage(c) for c in items]
    bm25 = BM25([tokenize(p) for p in passages])
    dense_order: list[list[int]] = [[] for _ in questions]
    if embedder is not None:
        pv = np.asarray(embedder.encode_passages(passages), dtype=np.float32)
        qv = np.asarray(embedder.encode_queries(list(questions)), dtype=np.float32)
        dense_order = [list(np.argsort(-(pv @ q))) for q in qv]
    out = []
    for q, order in zip(questions, dense_order, strict=True):
        fused = np.zeros(len(items))
        for rank, (i, _) in enumerate(bm25.top(tokenize(q), len(items)), start=1):
            fused[i] += 1.0 / (RRF_K + rank)
        for rank, i in enumerate(order[:100], start=1):
            fused[i] += 1.0 / (RRF_K + rank)
        fused *= np.array([1.0 if c.substantive else EDITORIAL_PENALTY for c in items])
        best = [int(i) for i in np.argsort(-fused, kind="stable")[:k] if fused[i] > 0]
        out.append([(items[i], float(fused[i])) for i in best])
    return out
