"""PDF → Document with pdfplumber: lines, blocks, tables, provenance.

Consumes a PDF file; produces a Document whose blocks carry page numbers and
boxes. Heavy dependencies: pdfplumber (the only module that imports it).

The steps, page by page, then over the whole document:

1. characters: fake-bold duplicates dropped, Kangxi radicals and private-use
   bullets repaired, ``(cid:N)`` glyphs with no Unicode counted and dropped;
2. tables: only on pages with ruling lines, ``find_tables`` gives the cell grid;
   the characters inside a table become its cells and leave the body;
3. lines: characters clustered by vertical overlap and read left to right
   (vertical pages, 縦書き, are read column by column, right to left);
4. running headers, footers and page numbers: lines in the top and bottom bands
   that repeat across pages (digits masked) or look like 「- 12 -」 are removed,
   each removal recorded;
5. blocks: lines joined into paragraphs where the PDF only wrapped them; a new
   block starts at a numbering marker or bullet, a vertical gap, a change of
   font, or after a line that stops short of the right margin.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psexceptions import PSException
from pdfplumber.utils.exceptions import PdfminerException

from pipeline.document import (
    BBox,
    Block,
    BlockKind,
    Cell,
    Document,
    DocumentWarning,
    PageInfo,
    Provenance,
    Removal,
    SourceFile,
    Table,
    WarningKind,
)
from pipeline.errors import CorruptPdfError, EncryptedPdfError, NotAPdfError, NoTextLayerError
from pipeline.ingest.markers import HEADING_MARKER, SENTENCE_END, rejoin_cut_sentences, starts_marker, weak_marker
from pipeline.ingest.normalize import NORMALIZATION, is_cjk, join_lines, repair, to_text

PDF_READER = "pdf_reader.v2"  # v2: a sentence cut where a page ended is one block again

# Characters closer than this (in points, both axes) with the same text are one
# glyph printed twice to fake a bold weight.
FAKE_BOLD_TOLERANCE = 1.5
# A line ending this many character widths short of the text column's right
# edge ends its paragraph.
SHORT_LINE_CHARS = 1.5
# A vertical gap larger than this many times the usual line pitch starts a new block.
PARAGRAPH_GAP_RATIO = 1.45
# Header/footer bands: the top and bottom share of the page height searched.
MARGIN_BAND = 0.12
# A masked line that repeats on this share of the pages (and at least
# MIN_REPEAT_PAGES pages) in the same band is a running header or footer.
REPEAT_SHARE = 0.4
MIN_REPEAT_PAGES = 3
# Ruling objects needed on a page before find_tables is worth its cost.
MIN_RULINGS_FOR_TABLES = 4
# A page is vertical when this share of its successive glyphs step downwards.
VERTICAL_SHARE = 0.5
HEADING_MAX_CHARS = 60
# A page with this many dot-leader lines is a contents page: its short lines are entries.
TOC_PAGE_MIN_LEADERS = 2
# A numbered line this many points smaller than the body text is a footnote.
FOOTNOTE_SIZE_DROP = 1.5
# A font size larger than the body's marks a heading only when less than this
# share of the document's characters is set in it.
HEADING_SIZE_SHARE = 0.15

_PAGE_NUMBER = re.compile(
    r"^[\s\-－―‐ー—–(（〔\[]*(?:[pP]\.?\s*)?[0-9０-９]{1,4}(?:\s*[/／]\s*[0-9０-９]{1,4})?[\s\-－―‐ー—–)）〕\]]*"
    r"(?:[（(][^()（）]{1,12}[)）])?\s*$"
)
_TOC_LINE = re.compile(
    r"^(?P<title>.+?)\s*(?:[.．・…‥·･]{3,}|[.．・…‥·･]\s*[.．・…‥·･]\s*[.．・…‥·･]).*?(?P<page>[0-9０-９]{1,4})\s*$"
)
_TOC_TITLE = re.compile(r"^\s*(目\s*次|も\s*く\s*じ|CONTENTS)\s*$", re.I)
_FOOTNOTE = re.compile(r"^(?:[0-9０-９]{1,2}|※[0-9０-９]{1,2}|\*[0-9]{1,2})[\s　]")
_CID = re.compile(r"^\(cid:\d+\)$")
_DIGITS = re.compile(r"[0-9０-９]+")
_WS = re.compile(r"\s+")


@dataclass
class _Char:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    heavy: bool
    space_before: bool = False  # the PDF printed a space glyph just before this one


@dataclass
class _Line:
    page_no: int
    chars: list[_Char]
    text: str = ""
    x0: float = 0.0
    top: float = 0.0
    x1: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    heavy: bool = False

    def finish(self, vertical: bool = False) -> _Line:
        cs = self.chars
        self.x0 = min(c.x0 for c in cs)
        self.x1 = max(c.x1 for c in cs)
        self.top = min(c.top for c in cs)
        self.bottom = max(c.bottom for c in cs)
        sizes = [c.size for c in cs if not c.text.isspace()]
        self.size = statistics.median(sizes) if sizes else cs[0].size
        self.heavy = sum(c.heavy for c in cs) > len(cs) / 2
        self.text = _chars_to_text(cs, vertical=vertical)
        return self

    @property
    def bbox(self) -> BBox:
        return BBox(x0=self.x0, top=self.top, x1=self.x1, bottom=self.bottom)


@dataclass
class _Page:
    info: PageInfo
    lines: list[_Line] = field(default_factory=list)
    tables: list[tuple[float, Block]] = field(default_factory=list)  # (top, block)
    vertical: bool = False


def _decode_fontname(name: str) -> str:
    # Japanese font names often come through as Shift-JIS bytes read as latin-1:
    # '‚l‚r–¾’©' is ＭＳ明朝.
    base = name.split("+", 1)[-1]
    if base.startswith("b'") or base.startswith('b"'):
        base = base[2:-1]
    try:
        return base.encode("latin-1").decode("cp932")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return base


_HEAVY_WORDS = ("bold", "gothic", "ゴシック", "heavy", "black", "kakugo", "mincho-b", "w6", "w7", "w8", "demi")
_heavy_cache: dict[str, bool] = {}


def _is_heavy(fontname: str) -> bool:
    hit = _heavy_cache.get(fontname)
    if hit is None:
        lower = _decode_fontname(fontname).lower()
        hit = any(w in lower for w in _HEAVY_WORDS) or lower.endswith(("-b", ",bold"))
        _heavy_cache[fontname] = hit
    return hit


def _chars_to_text(chars: Sequence[_Char], *, vertical: bool = False) -> str:
    """Glyphs of one line, in reading order, to text: spaces only where the gap shows one."""
    out: list[str] = []
    prev: _Char | None = None
    for c in chars:
        if prev is not None:
            gap = (c.top - prev.bottom) if vertical else (c.x0 - prev.x1)
            size = max(min(c.size, prev.size), 1.0)
            both_cjk = is_cjk(prev.text[-1]) and is_cjk(c.text[0])
            if (c.space_before and gap > 0) or gap > size * (0.9 if both_cjk else 0.2):
                out.append(" ")
        out.append(c.text)
        prev = c
    return "".join(out).strip()


def _page_chars(raw_chars: Iterable[dict[str, Any]]) -> tuple[list[_Char], int, bool]:
    """pdfplumber chars → repaired glyphs; also the count of unmapped (cid:N) glyphs and verticality."""
    chars: list[_Char] = []
    unmapped = 0
    down = right = 0
    space = False
    prev: dict[str, Any] | None = None
    for rc in raw_chars:
        t = rc["text"]
        if prev is not None:
            dx = rc["x0"] - prev["x0"]
            dy = rc["top"] - prev["top"]
            s = rc["size"] or 1.0
            if abs(dx) < 0.3 * s and 0 < dy < 2 * s:
                down += 1
            elif abs(dy) < 0.3 * s and 0 < dx < 2.5 * s:
                right += 1
        prev = rc
        if len(t) > 1 and _CID.match(t):
            unmapped += 1
            continue
        if not t or t.isspace():
            space = True
            continue
        chars.append(
            _Char(
                repair(t),
                rc["x0"],
                rc["top"],
                rc["x1"],
                rc["bottom"],
                rc["size"] or 10.0,
                _is_heavy(rc["fontname"]),
                space,
            )
        )
        space = False
    vertical = down > VERTICAL_SHARE * (down + right) and down > 20
    return chars, unmapped, vertical


def _dedupe(chars: list[_Char]) -> list[_Char]:
    """Drop the second copy of a glyph printed twice to fake bold (chars sorted in reading order)."""
    out: list[_Char] = []
    for c in chars:
        if out:
            p = out[-1]
            if c.text == p.text and abs(c.x0 - p.x0) < FAKE_BOLD_TOLERANCE and abs(c.top - p.top) < FAKE_BOLD_TOLERANCE:
                p.heavy = True
                continue
        out.append(c)
    return out


def _horizontal_lines(chars: list[_Char], page_no: int) -> list[_Line]:
    """Cluster glyphs into lines by vertical overlap of their centres."""
    lines: list[_Line] = []
    if not chars:
        return lines
    chars = sorted(chars, key=lambda c: (c.top, c.x0))
    cur: list[_Char] = [chars[0]]
    cur_top, cur_bottom = chars[0].top, chars[0].bottom
    for c in chars[1:]:
        mid = (c.top + c.bottom) / 2
        if cur_top - 0.5 <= mid <= cur_bottom + 0.5:
            cur.append(c)
            cur_bottom = max(cur_bottom, c.bottom)
            continue
        lines.append(_Line(page_no, _dedupe(sorted(cur, key=lambda ch: ch.x0))).finish())
        cur = [c]
        cur_top, cur_bottom = c.top, c.bottom
    lines.append(_Line(page_no, _dedupe(sorted(cur, key=lambda ch: ch.x0))).finish())
    return lines


def _vertical_lines(chars: list[_Char], page_no: int) -> list[_Line]:
    """Read a 縦書き page: tiers (段) top to bottom, columns right to left, glyphs top to bottom."""
    if not chars:
        return []
    size = statistics.median(c.size for c in chars)
    # Tiers are separated by horizontal bands that no glyph covers.
    spans = sorted((c.top, c.bottom) for c in chars)
    tiers: list[tuple[float, float]] = []
    lo, hi = spans[0]
    for t, b in spans[1:]:
        if t > hi + 1.5 * size:
            tiers.append((lo, hi))
            lo, hi = t, b
        else:
            hi = max(hi, b)
    tiers.append((lo, hi))
    lines: list[_Line] = []
    for lo, hi in tiers:
        tier = [c for c in chars if lo <= c.top <= hi]
        tier.sort(key=lambda c: -c.x1)
        cols: list[list[_Char]] = []
        for c in tier:
            if cols and abs(cols[-1][0].x1 - c.x1) < 0.5 * size:
                cols[-1].append(c)
            else:
                cols.append([c])
        for col in cols:
            col.sort(key=lambda c: c.top)
            lines.append(_Line(page_no, _dedupe(col)).finish(vertical=True))
    return lines


def _cell_grid(xs: list[float], ys: list[float], box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """Row, col and spans of a cell box on the table's grid of distinct x and y edges."""
    x0, top, x1, bottom = box

    def idx(vals: list[float], v: float) -> int:
        return min(range(len(vals)), key=lambda i: abs(vals[i] - v))

    c0, c1 = idx(xs, x0), idx(xs, x1)
    r0, r1 = idx(ys, top), idx(ys, bottom)
    return r0, c0, max(1, r1 - r0), max(1, c1 - c0)


