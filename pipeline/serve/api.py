"""The JSON API: ``/api/search``, ``/api/documents``, ``/api/documents/{id}/outline``,
``/api/clauses/{id}``, ``/api/diff`` and ``/api/changes``, and the one error shape.

Each handler validates its parameters (FastAPI answers 422 for a bad one), asks the
:class:`~pipeline.serve.library.Library`, and returns the same records the CLI prints with
``--format json``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.diff import change_record
from pipeline.document import ChangeCategory, Clause, DocumentDiff, Modality, SourceFile
from pipeline.errors import PipelineError
from pipeline.index import IndexedDocument
from pipeline.nlp import requirement_record
from pipeline.search import SearchFilters, SearchMode, hit_record
from pipeline.serve.library import Library
from pipeline.structure import outline_record

__all__ = [
    "MAX_K", "MAX_QUERY_CHARS", "call_record", "document_record", "install_errors", "outline_nodes", "router",
    "run_search",
]  # fmt: skip

logger = logging.getLogger("koubo.serve")

MAX_QUERY_CHARS = 500
MAX_K = 50
MAX_FILTER_VALUES = 20
DOC_ID_PATTERN = r"^[0-9a-f]{12}$"


class ErrorBody(BaseModel):
    """Every error the API answers: what went wrong and the HTTP status."""

    error: str
    status: int


router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses={
        404: {"model": ErrorBody, "description": "No such document, clause or page"},
        422: {"model": ErrorBody, "description": "A parameter is missing or invalid"},
    },
)

DocId = Annotated[str, Path(pattern=DOC_ID_PATTERN, description="A document id: 12 hex digits (sha256[:12]).")]
ClauseId = Annotated[int, Path(ge=1, le=2**62, description="A clause id from a search hit or an outline.")]
Question = Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="A question in Japanese.")]
OldId = Annotated[str, Query(pattern=DOC_ID_PATTERN, description="The earlier call's document id.")]
NewId = Annotated[str, Query(pattern=DOC_ID_PATTERN, description="The later call's document id.")]


def library(request: Request) -> Library:
    lib: Library = request.app.state.library
    return lib


class BadRequestError(PipelineError):
    """A request that is well-formed but cannot be answered as asked (dense search without the model)."""

    status = 422


# --- errors ---------------------------------------------------------------------------------------


def error_body(message: str, status: int) -> dict[str, Any]:
    return {"error": message, "status": status}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api", "/openapi", "/docs"))


def _error(request: Request, message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    if _wants_html(request):
        from pipeline.serve.pages import error_page

        response: Response = error_page(request, message, status)
    else:
        response = JSONResponse(error_body(message, status), status_code=status)
    response.headers.update(headers or {})
    return response


# What a bad parameter is told, in Japanese, by pydantic's error type (its English message follows in brackets).
_INVALID_JA = {
    "missing": "指定してください",
    "string_too_short": "{min_length}文字以上で指定してください",
    "string_too_long": "{max_length}文字以内で指定してください",
    "greater_than_equal": "{ge}以上を指定してください",
    "less_than_equal": "{le}以下を指定してください",
    "int_parsing": "整数で指定してください",
    "string_pattern_mismatch": "形式が違います",
    "literal_error": "次のいずれかを指定してください: {expected}",
    "enum": "次のいずれかを指定してください: {expected}",
}


def _validation_message(exc: RequestValidationError) -> str:
    """「k: 100以下を指定してください (Input should be less than or equal to 100)」, one part per bad parameter."""
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path"))
        english = str(e.get("msg", "invalid"))
        template = _INVALID_JA.get(str(e.get("type", "")))
        try:
            message = f"{template.format(**e.get('ctx', {}))} ({english})" if template else english
        except (KeyError, IndexError):  # a context without the value the template names
            message = english
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or "invalid request"


def install_errors(app: FastAPI) -> None:
    """Every error as ``{"error": message, "status": code}`` (or an HTML page with the same message)."""

    @app.exception_handler(PipelineError)
    async def pipeline_error(request: Request, exc: PipelineError) -> Response:
        return _error(request, exc.message, exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, _validation_message(exc), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"{request.url.path}: no such page"
        if exc.status_code == 405:
            message = f"{request.method} {request.url.path}: method not allowed (the API is read-only)"
        return _error(request, message, exc.status_code, exc.headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        # A bug, not a bad request: the traceback goes to the server's log, the client gets the error shape.
        logger.exception("%s %s failed", request.method, request.url.path)
        return _error(request, f"internal error ({type(exc).__name__}); the server's log has the details", 500)


# --- records --------------------------------------------------------------------------------------


def document_record(d: IndexedDocument) -> dict[str, Any]:
    return {
        "id": d.id,
        "title": d.title,
        "programme": d.programme,
        "fiscal_year": d.fiscal_year,
        "issuer": d.issuer,
        "secretariat": d.secretariat,
        "file": d.path.rsplit("/", 1)[-1],
        "n_clauses": d.n_clauses,
    }


def call_record(s: SourceFile) -> dict[str, Any]:
    return {"id": s.sha256[:12], "title": s.title, "fiscal_year": s.fiscal_year, "secretariat": s.secretariat,
            "file": s.path.rsplit("/", 1)[-1]}  # fmt: skip


def outline_nodes(lib: Library, doc_id: str, *, include_items: bool) -> list[dict[str, object]]:
    """The document's clause tree with each node's clause id and the kinds of requirement it states."""
    doc = lib.document(doc_id)
    ids = lib.clause_ids(doc_id)
    kinds: dict[str, list[str]] = {}
    for r in doc.requirements:
        if r.modality is not Modality.NONE:
            seen = kinds.setdefault(r.clause_path, [])
            if r.modality.value not in seen:
                seen.append(r.modality.value)

    def extra(c: Clause) -> dict[str, object]:
        return {"id": ids.get(c.path), "modalities": kinds.get(c.path, [])}

    return [outline_record(c, include_items=include_items, extra=extra) for c in doc.clauses]


def diff_summary(d: DocumentDiff) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for c in d.changes:
        by_kind[c.kind.value] = by_kind.get(c.kind.value, 0) + 1
        by_category[c.category.value] = by_category.get(c.category.value, 0) + 1
    return {
        "changes": len(d.changes),
        "substantive": sum(c.substantive for c in d.changes),
        "by_kind": by_kind,
        "by_category": by_category,
    }


# --- endpoints ------------------------------------------------------------------------------------


@router.get("/search", summary="Search the clauses of every indexed call", response_class=JSONResponse)
def api_search(
    request: Request,
    q: Question,
    k: Annotated[int, Query(ge=1, le=MAX_K, description="Hits to return.")] = 10,
    doc: Annotated[
        list[str] | None, Query(max_length=MAX_FILTER_VALUES, description="Only these documents (ids).")
    ] = None,
    year: Annotated[
        list[Annotated[int, Field(ge=1900, le=2200)]] | None,
        Query(max_length=MAX_FILTER_VALUES, description="Only these fiscal years (2026 = 令和8年度)."),
    ] = None,
    programme: Annotated[
        list[str] | None, Query(max_length=MAX_FILTER_VALUES, description="Only these programmes.")
    ] = None,
    secretariat: Annotated[
        list[str] | None, Query(max_length=MAX_FILTER_VALUES, description="Only calls run by these.")
    ] = None,
    kind: Annotated[
        list[Modality] | None, Query(max_length=MAX_FILTER_VALUES, description="Only clauses stating these kinds.")
    ] = None,
    path: Annotated[str | None, Query(max_length=100, description="Only this clause path and those under it.")] = None,
    mode: Annotated[Literal["hybrid", "dense", "sparse"] | None, Query(description="Default: hybrid.")] = None,
) -> Response:
    """The clauses that best answer ``q``, best first, each with its document, clause path, heading, marked
    text (``marks``: spans of ``text`` that match the question's words; ``sentence``: the span of the sentence whose
    own vector matched best, or null) and pages."""
    lib = library(request)
    hits, used = run_search(
        lib, q, k=k, mode=mode, docs=doc, years=year, programmes=programme, secretariats=secretariat,
        kinds=kind, path=path,
    )  # fmt: skip
    # The hits are plain JSON values already (Hit validates its fields): handed to JSONResponse as they are,
    # they skip FastAPI's jsonable_encoder, which took 1 ms of the server's ~6 ms of CPU per search under
    # load. Scores are finite (inner products, RRF, BM25); a NaN would be refused here, not sent as null.
    return JSONResponse({"query": q, "mode": used, "hits": [hit_record(h) for h in hits]})


def run_search(
    lib: Library,
    q: str,
    *,
    k: int,
    mode: str | None,
    docs: list[str] | None = None,
    years: list[int] | None = None,
    programmes: list[str] | None = None,
    secretariats: list[str] | None = None,
    kinds: list[Modality] | None = None,
    path: str | None = None,
) -> tuple[list[Any], SearchMode]:
    """Search as the API and the search page do; raises a 422 error for bad filters or mode."""
    used: SearchMode = (
        lib.mode if mode is None else ("dense" if mode == "dense" else "sparse" if mode == "sparse" else "hybrid")
    )
    if used != "sparse" and lib.embedder is None:
        raise BadRequestError(f"{used} search needs the embedding model; this server runs without it: use mode=sparse")
    if not q.strip():
        raise BadRequestError("q: the question is empty")
    for d in docs or []:
        if not re.fullmatch(DOC_ID_PATTERN[1:-1], d):
            raise BadRequestError(f"doc: {d[:40]!r} is not a document id (12 hex digits)")
    filters = SearchFilters(
        docs=tuple(docs or ()),
        fiscal_years=tuple(years or ()),
        programmes=tuple(programmes or ()),
        secretariats=tuple(secretariats or ()),
        kinds=tuple(kinds or ()),
        path_prefix=path or None,
    )
    return lib.search([q], k=k, mode=used, filters=filters)[0], used


@router.get("/documents", summary="The indexed calls")
def api_documents(request: Request) -> dict[str, Any]:
    return {"documents": [document_record(d) for d in library(request).documents()]}


@router.get("/documents/{doc_id}/outline", summary="A call's clause tree")
def api_outline(
    request: Request,
    doc_id: DocId,
    items: Annotated[bool, Query(description="Include bullet and ① items (as `koubo outline --format json`).")] = True,
) -> dict[str, Any]:
    """Nodes ``{path, label, heading, level, text, pages, id, modalities, children}``; ``id`` is the clause id. Items
    (①, ・) are nodes too unless ``items=false``: a clause's ``text`` does not repeat its items."""
    lib = library(request)
    info = lib.document_info(doc_id)
    return {"document": document_record(info), "outline": outline_nodes(lib, doc_id, include_items=items)}


