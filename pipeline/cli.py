"""koubo's command line: one thin command per stage.

stdout carries data; stderr carries progress, warnings and summaries. A
``PipelineError`` ends the command with ``Error: <message>`` on stderr and
exit status 1 (``--debug`` shows the traceback); usage errors exit 2.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import __version__
from pipeline.document import Document, IngestResult, IngestStatus, Modality, Provenance, Requirement
from pipeline.errors import PipelineError, SchemaVersionError, SourceNotFoundError
from pipeline.ingest import ingest_path, is_current, load_manifest, sha256_file
from pipeline.nlp import default_model, find_requirements, modality_version, requirement_record
from pipeline.settings import Settings
from pipeline.structure import iter_outline, outline_record, segment
from pipeline.utils import write_text_atomic

app = typer.Typer(
    name="koubo",
    help="Turn Japanese call-for-proposal documents (公募要領) into structured, searchable, comparable data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
SOURCE_SUFFIXES = (".pdf", ".txt", ".md")
SKIP_NAMES = {"MANIFEST.md", "README.md", "SOURCES.md"}


class _State:
    debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"koubo {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    _State.debug = debug


def _fail(e: PipelineError) -> None:
    if _State.debug:
        raise e
    err.print(f"Error: {e.message}", markup=False)
    raise typer.Exit(1)


def write_atomic(path: Path, data: str) -> None:
    """Write a file so that readers see the old content or the new, never half of it."""
    write_text_atomic(path, data)


def document_path(out_dir: Path, doc: Document) -> Path:
    """outputs/documents/<programme>/<fiscal_year>/<id>.json"""
    src = doc.source
    return out_dir / (src.programme or "other") / str(src.fiscal_year or "unknown") / f"{doc.id}.json"


def expand_sources(paths: list[Path]) -> Iterator[Path]:
    """Files as given; folders searched for .pdf, .txt and .md files (manifests and READMEs left out)."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SOURCE_SUFFIXES and f.name not in SKIP_NAMES:
                    yield f
        else:
            yield p


def prefer_pdf(files: list[Path]) -> list[Path]:
    """A .txt or .md beside a .pdf of the same name is the same call: keep the PDF, which has pages."""
    pdf_stems = {(f.parent, f.stem) for f in files if f.suffix.lower() == ".pdf"}
    return [f for f in files if f.suffix.lower() == ".pdf" or (f.parent, f.stem) not in pdf_stems]


def prepared_by_current(produced_by: dict[str, str], settings: Settings | None = None) -> bool:
    """Whether a prepared document was made by this koubo's readers, rules and modality model (else prepare it
    again)."""
    from pipeline.nlp.values import VALUE_RULES
    from pipeline.structure import HEADING_RULES

    settings = settings or Settings()
    return (
        is_current(produced_by)
        and produced_by.get("structure") in (HEADING_RULES, "heading_rules.custom")
        and produced_by.get("modality") == modality_version(default_model(settings.models))
        and produced_by.get("values") == VALUE_RULES
    )


def prepare_document(ref: str, settings: Settings) -> Document:
    """A document as search and diff need it: ingested (cached), segmented, its requirements found (by the rules
    and the learned modality model in ``settings.models``)."""
    return find_requirements(segment(load_document(ref, settings)), model=default_model(settings.models))


def corpus_documents(paths: list[Path], settings: Settings | None = None) -> Iterator[Document]:
    """Every call document under ``paths`` (PDF preferred over its text twin), prepared."""
    settings = settings or Settings()
    for f in prefer_pdf(list(expand_sources(paths))):
        yield prepare_document(str(f), settings)


def find_document(ref: str, settings: Settings) -> Path | None:
    """An ingested document's JSON by id (or id prefix) under outputs/documents/."""
    if len(ref) < 6 or not all(c in "0123456789abcdef" for c in ref.lower()):
        return None
    hits = sorted(settings.documents_dir.rglob(f"{ref.lower()}*.json")) if settings.documents_dir.is_dir() else []
    return hits[0] if hits else None


