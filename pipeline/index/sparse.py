"""Sparse retrieval: SudachiPy tokens and Okapi BM25 over a sparse term matrix.

Consumes clause texts (``str``); produces token lists (to store beside the
clause) and, given all stored token lists, a :class:`BM25` that scores a query
against every clause, or only against the clauses a filter allows.

Heavy dependencies: SudachiPy (installed with ``ja-ginza``), NumPy, SciPy.

Tokens are Sudachi *normalised forms* (「税込」→「税込み」, 「7,000万」→「70000000」)
of content words, in two granularities at once: the short units of split mode A
(「業務」「委託」「費」) and, where it differs, the long unit of mode C
(「業務委託費」). A query for 「委託費」 then meets 「業務委託費」 through its parts,
and a query for the whole compound scores higher on an exact long unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from sudachipy import Tokenizer

__all__ = ["BM25", "BM25_B", "BM25_K1", "TOKENIZER", "token_spans", "tokenize"]

TOKENIZER = "sudachi.core.AC.normalized.v1"  # changes to tokenize() must change this name
BM25_K1 = 1.2
BM25_B = 0.75
# Parts of speech that carry no content: particles, auxiliaries, punctuation, blanks.
_SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
# Very frequent function-like words that Sudachi tags as content.
_STOP = frozenset({"為る", "有る", "居る", "成る", "こと", "もの", "等", "よう", "ため", "之", "此の", "其の"})
_MAX_CHARS = 20_000  # Sudachi refuses inputs over 49,149 bytes; split longer texts


@cache
def _tokenizer() -> Tokenizer:
    from pipeline.errors import ModelUnavailableError

    try:
        from sudachipy import Dictionary
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ModelUnavailableError("SudachiPy is not installed: pip install '.[nlp]'") from e
    return Dictionary(dict="core").create()


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """(normalised form, start, end) of each content token of ``text``, modes A and C merged.

    Example:
        >>> [t for t, _, _ in token_spans("業務委託費の上限")]
        ['業務', '委託', '費', '業務委託費', '上限']
    """
    from sudachipy import SplitMode

    tok = _tokenizer()
    out: list[tuple[str, int, int]] = []
    for base in range(0, len(text), _MAX_CHARS):
        chunk = text[base : base + _MAX_CHARS]
        for m in tok.tokenize(chunk, SplitMode.C):
            if m.part_of_speech()[0] in _SKIP_POS:
                continue
            long_form = m.normalized_form()
            start, end = base + m.begin(), base + m.end()
            subs = m.split(SplitMode.A)
            if len(subs) > 1:
                for s in subs:
                    if s.part_of_speech()[0] not in _SKIP_POS and s.normalized_form() not in _STOP:
                        out.append((s.normalized_form(), base + s.begin(), base + s.end()))
            if long_form not in _STOP:
                out.append((long_form, start, end))
    return out


def words(text: str) -> list[str]:
    """The words of ``text`` as Sudachi's coarsest split reads them (normalised forms, mode C only): 「宮城県」 and
    「株式会社」 stay whole, where :func:`tokenize` also gives their parts (宮城, 県; 株式, 会社).

    Example:
        >>> words("宮城県の株式会社に")
        ['宮城県', 'の', '株式会社', 'に']
    """
    from sudachipy import SplitMode

    tok = _tokenizer()
    return [m.normalized_form() for base in range(0, len(text), _MAX_CHARS)
            for m in tok.tokenize(text[base : base + _MAX_CHARS], SplitMode.C)]  # fmt: skip


def is_place_name(text: str) -> bool:
    """Whether Sudachi reads ``text`` as one place name (「宇都宮市」「弥彦村」; not 「連携市町」 nor 「木曾広域」).

    Example:
        >>> is_place_name("高根沢町"), is_place_name("連携市町")
        (True, False)
    """
    from sudachipy import SplitMode

    if not text or len(text) > 20:
        return False
    morphemes = _tokenizer().tokenize(text, SplitMode.C)
    return len(morphemes) == 1 and tuple(morphemes[0].part_of_speech()[:3]) == ("名詞", "固有名詞", "地名")


def tokenize(text: str) -> list[str]:
    """The content tokens of ``text`` (normalised forms, modes A and C), in order."""
    return [t for t, _, _ in token_spans(text)]


class BM25:
    """Okapi BM25 over a fixed list of documents (here: clauses), as a sparse matrix.

    Rows are documents, columns terms; a cell holds the term's BM25 weight in the
    document, so a query's scores are one sparse matrix–vector product.

    Args:
        docs: the token list of each document, in row order.
        k1, b: the usual BM25 parameters.
    """

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = BM25_K1, b: float = BM25_B):
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths = np.fromiter((len(d) for d in docs), dtype=np.float64, count=len(docs))
        for i, d in enumerate(docs):
            counts: dict[int, int] = {}
            for t in d:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            rows.extend([i] * len(counts))
            cols.extend(counts)
            vals.extend(counts.values())
        n = len(docs)
        tf = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)), dtype=np.float64)
        df = np.bincount(tf.indices, minlength=len(vocab)).astype(np.float64)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avg = float(lengths.mean()) if n else 0.0
        norm = k1 * (1 - b + b * lengths / avg) if avg else np.full(n, k1)
        # weight = idf * tf * (k1 + 1) / (tf + norm_row), row by row
        data = tf.data.copy()
        row_of = np.repeat(np.arange(n), np.diff(tf.indptr))
        data = data * (k1 + 1) / (data + norm[row_of])
        # stored by column: a query reads a few term columns, never whole rows
        self.matrix = sparse.csr_matrix((data * self.idf[tf.indices], tf.indices, tf.indptr), shape=tf.shape).tocsc()
        self.vocab = vocab
        self.n_docs = n

    def scores(self, query_tokens: Iterable[str]) -> np.ndarray:
        """The BM25 score of every document for a query (0 where no term matches)."""
        cols = sorted({self.vocab[t] for t in query_tokens if t in self.vocab})
        if not cols or self.n_docs == 0:
            return np.zeros(self.n_docs)
        out = np.zeros(self.n_docs)
        m = self.matrix
        for j in cols:
            lo, hi = m.indptr[j], m.indptr[j + 1]
            np.add.at(out, m.indices[lo:hi], m.data[lo:hi])
        return out

    def top(self, query_tokens: Iterable[str], k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` best (row, score) pairs with a score above 0, best first; ``allowed`` is a row mask."""
        s = self.scores(query_tokens)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        hits = np.flatnonzero(s > 0)
        if hits.size == 0:
            return []
        k = min(k, hits.size)
        best = hits[np.argpartition(-s[hits], k - 1)[:k]]
        best = best[np.argsort(-s[best], kind="stable")]
        return [(int(i), float(s[i])) for i in best]