def _extract_tables(page: Any, chars: list[_Char], page_no: int) -> tuple[list[tuple[float, Block]], list[_Char]]:
    """Ruled tables → table blocks; returns them and the glyphs left for the body."""
    found = page.find_tables(table_settings=_table_settings(page))
    if not found:
        return [], chars
    blocks: list[tuple[float, Block]] = []
    claimed: set[int] = set()
    for t in found:
        cells_boxes = [c for c in t.cells]
        if len(cells_boxes) < 2:
            continue
        xs = sorted({round(v, 1) for c in cells_boxes for v in (c[0], c[2])})
        ys = sorted({round(v, 1) for c in cells_boxes for v in (c[1], c[3])})
        xs = _merge_close(xs)
        ys = _merge_close(ys)
        tx0, ttop, tx1, tbottom = t.bbox
        in_table = [
            i
            for i, ch in enumerate(chars)
            if tx0 - 1 <= (ch.x0 + ch.x1) / 2 <= tx1 + 1 and ttop - 1 <= (ch.top + ch.bottom) / 2 <= tbottom + 1
        ]
        cells: list[Cell] = []
        for box in sorted(cells_boxes, key=lambda b: (round(b[1], 1), b[0])):
            inside = [
                i
                for i in in_table
                if i not in claimed
                and box[0] - 1 <= (chars[i].x0 + chars[i].x1) / 2 <= box[2] + 1
                and box[1] - 1 <= (chars[i].top + chars[i].bottom) / 2 <= box[3] + 1
            ]
            claimed.update(inside)
            cell_lines = _horizontal_lines([chars[i] for i in inside], page_no)
            orig = ""
            for ln in cell_lines:
                orig = join_lines(orig, ln.text) if orig else ln.text
            r, c, rs, cs = _cell_grid(xs, ys, box)
            cells.append(
                Cell(
                    row=r,
                    col=c,
                    row_span=rs,
                    col_span=cs,
                    orig=orig,
                    text=to_text(orig),
                    prov=[Provenance(page_no=page_no, bbox=BBox(x0=box[0], top=box[1], x1=box[2], bottom=box[3]))],
                )
            )
        if not any(c.orig for c in cells):
            continue
        n_rows = max(c.row + c.row_span for c in cells)
        n_cols = max(c.col + c.col_span for c in cells)
        cells.sort(key=lambda c: (c.row, c.col))
        orig = "\n".join(
            "\t".join(c.orig for c in cells if c.row == r) for r in range(n_rows) if any(c.row == r for c in cells)
        )
        x0, top, x1, bottom = t.bbox
        block = Block(
            kind=BlockKind.TABLE,
            orig=orig,
            text=to_text(orig),
            prov=[Provenance(page_no=page_no, bbox=BBox(x0=x0, top=top, x1=x1, bottom=bottom))],
            table=Table(n_rows=n_rows, n_cols=n_cols, cells=cells),
        )
        blocks.append((top, block))
    rest = [ch for i, ch in enumerate(chars) if i not in claimed]
    return blocks, rest