def load_document(ref: str, settings: Settings) -> Document:
    """A document from a source file, an ingested JSON file, or an id.

    A source file is looked up by its sha256 among the ingested documents first,
    and ingested (and so cached in outputs/documents/) only if it is not there,
    or was read by an older reader of this koubo.
    """
    path = Path(ref)
    if path.is_file() and path.suffix.lower() == ".json":
        return Document.from_json(path.read_bytes())
    if path.exists():
        sha = sha256_file(path) if path.is_file() else None
        cached = _ingested(settings.documents_dir).get(sha[:12]) if sha else None
        if cached is not None:
            try:
                doc = Document.from_json(cached.read_bytes())
                if is_current(doc.produced_by):
                    return doc
            except SchemaVersionError:
                pass  # written by an older koubo: ingest again
        result = ingest_path(path, manifest=load_manifest(settings.manifest_path), sha256=sha)
        if result.document is None:
            e = result.errors[0]
            raise PipelineError(e.message, path=e.path, page_no=e.page_no)
        write_atomic(document_path(settings.documents_dir, result.document), result.document.to_json())
        return result.document
    found = find_document(ref, settings)
    if found is None:
        raise SourceNotFoundError(
            f"{ref}: no such file, and no ingested document with that id in {settings.documents_dir}; "
            f"give a path, or run `koubo ingest` first",
            path=ref,
        )
    return Document.from_json(found.read_bytes())


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"),
        console=err,
        transient=True,
        disable=not err.is_terminal and os.environ.get("KOUBO_PROGRESS") != "1",
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF, .txt or .md files, or folders to search for them.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder for the document JSON files [default: $KOUBO_OUTPUTS/documents]."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild documents that are already ingested.")] = False,
    abort_on_error: Annotated[
        bool, typer.Option("--abort-on-error", help="Stop at the first file that fails instead of going on.")
    ] = False,
) -> None:
    """Ingest call documents into structured JSON (one file per document).

    Goes on past bad files, writes each good one atomically, prints a summary
    on stderr, and exits 1 if any file failed.
    """
    settings = Settings()
    output = output or settings.documents_dir
    manifest = load_manifest(settings.manifest_path)
    files = list(expand_sources(paths))
    if not files:
        err.print(f"Error: no .pdf, .txt or .md files in {', '.join(map(str, paths))}", markup=False)
        raise typer.Exit(1)
    results: list[tuple[IngestResult, Path | None, str]] = []
    done = {} if force else _ingested(output)
    with _progress() as bar:
        task = bar.add_task("ingest", total=len(files), current="")
        for f in files:
            bar.update(task, current=f.name)
            sha = sha256_file(f) if f.is_file() else None
            existing = done.get(sha[:12]) if sha else None
            if existing is not None and _read_by_current(existing):
                results.append((IngestResult(status=IngestStatus.SUCCESS, path=str(f)), existing, "unchanged"))
                bar.advance(task)
                continue
            result = ingest_path(f, manifest=manifest, sha256=sha)
            target = None
            if result.document is not None:
                target = document_path(output, result.document)
                write_atomic(target, result.document.to_json())
            results.append((result, target, "written" if target else "failed"))
            bar.advance(task)
            if abort_on_error and result.status is IngestStatus.FAILURE:
                break
    _print_ingest_summary(results, output)
    if any(r.status is IngestStatus.FAILURE for r, _, _ in results):
        raise typer.Exit(1)


def _read_by_current(doc_json: Path) -> bool:
    """Whether an ingested document was read by this koubo's readers (an older one's is read again)."""
    try:
        produced = json.loads(doc_json.read_bytes()).get("produced_by", {})
    except (OSError, ValueError):
        return False
    return isinstance(produced, dict) and is_current(produced)


def _ingested(out_dir: Path) -> dict[str, Path]:
    """The documents already in an output folder, by id (sha256[:12]): one walk per command."""
    return {p.stem: p for p in out_dir.rglob("*.json")} if out_dir.is_dir() else {}


