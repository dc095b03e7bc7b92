"""PDF → Document with pdfplumber (placeholder, being written)."""
from __future__ import annotations
from pathlib import Path
from pipeline.document import Document

PDF_READER = "pdf_reader.v1"


def read_pdf(path: str | Path, *, strict: bool = False) -> Document:
    raise NotImplementedError