def _table_settings(page: Any) -> dict[str, Any]:
    """Close tables that a page break left open.

    A table row split across pages has its vertical rulings but no top (or
    bottom) border on the page, so no cell is closed and find_tables sees
    nothing. Where vertical rulings end with no horizontal ruling there, add one
    spanning those rulings.
    """
    verticals = [e for e in page.edges if e["orientation"] == "v" and e["bottom"] - e["top"] > 5]
    if len(verticals) < 2:
        return {}
    # horizontal rulings bucketed by rounded y, so each vertical end looks at a few
    by_y: dict[int, list[tuple[float, float]]] = {}
    for h in page.edges:
        if h["orientation"] == "h":
            by_y.setdefault(round(h["top"]), []).append((h["x0"], h["x1"]))
    ends: dict[float, list[float]] = {}
    for v in verticals:
        x = v["x0"]
        for y in (v["top"], v["bottom"]):
            yi = round(y)
            closed = any(
                x0 - 2 <= x <= x1 + 2 for b in (yi - 2, yi - 1, yi, yi + 1, yi + 2) for x0, x1 in by_y.get(b, ())
            )
            if not closed:
                ends.setdefault(yi, []).append(x)
    extra = [
        {
            "object_type": "line",
            "orientation": "h",
            "x0": min(xs),
            "x1": max(xs),
            "top": y,
            "bottom": y,
            "width": max(xs) - min(xs),
            "height": 0,
        }
        for y, xs in ends.items()
        if len(xs) >= 2
    ]
    return {"explicit_horizontal_lines": extra} if extra else {}


