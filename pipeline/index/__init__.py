"""Index: clauses of segmented documents → a searchable ClauseIndex on disk.

Consumes :class:`~pipeline.document.Document` objects that went through
:func:`pipeline.structure.segment` (and, for the requirement filter,
:func:`pipeline.nlp.find_requirements`); produces an index directory:

- ``index.sqlite``: documents, clauses (with BM25 tokens and vectors), requirements, values;
- ``index.faiss``: the clause vectors under the clause ids, and the vectors of the sentences of long clauses
  under their requirement ids + ``SENTENCE_ID_BASE`` (derived; rebuilt if missing or stale);
- ``index.companion.npz``: the companion model's vectors of the same passages, by passage text (derived; see
  :mod:`pipeline.index.companion`);
- ``meta`` table: schema, embedder name, revision and dimension, tokenizer, index kind.

Heavy dependencies: faiss and SudachiPy (here), the embedder (passed in).

Indexing is incremental: a document whose sha256 is indexed is skipped; a new
version of a source path replaces the old one's clauses. An index refuses an
embedder other than the one it was built with (:class:`IndexMismatchError`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from pipeline.document import Clause, Document, SourceFile
from pipeline.errors import IndexMismatchError
from pipeline.index.cases import Cases, find_cases
from pipeline.index.companion import COMPANION_FILE, load_companion_vectors, store_companion_vectors
from pipeline.index.dense import Embedder, IndexKind, VectorIndex
from pipeline.index.sparse import BM25, TOKENIZER, tokenize
from pipeline.index.store import (
    SENTENCE_ID_BASE,
    STORE_SCHEMA,
    STORE_SCHEMA_VERSION,
    ClauseRow,
    IndexedDocument,
    Store,
    iter_clause_rows,
    passage_of,
    sentence_passages,
)

__all__ = [
    "AddStatus", "ClauseIndex", "ClauseRow", "Embedder", "IndexedDocument", "document_label", "indexed_by_current",
    "passage_text",
]  # fmt: skip

AddStatus = Literal["added", "replaced", "unchanged"]


PASSAGE = "passage.v4"  # what passage_text() builds and what is tokenised; a change needs a rebuilt index
# A word of a call's label names that call only if no call without it in its label uses it in more than this
# share of its clauses (measured on 263 questions: 0.005 to 0.02 give the same rankings).
NAMING_SHARE = 0.01
# What is embedded besides each clause, recorded in each indexed document's produced_by under "vectors": a
# document indexed with other vectors is indexed again (and keeps the vectors that did not change).
VECTORS_KEY = "vectors"
VECTORS = "clauses+sentences.v1"
# Short names people use for issuers and secretariats (「経産省の公募」「三菱総研の事業者公募」).
ALIASES = {
    "経済産業省": "経産省",
    "総務省": "総務省",
    "厚生労働省": "厚労省",
    "中小企業庁": "中企庁",
    "三菱総合研究所": "三菱総研 MRI",
    "NTTデータ経営研究所": "NTTデータ",
    "地方公共団体": "自治体",
    "経済産業局": "経産局",
}


def document_label(
    title: str | None, fiscal_year: int | None, secretariat: str | None, issuer: str | None, programme: str | None
) -> str:
    """Who and when of a call: 「…公募要領 令和8年度 2026年度 NTTデータ経営研究所 NTTデータ」.

    Questions name the call by year, era year or secretariat (「令和8年度の…」「三菱総研の公募で…」);
    clauses rarely repeat that. The label is added to each clause's BM25 tokens and matched
    against the question to find which call it asks about (see :mod:`pipeline.search`).
    """
    parts = [title or "", programme or ""]
    if fiscal_year:
        parts.append(f"令和{fiscal_year - 2018}年度 {fiscal_year}年度")
    for name in (secretariat, issuer):
        if name:
            parts.append(name)
            parts.extend(alias for full, alias in ALIASES.items() if full in name)
    parts.extend(alias for full, alias in ALIASES.items() if full in (title or ""))
    return " ".join(p for p in parts if p)


def _label_of_row(d: IndexedDocument) -> str:
    return document_label(d.title, d.fiscal_year, d.secretariat, d.issuer, d.programme)


def _label_of(source: SourceFile) -> str:
    return document_label(source.title, source.fiscal_year, source.secretariat, source.issuer, source.programme)


def indexed_by_current(produced_by: dict[str, str]) -> bool:
    """Whether an indexed document's record says it was embedded as this koubo embeds (clauses and sentences);
    how it was read and classified is the caller's to check (``pipeline.cli.prepared_by_current``)."""
    return produced_by.get(VECTORS_KEY) == VECTORS


