"""Text/markdown → Document: the seed format of converted call documents.

Consumes a UTF-8 text or markdown file; produces Blocks with line-range
provenance. Heavy dependencies: none.

What the converted text looks like, and what is done about it:

- markdown heading marks (``## Ⅱ 公募内容等``) whose levels are often wrong:
  kept only as ``hint_level``; the numbering decides the tree later.
- ``**bold**`` and trailing-two-space hard breaks: marks dropped, bold kept as a flag.
- ``- ・ item`` list lines: the markdown ``- `` dropped, the printed bullet kept.
- HTML fragments in paragraphs and table cells (``<p>``, ``<ul><li>``, ``&lt;``,
  ``<sup>``): block tags split the text, inline tags are unwrapped, entities decoded.
  ``<コンサルティング>`` is Japanese text in angle brackets, not a tag, and stays.
- tab-separated rows (a row may be parted from the next by one blank line) and
  pipe tables → a table block with cells.
- sentences and words broken across a blank line where a page ended (「ニ」 /
  「ーズ」, 「…以内に行わ」 / 「れるように…」), sometimes with a footnote between:
  rejoined when the second part cannot open a sentence (see ``continues_sentence``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from pipeline.document import Block, BlockKind, Cell, Provenance, Table
from pipeline.ingest.markers import rejoin_cut_sentences, starts_marker
from pipeline.ingest.normalize import join_lines, repair, to_text

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_MD_LIST = re.compile(r"^\s*[-*+]\s+(.*)$")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_MD_ESCAPE = re.compile(r"\\+([_*\[\]()#`~|\\])")
_AUTOLINK = re.compile(r"<(https?://[^<>\s]+)>")
# Only ASCII tag names: 「<コンサルティング>」 is text, not markup.
_BLOCK_TAG = re.compile(r"</?(?:p|ul|ol|li|br|div|tr|td|th|table|tbody|thead)\b[^<>]*(?:>|$|(?=\)))", re.I)
_INLINE_TAG = re.compile(r"</?(?:sup|sub|span|b|strong|i|em|u|a|font|small)\b[^<>]*>", re.I)
_LIST_OPEN = re.compile(r"<(?:ul|ol|li)\b", re.I)
_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_RULE_CELL = re.compile(r"^\s*:?-*:?\s*$")  # a cell of a markdown rule row: ----
_FOOTNOTE = re.compile(r"^\s*<sup>\s*[0-9０-９]+\s*</sup>")
_RULE_LINE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")  # a markdown horizontal rule: ---
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)



@dataclass
class _Line:
    no: int  # 1-based
    raw: str


@dataclass
class _Piece:
    kind: BlockKind
    orig: str
    first: int
    last: int
    hint_level: int | None = None
    bold: bool = False
    table_rows: list[list[str]] = field(default_factory=list)


def _inline(s: str) -> tuple[str, bool]:
    """Markdown/HTML inline marks removed; returns the text and whether it was bold."""
    bold = bool(_BOLD.search(s))
    s = _BOLD.sub(r"\1", s)
    s = _AUTOLINK.sub(r"\1", s)
    s = _MD_ESCAPE.sub(r"\1", s)

    def _link(m: re.Match[str]) -> str:
        label, url = m.group(1), m.group(2)
        return label if label and not label.startswith("http") else (label or url)

    s = _MD_LINK.sub(_link, s)
    s = _INLINE_TAG.sub("", s)
    return s, bold


def html_pieces(s: str) -> list[tuple[str, bool]]:
    """Split a line holding HTML fragments into (text, is_list_item) pieces.

    Example:
        >>> html_pieces('<p>&lt;SE&gt;</p> <ul><li>- インフラ</li></ul>')
        [('<SE>', False), ('インフラ', True)]
    """
    out: list[tuple[str, bool]] = []
    pos = 0
    in_list = False
    for m in [*_BLOCK_TAG.finditer(s), None]:
        end = m.start() if m else len(s)
        chunk = html.unescape(s[pos:end]).strip()
        if chunk:
            if in_list and chunk.startswith(("- ", "・", "-")):
                items = re.split(r"\s+-\s+", " " + chunk.lstrip("-").strip()) if chunk.startswith("-") else [chunk]
                out.extend((it.strip(), True) for it in items if it.strip())
            else:
                out.append((chunk, in_list))
        if m is None:
            break
        tag = m.group(0)
        if _LIST_OPEN.match(tag):
            in_list = True
        elif tag.lower().startswith(("</ul", "</ol")):
            in_list = False
        pos = m.end()
    return out


def _has_html(s: str) -> bool:
    return bool(_BLOCK_TAG.search(s))


def _cell_text(raw: str) -> str:
    s, _ = _inline(raw)
    if _has_html(s):
        return "\n".join(t for t, _ in html_pieces(s))
    return html.unescape(s).strip()


def _is_table_line(raw: str) -> bool:
    return "\t" in raw or (raw.lstrip().startswith("|") and raw.rstrip().endswith("|") and raw.count("|") >= 3)


def _split_row(raw: str) -> list[str]:
    if "\t" in raw:
        return raw.rstrip("\n").split("\t")
    inner = raw.strip()[1:-1]
    return [c.strip() for c in inner.split("|")]


def _scan(lines: list[_Line]) -> list[_Piece]:
    """Lines → pieces (one per block) before words broken across blank lines are rejoined."""
    pieces: list[_Piece] = []
    i = 0
    n = len(lines)
    para: list[_Line] = []

    def flush_para() -> None:
        if not para:
            return
        # In the converted text a paragraph is one line: a line break inside a
        # group of lines was printed (title lines, addresses), so it is kept;
        # a line that opens with a numbering marker starts a block of its own.
        groups: list[list[_Line]] = []
        for ln in para:
            if not groups or starts_marker(_inline(ln.raw)[0]):
                groups.append([ln])
            else:
                groups[-1].append(ln)
        for g in groups:
            text, bold = _inline("\n".join(ln.raw.strip() for ln in g))
            kind = BlockKind.LIST_ITEM if len(groups) > 1 and starts_marker(text) else BlockKind.PARAGRAPH
            if _FOOTNOTE.match(g[0].raw):
                kind = BlockKind.FOOTNOTE
            pieces.append(_Piece(kind, html.unescape(text).strip(), g[0].no, g[-1].no, bold=bold))
        para.clear()

    while i < n:
        raw = lines[i].raw
        if not raw.strip() or _RULE_LINE.match(raw):
            flush_para()
            i += 1
            continue
        if _is_table_line(raw):
            flush_para()
            rows: list[list[str]] = []
            first = lines[i].no
            last = first
            while i < n:
                cur = lines[i].raw
                if _is_table_line(cur):
                    row = _split_row(cur)
                    if not _PIPE_SEP.match(cur) and not all(_RULE_CELL.match(c) for c in row):
                        rows.append(row)
                    last = lines[i].no
                    i += 1
                elif not cur.strip() and i + 1 < n and _is_table_line(lines[i + 1].raw):
                    i += 1  # one blank line inside a table: the row goes on
                else:
                    break
            pieces.append(_Piece(BlockKind.TABLE, "", first, last, table_rows=rows))
            continue
        m = _MD_HEADING.match(raw)
        if m:
            flush_para()
            text, bold = _inline(m.group(2).strip())
            pieces.append(
                _Piece(
                    BlockKind.HEADING,
                    html.unescape(text).strip(),
                    lines[i].no,
                    lines[i].no,
                    hint_level=len(m.group(1)),
                    bold=bold,
                )
            )
            i += 1
            continue
        m = _MD_LIST.match(raw)
        if m or _has_html(raw):
            flush_para()
            body = m.group(1) if m else raw
            text, bold = _inline(body.rstrip())
            kind = BlockKind.LIST_ITEM if m else BlockKind.PARAGRAPH
            if _has_html(text):
                for j, (chunk, is_item) in enumerate(html_pieces(text)):
                    k = (
                        BlockKind.LIST_ITEM
                        if (is_item or (j == 0 and kind is BlockKind.LIST_ITEM))
                        else BlockKind.PARAGRAPH
                    )
                    pieces.append(_Piece(k, chunk, lines[i].no, lines[i].no, bold=bold))
            else:
                pieces.append(_Piece(kind, html.unescape(text).strip(), lines[i].no, lines[i].no, bold=bold))
            i += 1
            continue
        para.append(lines[i])
        i += 1
    flush_para()
    return pieces


def _join(prev: _Piece, p: _Piece) -> _Piece:
    prev.orig = join_lines(prev.orig, p.orig)
    prev.last = max(prev.last, p.last)
    return prev


def _rejoin_broken_lines(pieces: list[_Piece]) -> list[_Piece]:
    """Sentences and words cut where a page ended, joined again (``rejoin_cut_sentences``)."""
    return rejoin_cut_sentences(
        pieces, kind=lambda p: p.kind, orig=lambda p: p.orig, cut_words=lambda _a, _b: True, join=_join
    )


def _to_block(p: _Piece) -> Block:
    prov = [Provenance(line_start=p.first, line_end=p.last)]
    if p.kind is BlockKind.TABLE:
        n_cols = max((len(r) for r in p.table_rows), default=0)
        cells: list[Cell] = []
        for r, row in enumerate(p.table_rows):
            for c, raw in enumerate(row):
                o = repair(_cell_text(raw))
                cells.append(Cell(row=r, col=c, orig=o, text=to_text(o)))
        orig = "\n".join("\t".join(c.orig.replace("\n", " ") for c in row) for row in _rows(cells, len(p.table_rows)))
        table = Table(n_rows=len(p.table_rows), n_cols=n_cols, cells=cells)
        return Block(kind=BlockKind.TABLE, orig=orig, text=to_text(orig), prov=prov, table=table)
    orig = repair(p.orig)
    return Block(kind=p.kind, orig=orig, text=to_text(orig), prov=prov, hint_level=p.hint_level, bold=p.bold)


def _rows(cells: list[Cell], n_rows: int) -> list[list[Cell]]:
    rows: list[list[Cell]] = [[] for _ in range(n_rows)]
    for c in cells:
        rows[c.row].append(c)
    return rows


def parse_text(source: str) -> list[Block]:
    """Text in the seed format → Blocks in reading order.

    Example:
        >>> [b.kind.value for b in parse_text("## Ⅱ 公募内容\\n\\n- ・ 常駐すること\\n")]
        ['heading', 'list_item']
    """
    lines = [_Line(no=i + 1, raw=raw) for i, raw in enumerate(source.splitlines())]
    pieces = _rejoin_broken_lines(_scan(lines))
    return [_to_block(p) for p in pieces if p.orig or p.kind is BlockKind.TABLE]
