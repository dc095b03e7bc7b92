"""What the server reads: the clause index and the documents in ``outputs/``, opened once, read only.

:class:`Library` is the one object the API and the pages share. It opens the index the CLI built,
prepares documents (segmented, requirements found) from their JSON in ``outputs/documents/``, compares
two of them, and renders a PDF page with a clause's boxes drawn on it. Each of these is cached, and
the index is reopened when ``koubo index`` has changed it since.

Nothing here takes a filesystem path from a request: documents are named by their id (12 hex digits),
clauses by their integer id, and the only file opened for a page image is the source path the index
recorded, after its sha256 is checked against the id.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from pipeline.document import Change, Clause, Document, DocumentDiff, Hit, Requirement
from pipeline.errors import PipelineError
from pipeline.index import ClauseIndex, ClauseRow, Embedder, IndexedDocument, indexed_by_current
from pipeline.index.companion import COMPANION_FILE
from pipeline.search import SearchFilters, SearchMode, search_many
from pipeline.settings import Settings

__all__ = ["DOC_ID", "Library", "NotFoundError"]

log = logging.getLogger(__name__)

DOC_ID = re.compile(r"^[0-9a-f]{12}$")
DOCUMENT_CACHE = 16  # prepared documents kept in memory
DIFF_CACHE = 8  # comparisons kept in memory
IMAGE_CACHE = 64  # rendered page images kept in memory
PAGE_RESOLUTION = 110  # dots per inch of a rendered page: readable on a laptop, ~150 KB a page
HIGHLIGHT = (255, 196, 0, 70)  # fill of a clause's box on its page (RGBA)
HIGHLIGHT_EDGE = (220, 120, 0, 255)

_PDFIUM = threading.Lock()  # PDFium (under pdfplumber's page images) is not thread-safe: one page at a time
K = TypeVar("K")
V = TypeVar("V")


class NotFoundError(PipelineError):
    """Raised when a document, clause or page a request names does not exist."""

    status = 404


class _LRU(Generic[K, V]):
    """A small thread-safe LRU cache. A missing value is computed once, outside the lock: a second caller
    asking for the same key meanwhile waits for the first one's result instead of computing it again."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._pending: dict[K, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        while True:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    return self._data[key]
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()  # another thread is computing it; if it failed, try ourselves
        try:
            value = make()
            with self._lock:
                self._data[key] = value
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class Library:
    """The index and documents under ``settings.outputs``, for the server.

    Args:
        settings: where the index and documents are.
        embedder: the e5 embedder (wrapped for batching by the caller); None serves sparse search only.
        companion: the second model hybrid search fuses (:func:`pipeline.embed.use.load_companion`; wrapped for
            batching by the caller too), or None.

    Raises:
        PipelineError: there is no index yet (with the command that builds it).
    """

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, *, companion: Embedder | None = None
    ):
        self.settings = settings
        self.embedder = embedder
        self.companion = companion if embedder is not None else None
        if not (settings.index_dir / "index.sqlite").is_file():
            raise PipelineError(
                f"{settings.index_dir}: no index to serve; build it first with `koubo index` "
                "(or `make demo`), or point KOUBO_OUTPUTS at the outputs folder that has one",
                path=str(settings.index_dir),
            )
        self._lock = threading.RLock()  # one SQLite connection: reads go through it one at a time
        self._index: ClauseIndex | None = None
        self._stamp: tuple[float, float, int] = (0.0, 0.0, 0)
        self.generation = 0  # how many times the index was (re)opened: part of every cache key
        self._documents: _LRU[tuple[int, str], Document] = _LRU(DOCUMENT_CACHE)
        self._diffs: _LRU[tuple[int, str, str], DocumentDiff] = _LRU(DIFF_CACHE)
        self._images: _LRU[tuple[int, int, int], bytes] = _LRU(IMAGE_CACHE)
        index = self._ensure_index()
        if embedder is not None:
            embedder.encode_queries(["query warm-up"])  # load the model now: the first search is a user's
        if self.companion is not None:
            self.companion.encode_queries(["query warm-up"])
        # the modality model too (read, or trained if missing): a document page prepares its document with it
        from pipeline.nlp import default_model, modality_version
        from pipeline.nlp.values import VALUE_RULES

        current = modality_version(default_model(settings.models))
        with self._lock:
            made_by = index.store.produced_by_all()
        stale = [m for m in made_by if m.get("modality") != current]
        if stale:
            log.warning(
                "%d indexed documents were classified by other modality rules or model than this koubo's (%s), so "
                "search's kind filter and the document pages may disagree; run `koubo index` to bring them up to date",
                len(stale),
                current,
            )
        if old_values := sum(m.get("values") != VALUE_RULES for m in made_by):
            log.warning(
                "%d indexed documents were read with other value rules than this koubo's (%s), so a question asking "
                "for a date or an amount may miss values they hold; run `koubo index` to bring them up to date",
                old_values,
                VALUE_RULES,
            )
        if self.embedder is not None and (older := sum(not indexed_by_current(m) for m in made_by)):
            log.warning(
                "%d indexed documents have no sentence vectors (indexed by an older koubo), so dense search finds "
                "their long clauses less well; run `koubo index` to add them",
                older,
            )

    # --- the index ----------------------------------------------------------------------------------
    def _index_stamp(self, index: ClauseIndex) -> tuple[float, float, int]:
        """What changes when `koubo index` writes: the faiss and companion files, and SQLite's count of other
        connections' commits (``PRAGMA data_version``; file times will not do: opening a WAL database touches
        its files)."""
        times = [(self.settings.index_dir / name) for name in ("index.faiss", COMPANION_FILE)]
        version = index.store.db.execute("PRAGMA data_version").fetchone()[0]
        faiss_time, companion_time = (f.stat().st_mtime if f.exists() else 0.0 for f in times)
        return (faiss_time, companion_time, int(version))

    def _ensure_index(self) -> ClauseIndex:
        """The open index; reopened (and the caches dropped) if `koubo index` wrote to it since.

        The new index is opened before the old one is closed: if opening fails (a rebuild with another
        model, a locked file), the error goes to this request and the next one tries again.
        """
        with self._lock:
            if self._index is not None and self._index_stamp(self._index) == self._stamp:
                return self._index
            index = ClauseIndex(self.settings.index_dir, self.embedder, companion=self.companion, read_only=True)
            try:
                if self.embedder is not None:
                    _ = index.vectors  # load faiss now, not in the first search
                _ = index.bm25
                _ = index.sentence_owners  # read with the faiss it belongs to, before the stamp
                _ = index.companion_vectors  # and the companion's, under the same ids
                _ = index.value_types
                _ = index.cases
                stamp = self._index_stamp(index)
            except BaseException:
                index.store.close()
                raise
            old, self._index, self._stamp = self._index, index, stamp
            self.generation += 1  # cached documents, diffs and images of the old index are not served again
            self._documents.clear()
            self._diffs.clear()
            self._images.clear()
            if old is not None:
                old.store.close()
            return index

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.store.close()  # not ClauseIndex.close(): the server never writes
                self._index = None

    @property
    def mode(self) -> SearchMode:
        """The best search the server can do: hybrid with the embedder, sparse without."""
        return "hybrid" if self.embedder is not None else "sparse"

    def documents(self) -> list[IndexedDocument]:
        with self._lock:
            return self._ensure_index().documents()

    def document_info(self, doc_id: str) -> IndexedDocument:
        found = next((d for d in self.documents() if d.id == doc_id), None)
        if found is None:
            raise NotFoundError(f"document {doc_id}: not in the index", path=doc_id)
        return found

    def search(self, queries: Sequence[str], *, k: int, mode: SearchMode, filters: SearchFilters) -> list[list[Hit]]:
        if mode != "sparse" and self.embedder is not None:
            self.embedder.encode_queries(list(queries))  # batched with other requests, outside the lock
        if mode == "hybrid" and self.companion is not None:
            self.companion.encode_queries(list(queries))  # so is the companion's (both remember the vectors)
        with self._lock:
            return search_many(self._ensure_index(), list(queries), k=k, mode=mode, filters=filters)

    def clause_row(self, clause_id: int) -> ClauseRow:
        with self._lock:
            row = self._ensure_index().clauses([clause_id]).get(clause_id)
        if row is None:
            raise NotFoundError(f"clause {clause_id}: not in the index", path=str(clause_id))
        return row

    def clause_ids(self, doc_id: str) -> dict[str, int]:
        with self._lock:
            return self._ensure_index().store.clause_ids_by_path(doc_id)

    # --- documents ----------------------------------------------------------------------------------
    def document(self, doc_id: str) -> Document:
        """An indexed document, segmented and with its requirements found by this koubo's rules and model (as the
        index was built, unless the index is older: the server warns of that when it starts)."""
        info = self.document_info(doc_id)
        return self._documents.get((self.generation, doc_id), lambda: self._prepare(info))

    def _prepare(self, info: IndexedDocument) -> Document:
        from pipeline.cli import find_document
        from pipeline.nlp import default_model, find_requirements
        from pipeline.structure import segment

        found = find_document(info.id, self.settings)
        if found is None:
            raise NotFoundError(
                f"document {info.id} ({info.path}) is indexed but its JSON is not in "
                f"{self.settings.documents_dir}; run `koubo ingest {info.path}`",
                path=info.path,
            )
        document = segment(Document.from_json(found.read_bytes()))
        return find_requirements(document, model=default_model(self.settings.models))

    def clause(self, clause_id: int) -> tuple[ClauseRow, Clause | None, list[Requirement]]:
        """A clause: its index row, the clause in its document (boxes, children) and its requirements."""
        row = self.clause_row(clause_id)
        try:
            doc = self.document(row.doc_id)
        except NotFoundError:  # the index still has the clause's text, path and pages: serve those
            return row, None, []
        clause = next((c for c in doc.iter_clauses() if c.path == row.path), None)
        reqs = [r for r in doc.requirements if r.clause_path == row.path]
        return row, clause, reqs

    # --- comparisons --------------------------------------------------------------------------------
    def diff(self, old: str, new: str) -> DocumentDiff:
        from pipeline.diff import diff_documents

        return self._diffs.get(
            (self.generation, old, new), lambda: diff_documents(self.document(old), self.document(new))
        )

    def changes(self, old: str, new: str, question: str, k: int) -> list[tuple[Change, float]]:
        from pipeline.changes import rank_changes

        return rank_changes(self.diff(old, new), [question], k=k, embedder=self.embedder)[0]

    # --- page images --------------------------------------------------------------------------------
    def page_image(self, clause_id: int, page_no: int) -> bytes:
        """A PNG of one page of a clause's PDF with the clause's boxes on that page highlighted."""
        return self._images.get((self.generation, clause_id, page_no), lambda: self._render(clause_id, page_no))

    def _render(self, clause_id: int, page_no: int) -> bytes:
        import pdfplumber

        from pipeline.ingest import sha256_file

        row, clause, _ = self.clause(clause_id)
        if page_no not in row.pages:
            raise NotFoundError(f"clause {clause_id} ({row.path}) is not on page {page_no}; it is on {row.pages}")
        info = self.document_info(row.doc_id)
        # The index keeps the path it was given (relative to where `koubo index` ran): try it as it is, then
        # beside the corpus folder, so that a server started elsewhere still finds the corpus.
        tries = [Path(info.path), self.settings.corpora.resolve().parent / info.path]
        source = next((p for p in tries if p.is_file()), tries[0])
        if not source.is_file() or source.suffix.lower() != ".pdf" or sha256_file(source) != info.sha256:
            raise NotFoundError(
                f"{info.path}: the PDF the index was built from is not there or has changed; run `koubo index` again",
                path=info.path,
            )
        boxes = [p.bbox for p in (clause.prov if clause else []) if p.page_no == page_no and p.bbox is not None]
        with _PDFIUM, pdfplumber.open(source) as pdf:
            page = pdf.pages[page_no - 1]
            image = page.to_image(resolution=PAGE_RESOLUTION)
            for b in boxes:
                image.draw_rect((b.x0 - 2, b.top - 2, b.x1 + 2, b.bottom + 2), fill=HIGHLIGHT, stroke=HIGHLIGHT_EDGE)
            buf = io.BytesIO()
            image.save(buf, format="PNG")
        return buf.getvalue()