def _print_ingest_summary(results: list[tuple[IngestResult, Path | None, str]], out_dir: Path) -> None:
    n_ok = sum(1 for _, _, s in results if s == "written")
    n_same = sum(1 for _, _, s in results if s == "unchanged")
    n_fail = sum(1 for r, _, _ in results if r.status is IngestStatus.FAILURE)
    for r, target, _state in results:
        if r.status is IngestStatus.FAILURE:
            for e in r.errors:
                err.print(f"FAILED  {e.message}", markup=False)
            continue
        doc = r.document
        if doc is None:
            err.print(f"same    {r.path} → {target} (already ingested; --force rebuilds it)", markup=False)
            continue
        detail = f"{len(doc.pages)} pages, " if doc.pages else ""
        detail += f"{len(doc.blocks)} blocks"
        if doc.removed:
            detail += f", {len(doc.removed)} header/footer lines removed"
        err.print(f"ok      {r.path} → {target} ({detail})", markup=False)
        for w in doc.warnings:
            err.print(f"  warning: {w.message}", markup=False)
    err.print(
        f"{len(results)} files: {n_ok} ingested, {n_same} unchanged, {n_fail} failed. Documents are in {out_dir}/",
        markup=False,
    )


def _parse_pages(spec: str | None) -> set[int] | None:
    if not spec:
        return None
    pages: set[int] = set()
    for part in spec.replace(",", " ").split():
        if "-" in part:
            a, b = part.split("-", 1)
            pages.update(range(int(a), int(b) + 1))
        else:
            pages.add(int(part))
    return pages


