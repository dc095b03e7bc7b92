"""The index's record: documents, clauses, requirements, values and the vectors of clauses and sentences in SQLite.

Consumes segmented :class:`~pipeline.document.Document` objects (clauses, and
requirements if :func:`pipeline.nlp.find_requirements` ran); produces rows that
search reads back. The faiss index beside it is derived from the vectors kept
here, so it can always be rebuilt; SQLite is the one place nothing is lost.

Heavy dependencies: none (``sqlite3``, NumPy).

A clause's id is its SQLite row id (``INTEGER PRIMARY KEY AUTOINCREMENT``): stable
for as long as its document is indexed, never reused after it is removed, and
the id faiss returns. A sentence of a clause of several sentences has a vector of its own too, kept with
its requirement row; faiss knows it by the requirement id plus :data:`SENTENCE_ID_BASE`, so one faiss index
holds both kinds and search can tell them apart.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.document import Clause, Document
from pipeline.errors import IndexMismatchError

__all__ = ["SENTENCE_ID_BASE", "ClauseRow", "IndexedDocument", "Store", "clause_context", "sentence_passages"]

STORE_SCHEMA = "koubo.ClauseIndex"
STORE_SCHEMA_VERSION = "1.1"  # 1.1: requirements.vector (sentence vectors); a 1.0 index gains the column
# faiss ids of sentence vectors: requirement id + this (clause ids stay far below it)
SENTENCE_ID_BASE = 1 << 40

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,            -- sha256[:12], the document id everywhere in koubo
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL UNIQUE,      -- the source file; a new sha256 for a path replaces the document
    title TEXT, programme TEXT, fiscal_year INTEGER, issuer TEXT, secretariat TEXT,
    media_type TEXT NOT NULL,
    produced_by TEXT NOT NULL       -- JSON: stage → rules/model version
);
CREATE TABLE IF NOT EXISTS clauses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,           -- document order
    path TEXT NOT NULL, label TEXT NOT NULL, marker TEXT NOT NULL, level INTEGER NOT NULL,
    heading TEXT, context TEXT NOT NULL, text TEXT NOT NULL, orig TEXT NOT NULL,
    pages TEXT NOT NULL,            -- JSON list of PDF page numbers (empty for text files)
    line_start INTEGER, line_end INTEGER,
    modalities TEXT NOT NULL,       -- space-separated modalities of its requirements
    tokens TEXT NOT NULL,           -- space-separated BM25 tokens
    vector BLOB                     -- float32, L2-normalised; NULL when built without an embedder
);
CREATE INDEX IF NOT EXISTS clauses_doc ON clauses(doc_id);
CREATE TABLE IF NOT EXISTS requirements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: faiss knows a sentence vector by it
    clause_id INTEGER NOT NULL REFERENCES clauses(id) ON DELETE CASCADE,
    sentence TEXT NOT NULL, modality TEXT NOT NULL, subject TEXT,
    vector BLOB                     -- float32, L2-normalised: the sentence's own passage (see sentence_passages)
);
CREATE INDEX IF NOT EXISTS requirements_clause ON requirements(clause_id);
CREATE TABLE IF NOT EXISTS req_values (
    id INTEGER PRIMARY KEY,
    requirement_id INTEGER NOT NULL REFERENCES requirements(id) ON DELETE CASCADE,
    type TEXT NOT NULL, raw TEXT NOT NULL, normalized TEXT NOT NULL, qualifier TEXT
);
CREATE INDEX IF NOT EXISTS values_requirement ON req_values(requirement_id);
"""


@dataclass(frozen=True)
class IndexedDocument:
    id: str
    sha256: str
    path: str
    title: str | None
    programme: str | None
    fiscal_year: int | None
    issuer: str | None
    secretariat: str | None
    n_clauses: int


@dataclass(frozen=True)
class ClauseRow:
    id: int
    doc_id: str
    path: str
    label: str
    heading: str | None
    context: str
    text: str
    pages: list[int]
    line_start: int | None
    line_end: int | None
    modalities: list[str]


def clause_context(ancestors: Sequence[Clause], clause: Clause) -> str:
    """The headings from the top of the tree down to the clause: 「応募等 > 応募資格等 > 常駐支援者の経験・能力」."""
    parts = [c.heading or c.label for c in (*ancestors, clause) if c.heading or c.label]
    return " > ".join(parts)


