"""PDF ingestion on real government PDFs and on the corpus renditions."""

from __future__ import annotations

import re

import pdfplumber
import pytest

from conftest import CORPORA, REALPDFS, corpus_stems
from pipeline.document import BlockKind, WarningKind
from pipeline.errors import NoTextLayerError
from pipeline.ingest.pdf import _dedupe, _page_chars, read_pdf

# Hand-labelled running elements of each real PDF (looked at page by page):
# a footer with a revision tag, or a bare page number, in the bottom band.
# fmt: off
RUNNING = {
    "mhlw_careerup_shikyu_yoryo_R7-04.pdf": (75, r"-\s*\d+\s*-\s*（\s*Ｒ\s*７\s*\.\s*４\s*\.\s*[1１]\s*）"),
    "mhlw_careerup_shikyu_yoryo_R7-07.pdf": (82, r"-\s*\d+\s*-\s*（\s*Ｒ\s*７\s*\.\s*７\s*\.\s*[1１]\s*）"),
    "mhlw_koyohoken_gyomu_50301_H28-01.pdf": (32, r"-\s*\d+\s*-\s*（28\.1）"),
    "mhlw_koyohoken_gyomu_50301_R7-10.pdf": (38, r"-\s*\d+\s*-\s*（R7\.10）"),
    "mhlw_model_shugyo_kisoku_R5-07.pdf": (93, r"-\s*[0-9０-９]+\s*-|[0-9０-９]{1,2}"),
    "tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf": (40, r"[0-9]{1,2}(\s*/\s*[0-9]{1,2})?"),
}
# fmt: on
PAGE_NUMBER_LIKE = re.compile(r"^[-－―]?\s*[0-9０-９]{1,3}\s*[-－―]?(\s*[（(][^）)]{1,12}[）)])?$")


def _in_margin_band(doc, block) -> bool:
    heights = {p.page_no: p.height for p in doc.pages}
    for prov in block.prov:
        h = heights[prov.page_no]
        if prov.bbox.top > 0.88 * h or prov.bbox.bottom < 0.12 * h:
            return True
    return False


@pytest.mark.parametrize("name", sorted(RUNNING))
def test_running_footers_and_page_numbers_removed(ingested, name):
    """This test ensures that no page number or running footer of a real PDF is left in the body,
    that each removal is recorded, and that only such lines were removed."""
    n_expected, pattern = RUNNING[name]
    doc = ingested(REALPDFS / name)
    footer = re.compile(pattern)
    left_anywhere = [b.text for b in doc.blocks if "（" in pattern and footer.search(b.orig)]
    left_in_band = [b.orig for b in doc.blocks if PAGE_NUMBER_LIKE.match(b.orig) and _in_margin_band(doc, b)]
    assert left_anywhere == []
    assert left_in_band == []
    assert len(doc.removed) == n_expected
    assert all(footer.fullmatch(r.text.strip()) for r in doc.removed), [r.text for r in doc.removed]


@pytest.mark.parametrize("stem", corpus_stems())
def test_corpus_pdf_header_and_footer_removed(ingested, stem):
    """This test ensures that the running header and 「- n -」 footer of every body page of a
    corpus PDF are removed and recorded, and appear nowhere in the body."""
    path = CORPORA / f"{stem}.pdf"
    with pdfplumber.open(path) as pdf:
        n_pages = len(pdf.pages)
        header = pdf.pages[2].extract_text_lines()[0]["text"]  # the title page has none
    doc = ingested(path)
    kinds = [r.kind for r in doc.removed]
    assert kinds.count("header") == n_pages - 1
    assert kinds.count("page_number") == n_pages - 1
    body = [b for b in doc.blocks if b.prov[0].page_no != 1]  # the title page prints the title itself
    assert not any(b.orig == header for b in body)
    assert not any(re.fullmatch(r"-\s*\d+\s*-", b.orig) for b in doc.blocks)


def test_scanned_pdf_is_a_clear_error():
    """This test ensures that an image-only PDF raises NoTextLayerError naming the file, the page
    and the way out (OCR), instead of returning empty text."""
    path = REALPDFS / "mhlw_scanned_image_only_000160131.pdf"
    with pytest.raises(NoTextLayerError) as e:
        read_pdf(path)
    msg = str(e.value)
    assert str(path) in msg and "page 1" in msg and "OCR" in msg and "ocrmypdf" in msg
    assert e.value.page_no == 1 and e.value.path == str(path)


def test_vertical_page_is_reported_and_read_in_columns(ingested):
    """This test ensures that the 官報 page set in vertical lines is reported as a typed warning and
    its columns are read top to bottom, right to left (not across the columns)."""
    doc = ingested(REALPDFS / "kampo_vertical_4817.pdf")
    kinds = {(w.kind, w.page_no) for w in doc.warnings}
    assert (WarningKind.VERTICAL_TEXT, 1) in kinds
    body = "".join(b.text for b in doc.blocks)
    assert "横断を終わるか、又は横断をやめて引き返さな" in body
    assert doc.pages[0].n_chars > 2000


def test_horizontal_pdfs_have_no_vertical_warning(ingested):
    """This test ensures that ordinary horizontal pages are not mistaken for vertical ones."""
    for name in ("mhlw_tsuchi_H26-11.pdf", "chusho_data_rikatsuyo_policy_20250214.pdf"):
        doc = ingested(REALPDFS / name)
        assert not [w for w in doc.warnings if w.kind is WarningKind.VERTICAL_TEXT]


