"""koubo's index and search commands (registered on the app in :mod:`pipeline.cli`).

``koubo index`` builds or updates the clause index over call documents;
``koubo search`` answers questions from it. Both keep stdout for data.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.cli import (
    _fail,
    _progress,
    app,
    err,
    expand_sources,
    prefer_pdf,
    prepare_document,
    prepared_by_current,
)
from pipeline.document import Hit, Modality
from pipeline.errors import PipelineError
from pipeline.index import ClauseIndex, Embedder, indexed_by_current
from pipeline.index.dense import IndexKind
from pipeline.ingest import sha256_file
from pipeline.search import SearchFilters, SearchMode, hit_record, search_many, snippet_start
from pipeline.settings import Settings

MAX_QUERY_CHARS = 500
MAX_K = 100
SNIPPET_CHARS = 160


def _embedder(settings: Settings, needed: bool) -> Embedder | None:
    if not needed:
        return None
    from pipeline.embed.embedder import load_embedder

    return load_embedder(settings.models)


@app.command()
def index(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Call documents or folders [default: the corpus folder, corpora/].")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Delete the index and build it again from scratch.")
    ] = False,
    kind: Annotated[
        str, typer.Option("--kind", help="faiss index: flat (exact) or ivf (approximate, for very large corpora).")
    ] = "flat",
    sparse_only: Annotated[
        bool, typer.Option("--sparse-only", help="Index without the embedding model (BM25 search only).")
    ] = False,
) -> None:
    """Build or update the clause index (documents, clauses, requirements, vectors) over call documents.

    Incremental: a document already indexed (same sha256, by this koubo's readers
    and rules) is skipped; a new version of a file, or one indexed by an older koubo,
    replaces the old clauses. Where a .txt and a .pdf of the same
    name sit together, the PDF is indexed (it has pages). Goes on past bad files
    and exits 1 if any failed.
    """
    if kind not in ("flat", "ivf"):
        raise typer.BadParameter("use flat or ivf", param_hint="--kind")
    settings = Settings()
    files = prefer_pdf(list(expand_sources(paths or [settings.corpora])))
    if not files:
        err.print(f"Error: no .pdf, .txt or .md files in {', '.join(map(str, paths or [settings.corpora]))}")
        raise typer.Exit(1)
    if rebuild and settings.index_dir.exists():
        shutil.rmtree(settings.index_dir)
    try:
        from pipeline.embed.use import companion_for

        embedder = _embedder(settings, not sparse_only)
        ix = ClauseIndex(settings.index_dir, embedder, companion=companion_for(embedder), kind=_kind(kind))
    except PipelineError as e:
        _fail(e)
        return
    counts = {"added": 0, "replaced": 0, "unchanged": 0, "failed": 0}
    with ix, _progress() as bar:
        task = bar.add_task("index", total=len(files), current="")
        for f in files:
            bar.update(task, current=f.name)
            status: str
            try:
                known = ix.store.produced_by_of(sha256_file(f)) if f.is_file() else None
                if known is not None and prepared_by_current(known, settings) and indexed_by_current(known):
                    status = "unchanged"  # known by its bytes: no need to read, segment or classify it again
                else:
                    status = ix.add(prepare_document(str(f), settings))
            except PipelineError as e:
                err.print(f"FAILED  {e.message}", markup=False)
                status = "failed"
            counts[status] += 1
            if status != "failed":
                err.print(f"{status:<9} {f}", markup=False)
            bar.advance(task)
        encoded = 0
        if ix.companion is not None:  # its vectors of the passages it has not seen yet
            companion = bar.add_task("companion (USE)", total=None, current="vectors of new passages")
            encoded = ix.store_companion(lambda done, total: bar.update(companion, completed=done, total=total))
        n_clauses = sum(d.n_clauses for d in ix.documents())
        model = ix.model or "no embedding model (sparse only)"
    if encoded:
        err.print(f"companion model (USE): {encoded} passages encoded into {settings.index_dir}/index.companion.npz")
    err.print(
        f"{len(files)} files: {counts['added']} added, {counts['replaced']} replaced, {counts['unchanged']} unchanged, "
        f"{counts['failed']} failed. Index {settings.index_dir}/: {n_clauses} clauses, {model}",
        markup=False,
    )
    if counts["failed"]:
        raise typer.Exit(1)


def _kind(kind: str) -> IndexKind:
    return "ivf" if kind == "ivf" else "flat"


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="A question or keywords in Japanese.")] = None,
    k: Annotated[int, typer.Option("-k", help=f"Hits to return (1–{MAX_K}).")] = 10,
    doc: Annotated[
        list[str] | None,
        typer.Option("--doc", help="Only this document: an id, or a file (indexed first if it is not). Repeatable."),
    ] = None,
    year: Annotated[list[int] | None, typer.Option("--year", help="Only this fiscal year (2026 = 令和8年度).")] = None,
    programme: Annotated[list[str] | None, typer.Option("--programme", help="Only this programme.")] = None,
    secretariat: Annotated[list[str] | None, typer.Option("--secretariat", help="Only calls run by it.")] = None,
    kind: Annotated[
        list[Modality] | None, typer.Option("--kind", help="Only clauses stating a requirement of this kind.")
    ] = None,
    path: Annotated[str | None, typer.Option("--path", help="Only this clause and those under it, e.g. IV.1.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or sparse.")] = "hybrid",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    queries: Annotated[
        Path | None, typer.Option("--queries", help="Answer each line of this file as a query, in one process.")
    ] = None,
) -> None:
    """Search the clauses of every indexed call; each hit gives its document, clause path, heading and pages."""
    if mode not in ("hybrid", "dense", "sparse"):
        raise typer.BadParameter("use hybrid, dense or sparse", param_hint="--mode")
    if fmt not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    if not 1 <= k <= MAX_K:
        raise typer.BadParameter(f"between 1 and {MAX_K}", param_hint="-k")
    if (query is None) == (queries is None):
        raise typer.BadParameter("give a QUERY or --queries FILE (not both)")
    texts = [query] if query is not None else _read_queries(queries)
    for t in texts:
        if not t.strip() or len(t) > MAX_QUERY_CHARS:
            raise typer.BadParameter(f"a query must have 1–{MAX_QUERY_CHARS} characters: {t[:40]!r}")
    settings = Settings()
    search_mode: SearchMode = "dense" if mode == "dense" else "sparse" if mode == "sparse" else "hybrid"
    try:
        from pipeline.embed.use import companion_for

        embedder = _embedder(settings, search_mode != "sparse")
        companion = companion_for(embedder if search_mode == "hybrid" else None)  # dense search is e5's alone
        ix = ClauseIndex(settings.index_dir, embedder, companion=companion)
        with ix:
            doc_ids = tuple(_doc_id(ix, d, settings) for d in doc or [])
            filters = SearchFilters(
                docs=doc_ids,
                fiscal_years=tuple(year or ()),
                programmes=tuple(programme or ()),
                secretariats=tuple(secretariat or ()),
                kinds=tuple(kind or ()),
                path_prefix=path,
            )
            if not ix.documents():
                raise PipelineError(f"{settings.index_dir}: the index is empty; build it with `koubo index`")
            results = search_many(ix, texts, k=k, mode=search_mode, filters=filters)
    except PipelineError as e:
        _fail(e)
        return
    if fmt == "json":
        data = [[hit_record(h) for h in hits] for hits in results]
        sys.stdout.write(json.dumps(data if queries is not None else data[0], ensure_ascii=False, indent=1) + "\n")
        return
    out = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    for q, hits in zip(texts, results, strict=True):
        _print_hits(out, q, hits)


def _read_queries(path: Path | None) -> list[str]:
    if path is None or not path.is_file():
        raise typer.BadParameter(f"{path}: no such file", param_hint="--queries")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _doc_id(ix: ClauseIndex, ref: str, settings: Settings) -> str:
    """An indexed document's id from an id, an id prefix or a file (indexed first if it is not)."""
    if Path(ref).is_file():
        d = prepare_document(ref, settings)
        if ix.add(d) != "unchanged":
            err.print(f"indexed {ref} first", markup=False)
        return d.id
    found = [d.id for d in ix.documents() if d.id.startswith(ref.lower())]
    if len(found) != 1:
        raise PipelineError(f"{ref}: {'no' if not found else 'more than one'} indexed document has this id")
    return found[0]


