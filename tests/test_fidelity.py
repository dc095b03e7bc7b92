"""Fidelity: a call read from its PDF says what the same call read from its text says."""

from __future__ import annotations

import pytest
from rapidfuzz.distance import Indel

from conftest import CORPORA, corpus_stems
from pipeline.ingest.normalize import strip_ws

MIN_SIMILARITY = 0.995


@pytest.mark.parametrize("stem", corpus_stems())
def test_pdf_body_matches_text_body(ingested, stem):
    """This test ensures that the body text ingested from a corpus PDF matches the body text
    ingested from its .txt to at least 99.5 % (character similarity, whitespace removed):
    headers and footers gone, tables read cell by cell, wrapped lines joined, nothing lost."""
    from_text = strip_ws(ingested(CORPORA / f"{stem}.txt").body_text())
    from_pdf = strip_ws(ingested(CORPORA / f"{stem}.pdf").body_text())
    assert len(from_text) > 5000
    similarity = Indel.normalized_similarity(from_text, from_pdf)
    assert similarity >= MIN_SIMILARITY, f"{stem}: {similarity:.4f}"


@pytest.mark.parametrize("stem", corpus_stems())
def test_pdf_tables_match_text_tables(ingested, stem):
    """This test ensures that each table of the text comes out of the PDF as table cells with the
    same content (a table split over pages counts once per page)."""
    text_tables = [b for b in ingested(CORPORA / f"{stem}.txt").blocks if b.table]
    pdf_tables = [b for b in ingested(CORPORA / f"{stem}.pdf").blocks if b.table]
    assert len(pdf_tables) >= len(text_tables)
    a = strip_ws("".join(b.text for b in text_tables))
    b = strip_ws("".join(b.text for b in pdf_tables))
    assert Indel.normalized_similarity(a, b) >= MIN_SIMILARITY
