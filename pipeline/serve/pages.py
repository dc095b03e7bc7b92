"""The pages: search, documents, a document's outline, a clause with its PDF page, a comparison.

Server-rendered with Jinja2 (autoescaping on: every string from a document is escaped); no script runs
on any page, so the outline folds with ``<details>`` and filters are links and GET forms. Labels are in
Japanese with English beside them where it helps.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipeline.document import Change, ChangeCategory, Hit, Modality
from pipeline.index import IndexedDocument
from pipeline.report import (
    CATEGORY_LABELS,
    KIND_LABELS,
    change_paths,
    change_sides,
    extra_values,
    nendo,
    ordered_changes,
)
from pipeline.search import snippet_start
from pipeline.serve.api import (
    DOC_ID_PATTERN,
    MAX_K,
    MAX_QUERY_CHARS,
    ClauseId,
    DocId,
    diff_summary,
    library,
    outline_nodes,
    run_search,
)
from pipeline.serve.library import Library, NotFoundError

__all__ = ["error_page", "router"]

TEMPLATES = Path(__file__).parent / "templates"
SNIPPET_CHARS = 360  # characters of a hit's text shown around its first match
MODALITY_LABELS: dict[str, str] = {
    "obligation": "義務",
    "prohibition": "禁止",
    "permission": "許可",
    "eligibility": "要件・資格",
    "deadline": "期限",
    "recommendation": "推奨",
}

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
VALUE_LABELS: dict[str, str] = {
    "date": "日付", "amount": "金額", "count": "数", "rate": "率", "email": "メール", "url": "URL",
    "phone": "電話", "organisation": "組織",
}  # fmt: skip
_env.globals |= {
    "MODALITY_LABELS": MODALITY_LABELS,
    "VALUE_LABELS": VALUE_LABELS,
    "CATEGORY_LABELS": {c.value: label for c, label in CATEGORY_LABELS.items()},
    "KIND_LABELS": {k.value: label for k, label in KIND_LABELS.items()},
    "nendo": nendo,
}
templates = Jinja2Templates(env=_env)


def _render(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=code)


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    """The error shape as a page: the status and the message, and a way back."""
    return _render(request, "error.html", status, message=message, status=status, title=f"エラー {status}")


# --- search -----------------------------------------------------------------------------------------------------


def _segments(
    text: str, marks: list[tuple[int, int]], start: int, limit: int = SNIPPET_CHARS
) -> list[tuple[str, bool]]:
    """The text from ``start`` as (piece, marked) runs; the template escapes each piece."""
    end = min(len(text), start + limit)
    out: list[tuple[str, bool]] = [("…", False)] if start else []
    pos = start
    for s, e in marks:
        if e <= pos or s >= end:
            continue
        s, e = max(s, pos), min(e, end)
        if s > pos:
            out.append((text[pos:s], False))
        out.append((text[s:e], True))
        pos = e
    out.append((text[pos:end], False))
    if end < len(text):
        out.append(("…", False))
    return out


def _hit_view(h: Hit) -> dict[str, Any]:
    return {
        "hit": h,
        "segments": _segments(h.text, list(h.marks), snippet_start(h, 40)),
        "modalities": [m.value for m in h.modalities if m is not Modality.NONE],
    }


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    doc: Annotated[str, Query(pattern=r"^([0-9a-f]{12})?$")] = "",
    # A form sends its empty choices as `year=&kind=`: empty means no filter.
    year: Annotated[str, Query(pattern=r"^(\d{4})?$")] = "",
    kind: Annotated[str, Query(pattern="^(" + "|".join(m.value for m in Modality) + ")?$")] = "",
    mode: Annotated[str, Query(pattern=r"^(hybrid|dense|sparse)?$")] = "",
) -> HTMLResponse:
    lib = library(request)
    docs = lib.documents()
    hits: list[dict[str, Any]] = []
    used = lib.mode
    if q.strip():
        found, used = run_search(
            lib, q, k=k, mode=mode or None, docs=[doc] if doc else None, years=[int(year)] if year else None,
            kinds=[Modality(kind)] if kind else None,
        )  # fmt: skip
        hits = [_hit_view(h) for h in found]
    return _render(
        request,
        "search.html",
        title=f"{q} — 検索" if q else "koubo 検索",
        q=q,
        k=k,
        doc=doc,
        year=int(year) if year else None,
        kind=kind,
        mode=mode,
        used=used,
        hits=hits,
        searched=bool(q.strip()),
        documents=docs,
        years=sorted({d.fiscal_year for d in docs if d.fiscal_year}, reverse=True),
        kinds=[m.value for m in Modality if m is not Modality.NONE],
        can_dense=lib.embedder is not None,
    )


# --- documents --------------------------------------------------------------------------------------------------


def _pairs(lib: Library, docs: list[IndexedDocument]) -> list[tuple[IndexedDocument, IndexedDocument]]:
    """Comparisons worth offering: the corpus's PAIRS.csv, then consecutive fiscal years of a programme."""
    by_path = {d.path: d for d in docs}
    pairs: list[tuple[IndexedDocument, IndexedDocument]] = []
    listed = lib.settings.corpora / "PAIRS.csv"
    if listed.is_file():
        with listed.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                old, new = by_path.get(row.get("old", "")), by_path.get(row.get("new", ""))
                if old and new:
                    pairs.append((old, new))
    by_programme: dict[str, list[IndexedDocument]] = {}
    for d in docs:
        if d.programme and d.fiscal_year:
            by_programme.setdefault(d.programme, []).append(d)
    for group in by_programme.values():
        years: dict[int, list[IndexedDocument]] = {}
        for d in group:
            years.setdefault(d.fiscal_year or 0, []).append(d)
        ordered = sorted(years.items())
        for (_, olds), (_, news) in itertools.pairwise(ordered):
            # only where each year has one call: two calls of a year (事業者向け, 自治体向け) are not told apart
            if len(olds) == 1 and len(news) == 1 and (olds[0], news[0]) not in pairs:
                pairs.append((olds[0], news[0]))
    return pairs


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request) -> HTMLResponse:
    lib = library(request)
    docs = lib.documents()
    return _render(request, "documents.html", title="文書一覧 Documents", documents=docs, pairs=_pairs(lib, docs))


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    doc_id: DocId,
    open_all: Annotated[bool, Query(alias="open")] = False,
) -> HTMLResponse:
    lib = library(request)
    info = lib.document_info(doc_id)
    nodes = outline_nodes(lib, doc_id, include_items=True)
    doc = lib.document(doc_id)
    counts: dict[str, int] = {}
    for r in doc.requirements:
        if r.modality is not Modality.NONE:
            counts[r.modality.value] = counts.get(r.modality.value, 0) + 1
    return _render(
        request,
        "document.html",
        title=f"{info.title or info.path} — 目次",
        info=info,
        nodes=nodes,
        open_all=open_all,
        counts=counts,
        missing=[r for r in doc.references if r.target_path is None],
    )


