"""The data model: every type that crosses a stage boundary.

Consumes nothing, produces nothing: pure, frozen pydantic models with JSON
round-trip. No I/O beyond ``to_json``/``from_json``, no pdfplumber, spaCy or
numpy objects.

Coordinates are PDF points with the origin at the top-left of the page, as
pdfplumber gives them (``x0``/``top``/``x1``/``bottom``). Pages are 1-based.
Text lines are 1-based and inclusive.

Every text-bearing node keeps two strings:

- ``orig``: the text as printed, after only the repairs that do not change
  what a reader sees (Kangxi radicals → kanji, private-use bullets → real
  bullets, fake-bold duplicates dropped, wrapped lines joined). Numbering
  markers such as ①, （１）, ア, (ｲ) stay exactly as printed.
- ``text``: ``orig`` under NFKC and whitespace folding, for matching.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.errors import SchemaVersionError

SCHEMA_VERSION = "1.1"  # 1.1: clause tree, references, requirements


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BBox(_Frozen):
    """A box in PDF points; origin at the top-left of the page (pdfplumber's x0/top/x1/bottom)."""

    x0: float
    top: float
    x1: float
    bottom: float

    def union(self, other: BBox) -> BBox:
        return BBox(
            x0=min(self.x0, other.x0),
            top=min(self.top, other.top),
            x1=max(self.x1, other.x1),
            bottom=max(self.bottom, other.bottom),
        )


class Provenance(_Frozen):
    """Where a piece of text came from: a box on a PDF page, or a line range of a text file."""

    page_no: int | None = None
    bbox: BBox | None = None
    line_start: int | None = None
    line_end: int | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Provenance:
        has_pdf = self.page_no is not None
        has_text = self.line_start is not None
        if has_pdf == has_text:
            raise ValueError("provenance needs either page_no (PDF) or line_start (text), not both")
        return self


class BlockKind(StrEnum):
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    HEADING = "heading"  # a heading candidate: structure decides what it really is
    TABLE = "table"
    TOC = "toc"  # a table-of-contents line
    FOOTNOTE = "footnote"  # 「4 政府情報システムのための…」 printed with a superscript number


class Cell(_Frozen):
    row: int  # 0-based
    col: int  # 0-based
    row_span: int = 1
    col_span: int = 1
    orig: str
    text: str
    prov: list[Provenance] = []


class Table(_Frozen):
    n_rows: int
    n_cols: int
    cells: list[Cell]

    def rows(self) -> list[list[Cell]]:
        """Cells grouped by row, in column order."""
        out: list[list[Cell]] = [[] for _ in range(self.n_rows)]
        for cell in self.cells:
            out[cell.row].append(cell)
        return [sorted(r, key=lambda c: c.col) for r in out]


class Block(_Frozen):
    """A unit of body text in reading order.

    ``hint_level`` carries a markdown heading level or a font-size rank where the
    source had one: a hint for the clause tree, never the truth. A table block
    keeps its cells in ``table``; its ``orig``/``text`` are the cells joined by
    tabs and newlines so that text search still finds them.
    """

    kind: BlockKind
    orig: str
    text: str
    prov: list[Provenance]
    hint_level: int | None = None
    bold: bool = False
    font_size: float | None = None
    table: Table | None = None


class PageInfo(_Frozen):
    page_no: int
    width: float
    height: float
    n_chars: int
    rotation: int = 0


class Removal(_Frozen):
    """A line taken out of the body: running header, footer or page number."""

    page_no: int
    kind: Literal["header", "footer", "page_number"]
    text: str
    bbox: BBox | None = None


class WarningKind(StrEnum):
    NO_TEXT_LAYER = "no_text_layer"  # a page with no text (scanned?)
    VERTICAL_TEXT = "vertical_text"  # a page set in vertical lines (縦書き)
    UNMAPPED_GLYPHS = "unmapped_glyphs"  # (cid:N) glyphs with no Unicode mapping
    UNREADABLE_PAGE = "unreadable_page"  # a page the PDF parser failed on; skipped


class DocumentWarning(_Frozen):
    kind: WarningKind
    page_no: int | None = None
    message: str


class SourceFile(_Frozen):
    """The file a Document was read from, with what the corpus manifest says of it."""

    path: str
    sha256: str
    media_type: Literal["application/pdf", "text/plain", "text/markdown"]
    n_bytes: int
    title: str | None = None
    programme: str | None = None
    fiscal_year: int | None = None  # the Gregorian start year: 令和7年度 → 2025
    issuer: str | None = None
    secretariat: str | None = None


class ValueType(StrEnum):
    DATE = "date"  # normalized: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM"
    AMOUNT = "amount"  # normalized: integer yen
    COUNT = "count"  # normalized: {"min": int, "max": int | None, "unit": str}
    RATE = "rate"  # normalized: float fraction (50% → 0.5) or {"min": float, "max": float}
    EMAIL = "email"  # normalized: the real address (_atmark_ → @)
    URL = "url"
    PHONE = "phone"  # normalized: ASCII digits and hyphens
    ORGANISATION = "organisation"  # normalized: the name as printed, NFKC


class Value(_Frozen):
    """A value stated in a sentence, with its normal form and what qualifies it (上限, 程度, 必着 …)."""

    type: ValueType
    raw: str  # exactly as in the sentence
    normalized: str | int | float | dict[str, int | float | str | None]
    qualifier: str | None = None  # comma-joined in text order: "上限,税込"
    span: tuple[int, int] | None = None  # [start, end) into the sentence
    warning: str | None = None  # e.g. a printed weekday that contradicts the date


class Modality(StrEnum):
    OBLIGATION = "obligation"
    PROHIBITION = "prohibition"
    PERMISSION = "permission"
    ELIGIBILITY = "eligibility"
    DEADLINE = "deadline"
    RECOMMENDATION = "recommendation"
    NONE = "none"


class Requirement(_Frozen):
    """One sentence of a clause with its modality, subject and values."""

    clause_path: str  # reference by path, never a back-pointer
    sentence: str  # as printed (orig)
    modality: Modality
    subject: str | None = None
    values: list[Value] = []
    produced_by: str = ""  # "modality_rules.v1"


class Reference(_Frozen):
    """A cross-reference in a clause (「別添1」「(2)の審査基準」「前項」) and the clause it names."""

    clause_path: str  # where it appears
    raw: str
    target_path: str | None = None  # None: the named clause does not exist


class Clause(_Frozen):
    """A numbered unit of the call (Ⅰ, 1., (1), ①, イ, a., 【…】, 別添1-3), with its sub-clauses.

    ``path`` is built from the numbering (``IV.1.(1).ロ.b``), so versions of a
    call can be aligned by path first and by similarity second. ``orig``/``text``
    hold the clause's own body (heading line included), not its children's.
    """

    path: str
    label: str  # the marker as printed: 「（１）」「二.」「Ⅳ」
    marker: str  # the marker type: roman, arabic, paren_arabic, iroha, latin, bracket, annex, …
    level: int  # depth in the tree, 1 = top
    heading: str | None = None
    orig: str = ""
    text: str = ""
    prov: list[Provenance] = []
    blocks: tuple[int, int] = (0, 0)  # [start, end) into Document.blocks
    children: list[Clause] = []

    def walk(self) -> Iterator[Clause]:
        """This clause and all below it, in document order."""
        yield self
        for c in self.children:
            yield from c.walk()


class Criterion(_Frozen):
    """A row of an evaluation table (審査基準, 評価項目) with its points or grades."""

    clause_path: str
    item: str
    points: list[int] = []  # e.g. S/A/B/C/D → [10, 8, 6, 3, 0]
    grades: list[str] = []  # column heads the points belong to, e.g. ["S", "A", "B", "C", "D"]
    max_points: int | None = None
    viewpoint: str = ""  # 評価の視点


class Document(_Frozen):
    schema_name: Literal["koubo.Document"] = "koubo.Document"
    schema_version: str = SCHEMA_VERSION
    source: SourceFile
    pages: list[PageInfo] = []
    blocks: list[Block] = []
    removed: list[Removal] = []
    warnings: list[DocumentWarning] = []
    clauses: list[Clause] = []  # the clause tree (structure stage)
    references: list[Reference] = []
    requirements: list[Requirement] = []  # nlp stage
    criteria: list[Criterion] = []
    produced_by: dict[str, str] = {}

    def iter_clauses(self) -> Iterator[Clause]:
        """Every clause of the tree, in document order."""
        for c in self.clauses:
            yield from c.walk()

    @property
    def id(self) -> str:
        """A short stable id: the first 12 hex digits of the source's sha256."""
        return self.source.sha256[:12]

    def iter_text_blocks(self) -> Iterator[Block]:
        """Body blocks (everything but TOC lines), in reading order."""
        return (b for b in self.blocks if b.kind is not BlockKind.TOC)

    def body_text(self) -> str:
        """The normalised body text, one block per line; tables cell by cell."""
        return "\n".join(b.text for b in self.iter_text_blocks())

    def to_json(self, *, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent, exclude_defaults=False)

    @classmethod
    def from_json(cls, data: str | bytes) -> Document:
        raw = json.loads(data)
        _check_schema(raw, "koubo.Document")
        return cls.model_validate(raw)


class IngestStatus(StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"  # a document was produced, with page-level warnings
    FAILURE = "failure"


class ErrorItem(_Frozen):
    stage: str
    path: str
    page_no: int | None = None
    error_type: str
    message: str


class IngestResult(_Frozen):
    """What ingesting one file gave: a document, or the reason there is none."""

    status: IngestStatus
    path: str
    document: Document | None = None
    errors: list[ErrorItem] = Field(default_factory=list)


def _check_schema(raw: object, expected_name: str) -> None:
    if not isinstance(raw, dict):
        raise SchemaVersionError(f"expected a JSON object for {expected_name}, got {type(raw).__name__}")
    name = raw.get("schema_name")
    version = str(raw.get("schema_version", ""))
    if name != expected_name:
        raise SchemaVersionError(f"expected schema {expected_name!r}, got {name!r}")
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise SchemaVersionError(
            f"{expected_name} schema version {version!r} is not readable by this koubo "
            f"(reads {SCHEMA_VERSION.split('.')[0]}.x); re-run `koubo ingest` to rebuild it"
        )


class Hit(_Frozen):
    """A clause found by a search, with where it is and why it matched."""

    doc: str  # document id (sha256[:12])
    title: str | None = None
    programme: str | None = None
    fiscal_year: int | None = None
    clause_path: str
    heading: str | None = None
    text: str  # the clause's own text (normalised)
    marks: list[tuple[int, int]] = []  # [start, end) spans of ``text`` that match the query's words
    # [start, end) of the sentence of ``text`` whose own vector matched the question best (dense search), when a
    # sentence of the clause did better than the clause as a whole
    sentence: tuple[int, int] | None = None
    score: float  # fused score (hybrid) or the single mode's score
    pages: list[int] = []  # PDF pages; empty for a text source
    lines: tuple[int, int] | None = None  # text-file line range; None for a PDF
    modalities: list[Modality] = []  # kinds of requirement the clause states
    dense_rank: int | None = None  # 1-based rank in each list that found it (None: not in that list)
    sparse_rank: int | None = None
    companion_rank: int | None = None  # in the companion model's list (hybrid search with pipeline.embed.use)
    clause_id: int | None = None  # the clause's id in the index it was found in


# --- cross-year comparison (issue #5) ---------------------------------------------------------
DIFF_SCHEMA_VERSION = "1.0"


class ChangeKind(StrEnum):
    ADDED = "added"  # a clause only in the new call
    REMOVED = "removed"  # a clause only in the old call
    MODIFIED = "modified"  # same clause, its text changed
    MOVED = "moved"  # same text, under another parent
    RENUMBERED = "renumbered"  # same text and place, another number (別添2 → 別添1)


class ChangeCategory(StrEnum):
    DEADLINE = "deadline"
    AMOUNT = "amount"
    ELIGIBILITY = "eligibility"
    EVALUATION = "evaluation"
    DELIVERABLE = "deliverable"
    PROCESS = "process"
    CONTACT = "contact"
    SECURITY = "security"
    OTHER = "other"


class DiffOp(_Frozen):
    """One run of a character-level diff from old to new text."""

    op: Literal["equal", "insert", "delete"]
    text: str


class ValueChange(_Frozen):
    """A value of one type that changed between the clauses: 「1億円 → 7,000万円程度（−30%）」."""

    type: ValueType
    old: str | None = None  # as printed
    new: str | None = None
    old_normalized: str | int | float | dict[str, int | float | str | None] | None = None
    new_normalized: str | int | float | dict[str, int | float | str | None] | None = None
    delta: str | None = None  # e.g. "−30%", "+7 days"


class Change(_Frozen):
    """One change item between two versions of a call, with why it matters or does not."""

    kind: ChangeKind
    substantive: bool
    category: ChangeCategory
    reason: str  # e.g. "amount changed: 1億円 → 7,000万円程度", "secretariat name only"
    old_path: str | None = None
    new_path: str | None = None
    old_heading: str | None = None
    new_heading: str | None = None
    old_text: str | None = None
    new_text: str | None = None
    old_pages: list[int] = []
    new_pages: list[int] = []
    diff: list[DiffOp] = []
    values: list[ValueChange] = []
    similarity: float = 0.0  # 0..1, of the aligned clauses' texts
    importance: float = 0.0  # for ranking: substantive, category, size of the change


class DocumentDiff(_Frozen):
    """What changed from one version of a call to the next."""

    schema_name: Literal["koubo.DocumentDiff"] = "koubo.DocumentDiff"
    schema_version: str = DIFF_SCHEMA_VERSION
    old: SourceFile
    new: SourceFile
    changes: list[Change] = []
    produced_by: dict[str, str] = {}

    def substantive(self) -> list[Change]:
        return [c for c in self.changes if c.substantive]

    def to_json(self, *, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, data: str | bytes) -> DocumentDiff:
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("schema_name") != "koubo.DocumentDiff":
            raise SchemaVersionError("expected a koubo.DocumentDiff JSON object")
        if str(raw.get("schema_version", "")).split(".")[0] != DIFF_SCHEMA_VERSION.split(".")[0]:
            raise SchemaVersionError(
                f"koubo.DocumentDiff schema version {raw.get('schema_version')!r} is not readable by this koubo; "
                "run `koubo diff` again"
            )
        return cls.model_validate(raw)