def _merge_close(vals: list[float], tol: float = 2.0) -> list[float]:
    out: list[float] = []
    for v in vals:
        if out and v - out[-1] < tol:
            continue
        out.append(v)
    return out


def _mask(text: str) -> str:
    return _DIGITS.sub("#", _WS.sub("", text))


def _remove_running_lines(pages: list[_Page]) -> list[Removal]:
    """Take running headers, footers and page numbers out of the pages' lines."""
    removals: list[Removal] = []
    n_text_pages = sum(1 for p in pages if p.lines)
    if n_text_pages == 0:
        return removals
    need = max(MIN_REPEAT_PAGES, int(REPEAT_SHARE * n_text_pages + 0.999))

    def band_lines(p: _Page) -> list[tuple[str, _Line]]:
        h = p.info.height
        out = []
        for ln in p.lines[:3]:
            if ln.bottom <= h * MARGIN_BAND:
                out.append(("header", ln))
        for ln in p.lines[-3:]:
            if ln.top >= h * (1 - MARGIN_BAND):
                out.append(("footer", ln))
        return out

    counts: Counter[tuple[str, str]] = Counter()
    for p in pages:
        seen = {(band, _mask(ln.text)) for band, ln in band_lines(p) if not p.vertical}
        counts.update(seen)
    for p in pages:
        if p.vertical:
            continue
        drop: set[int] = set()
        for band, ln in band_lines(p):
            key = _mask(ln.text)
            kind: str | None = None
            if _PAGE_NUMBER.match(ln.text) and len(_WS.sub("", ln.text)) <= 16:
                kind = "page_number"
            elif counts[(band, key)] >= need and n_text_pages >= MIN_REPEAT_PAGES:
                kind = band
            if kind:
                drop.add(id(ln))
                removals.append(Removal(page_no=p.info.page_no, kind=kind, text=ln.text, bbox=ln.bbox))
        if drop:
            p.lines = [ln for ln in p.lines if id(ln) not in drop]
    return removals