@router.get("/clauses/{clause_id}", response_class=HTMLResponse)
def clause_page(request: Request, clause_id: ClauseId) -> HTMLResponse:
    lib = library(request)
    row, clause, reqs = lib.clause(clause_id)
    info = lib.document_info(row.doc_id)
    ids = lib.clause_ids(row.doc_id)
    is_pdf = info.path.lower().endswith(".pdf")
    return _render(
        request,
        "clause.html",
        title=f"{row.path} {row.heading or ''} — {info.title or ''}",
        row=row,
        clause=clause,
        info=info,
        requirements=[r for r in reqs if r.modality is not Modality.NONE],
        other_sentences=len([r for r in reqs if r.modality is Modality.NONE]),
        children=[(ids.get(c.path), c) for c in (clause.children if clause else [])],
        pages=row.pages if is_pdf else [],
    )


@router.get("/clauses/{clause_id}/pages/{page_no}.png")
def clause_page_image(request: Request, clause_id: ClauseId, page_no: int) -> Response:
    if not 1 <= page_no <= 10_000:
        raise NotFoundError(f"page {page_no}: no such page")
    png = library(request).page_image(clause_id, page_no)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


# --- comparison -------------------------------------------------------------------------------------------------


def _change_view(c: Change, n: int) -> dict[str, Any]:
    old_runs, new_runs = change_sides(c)
    return {
        "n": n,
        "c": c,
        "paths": change_paths(c),
        "old_runs": old_runs,
        "new_runs": new_runs,
        "values": extra_values(c),
    }


@router.get("/diff", response_class=HTMLResponse)
def diff_page(
    request: Request,
    old: Annotated[str, Query(pattern=DOC_ID_PATTERN)],
    new: Annotated[str, Query(pattern=DOC_ID_PATTERN)],
    category: ChangeCategory | None = None,
    only: Annotated[str, Query(pattern=r"^(substantive)?$")] = "",
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
) -> HTMLResponse:
    lib = library(request)
    d = lib.diff(old, new)
    ordered = ordered_changes(d)
    number = {id(c): i for i, c in enumerate(ordered, 1)}
    shown = [
        c for c in ordered
        if (category is None or c.category is category) and (c.substantive or only != "substantive")
    ]  # fmt: skip
    answers = lib.changes(old, new, q, 5) if q.strip() else []
    return _render(
        request,
        "diff.html",
        title=f"新旧比較 {d.old.title or ''} → {d.new.title or ''}",
        d=d,
        old=old,
        new=new,
        summary=diff_summary(d),
        category=category.value if category else "",
        only=only,
        q=q,
        answers=[(_change_view(c, number[id(c)]), s) for c, s in answers],
        ranked=[_change_view(c, number[id(c)]) for c in shown if c.substantive],
        rows=[_change_view(c, number[id(c)]) for c in shown],
        categories=[(c.value, n) for c in ChangeCategory if (n := sum(x.category is c for x in d.changes))],
    )