@router.get("/clauses/{clause_id}", summary="One clause with its requirements, values and boxes")
def api_clause(request: Request, clause_id: ClauseId) -> dict[str, Any]:
    lib = library(request)
    row, clause, reqs = lib.clause(clause_id)
    info = lib.document_info(row.doc_id)
    ids = lib.clause_ids(row.doc_id)
    return {
        "id": row.id,
        "doc": row.doc_id,
        "title": info.title,
        "fiscal_year": info.fiscal_year,
        "clause_path": row.path,
        "label": row.label,
        "heading": row.heading,
        "context": row.context,
        "text": row.text,
        "orig": clause.orig if clause else None,
        "pages": row.pages,
        "lines": [row.line_start, row.line_end or row.line_start] if row.line_start is not None else None,
        "modalities": row.modalities,
        "boxes": [
            {"page": p.page_no, **p.bbox.model_dump()}
            for p in (clause.prov if clause else [])
            if p.page_no is not None and p.bbox is not None
        ],
        "requirements": [requirement_record(r) for r in reqs],
        "children": [
            {"id": ids.get(c.path), "path": c.path, "label": c.label, "heading": c.heading}
            for c in (clause.children if clause else [])
        ],
    }


@router.get("/diff", summary="What changed between two calls")
def api_diff(
    request: Request,
    old: OldId,
    new: NewId,
    substantive_only: Annotated[bool, Query(description="Leave out editorial changes.")] = False,
    category: Annotated[list[ChangeCategory] | None, Query(max_length=10, description="Only these categories.")] = None,
) -> dict[str, Any]:
    """Change items, substantive first and by importance, as ``koubo diff --format json`` gives them."""
    from pipeline.report import ordered_changes

    d = library(request).diff(old, new)
    changes = [
        c for c in ordered_changes(d)
        if (c.substantive or not substantive_only) and (not category or c.category in category)
    ]  # fmt: skip
    return {
        "old": call_record(d.old),
        "new": call_record(d.new),
        "summary": diff_summary(d),
        "changes": [change_record(c) for c in changes],
    }


@router.get("/changes", summary='Answer a "what changed" question between two calls')
def api_changes(
    request: Request,
    q: Question,
    old: OldId,
    new: NewId,
    k: Annotated[int, Query(ge=1, le=50, description="Change items to return.")] = 5,
) -> dict[str, Any]:
    answers = library(request).changes(old, new, q, k)
    return {"question": q, "changes": [{**change_record(c), "score": round(s, 6)} for c, s in answers]}
