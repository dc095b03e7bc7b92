"""Errors and warnings raised by koubo.

::

    PipelineError
    ├─ IngestError                 a source file could not be read
    │  ├─ SourceNotFoundError      the path does not exist or is not a file
    │  ├─ EmptyFileError           the file has no bytes, or no text at all
    │  ├─ NotAPdfError             the file does not start like a PDF
    │  ├─ CorruptPdfError          a PDF that cannot be parsed (truncated, damaged)
    │  ├─ EncryptedPdfError        a PDF that needs a password
    │  └─ NoTextLayerError         a PDF with no text on any page (scanned; no OCR)
    ├─ UnsupportedFormatError      a file type koubo does not ingest
    ├─ ModelUnavailableError       GiNZA (or another model) is not installed
    ├─ ModelBuildError             a model could not be built from the package that ships it
    ├─ IndexMismatchError          an index built with another embedder, dimension or schema
    └─ SchemaVersionError          outputs/ JSON written by an incompatible koubo
    PipelineWarning(UserWarning)

Every message names the file (and the page where there is one) and says what
to do next. The same facts are on attributes (``err.path``, ``err.page_no``)
for code that handles them.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class of every error koubo raises on purpose."""

    status = 500

    def __init__(self, message: str, *, path: str | None = None, page_no: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.page_no = page_no


class IngestError(PipelineError):
    """A source file could not be turned into a Document."""

    status = 422


class SourceNotFoundError(IngestError):
    """Raised when the path does not exist or is a directory."""

    status = 404


class EmptyFileError(IngestError):
    """Raised when the file has no bytes, or no text at all."""


class NotAPdfError(IngestError):
    """Raised when a file named .pdf does not start with ``%PDF``."""


class CorruptPdfError(IngestError):
    """Raised when a PDF cannot be parsed: truncated, damaged or missing its page tree."""


class EncryptedPdfError(IngestError):
    """Raised when a PDF is encrypted with a password koubo does not have."""


class NoTextLayerError(IngestError):
    """Raised when no page of a PDF has a text layer (a scan); koubo does no OCR."""


class UnsupportedFormatError(PipelineError):
    """Raised for a file type koubo does not ingest."""

    status = 415


class ModelUnavailableError(PipelineError):
    """Raised when a model koubo needs (GiNZA, the embedder) is not installed or not built."""

    status = 503


class IndexMismatchError(PipelineError):
    """Raised when an index was built with another embedder (name, revision, dimension) or schema."""

    status = 409


class ModelBuildError(PipelineError):
    """Raised when a model cannot be built from the package that ships its weights: the file is
    missing, truncated or of an unknown layout, or the built model fails its own checks."""

    status = 500


class SchemaVersionError(PipelineError):
    """Raised when JSON in outputs/ was written with an incompatible schema."""

    status = 409


class PipelineWarning(UserWarning):
    """Base class of koubo's warnings."""