@app.command()
def show(
    doc: Annotated[
        str, typer.Argument(help="A source file (ingested on the fly), a document JSON file, or a document id.")
    ],
    pages: Annotated[str | None, typer.Option("--pages", help="Only these pages, e.g. '1-3 7'.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Print a document's blocks with their kind and page (or text lines)."""
    settings = Settings()
    if fmt not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    try:
        document = load_document(doc, settings)
    except PipelineError as e:
        _fail(e)
        return
    wanted = _parse_pages(pages)
    if fmt == "json":
        sys.stdout.write(document.to_json(indent=1) + "\n")
        return
    src = document.source
    err.print(f"{src.path}  id={document.id}  {src.title or ''} {src.fiscal_year or ''}".rstrip(), markup=False)
    for b in document.blocks:
        p = b.prov[0]
        if wanted is not None and p.page_no not in wanted:
            continue
        where = f"p.{p.page_no}" if p.page_no is not None else f"L{p.line_start}"
        body = b.orig.replace("\n", " ⏎ ") if b.kind.value != "table" else _table_preview(b.orig)
        typer.echo(f"{where:>6}  {b.kind.value:<9}  {body}")
    for w in document.warnings:
        err.print(f"warning: {w.message}", markup=False)
    if document.removed:
        err.print(f"{len(document.removed)} header/footer/page-number lines removed", markup=False)


def _pages(prov: list[Provenance]) -> list[int]:
    return sorted({p.page_no for p in prov if p.page_no is not None})


def _where(prov: list[Provenance]) -> str:
    pages = _pages(prov)
    if pages:
        return f"p.{pages[0]}" + (f"-{pages[-1]}" if pages[-1] != pages[0] else "")
    lines = [p.line_start for p in prov if p.line_start is not None]
    return f"L{min(lines)}" if lines else ""


@app.command()
def outline(
    doc: Annotated[str, typer.Argument(help="A source file (pdf, txt, md), a document JSON file, or a document id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    items: Annotated[
        bool | None,
        typer.Option("--items/--no-items", help="Include bullet and ① items (default: in json yes, in text no)."),
    ] = None,
) -> None:
    """Print the clause tree that follows the document's numbering (Ⅳ › 1. › (1) › イ …)."""
    # JSON is read by programs, which want every item a clause holds; the printed tree stays at the headings
    items = (fmt == "json") if items is None else items
    if fmt not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    settings = Settings()
    try:
        document = segment(load_document(doc, settings))
    except PipelineError as e:
        _fail(e)
        return
    if fmt == "json":
        nodes = [outline_record(c, include_items=items) for c in document.clauses]
        sys.stdout.write(json.dumps(nodes, ensure_ascii=False, indent=1) + "\n")
        return
    for c in iter_outline(document.clauses, include_items=items):
        first = c.orig.split("\n", 1)[0]
        rest = first[len(c.label) :].strip() if first.startswith(c.label) else first
        title = c.heading if c.heading is not None else rest[:50]
        if c.marker in ("bracket", "square"):
            title = ""  # the label is the heading
        indent = "  " * (c.level - 1)
        typer.echo(f"{indent}{c.path:<{max(1, 28 - len(indent))}} {c.label:<6} {title}  {_where(c.prov)}".rstrip())
    missing = [r for r in document.references if r.target_path is None]
    for r in missing:
        err.print(f"warning: {r.clause_path} refers to {r.raw}, which this document does not have", markup=False)


REQUIREMENT_COLUMNS = ("clause_path", "modality", "subject", "sentence", "values")
VALUE_FIELDS = {"type", "raw", "normalized", "qualifier"}
PIPE_WIDTH = 200  # table width when stdout is not a terminal


@app.command()
def requirements(
    doc: Annotated[str, typer.Argument(help="A source file (pdf, txt, md), a document JSON file, or a document id.")],
    kind: Annotated[
        list[Modality] | None,
        typer.Option("--kind", "-k", help="Only these modalities (repeat the option for several)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    ginza: Annotated[
        bool,
        typer.Option(
            "--ginza/--no-ginza",
            help="Also look for subjects the rules miss with GiNZA's dependency parse (slower; rarely finds one).",
        ),
    ] = False,
    include_none: Annotated[bool, typer.Option("--all", help="Also list sentences that state no requirement.")] = False,
    rules_only: Annotated[
        bool,
        typer.Option(
            "--rules-only", help="Decide modalities by the rules alone, without the learned model in models/."
        ),
    ] = False,
) -> None:
    """List the requirements of a document: each sentence with its modality, subject and values."""
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("use table, json or csv", param_hint="--format")
    settings = Settings()
    try:
        document = segment(load_document(doc, settings))
        parser = None
        if ginza:
            from pipeline.nlp.ginza import GinzaParser

            parser = GinzaParser()
        document = find_requirements(document, parser, None if rules_only else default_model(settings.models))
    except PipelineError as e:
        _fail(e)
        return
    wanted = set(kind) if kind else None
    rows = [
        r
        for r in document.requirements
        if (wanted is None or r.modality in wanted) and (include_none or wanted or r.modality is not Modality.NONE)
    ]
    if fmt == "json":
        data = [requirement_record(r) for r in rows]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(REQUIREMENT_COLUMNS)
        for r in rows:
            w.writerow([r.clause_path, r.modality.value, r.subject or "", r.sentence, _values_cell(r)])
        return
    table = Table(show_lines=False, expand=False, pad_edge=False)
    for col in REQUIREMENT_COLUMNS:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.clause_path, r.modality.value, r.subject or "", r.sentence, _values_cell(r))
    Console(width=None if sys.stdout.isatty() else PIPE_WIDTH).print(table)
    err.print(f"{len(rows)} of {len(document.requirements)} sentences", markup=False)


def _values_cell(r: Requirement) -> str:
    return "; ".join(f"{v.type.value}={v.normalized}" + (f" ({v.qualifier})" if v.qualifier else "") for v in r.values)


def _table_preview(orig: str) -> str:
    rows = orig.split("\n")
    return " | ".join(rows[0].split("\t")) + (f"  (+{len(rows) - 1} rows)" if len(rows) > 1 else "")


# The index/search and diff commands live in their own modules (this one would pass ~600 lines);
# importing them registers them on `app`.
from pipeline import cli_diff, cli_index, cli_serve  # noqa: E402, F401

if __name__ == "__main__":
    app()
