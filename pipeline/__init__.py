"""koubo: Japanese call-for-proposal documents (公募要領) as structured, searchable, comparable data.

Stages: ``ingest`` (PDF and text → Document) → structure → nlp → index → diff.
"""

from __future__ import annotations

from pipeline.document import Block, BlockKind, Document, IngestResult, Table
from pipeline.errors import PipelineError
from pipeline.ingest import ingest_path, read_pdf, read_text

__version__ = "0.1.0"

__all__ = [
    "Block",
    "BlockKind",
    "Document",
    "IngestResult",
    "PipelineError",
    "Table",
    "__version__",
    "ingest_path",
    "read_pdf",
    "read_text",
]
