"""Bad input: each kind gets its own error class and a message naming the file, page and way out;
a batch goes on past bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from typer.testing import CliRunner

from conftest import CORPORA, REALPDFS
from pipeline.cli import app
from pipeline.document import IngestStatus
from pipeline.errors import (
    CorruptPdfError,
    EmptyFileError,
    EncryptedPdfError,
    IngestError,
    NotAPdfError,
    NoTextLayerError,
    SourceNotFoundError,
    UnsupportedFormatError,
)
from pipeline.ingest import ingest_path, read_pdf, read_text

SMALL_PDF = REALPDFS / "mhlw_tsuchi_H26-11.pdf"
SMALL_TXT = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt"


def _not_a_pdf(tmp: Path) -> Path:
    p = tmp / "call.pdf"
    p.write_text("公募要領\n第1 目的\n", encoding="utf-8")
    return p


def _truncated(tmp: Path) -> Path:
    p = tmp / "truncated.pdf"
    p.write_bytes(SMALL_PDF.read_bytes()[:3000])
    return p


def _garbled(tmp: Path) -> Path:
    p = tmp / "garbled.pdf"
    p.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    return p


def _encrypted(tmp: Path) -> Path:
    p = tmp / "encrypted.pdf"
    writer = PdfWriter(clone_from=PdfReader(SMALL_PDF))
    writer.encrypt(user_password="koubo-secret", owner_password="owner", algorithm="RC4-128")
    with p.open("wb") as f:
        writer.write(f)
    return p


def _empty(tmp: Path) -> Path:
    p = tmp / "empty.pdf"
    p.write_bytes(b"")
    return p


def _scanned(tmp: Path) -> Path:
    return REALPDFS / "mhlw_scanned_image_only_000160131.pdf"


def _missing(tmp: Path) -> Path:
    return tmp / "no-such-call.pdf"


# fmt: off
CASES = [
    # (make the file, error class, words the message must hold besides the path)
    (_not_a_pdf, NotAPdfError,        ["not a PDF", "suffix"]),
    (_truncated, CorruptPdfError,     ["cannot be parsed", "download it again"]),
    (_garbled,   CorruptPdfError,     ["cannot be parsed", "qpdf"]),
    (_encrypted, EncryptedPdfError,   ["encrypted", "password", "qpdf --decrypt"]),
    (_empty,     EmptyFileError,      ["empty", "0 bytes"]),
    (_scanned,   NoTextLayerError,    ["page 1", "no text layer", "OCR"]),
    (_missing,   SourceNotFoundError, ["no such file"]),
]
# fmt: on


@pytest.mark.parametrize(("make", "error", "words"), CASES, ids=[c[1].__name__ + "-" + c[0].__name__ for c in CASES])
def test_bad_pdf_raises_typed_error(tmp_path, make, error, words):
    """This test ensures that each kind of bad input raises its own IngestError subclass whose
    message names the file and says what to do."""
    path = make(tmp_path)
    with pytest.raises(error) as e:
        if path.exists() and path.stat().st_size == 0:
            ingest = ingest_path(path)
            assert ingest.status is IngestStatus.FAILURE
            raise error(ingest.errors[0].message)
        read_pdf(path) if path.exists() else read_text(path)
    msg = str(e.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert isinstance(e.value, IngestError)


def test_encrypted_pdf_opens_with_its_password(tmp_path):
    """This test ensures that an encrypted PDF is read when the password is given."""
    doc = read_pdf(_encrypted(tmp_path), password="koubo-secret")
    assert any("ＭＦ" in b.orig for b in doc.blocks)


def test_empty_and_blank_text_files(tmp_path):
    """This test ensures that an empty or whitespace-only text file is an EmptyFileError, and a
    non-UTF-8 file says how to convert it."""
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.md"
    blank.write_text("\n   \n\u3000\n", encoding="utf-8")
    sjis = tmp_path / "sjis.txt"
    sjis.write_bytes("公募要領".encode("cp932"))
    with pytest.raises(EmptyFileError, match="0 bytes"):
        read_text(empty)
    with pytest.raises(EmptyFileError, match="only whitespace"):
        read_text(blank)
    with pytest.raises(UnsupportedFormatError, match="iconv"):
        read_text(sjis)


def test_unsupported_suffix_is_a_failure_result(tmp_path):
    """This test ensures that ingest_path reports a .docx as a failure without raising."""
    p = tmp_path / "call.docx"
    p.write_bytes(b"PK\x03\x04")
    result = ingest_path(p)
    assert result.status is IngestStatus.FAILURE
    assert result.errors[0].error_type == "UnsupportedFormatError"
    assert ".pdf, .txt and .md" in result.errors[0].message


def test_batch_goes_on_past_bad_files_and_exits_1(tmp_path):
    """This test ensures that `koubo ingest` over good and bad files writes every good document,
    reports every bad one with its reason, and exits 1."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SMALL_TXT, src / "good.txt")
    shutil.copy(SMALL_PDF, src / "good.pdf")
    _truncated(src)
    _empty(src)
    _encrypted(src)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["ingest", str(src), "-o", str(out)])
    assert result.exit_code == 1, result.output
    written = sorted(out.rglob("*.json"))
    assert len(written) == 2
    assert {json.loads(p.read_text())["source"]["path"].rsplit("/", 1)[-1] for p in written} == {"good.txt", "good.pdf"}
    err = result.stderr
    assert "5 files: 2 ingested, 0 unchanged, 3 failed" in err
    for name in ("truncated.pdf", "empty.pdf", "encrypted.pdf"):
        assert f"FAILED  {src / name}" in err
    assert not list(out.rglob(".*.json.*")), "no temp files left behind"


def test_batch_abort_on_error_stops_at_first_failure(tmp_path):
    """This test ensures that --abort-on-error stops at the first bad file."""
    src = tmp_path / "in"
    src.mkdir()
    _empty(src)  # sorts before good.txt
    shutil.copy(SMALL_TXT, src / "good.txt")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["ingest", str(src), "-o", str(out), "--abort-on-error"])
    assert result.exit_code == 1
    assert not list(out.rglob("*.json"))
    assert "1 files: 0 ingested, 0 unchanged, 1 failed" in result.stderr