def passage_of(context: str, text: str) -> str:
    """What a clause is embedded as, from its heading chain and its text (see ``pipeline.index.passage_text``)."""
    return f"{context}\n{text}" if context else text


def sentence_passages(doc: Document) -> dict[int, str]:
    """The sentences embedded on their own, as passages: each sentence of a clause that has two or more (the
    index of its requirement in ``doc.requirements`` → its heading chain and the sentence).

    A clause's vector averages all it says, so a question about one sentence of a long clause can miss it;
    the sentence's own vector finds it (measured in ``bench/search_quality.py``). A clause of one sentence is
    its own sentence vector already.
    """
    contexts = {c.path: clause_context(ancestors, c) for ancestors, c in _walk(doc.clauses)}
    by_clause: dict[str, list[int]] = {}
    for i, r in enumerate(doc.requirements):
        by_clause.setdefault(r.clause_path, []).append(i)
    return {
        i: passage_of(contexts[path], doc.requirements[i].sentence)
        for path, idx in by_clause.items()
        if len(idx) >= 2 and path in contexts  # a requirement of no clause is not stored, so not embedded
        for i in idx
    }


def _walk(clauses: Sequence[Clause], ancestors: tuple[Clause, ...] = ()) -> Iterator[tuple[tuple[Clause, ...], Clause]]:
    for c in clauses:
        yield ancestors, c
        yield from _walk(c.children, (*ancestors, c))


