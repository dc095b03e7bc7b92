"""Ingestion: PDF and text files → Document with provenance.

Consumes a path (PDF, .txt or .md); produces a ``Document`` whose blocks carry
page + bbox (PDF) or line ranges (text). Heavy dependencies: pdfplumber, only
in ``pipeline.ingest.pdf``.

Entry points:

- ``read_pdf(path)`` / ``read_text(path)``: one file → Document, or raise an
  ``IngestError`` that names the file, the page and the way out.
- ``ingest_path(path)``: never raises for a bad file; returns an
  ``IngestResult`` so that a batch can go on past it.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from pipeline.document import (
    Document,
    ErrorItem,
    IngestResult,
    IngestStatus,
    SourceFile,
)
from pipeline.errors import (
    EmptyFileError,
    IngestError,
    SourceNotFoundError,
    UnsupportedFormatError,
)
from pipeline.ingest.normalize import NORMALIZATION
from pipeline.ingest.pdf import PDF_READER, read_pdf
from pipeline.ingest.text import parse_text

__all__ = [
    "TEXT_READER",
    "CorpusEntry",
    "ingest_path",
    "is_current",
    "load_manifest",
    "read_pdf",
    "read_text",
    "sha256_file",
]

TEXT_READER = "text_reader.v2"  # v2: sentences cut by a page break joined again
TEXT_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown"}

CorpusEntry = dict[str, str]


def is_current(produced_by: dict[str, str]) -> bool:
    """Whether a document was read by this koubo's readers (else a cached copy is stale: read it again)."""
    return produced_by.get("ingest") in (TEXT_READER, PDF_READER) and produced_by.get("normalize") == NORMALIZATION


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_manifest(path: Path) -> dict[str, CorpusEntry]:
    """Read ``corpora/MANIFEST.csv`` into a map from sha256 to its row.

    Keyed by content, so a document keeps its metadata wherever it is copied.
    """
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["sha256"]: row for row in csv.DictReader(f) if row.get("sha256")}


def _source(path: Path, media_type: str, meta: CorpusEntry | None, sha256: str | None) -> SourceFile:
    meta = meta or {}
    fy = meta.get("fiscal_year") or ""
    return SourceFile(
        path=str(path),
        sha256=sha256 or sha256_file(path),
        media_type=media_type,
        n_bytes=path.stat().st_size,
        title=meta.get("title") or None,
        programme=meta.get("programme") or None,
        fiscal_year=int(fy) if fy.isdigit() else None,
        issuer=meta.get("issuer") or None,
        secretariat=meta.get("secretariat") or None,
    )


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SourceNotFoundError(
            f"{path}: no such file; check the path (koubo ingest takes files or folders)", path=str(path)
        )
    if not path.is_file():
        raise SourceNotFoundError(f"{path}: not a regular file", path=str(path))
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{path}: the file is empty (0 bytes); re-download or re-export it", path=str(path))


def read_text(path: str | Path, *, meta: CorpusEntry | None = None, sha256: str | None = None) -> Document:
    """Read a UTF-8 text or markdown call document.

    Args:
        path: a ``.txt`` or ``.md`` file.
        meta: its row of the corpus manifest, if known (title, programme, fiscal year…).
        sha256: the file's hash, if the caller has it already.

    Returns:
        A Document whose blocks carry line ranges as provenance.

    Raises:
        SourceNotFoundError, EmptyFileError: the file is missing, empty or holds only whitespace.
        UnsupportedFormatError: the bytes are not UTF-8 text.

    Example:
        >>> doc = read_text("corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt")
        >>> doc.blocks[0].orig[:6]
        '令和8年度（'
    """
    path = Path(path)
    _check_file(path)
    raw = path.read_bytes()
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnsupportedFormatError(
            f"{path}: not UTF-8 text (byte {e.start}); convert it with `iconv -f SHIFT_JIS -t UTF-8`",
            path=str(path),
        ) from e
    blocks = parse_text(source)
    if not blocks:
        raise EmptyFileError(f"{path}: the file holds no text, only whitespace", path=str(path))
    media = TEXT_SUFFIXES.get(path.suffix.lower(), "text/plain")
    return Document(
        source=_source(path, media, meta, sha256),
        blocks=blocks,
        produced_by={"ingest": TEXT_READER, "normalize": NORMALIZATION},
    )


def _read_any(path: Path, meta: CorpusEntry | None, sha256: str | None) -> Document:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        _check_file(path)
        doc = read_pdf(path)
        return doc.model_copy(update={"source": _source(path, "application/pdf", meta, sha256)})
    if suffix in TEXT_SUFFIXES:
        return read_text(path, meta=meta, sha256=sha256)
    if not path.exists():
        _check_file(path)
    raise UnsupportedFormatError(
        f"{path}: koubo reads .pdf, .txt and .md files, not {suffix or 'files without a suffix'}",
        path=str(path),
    )


def ingest_path(
    path: str | Path, *, manifest: dict[str, CorpusEntry] | None = None, sha256: str | None = None
) -> IngestResult:
    """Ingest one file without raising for bad input.

    Returns an ``IngestResult``: ``success`` with the document, ``partial`` when
    some pages carried warnings (scanned or vertical pages), ``failure`` with
    the error that says why.
    """
    path = Path(path)
    if sha256 is None and path.is_file():
        sha256 = sha256_file(path)  # hashed once: for the manifest and for the document
    meta = manifest.get(sha256) if manifest and sha256 else None
    try:
        doc = _read_any(path, meta, sha256)
    except (IngestError, UnsupportedFormatError) as e:
        err = ErrorItem(
            stage="ingest", path=str(path), page_no=e.page_no, error_type=type(e).__name__, message=e.message
        )
        return IngestResult(status=IngestStatus.FAILURE, path=str(path), errors=[err])
    status = IngestStatus.PARTIAL if doc.warnings else IngestStatus.SUCCESS
    return IngestResult(status=status, path=str(path), document=doc)