def _print_hits(out: Console, query: str, hits: list[Hit]) -> None:
    table = Table(title=escape(query), title_justify="left", show_lines=True, pad_edge=False)
    for col in ("#", "document", "clause", "text", "where"):
        table.add_column(col, overflow="fold")
    for i, h in enumerate(hits, start=1):
        where = f"p. {', '.join(map(str, h.pages))}" if h.pages else (f"L{h.lines[0]}" if h.lines else "")
        doc = f"{escape(h.title or h.doc)[:30]}\n{h.fiscal_year or ''} {h.doc}"
        clause = f"{escape(h.clause_path)}\n{escape(h.heading or '')}"
        table.add_row(str(i), doc, clause, _snippet(h), where)
    out.print(table)
    if not hits:
        err.print("no hits", markup=False)


def _snippet(h: Hit) -> str:
    """The clause text from the sentence that matched best (or around its first matched word), with matched words
    in reverse video."""
    text = h.text.replace("\n", " ")
    start = snippet_start(h, 30)
    end = min(len(text), start + SNIPPET_CHARS)
    parts, pos = [], start
    for s, e in h.marks:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        parts.append(escape(text[pos:s]))
        parts.append(f"[reverse]{escape(text[s:e])}[/reverse]")
        pos = e
    parts.append(escape(text[pos:end]))
    return ("…" if start else "") + "".join(parts) + ("…" if end < len(text) else "")