def test_ruled_table_cells_with_spans_and_no_duplicate_body(ingested):
    """This test ensures that a ruled table becomes cells (with column spans) and that its text
    is not repeated in the body."""
    doc = ingested(REALPDFS / "chusho_data_rikatsuyo_policy_20250214.pdf")
    tables = [b for b in doc.blocks if b.kind is BlockKind.TABLE]
    assert len(tables) == 2
    big = tables[0].table
    assert big is not None
    head = big.rows()[0]
    assert [(c.orig, c.col_span) for c in head if c.orig] == [("データの区分", 13), ("提供先", 8)]
    defs = tables[1].table
    assert defs is not None
    assert [c.orig for c in defs.rows()[0]] == ["No.", "データ区分", "定義", "具体例"]
    assert [c.orig for c in defs.rows()[1]][:2] == ["1", "申請者の識別・属性情報"]
    body = [b.orig for b in doc.blocks if b.kind is not BlockKind.TABLE]
    assert not any(t == "データ区分" or t.startswith("申請者の識別・属性情報") for t in body)


def test_table_of_contents_lines(ingested):
    """This test ensures that dot-leader contents lines are TOC blocks, not body, in モデル就業規則."""
    doc = ingested(REALPDFS / "mhlw_model_shugyo_kisoku_R5-07.pdf")
    toc = [b.orig for b in doc.blocks if b.kind is BlockKind.TOC]
    assert any(t.startswith("第１章 総則") and t.endswith("１０") for t in toc)
    assert any(t.startswith("第２章 採用、異動等") for t in toc)
    assert "第１章 総則" not in doc.body_text().split("\n")[:1]
    assert all("………" not in b.orig for b in doc.iter_text_blocks())


def test_wrapped_line_starting_with_a_number_is_joined(ingested):
    """This test ensures that a line wrapped before 「13 年６月」 is not mistaken for a numbered item."""
    doc = ingested(REALPDFS / "mhlw_tsuchi_H26-11.pdf")
    hit = [b for b in doc.blocks if "については、平成" in b.orig and "13 年６月 21 日付け" in b.orig]
    assert len(hit) == 1
    assert hit[0].kind is BlockKind.LIST_ITEM and hit[0].orig.startswith("ア 医薬品")


def _raw(text: str, x0: float, top: float, size: float = 10.0, font: str = "MS-Mincho") -> dict[str, object]:
    return {"text": text, "x0": x0, "top": top, "x1": x0 + size, "bottom": top + size, "size": size, "fontname": font}


def test_char_repairs_radicals_bullets_unmapped_and_fake_bold():
    """This test ensures that Kangxi radicals and private-use bullets are repaired, (cid:N) glyphs
    dropped and counted, and a glyph printed twice (fake bold) kept once."""
    raw = [
        _raw("\uf0b7", 10, 10),
        _raw("⽉", 20, 10),
        _raw("(cid:12)", 30, 10),
        _raw("末", 40, 10),
        _raw("末", 40.4, 10.2),
    ]
    chars, unmapped, vertical = _page_chars(raw)
    assert unmapped == 1 and not vertical
    kept = _dedupe(sorted(chars, key=lambda c: c.x0))
    assert "".join(c.text for c in kept) == "•月末"
    assert kept[-1].heavy


def test_fake_bold_pdf(tmp_path):
    """This test ensures that text drawn twice with a small offset (fake bold) in a real PDF comes
    out once, and that the heading is recognised as heavy."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    path = tmp_path / "fakebold.pdf"
    c = Canvas(str(path), pagesize=A4)
    c.setFont("HeiseiMin-W3", 14)
    for dx in (0, 0.3):
        c.drawString(72 + dx, 760, "第１章　総則")
    c.setFont("HeiseiMin-W3", 10.5)
    c.drawString(72, 730, "この規則は、労働者の就業に関する事項を定めるものである。")
    c.save()
    doc = read_pdf(path)
    assert [b.orig for b in doc.blocks] == ["第１章 総則", "この規則は、労働者の就業に関する事項を定めるものである。"]
    assert doc.blocks[0].bold and doc.blocks[0].kind is BlockKind.HEADING


def test_sentence_run_on_past_a_short_line_or_page_is_one_block(ingested):
    """This test ensures that a block that cannot open a sentence (a particle, non-opening hiragana) joins the block
    whose sentence it finishes, and that an イロハ item read as hiragana 「へ」 stays an item of its own."""
    kisoku = ingested(REALPDFS / "mhlw_model_shugyo_kisoku_R5-07.pdf")
    joined = [b for b in kisoku.blocks if "選出された者であること" in b.text]
    assert joined and "のいずれにも該当する者でなければなりません" in joined[0].text
    assert not any(b.text.startswith("のいずれにも該当する者") for b in kisoku.blocks)
    leave = [b for b in kisoku.blocks if "年次有給休暇を取得した期間" in b.text and "出勤したもの" in b.text]
    assert leave, "「④ 年次有給休暇を取得した期間」 + 「については出勤したものとして…」 should be one block"
    careerup = ingested(REALPDFS / "mhlw_careerup_shikyu_yoryo_R7-07.pdf")
    assert any(b.orig.startswith("へ 任意特定適用事業所である場合") for b in careerup.blocks)