class Store:
    """SQLite tables of an index directory. One writer at a time; readers see committed documents only."""

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        if read_only:  # the server: SQLite itself refuses any write
            self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self.has_sentence_vectors = self._has_sentence_vectors()  # False in an index older than schema 1.1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(_DDL)
        self._upgrade()
        self.has_sentence_vectors = True

    def _upgrade(self) -> None:
        """Bring an index written by koubo before sentence vectors (schema 1.0) to 1.1: one transaction, taken
        before looking, so that two writers opening it at once do not both add the column."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if not self._has_sentence_vectors():
                    self.db.execute("ALTER TABLE requirements ADD COLUMN vector BLOB")
                self.db.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version' AND value = '1.0'", (STORE_SCHEMA_VERSION,)
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise IndexMismatchError(
                f"{self.path}: cannot bring the index up to schema {STORE_SCHEMA_VERSION} ({e}); make it writable, "
                "or rebuild it with `koubo index --rebuild`",
                path=str(self.path),
            ) from e

    def _has_sentence_vectors(self) -> bool:
        return any(r[1] == "vector" for r in self.db.execute("PRAGMA table_info(requirements)"))

    def close(self) -> None:
        self.db.close()

    # --- meta ---------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    # --- documents ----------------------------------------------------------------------
    def documents(self) -> list[IndexedDocument]:
        rows = self.db.execute(
            "SELECT d.id, d.sha256, d.path, d.title, d.programme, d.fiscal_year, d.issuer, d.secretariat,"
            " (SELECT count(*) FROM clauses c WHERE c.doc_id = d.id) FROM documents d"
            " ORDER BY d.programme, d.fiscal_year, d.path"
        ).fetchall()
        return [IndexedDocument(*r) for r in rows]

    def produced_by_of(self, sha256: str) -> dict[str, str] | None:
        """Which readers and rules made the indexed document with these bytes (None: not indexed)."""
        row = self.db.execute("SELECT produced_by FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return dict(json.loads(row[0])) if row else None

    def produced_by_all(self) -> list[dict[str, str]]:
        """Which readers and rules made each indexed document, in one query."""
        return [dict(json.loads(r[0])) for r in self.db.execute("SELECT produced_by FROM documents")]

    def doc_ids_at(self, path: str, sha256: str) -> list[str]:
        """Documents this one replaces: the same source path, or the same content indexed before."""
        rows = self.db.execute("SELECT id FROM documents WHERE path = ? OR sha256 = ?", (path, sha256))
        return [r[0] for r in rows]

    def clause_ids_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        ids = list(doc_ids)
        if not ids:
            return np.empty(0, dtype=np.int64)
        q = f"SELECT id FROM clauses WHERE doc_id IN ({','.join('?' * len(ids))})"
        return np.array([r[0] for r in self.db.execute(q, ids)], dtype=np.int64)

    def replace_document(
        self,
        doc: Document,
        tokens: Sequence[list[str]],
        vectors: np.ndarray | None,
        *,
        sentence_vectors: dict[int, np.ndarray] | None = None,
        remove: Sequence[str] = (),
    ) -> tuple[np.ndarray, dict[int, int]]:
        """Delete the documents in ``remove`` and write ``doc`` with its clauses, in one transaction.

        ``tokens`` and ``vectors`` are per clause, in :meth:`iter_clause_rows` order; ``sentence_vectors`` maps
        the index of a requirement in ``doc.requirements`` to its sentence's vector (see :func:`sentence_passages`).
        Returns the new clause ids, in the same order, and the faiss id of each sentence vector written
        (requirement index → requirement id + :data:`SENTENCE_ID_BASE`).
        """
        src = doc.source
        walked = list(_walk(doc.clauses))
        if len(tokens) != len(walked) or (vectors is not None and len(vectors) != len(walked)):
            raise ValueError(f"{len(walked)} clauses, {len(tokens)} token lists, vectors {vectors is not None}")
        reqs_by_path: dict[str, list[int]] = {}
        for i, r in enumerate(doc.requirements):
            reqs_by_path.setdefault(r.clause_path, []).append(i)
        new_ids: list[int] = []
        sentence_ids: dict[int, int] = {}
        with self.db:
            for old in remove:
                self.db.execute("DELETE FROM documents WHERE id = ?", (old,))
            self.db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.id,
                    src.sha256,
                    src.path,
                    src.title,
                    src.programme,
                    src.fiscal_year,
                    src.issuer,
                    src.secretariat,
                    src.media_type,
                    json.dumps(doc.produced_by, ensure_ascii=False),
                ),
            )
            for ord_, ((ancestors, c), toks) in enumerate(zip(walked, tokens, strict=True)):
                pages = sorted({p.page_no for p in c.prov if p.page_no is not None})
                lines = [p.line_start for p in c.prov if p.line_start is not None]
                line_ends = [p.line_end or p.line_start for p in c.prov if p.line_start is not None]
                req_idx = reqs_by_path.get(c.path, [])
                modalities = sorted({doc.requirements[i].modality.value for i in req_idx} - {"none"})
                vec = vectors[ord_].astype(np.float32).tobytes() if vectors is not None else None
                cur = self.db.execute(
                    "INSERT INTO clauses (doc_id, ord, path, label, marker, level, heading, context, text, orig,"
                    " pages, line_start, line_end, modalities, tokens, vector)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc.id,
                        ord_,
                        c.path,
                        c.label,
                        c.marker,
                        c.level,
                        c.heading,
                        clause_context(ancestors, c),
                        c.text,
                        c.orig,
                        json.dumps(pages),
                        min(lines) if lines else None,
                        max(e for e in line_ends if e is not None) if lines else None,
                        " ".join(modalities),
                        " ".join(toks),
                        vec,
                    ),
                )
                clause_id = int(cur.lastrowid or 0)
                new_ids.append(clause_id)
                for i in req_idx:
                    r = doc.requirements[i]
                    sv = sentence_vectors.get(i) if sentence_vectors else None
                    rc = self.db.execute(
                        "INSERT INTO requirements (clause_id, sentence, modality, subject, vector)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (
                            clause_id, r.sentence, r.modality.value, r.subject,
                            None if sv is None else sv.astype(np.float32).tobytes(),
                        ),
                    )  # fmt: skip
                    if sv is not None:
                        sentence_ids[i] = int(rc.lastrowid or 0) + SENTENCE_ID_BASE
                    self.db.executemany(
                        "INSERT INTO req_values (requirement_id, type, raw, normalized, qualifier)"
                        " VALUES (?, ?, ?, ?, ?)",
                        [
                            (
                                rc.lastrowid,
                                v.type.value,
                                v.raw,
                                json.dumps(v.normalized, ensure_ascii=False),
                                v.qualifier,
                            )
                            for v in r.values
                        ],
                    )
        return np.array(new_ids, dtype=np.int64), sentence_ids

    # --- clauses ------------------------------------------------------------------------
    def all_tokens(self) -> tuple[np.ndarray, list[str], list[list[str]]]:
        """(clause ids, their document ids, token lists) of every clause, in id order: the BM25 collection."""
        rows = self.db.execute("SELECT id, doc_id, tokens FROM clauses ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows], [r[2].split() for r in rows]

    def all_vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(faiss ids, vectors) of every clause and sentence that has a vector: the clauses in id order, then the
        sentences (requirement id + :data:`SENTENCE_ID_BASE`) in id order."""
        rows = self.db.execute("SELECT id, vector FROM clauses WHERE vector IS NOT NULL ORDER BY id").fetchall()
        if self.has_sentence_vectors:
            rows += [
                (rid + SENTENCE_ID_BASE, v)
                for rid, v in self.db.execute(
                    "SELECT id, vector FROM requirements WHERE vector IS NOT NULL ORDER BY id"
                )
            ]
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)
        return ids, vecs

    def passages(self) -> tuple[np.ndarray, list[str]]:
        """(faiss ids, passage texts) of every clause and sentence that has an e5 vector: what the companion model
        encodes too (:mod:`pipeline.index.companion`), the same text under the same id."""
        rows = [
            (cid, passage_of(context, text))
            for cid, context, text in self.db.execute(
                "SELECT id, context, text FROM clauses WHERE vector IS NOT NULL ORDER BY id"
            )
        ]
        if self.has_sentence_vectors:
            rows += [
                (rid + SENTENCE_ID_BASE, passage_of(context, sentence))
                for rid, context, sentence in self.db.execute(
                    "SELECT r.id, c.context, r.sentence FROM requirements r JOIN clauses c ON c.id = r.clause_id"
                    " WHERE r.vector IS NOT NULL ORDER BY r.id"
                )
            ]
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def sentences(self, requirement_ids: Sequence[int]) -> dict[int, str]:
        """The sentences of these requirements, by id."""
        if not requirement_ids:
            return {}
        q = f"SELECT id, sentence FROM requirements WHERE id IN ({','.join('?' * len(requirement_ids))})"
        return dict(self.db.execute(q, list(requirement_ids)).fetchall())

    def vector_ids(self) -> np.ndarray:
        """Every faiss id the store has a vector for (clauses, and sentences + :data:`SENTENCE_ID_BASE`), sorted."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM clauses WHERE vector IS NOT NULL")]
        if self.has_sentence_vectors:
            ids += [
                r[0] + SENTENCE_ID_BASE for r in self.db.execute("SELECT id FROM requirements WHERE vector IS NOT NULL")
            ]
        return np.sort(np.array(ids, dtype=np.int64))

    def vector_ids_of(self, doc_ids: Sequence[str]) -> np.ndarray:
        """The faiss ids of these documents' vectors: their clauses' ids and their sentences' ids."""
        ids = self.clause_ids_of(doc_ids)
        if not len(doc_ids) or not self.has_sentence_vectors:
            return ids
        q = (
            "SELECT r.id FROM requirements r JOIN clauses c ON c.id = r.clause_id"
            f" WHERE r.vector IS NOT NULL AND c.doc_id IN ({','.join('?' * len(doc_ids))})"
        )
        sentences = np.array([r[0] + SENTENCE_ID_BASE for r in self.db.execute(q, list(doc_ids))], dtype=np.int64)
        return np.concatenate([ids, sentences])

    def value_types(self) -> dict[int, frozenset[str]]:
        """The kinds of value (date, amount, email, …) each clause states, by clause id (clauses with none left out)."""
        out: dict[int, set[str]] = {}
        for cid, kind in self.db.execute(
            "SELECT DISTINCT r.clause_id, v.type FROM req_values v JOIN requirements r ON r.id = v.requirement_id"
        ):
            out.setdefault(cid, set()).add(kind)
        return {cid: frozenset(kinds) for cid, kinds in out.items()}

    def sentence_owners(self) -> tuple[np.ndarray, np.ndarray]:
        """(faiss ids of the sentence vectors, sorted; the clause id of each): how a sentence hit finds its clause."""
        if not self.has_sentence_vectors:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        rows = self.db.execute("SELECT id, clause_id FROM requirements WHERE vector IS NOT NULL ORDER BY id").fetchall()
        ids = np.array([r[0] + SENTENCE_ID_BASE for r in rows], dtype=np.int64)
        return ids, np.array([r[1] for r in rows], dtype=np.int64)

    def vectors_by_passage(self, doc_ids: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """The stored vectors of these documents' clauses and sentences, by the passage text they were embedded
        from: what a document indexed again can reuse instead of embedding it again."""
        if not doc_ids:
            return {}
        marks = ",".join("?" * len(doc_ids))
        rows = list(self.db.execute(
            f"SELECT context, text, vector FROM clauses WHERE vector IS NOT NULL AND doc_id IN ({marks})",
            list(doc_ids),
        ))  # fmt: skip
        if self.has_sentence_vectors:
            rows += self.db.execute(
                "SELECT c.context, r.sentence, r.vector FROM requirements r JOIN clauses c ON c.id = r.clause_id"
                f" WHERE r.vector IS NOT NULL AND c.doc_id IN ({marks})",
                list(doc_ids),
            ).fetchall()
        return {
            passage_of(context, text): np.frombuffer(vector, dtype=np.float32, count=dim)
            for context, text, vector in rows
            if len(vector) == 4 * dim
        }

    def n_vectors(self) -> int:
        """How many vectors faiss should hold: clauses and sentences."""
        n = int(self.db.execute("SELECT count(*) FROM clauses WHERE vector IS NOT NULL").fetchone()[0])
        if self.has_sentence_vectors:
            n += int(self.db.execute("SELECT count(*) FROM requirements WHERE vector IS NOT NULL").fetchone()[0])
        return n

    def clauses(self, ids: Sequence[int]) -> dict[int, ClauseRow]:
        if not ids:
            return {}
        q = (
            "SELECT id, doc_id, path, label, heading, context, text, pages, line_start, line_end, modalities"
            f" FROM clauses WHERE id IN ({','.join('?' * len(ids))})"
        )
        out = {}
        for r in self.db.execute(q, list(ids)):
            out[r[0]] = ClauseRow(
                id=r[0],
                doc_id=r[1],
                path=r[2],
                label=r[3],
                heading=r[4],
                context=r[5],
                text=r[6],
                pages=json.loads(r[7]),
                line_start=r[8],
                line_end=r[9],
                modalities=r[10].split(),
            )
        return out

    def filter_ids(
        self,
        *,
        docs: Sequence[str] = (),
        programmes: Sequence[str] = (),
        fiscal_years: Sequence[int] = (),
        secretariats: Sequence[str] = (),
        kinds: Sequence[str] = (),
        path_prefix: str | None = None,
    ) -> np.ndarray:
        """Ids of the clauses that pass every given filter (an empty filter passes all)."""
        where: list[str] = []
        args: list[object] = []

        def any_of(column: str, values: Sequence[object]) -> None:
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(values)

        any_of("c.doc_id", docs)
        any_of("d.programme", programmes)
        any_of("d.fiscal_year", fiscal_years)
        any_of("d.secretariat", secretariats)
        if kinds:
            where.append("(" + " OR ".join("(' ' || c.modalities || ' ') LIKE ?" for _ in kinds) + ")")
            args.extend(f"% {k} %" for k in kinds)
        if path_prefix:
            where.append("(c.path = ? OR c.path LIKE ? ESCAPE '\\')")
            escaped = path_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.extend([path_prefix, escaped + ".%"])
        q = "SELECT c.id FROM clauses c JOIN documents d ON d.id = c.doc_id"
        if where:
            q += " WHERE " + " AND ".join(where)
        return np.array([r[0] for r in self.db.execute(q + " ORDER BY c.id", args)], dtype=np.int64)

    def document(self, doc_id: str) -> IndexedDocument | None:
        return next((d for d in self.documents() if d.id == doc_id), None)

    def clause_outline(self) -> list[tuple[int, str, str, str, int]]:
        """(clause id, document id, path, heading, level) of every clause, in id order."""
        rows = self.db.execute("SELECT id, doc_id, path, heading, level FROM clauses ORDER BY id")
        return [(r[0], r[1], r[2], r[3] or "", r[4]) for r in rows]

    def clause_ids_by_path(self, doc_id: str) -> dict[str, int]:
        """The clause id of each clause path of a document."""
        rows = self.db.execute("SELECT path, id FROM clauses WHERE doc_id = ? ORDER BY ord", (doc_id,))
        return {r[0]: r[1] for r in rows}


def iter_clause_rows(doc: Document) -> Iterator[tuple[str, Clause]]:
    """(context, clause) for every clause of ``doc``, in the order :meth:`Store.replace_document` writes them."""
    for ancestors, c in _walk(doc.clauses):
        yield clause_context(ancestors, c), c