@dataclass
class _Open:
    kind: BlockKind
    lines: list[_Line]
    orig: str

    def add(self, ln: _Line) -> None:
        self.lines.append(ln)
        self.orig = join_lines(self.orig, ln.text)


def _body_metrics(pages: list[_Page]) -> tuple[float, float, dict[int, float], set[float]]:
    """The body font size, the usual line pitch, each page's right text edge, and the rare large sizes."""
    sizes: Counter[float] = Counter()
    pitches: list[float] = []
    right: dict[int, float] = {}
    for p in pages:
        if p.vertical or not p.lines:
            continue
        for ln in p.lines:
            sizes[round(ln.size, 1)] += len(ln.text)
        for a, b in itertools.pairwise(p.lines):
            d = b.top - a.top
            if 0 < d < 3 * a.size:
                pitches.append(d)
        x1s = sorted(ln.x1 for ln in p.lines)
        right[p.info.page_no] = x1s[int(0.9 * (len(x1s) - 1))]
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    pitch = statistics.median(pitches) if pitches else body * 1.5
    total = sum(sizes.values()) or 1
    # a size larger than the body's marks headings only if little text is set in it
    heading_sizes = {sz for sz, n in sizes.items() if sz >= body + 1.0 and n / total < HEADING_SIZE_SHARE}
    return body, pitch, right, heading_sizes