def passage_text(context: str, clause: Clause) -> str:
    """What a clause is embedded as: its place in the tree, then its own text.

    The heading chain (「応募等 > 応募資格等 > 常駐支援者の経験・能力」) lets a short item
    (「・ 国内に在住していること」) be found by what its section is about. The call's label is
    left out of the vector (measured: it pulls every clause of a call together and costs
    dense recall) and put into the BM25 tokens instead.
    """
    return passage_of(context, clause.text)


@dataclass(frozen=True)
class _Meta:
    model: str
    revision: str
    dim: int

    def describe(self) -> str:
        return f"{self.model}@{self.revision} ({self.dim}-d)"


class ClauseIndex:
    """A clause index directory: SQLite record, faiss vectors, BM25 built on load.

    Args:
        directory: the index folder (``outputs/indexes/<name>/``); created if missing.
        embedder: the embedding model; None opens the index for sparse search only.
        companion: a second embedding model whose ranking hybrid search fuses too
            (:func:`pipeline.embed.use.load_companion`); its vectors are derived from the passages e5 embeds.
        kind: ``flat`` (exact) or ``ivf`` (approximate, for large corpora) — the faiss index kind.
        read_only: open SQLite read-only (the server): nothing is created, written or repaired on disk.

    Raises:
        IndexMismatchError: the index was built with another embedder, dimension or schema.

    Example:
        >>> index = ClauseIndex(Path("outputs/indexes/default"), embedder)   # doctest: +SKIP
        >>> index.add(document); index.save()                                # doctest: +SKIP
    """

    def __init__(
        self,
        directory: Path,
        embedder: Embedder | None = None,
        *,
        companion: Embedder | None = None,
        kind: IndexKind = "flat",
        read_only: bool = False,
    ):
        self.directory = directory
        self.embedder = embedder
        self.companion = companion
        self.kind: IndexKind = kind
        self.read_only = read_only
        self.store = Store(directory / "index.sqlite", read_only=read_only)
        self._faiss_path = directory / "index.faiss"
        self._check_meta()
        self._vectors: VectorIndex | None = None
        self._dirty = False

    # --- opening --------------------------------------------------------------------------
    def _check_meta(self) -> None:
        meta = self.store.meta()
        if not meta and self.read_only:
            raise IndexMismatchError(f"{self.directory}: the index is empty; build it with `koubo index`")
        if not meta:
            values = {
                "schema": STORE_SCHEMA,
                "schema_version": STORE_SCHEMA_VERSION,
                "tokenizer": TOKENIZER,
                "passage": PASSAGE,
            }
            if self.embedder is not None:
                values |= {
                    "model": self.embedder.name,
                    "revision": self.embedder.revision,
                    "dim": str(self.embedder.dim),
                }
            self.store.set_meta(values)
            return
        where = self.directory
        if meta.get("schema") != STORE_SCHEMA or meta.get("schema_version", "").split(".")[0] != "1":
            raise IndexMismatchError(
                f"{where}: index schema {meta.get('schema')} {meta.get('schema_version')} is not "
                f"{STORE_SCHEMA} {STORE_SCHEMA_VERSION}; rebuild it with `koubo index --rebuild`",
                path=str(where),
            )
        if meta.get("tokenizer") != TOKENIZER or meta.get("passage") != PASSAGE:
            raise IndexMismatchError(
                f"{where}: index built with {meta.get('tokenizer')}/{meta.get('passage')}, this koubo uses "
                f"{TOKENIZER}/{PASSAGE}; "
                "rebuild it with `koubo index --rebuild`",
                path=str(where),
            )
        if self.embedder is None:
            return
        mine = _Meta(self.embedder.name, self.embedder.revision, self.embedder.dim)
        if "model" not in meta:
            if self.store.documents() or self.read_only:
                raise IndexMismatchError(
                    f"{where}: index was built without an embedder; it cannot take {mine.describe()} vectors. "
                    "Rebuild it with `koubo index --rebuild`",
                    path=str(where),
                )
            self.store.set_meta({"model": mine.model, "revision": mine.revision, "dim": str(mine.dim)})
            return
        theirs = _Meta(meta["model"], meta.get("revision", ""), int(meta.get("dim", "0")))
        if theirs != mine:
            raise IndexMismatchError(
                f"{where}: index was built with {theirs.describe()}, not {mine.describe()}; "
                "mixing models would compare unrelated vectors. Use the same model, or rebuild the index "
                "with `koubo index --rebuild`",
                path=str(where),
            )

    @property
    def model(self) -> str | None:
        m = self.store.meta()
        return f"{m['model']}@{m.get('revision', '')}" if "model" in m else None

    @property
    def vectors(self) -> VectorIndex | None:
        """The faiss index, loaded from disk, or rebuilt from the stored vectors if missing or stale."""
        if self.embedder is None:
            return None
        if self._vectors is None:
            if self._faiss_path.exists():
                vi = VectorIndex.from_disk(self._faiss_path)
                # trusted only if it holds exactly the store's vectors (a run may have stopped between the two)
                if vi.dim == self.embedder.dim and np.array_equal(vi.ids(), self.store.vector_ids()):
                    self._vectors = vi
            if self._vectors is None:
                ids, vecs = self.store.all_vectors(self.embedder.dim)
                self._vectors = VectorIndex.build(ids, vecs, self.kind)
                self._dirty = True
        return self._vectors

    @cached_property
    def _bm25(self) -> tuple[np.ndarray, BM25, dict[int, str]]:
        ids, doc_ids, tokens = self.store.all_tokens()
        return ids, BM25(tokens), dict(zip(ids.tolist(), doc_ids, strict=True))

    @cached_property
    def call_labels(self) -> tuple[list[IndexedDocument], BM25]:
        """The indexed calls and a BM25 over the words of their labels that name them (to tell which call a
        question names): a label word names its calls only if no other call uses it in more than
        :data:`NAMING_SHARE` of its clauses. 「三菱総研」「2025」「よろず」 name a call; 「伴走」 in one call's title
        does not, since its sibling calls speak of 伴走支援 throughout, nor 「団体」 of 「地方公共団体向け」."""
        docs = self.documents()
        labels = [tokenize(_label_of_row(d)) for d in docs]
        ids, bm25, doc_of = self._bm25
        slot = {d.id: i for i, d in enumerate(docs)}
        row_doc = np.fromiter((slot[doc_of[int(c)]] for c in ids), dtype=np.int64, count=len(ids))
        n_rows = np.bincount(row_doc, minlength=len(docs))
        sets = [set(t) for t in labels]
        names: dict[str, bool] = {}
        for word in {t for toks in labels for t in toks}:
            j = bm25.vocab.get(word)
            if j is None:
                names[word] = True
                continue
            rows = bm25.matrix.indices[bm25.matrix.indptr[j] : bm25.matrix.indptr[j + 1]]
            uses = np.bincount(row_doc[rows], minlength=len(docs))
            names[word] = all(uses[e] <= NAMING_SHARE * n_rows[e] for e in range(len(docs)) if word not in sets[e])
        return docs, BM25([[t for t in toks if names[t]] for toks in labels])

    @cached_property
    def cases(self) -> Cases:
        """The clauses of case annexes (one region's 「希望する伴走支援について（長野県）」 of fourteen), which
        search weighs down unless the question names the case (:mod:`pipeline.index.cases`)."""
        return find_cases(self.store.clause_outline())

    @cached_property
    def companion_vectors(self) -> VectorIndex | None:
        """The companion model's vectors of the passages e5 embedded, under the same ids, as
        :meth:`store_companion` left them in ``index.companion.npz`` (None without a companion or an embedder, or
        when the file lacks too many passages: see :func:`~pipeline.index.companion.load_companion_vectors`)."""
        if self.companion is None or self.embedder is None:
            return None
        ids, passages = self.store.passages()
        return load_companion_vectors(self.directory / COMPANION_FILE, self.companion, ids, passages)

    def store_companion(self, progress: Callable[[int, int], object] | None = None) -> int:
        """Encode with the companion model the passages ``index.companion.npz`` lacks, drop those the index no
        longer has, and write it (``koubo index`` does, after indexing). Returns how many passages were encoded
        (0 without a companion or an embedder, or when the file was up to date)."""
        if self.companion is None or self.embedder is None or self.read_only:
            return 0
        ids, passages = self.store.passages()
        vectors, encoded = store_companion_vectors(
            self.directory / COMPANION_FILE, self.companion, ids, passages, progress=progress
        )
        self.__dict__["companion_vectors"] = vectors
        return encoded

    @cached_property
    def value_types(self) -> dict[int, frozenset[str]]:
        """The kinds of value each clause states (clause id → {"date", "amount", …}): what a question asking
        「いつまで」 or 「いくら」 looks for."""
        return self.store.value_types()

    @cached_property
    def sentence_owners(self) -> tuple[np.ndarray, np.ndarray]:
        """(faiss ids of the sentence vectors, sorted; the clause each belongs to)."""
        return self.store.sentence_owners()

    def clauses_of_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The clause of each faiss id: a clause id stays itself, a sentence's id becomes its clause's id (and
        -1, faiss's "no hit", stays -1)."""
        owner_ids, owners = self.sentence_owners
        out = np.array(ids, dtype=np.int64)
        sentence = out >= SENTENCE_ID_BASE
        if sentence.any() and not len(owner_ids):
            out[sentence] = -1
        elif sentence.any():
            pos = np.clip(np.searchsorted(owner_ids, out[sentence]), 0, len(owner_ids) - 1)
            known = owner_ids[pos] == out[sentence]  # always, while faiss and SQLite agree (see ``vectors``)
            out[sentence] = np.where(known, owners[pos], -1)
        return out

    def vectors_of_clauses(self, clause_ids: np.ndarray) -> np.ndarray:
        """The faiss ids that stand for these clauses: the clauses' own and their sentences'."""
        owner_ids, owners = self.sentence_owners
        return np.concatenate([clause_ids, owner_ids[np.isin(owners, clause_ids)]])

    @property
    def bm25(self) -> BM25:
        return self._bm25[1]

    @property
    def clause_docs(self) -> dict[int, str]:
        """The document id of every clause id (kept in memory beside BM25: fusion needs it per hit)."""
        return self._bm25[2]

    @property
    def bm25_ids(self) -> np.ndarray:
        """The clause id of each BM25 row."""
        return self._bm25[0]

    # --- writing ----------------------------------------------------------------------------
    def add(self, doc: Document, *, force: bool = False) -> AddStatus:
        """Index a segmented document; skip it if indexed already (same sha256, made by the same readers and
        rules, with the same kinds of vectors), replace an older version of its path or one made by older rules.

        Every clause is embedded as a passage, and so is each sentence of a clause of several sentences
        (:func:`~pipeline.index.store.sentence_passages`). A passage whose text was embedded for the document
        before keeps its vector.

        Returns:
            ``"unchanged"``, ``"added"`` or ``"replaced"``.
        """
        sha = doc.source.sha256
        # what was embedded: nothing without an embedder, so that indexing with one later embeds the document
        record = {**doc.produced_by, VECTORS_KEY: VECTORS} if self.embedder is not None else dict(doc.produced_by)
        if self.store.produced_by_of(sha) == record and not force:
            return "unchanged"
        vi = self.vectors  # loaded (or rebuilt) before the store changes, so it matches the old state
        old = self.store.doc_ids_at(doc.source.path, sha)
        rows = list(iter_clause_rows(doc))
        texts = [passage_text(ctx, c) for ctx, c in rows]
        label_tokens = tokenize(_label_of(doc.source))
        tokens = [tokenize(t) + label_tokens for t in texts]
        vectors = None
        sentence_vectors: dict[int, np.ndarray] | None = None
        if self.embedder is not None:
            sentences = sentence_passages(doc)
            embedded = self._embed([*texts, *sentences.values()], self.store.vectors_by_passage(old, self.embedder.dim))
            vectors = embedded[: len(texts)]
            sentence_vectors = dict(zip(sentences, embedded[len(texts) :], strict=True))
        old_ids = self.store.vector_ids_of(old)
        new_ids, sentence_ids = self.store.replace_document(
            doc.model_copy(update={"produced_by": record}),
            tokens,
            vectors,
            sentence_vectors=sentence_vectors,
            remove=old,
        )
        if vi is not None and vectors is not None and sentence_vectors is not None:
            vi.remove(old_ids)
            ids = np.concatenate([new_ids, np.fromiter(sentence_ids.values(), dtype=np.int64, count=len(sentence_ids))])
            vi.add(ids, np.vstack([vectors, *(sentence_vectors[i] for i in sentence_ids)]))
            self._dirty = True
        self._forget()
        return "replaced" if old else "added"

    def _embed(self, passages: list[str], known: dict[str, np.ndarray]) -> np.ndarray:
        """Vectors of ``passages``: the ``known`` vector of a passage embedded before (the index holds one model,
        so the same text has the same vector), the embedder's for the others, each text embedded once."""
        assert self.embedder is not None
        out = np.empty((len(passages), self.embedder.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        for i, t in enumerate(passages):
            if t in known:
                out[i] = known[t]
            else:
                todo.setdefault(t, []).append(i)
        if todo:
            fresh = np.asarray(self.embedder.encode_passages(list(todo)), dtype=np.float32)
            for v, idx in zip(fresh, todo.values(), strict=True):
                out[idx] = v
        return out

    def remove(self, doc_id: str) -> bool:
        """Remove a document and its clauses; False if it was not indexed."""
        ids = self.store.vector_ids_of([doc_id])
        if self.store.document(doc_id) is None:
            return False
        vi = self.vectors
        with self.store.db:
            self.store.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        if vi is not None:
            vi.remove(ids)
            self._dirty = True
        self._forget()
        return True

    def _forget(self) -> None:
        """Drop what is derived from the store (BM25, call labels, documents, value kinds, case annexes): the next
        search rebuilds it."""
        for derived in (
            "_bm25", "call_labels", "_documents", "sentence_owners", "value_types", "cases", "companion_vectors",
        ):  # fmt: skip
            self.__dict__.pop(derived, None)

    def save(self) -> None:
        """Write the faiss index beside the SQLite record (atomically); SQLite commits per document. The
        companion's vectors are written by :meth:`store_companion`."""
        if self._vectors is not None and self._dirty and not self.read_only:
            self._vectors.to_disk(self._faiss_path)
            self._dirty = False

    def close(self) -> None:
        try:
            self.save()
        finally:
            self.store.close()

    def __enter__(self) -> ClauseIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading ----------------------------------------------------------------------------
    def documents(self) -> list[IndexedDocument]:
        return list(self._documents)

    @cached_property
    def _documents(self) -> tuple[IndexedDocument, ...]:
        return tuple(self.store.documents())

    def clauses(self, ids: Sequence[int]) -> dict[int, ClauseRow]:
        return self.store.clauses(ids)
