"""The data model: JSON round trip, schema versions, provenance rules."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from conftest import CORPORA, REALPDFS
from pipeline.document import BBox, Document, Provenance
from pipeline.errors import SchemaVersionError


@pytest.mark.parametrize(
    "path",
    [
        CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt",
        CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.pdf",
        REALPDFS / "chusho_data_rikatsuyo_policy_20250214.pdf",
    ],
)
def test_json_round_trip(ingested, path):
    """This test ensures that a Document survives to_json/from_json unchanged, tables and provenance included."""
    doc = ingested(path)
    again = Document.from_json(doc.to_json())
    assert again == doc
    assert json.loads(doc.to_json())["schema_name"] == "koubo.Document"


def test_other_major_schema_version_is_refused(ingested):
    """This test ensures that JSON from an incompatible schema raises SchemaVersionError saying what to do."""
    doc = ingested(CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt")
    raw = json.loads(doc.to_json())
    raw["schema_version"] = "2.0"
    with pytest.raises(SchemaVersionError, match="koubo ingest"):
        Document.from_json(json.dumps(raw))
    raw["schema_name"] = "something.Else"
    with pytest.raises(SchemaVersionError):
        Document.from_json(json.dumps(raw))


def test_provenance_is_pdf_or_text_not_both():
    """This test ensures that provenance names a page or a line range, exactly one of them."""
    Provenance(page_no=1, bbox=BBox(x0=0, top=0, x1=1, bottom=1))
    Provenance(line_start=3, line_end=4)
    with pytest.raises(ValidationError):
        Provenance()
    with pytest.raises(ValidationError):
        Provenance(page_no=1, line_start=2)


def test_pdf_blocks_carry_page_and_box(ingested):
    """This test ensures that every PDF block and table cell points at a page and a box inside it."""
    doc = ingested(REALPDFS / "chusho_data_rikatsuyo_policy_20250214.pdf")
    sizes = {p.page_no: (p.width, p.height) for p in doc.pages}
    nodes = [*doc.blocks, *(c for b in doc.blocks if b.table for c in b.table.cells)]
    assert nodes
    for node in nodes:
        for prov in node.prov:
            w, h = sizes[prov.page_no]
            assert prov.bbox is not None
            assert -1 <= prov.bbox.x0 < prov.bbox.x1 <= w + 1
            assert -1 <= prov.bbox.top < prov.bbox.bottom <= h + 1