def _breaks_before(prev: _Line, ln: _Line, right: float, pitch: float) -> bool:
    """Does ``ln`` start a new block, or continue the block that ``prev`` ended?"""
    full = prev.x1 >= right - SHORT_LINE_CHARS * prev.size  # prev ran to the right margin
    # a weak marker after a full line that ends mid-sentence is a wrapped line: 「…平成」「13 年」
    wrapped = full and weak_marker(ln.text) and not prev.text.endswith(SENTENCE_END)
    if starts_marker(ln.text) and not wrapped:
        return True
    if not full:
        return True  # prev stopped short: it ended its paragraph
    if abs(ln.size - prev.size) > 0.8 or ln.heavy != prev.heavy:
        return True  # a change of type
    if prev.page_no == ln.page_no:
        if ln.top - prev.top > PARAGRAPH_GAP_RATIO * pitch:
            return True  # a vertical gap
        if ln.top < prev.top - 0.5 * prev.size:
            return True  # the line starts above the previous one: another column
    return False


def _blocks(pages: list[_Page]) -> list[Block]:
    """Lines of all pages (tables in place) → blocks in reading order."""
    body_size, pitch, right_edge, heading_sizes = _body_metrics(pages)
    # the column's right edge across the document: pages with few lines fall back to it
    doc_right = statistics.median(right_edge.values()) if right_edge else 0.0
    out: list[Block] = []
    cur: _Open | None = None
    prev: _Line | None = None

    def close() -> None:
        nonlocal cur
        if cur is None:
            return
        prov: list[Provenance] = []
        for ln in cur.lines:
            if prov and prov[-1].page_no == ln.page_no and prov[-1].bbox is not None:
                prov[-1] = Provenance(page_no=ln.page_no, bbox=prov[-1].bbox.union(ln.bbox))
            else:
                prov.append(Provenance(page_no=ln.page_no, bbox=ln.bbox))
        sizes = [ln.size for ln in cur.lines]
        size = max(sizes)
        heavy = all(ln.heavy for ln in cur.lines)
        kind = cur.kind
        orig = cur.orig.strip()
        if _FOOTNOTE.match(orig) and size <= body_size - FOOTNOTE_SIZE_DROP:
            kind = BlockKind.FOOTNOTE  # 「4 政府情報システムのための…」 in small type
        elif kind is BlockKind.PARAGRAPH or kind is BlockKind.LIST_ITEM:
            short = len(orig) <= HEADING_MAX_CHARS and not orig.endswith(("。", "．"))
            big = round(size, 1) in heading_sizes
            if short and (big or (heavy and len(cur.lines) == 1) or HEADING_MARKER.match(orig)):
                kind = BlockKind.HEADING
        out.append(Block(kind=kind, orig=orig, text=to_text(orig), prov=prov, bold=heavy, font_size=round(size, 1)))
        cur = None

    for p in pages:
        items: list[tuple[float, _Line | Block]] = [(ln.top, ln) for ln in p.lines]
        items.extend(p.tables)
        items.sort(key=lambda it: it[0])
        in_toc = False
        toc_page = sum(1 for ln in p.lines if _TOC_LINE.match(ln.text)) >= TOC_PAGE_MIN_LEADERS
        for _, item in items:
            if isinstance(item, Block):
                close()
                out.append(item)
                prev = None
                continue
            ln = item
            text = ln.text
            if _TOC_TITLE.match(text):
                in_toc = True
            toc = _TOC_LINE.match(text) and not p.vertical
            # on a contents page, entries without leaders too: 「第 １条（目的）」「[例３] …」
            entry = toc_page and len(text) <= HEADING_MAX_CHARS and "。" not in text
            if toc or entry or (in_toc and re.search(r"\s[0-9０-９]{1,3}\s*$", text)):
                close()
                out.append(
                    Block(
                        kind=BlockKind.TOC,
                        orig=text,
                        text=to_text(text),
                        prov=[Provenance(page_no=ln.page_no, bbox=ln.bbox)],
                        font_size=round(ln.size, 1),
                    )
                )
                prev = ln
                continue
            new = (
                cur is None
                or prev is None
                or p.vertical
                or cur.kind is BlockKind.HEADING
                or _breaks_before(prev, ln, right_edge.get(prev.page_no, doc_right), pitch)
            )
            if new:
                close()
                kind = BlockKind.LIST_ITEM if starts_marker(text) else BlockKind.PARAGRAPH
                cur = _Open(kind, [ln], text)
            else:
                assert cur is not None
                cur.add(ln)
            prev = ln
    close()
    return out


def _pages(b: Block) -> tuple[int, int]:
    """The first and the last page a block is on."""
    return (b.prov[0].page_no or 0, b.prov[-1].page_no or 0) if b.prov else (0, 0)


def _rejoin_cut_sentences(blocks: list[Block], vertical: frozenset[int] = frozenset()) -> list[Block]:
    """Blocks whose sentence runs on at the top of the next page after a short last line, or past a
    footnote, joined again (``rejoin_cut_sentences``); a kanji word is taken as cut only across a page,
    and pages set in vertical lines are left as they are.
    """

    def cut_words(prev: Block, b: Block) -> bool | None:
        if vertical.intersection(_pages(prev) + _pages(b)):
            return None
        return _pages(b)[0] > _pages(prev)[1]

    def join(prev: Block, b: Block) -> Block:
        orig = join_lines(prev.orig, b.orig)
        joined = {"orig": orig, "text": to_text(orig), "prov": [*prev.prov, *b.prov], "bold": prev.bold and b.bold}
        return prev.model_copy(update=joined)

    return rejoin_cut_sentences(blocks, kind=lambda b: b.kind, orig=lambda b: b.orig, cut_words=cut_words, join=join)


def _open_error(path: Path, e: Exception) -> Exception:
    # pdfplumber wraps pdfminer's error as PdfminerException(original)
    inner = e.args[0] if isinstance(e, PdfminerException) and e.args and isinstance(e.args[0], Exception) else e
    name = type(inner).__name__
    if isinstance(inner, (PDFPasswordIncorrect, PDFEncryptionError)) or "password" in str(inner).lower():
        return EncryptedPdfError(
            f"{path}: the PDF is encrypted and needs a password; save an unprotected copy "
            f"(e.g. `qpdf --decrypt --password=PASSWORD in.pdf out.pdf`) and ingest that",
            path=str(path),
        )
    return CorruptPdfError(
        f"{path}: the PDF cannot be parsed ({name}{': ' + str(inner) if str(inner) else ''}); "
        f"the file is probably truncated or damaged, "
        f"download it again or repair it (e.g. `qpdf in.pdf out.pdf`)",
        path=str(path),
    )


def read_pdf(path: str | Path, *, strict: bool = False, password: str = "") -> Document:
    """Read a PDF into a Document with page and box provenance.

    Args:
        path: the PDF file.
        strict: raise on a page that cannot be read, instead of recording a warning.
        password: the user password of an encrypted PDF, if you have it.

    Returns:
        A Document. Pages with no text layer or set vertically are reported in
        ``document.warnings``; removed headers, footers and page numbers in
        ``document.removed``.

    Raises:
        NotAPdfError: the file does not start like a PDF.
        EncryptedPdfError: it needs a password.
        CorruptPdfError: it cannot be parsed, or has no pages.
        NoTextLayerError: no page has any text (a scan; koubo does no OCR).

    Example:
        >>> doc = read_pdf("tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf")
        >>> doc.pages[0].page_no, doc.blocks[0].prov[0].page_no
        (1, 1)
    """
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise NotAPdfError(
            f"{path}: not a PDF (it starts with {head[:16]!r}); check the file, or give it the right suffix",
            path=str(path),
        )
    warnings: list[DocumentWarning] = []
    pages: list[_Page] = []
    try:
        pdf = pdfplumber.open(path, password=password)
    except (
        PDFSyntaxError,
        PSException,
        PDFPasswordIncorrect,
        PDFEncryptionError,
        ValueError,
        KeyError,
        TypeError,
    ) as e:
        raise _open_error(path, e) from e
    except Exception as e:  # pdfminer raises bare Exceptions for some damage
        raise _open_error(path, e) from e
    with pdf:
        try:
            page_list = pdf.pages
        except Exception as e:
            raise _open_error(path, e) from e
        if not page_list:
            raise CorruptPdfError(
                f"{path}: the PDF cannot be parsed: it has no readable pages (truncated or damaged?); "
                f"download it again or repair it (e.g. `qpdf in.pdf out.pdf`)",
                path=str(path),
            )
        for page in page_list:
            page_no = page.page_number
            try:
                pages.append(_read_page(page, page_no, warnings))
            except Exception as e:
                if strict:
                    raise CorruptPdfError(
                        f"{path}: page {page_no} cannot be read ({type(e).__name__}: {e}); "
                        f"rerun without --strict to skip it",
                        path=str(path),
                        page_no=page_no,
                    ) from e
                warnings.append(
                    DocumentWarning(
                        kind=WarningKind.UNREADABLE_PAGE,
                        page_no=page_no,
                        message=f"page {page_no} cannot be read ({type(e).__name__}); skipped",
                    )
                )
                pages.append(_Page(PageInfo(page_no=page_no, width=0, height=0, n_chars=0)))
    if all(p.info.n_chars == 0 for p in pages):
        if any(w.kind is WarningKind.UNREADABLE_PAGE for w in warnings):
            raise CorruptPdfError(
                f"{path}: no page could be read; the file is damaged, download it again", path=str(path), page_no=1
            )
        raise NoTextLayerError(
            f"{path}: page 1 and every other of its {len(pages)} pages have no text layer (a scanned image?); "
            f"koubo does no OCR: run OCR first (e.g. `ocrmypdf -l jpn {path.name} ocr.pdf`) and ingest the result",
            path=str(path),
            page_no=1,
        )
    removed = _remove_running_lines(pages)
    blocks = _rejoin_cut_sentences(_blocks(pages), vertical=frozenset(p.info.page_no for p in pages if p.vertical))
    source = SourceFile(path=str(path), sha256="0" * 64, media_type="application/pdf", n_bytes=path.stat().st_size)
    return Document(
        source=source,
        pages=[p.info for p in pages],
        blocks=blocks,
        removed=removed,
        warnings=warnings,
        produced_by={"ingest": PDF_READER, "normalize": NORMALIZATION, "pdfplumber": pdfplumber.__version__},
    )


def _read_page(page: Any, page_no: int, warnings: list[DocumentWarning]) -> _Page:
    raw = page.chars
    chars, unmapped, vertical = _page_chars(raw)
    info = PageInfo(
        page_no=page_no,
        width=float(page.width),
        height=float(page.height),
        n_chars=len(chars),
        rotation=int(page.rotation or 0),
    )
    if unmapped:
        warnings.append(
            DocumentWarning(
                kind=WarningKind.UNMAPPED_GLYPHS,
                page_no=page_no,
                message=f"page {page_no}: {unmapped} glyphs have no Unicode mapping and were dropped",
            )
        )
    if not chars:
        has_image = bool(page.images)
        warnings.append(
            DocumentWarning(
                kind=WarningKind.NO_TEXT_LAYER,
                page_no=page_no,
                message=f"page {page_no} has no text layer{' (an image: scanned?)' if has_image else ''}; "
                f"its content is missing; OCR the file to include it",
            )
        )
        return _Page(info)
    result = _Page(info, vertical=vertical)
    if vertical:
        warnings.append(
            DocumentWarning(
                kind=WarningKind.VERTICAL_TEXT,
                page_no=page_no,
                message=f"page {page_no} is set in vertical lines (縦書き); read column by column, right to left; "
                f"check its text and structure",
            )
        )
        result.lines = _vertical_lines(chars, page_no)
        return result
    n_rulings = len(page.rects) + len(page.lines) + len(page.curves)
    if n_rulings >= MIN_RULINGS_FOR_TABLES:
        result.tables, chars = _extract_tables(page, chars, page_no)
    result.lines = _horizontal_lines(chars, page_no)
    return result
