"""Structure: blocks → a clause tree that follows the document's Japanese numbering.

Consumes a Document with blocks (from ingest); produces the same Document with
``clauses`` (a tree with paths like ``IV.1.(1).ロ.b``), ``references`` and
``criteria`` (evaluation-table rows). Heavy dependencies: none.

How the tree is built:

1. Each block's leading marker is parsed by ``HEADING_RULES_V1`` into one or
   more readings: 「イ」 may be the first of イロハ or the second of アイウ,
   「二」 the kanji two or a misprinted katakana ニ, 「I」 a Roman one or a letter.
2. The nesting order is learned per document, not fixed: a marker that
   continues a sequence already open (the next value of a type on the stack)
   closes everything below it; a marker of a new type, or a sequence that
   restarts at 1, opens a level below the current one. So 「(1)」 sits under
   「1.」 in one call and directly under 「Ⅳ」 in another, as printed.
3. Blocks without a marker are the body of the clause they follow; after a
   bullet or circled item they go back to the item's parent.
4. Annexes (別添1-3, 別紙2, 様式1, 参考) start a new top-level branch.

Markdown heading marks are never used for nesting: they are hints at most.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pipeline.document import (
    Block,
    BlockKind,
    Clause,
    Criterion,
    Document,
    Provenance,
    Reference,
)

HEADING_RULES = "heading_rules.v2"  # v2: a bare 「1 」 is a marker in an annex that does not number with 「1.」
# A marker block at most this long, not ending in 。, is a heading; longer ones are items.
HEADING_MAX_CHARS = 60
# A short first phrase before a space ("(2)提出期限 令和7年3月21日") is the item's heading.
INLINE_HEADING_MAX_CHARS = 16
ANNEX_MAX_CHARS = 80
# Kana lists run イロハ… or アイウ…; a reading deeper than this in either order is noise.
KANA_MAX_POSITION = 20

_D = "0-9０-９"
_IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセス"
_AIU = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
# Misprints seen in the corpus: kanji 二 for ニ, hiragana へ for ヘ, 又 for ヌ.
_KANA_FIX = {"二": "ニ", "へ": "ヘ", "又": "ヌ"}
_KANJI_NUM = {c: i + 1 for i, c in enumerate("一二三四五六七八九十")}
_ROMAN_FW = {c: i + 1 for i, c in enumerate("ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ")}
_ROMAN_ASCII = {
    "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11, "XII": 12,
}
_ROMAN_OUT = {v: k for k, v in _ROMAN_ASCII.items()}
_SEP = r"(?:[.．、]\s*|[\s　]+)"

# The marker grammar, in the order the rules are tried. Each rule is
# (name, regex); the regex matches at the start of a block and its first group
# is the marker's value. Rules are data: a caller may pass others to segment().
HEADING_RULES_V1: list[tuple[str, str]] = [
    ("annex", rf"[【(（]?(?:別添|別紙|様式|参考資料|参考)\s*([{_D}]+(?:\s*[-－‐―]\s*[{_D}]+)*)[】)）]?(?=[\s　:：]|$)"),
    # paragraph codes of 要領 manuals: 「0101 趣旨」, 「50302（2）算定基礎期間」, 「50301－50400 第４ …」
    ("code", rf"([{_D}]{{4,5}})(?:\s*[－\-]\s*([{_D}]{{4,5}}))?(?=[\s　（(]|$)(?![\s　]*[年月日円件名人])\s*"),
    ("dai", rf"第\s*([{_D}一二三四五六七八九十百]+)\s*([章節款条項編部])?(?:{_SEP}|(?=[（(【])|$)"),
    ("roman", rf"([ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ]){_SEP}?"),
    ("roman", rf"(XII|XI|VIII|VII|III|IX|IV|VI|II|V|X|I){_SEP}"),
    ("dotted", rf"([{_D}]{{1,2}}(?:[.．][{_D}]{{1,2}}){{1,3}})[.．]?{_SEP}?(?=[^{_D}.．])"),
    ("hyphen", rf"([{_D}]{{1,2}}(?:[-－][{_D}]{{1,2}}){{1,2}})[.．]?{_SEP}"),
    ("arabic", rf"([{_D}]{{1,2}})[.．、]\s*(?![{_D}]|[年月日円件名人時分回か箇万億千百歳%％])"),
    ("arabic_space", rf"([{_D}]{{1,2}})[\s　]+(?![{_D}]|[年月日円件名人時分回か箇万億千百歳%％])"),
    ("paren_arabic", rf"[(（]\s*([{_D}]{{1,2}})\s*[)）]\s*(?![のにをはでとが～~〜、]|及び|から|又は)"),
    ("circled", r"([①-⑳㉑-㉟])\s*"),
    ("note", rf"[(（]\s*※\s*([{_D}]{{1,2}})\s*[)）]\s*"),
    ("paren_kana", r"[(（]\s*([ア-ンｱ-ﾝ])\s*[)）]\s*"),
    ("kana", rf"([ア-ンｱ-ﾝへ又]){_SEP}"),
    ("kanji", rf"([一二三四五六七八九十]){_SEP}"),
    ("paren_latin", r"[(（]\s*([a-zA-Zａ-ｚＡ-Ｚ])\s*[)）]\s*"),
    ("latin", r"([a-zａ-ｚ])(?:[.．)）]\s*|\s+)"),
    ("latin_upper", r"([A-ZＡ-Ｚ])[.．)）]\s*"),
    ("square", r"■\s*([^■]{1,40}?)\s*■\s*$"),
    ("bracket", r"【([^】]{1,40})】\s*$"),
    ("bullet", r"([・•●○◯◎◇◆□■▪➢➤►▶\-－])\s*"),
]

# Markers that name rather than count: they continue their level whatever their value.
_UNORDERED = {"annex", "bracket", "square", "circled"}
# Where a document has no Ⅰ or 第N, its top level is the first of these it numbers from 1.
_TOP_RANK = ("dotted2", "hyphen2", "arabic", "arabic_space", "paren_arabic", "kanji", "circled")
# Leaf-like items: a paragraph after one of these belongs to the item's parent.
_ITEM_MARKERS = {"bullet", "circled"}


@dataclass(frozen=True)
class Reading:
    """One way to read a marker: its type, its position in its sequence, and the path segment."""

    kind: str  # e.g. "iroha", "aiu", "paren_arabic", "bullet:・"
    value: int  # 1-based position in the sequence (ordinal for bullets)
    segment: str  # the path segment: "ロ", "(1)", "IV", "別添1-3"


@dataclass(frozen=True)
class Marker:
    label: str  # as printed, e.g. 「（１）」「二.」
    rest: str  # the block text after the marker
    readings: tuple[Reading, ...]


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def _int(s: str) -> int:
    s = _nfkc(s)
    if s.isdigit():
        return int(s)
    return _kanji_int(s)


def _kanji_int(s: str) -> int:
    total, cur = 0, 0
    for ch in s:
        if ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
        else:
            cur = _KANJI_NUM.get(ch, 0)
    return total + cur


class Grammar:
    """The compiled marker rules."""

    def __init__(self, rules: list[tuple[str, str]] | None = None) -> None:
        self.rules = [(name, re.compile(rx)) for name, rx in (rules or HEADING_RULES_V1)]

    def parse(self, text: str) -> Marker | None:
        """Read the marker at the start of a block, if any.

        Example:
            >>> [r.segment for r in Grammar().parse("二. 伴走支援事業者としての適格性").readings]
            ['二', 'ニ']
        """
        s = text.lstrip()
        for name, rx in self.rules:
            m = rx.match(s)
            if not m:
                continue
            readings = self._readings(name, m)
            if readings:
                return Marker(label=m.group(0).strip(), rest=s[m.end() :].strip(), readings=tuple(readings))
        return None

    @staticmethod
    def _readings(name: str, m: re.Match[str]) -> list[Reading]:
        raw = m.group(1)
        if name == "annex":
            kind = re.match(r"[【(（]?(別添|別紙|様式|参考資料|参考)", m.group(0))
            assert kind is not None
            nums = re.sub(r"\s+", "", _nfkc(raw)).replace("－", "-").replace("‐", "-").replace("―", "-")
            return [Reading("annex", int(nums.split("-")[0]), f"{kind.group(1)}{nums}")]
        if name == "code":
            start = _nfkc(raw)
            if m.group(2):
                end = _nfkc(m.group(2))
                return [Reading(f"code_range{int(end) - int(start) + 1}", int(start), f"{start}-{end}")]
            return [Reading("code00" if int(start) % 100 == 0 else "code", int(start), start)]
        if name == "dai":
            unit = m.group(2) or ""
            v = _int(raw)
            return [Reading(f"dai{unit}", v, f"第{v}{unit}")]
        if name == "roman":
            v = _ROMAN_FW.get(raw) or _ROMAN_ASCII[raw]
            out = [Reading("roman", v, _ROMAN_OUT[v])]
            if raw == "I":
                out.append(Reading("latin_upper", 9, "I"))
            return out
        if name == "dotted":
            parts = re.split(r"[.．]", _nfkc(raw))
            return [Reading(f"dotted{len(parts)}", int(parts[-1]), ".".join(parts))]
        if name == "hyphen":
            parts = re.split(r"[-－]", _nfkc(raw))
            return [Reading(f"hyphen{len(parts)}", int(parts[-1]), "-".join(parts))]
        if name in ("arabic", "arabic_space"):
            v = _int(raw)
            return [Reading(name, v, str(v))]
        if name == "paren_arabic":
            v = _int(raw)
            return [Reading("paren_arabic", v, f"({v})")]
        if name == "note":
            v = _int(raw)
            return [Reading("note", v, f"(※{v})")]
        if name == "circled":
            digits = _nfkc(raw)
            return [Reading("circled", int(digits) if digits.isdigit() else 0, raw)]
        if name in ("kana", "paren_kana"):
            ch = _nfkc(_KANA_FIX.get(raw, raw))
            wrap = "({})" if name == "paren_kana" else "{}"
            prefix = "paren_" if name == "paren_kana" else ""
            out = []
            if ch in _IROHA[:KANA_MAX_POSITION]:
                out.append(Reading(f"{prefix}iroha", _IROHA.index(ch) + 1, wrap.format(ch)))
            if ch in _AIU[:KANA_MAX_POSITION] and raw not in _KANA_FIX:
                out.append(Reading(f"{prefix}aiu", _AIU.index(ch) + 1, wrap.format(ch)))
            # ア, ウ, エ … exist only in アイウ order; イ, ハ, ニ … in both: prefer イロハ
            out.sort(key=lambda r: 0 if "iroha" in r.kind and r.value <= 10 else 1)
            return out
        if name == "kanji":
            v = _KANJI_NUM[raw]
            out = [Reading("kanji", v, raw)]
            if raw == "二":
                out.append(Reading("iroha", 4, "ニ"))
            return out
        if name in ("latin", "latin_upper", "paren_latin"):
            ch = _nfkc(raw)
            latin = "paren_latin" if name == "paren_latin" else ("latin" if ch.islower() else "latin_upper")
            seg = f"({ch})" if name == "paren_latin" else ch
            return [Reading(latin, ord(ch.lower()) - ord("a") + 1, seg)]
        if name == "square":
            return [Reading("square", 0, f"■{re.sub(r'[ 　]', '', raw)}■")]
        if name == "bracket":
            return [Reading("bracket", 0, f"【{re.sub(r'[ 　]', '', raw)}】")]
        if name == "bullet":
            return [Reading(f"bullet:{raw}", 0, raw)]
        return []


@dataclass
class _Node:
    reading: Reading
    label: str
    heading: str | None
    block_start: int
    blocks: list[int] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    parent: _Node | None = None
    segment: str = ""
    last_child_value: dict[str, int] = field(default_factory=dict)

    def child_count(self, kind: str) -> int:
        return sum(1 for c in self.children if c.reading.kind == kind)


def _split_heading(block: Block, marker: Marker) -> str | None:
    """The heading words of a marker block, or None for an item that is a sentence."""
    if marker.readings[0].kind in ("bracket", "square"):
        return marker.readings[0].segment[1:-1]
    rest = marker.rest
    if not rest:
        return None
    colon = re.match(rf"^([^:：。]{{1,{INLINE_HEADING_MAX_CHARS * 2}}})[:：]", rest)
    if colon:  # 「ロ. 人件費:事業に従事する者の…」
        return colon.group(1).strip()
    if block.kind is BlockKind.HEADING or (len(rest) <= HEADING_MAX_CHARS and not rest.rstrip().endswith("。")):
        return rest.split("\n")[0].strip()
    m = re.match(rf"^([^\s　、。，,]{{1,{INLINE_HEADING_MAX_CHARS}}})[\s　]+\S", rest)
    if m and not m.group(1).endswith(("は", "が", "を", "に", "の")):
        return m.group(1)
    return None


_END_MARK = re.compile(r"^\s*以\s*上\s*$")


def _is_appendix_heading(block: Block) -> bool:
    text = block.text.strip()
    return (
        block.kind in (BlockKind.HEADING, BlockKind.PARAGRAPH)
        and 0 < len(text) <= INLINE_HEADING_MAX_CHARS * 3
        and not text.endswith(("。", "、"))
        and "." not in text
    )


CONTENTS_MAX_PAGE = 6  # a contents page without dot leaders is looked for among the first pages only
CONTENTS_MIN_HEADINGS = 5
CONTENTS_MIN_SHARE = 0.6


def _page(block: Block) -> int | None:
    return block.prov[0].page_no if block.prov else None


def _contents_pages(doc: Document, markers: list[Marker | None]) -> set[int]:
    """Pages that list the document's headings before the body repeats them: a contents page without leaders.

    A 要領 often opens with its codes in two columns (「0100 趣旨 0231 賞与」) and no dot leaders, so the
    ingest's leader test misses it. Such a page is one whose numbered lines (5 or more, 60 % or more of
    them) appear again, number and first word, as numbered lines on later pages.
    """
    by_page: dict[int, list[str]] = {}
    for b, m in zip(doc.blocks, markers, strict=True):
        page = _page(b)
        if m is not None and page is not None:
            words = m.rest.split()
            by_page.setdefault(page, []).append(f"{m.label.strip()}|{words[0][:8] if words else ''}")
    out: set[int] = set()
    for page in sorted(p for p in by_page if p <= CONTENTS_MAX_PAGE):
        later = {label for p, labels in by_page.items() if p > page and p not in out for label in labels}
        labels = by_page[page]
        repeated = sum(1 for label in labels if label in later)
        if repeated >= CONTENTS_MIN_HEADINGS and repeated >= CONTENTS_MIN_SHARE * len(labels):
            out.add(page)
        elif out:
            break  # contents pages come together, at the start
    return out


def _nested_inside_other(markers: list[Marker | None], kind: str) -> bool:
    """Whether a numbering of another type runs on across the first run of ``kind``.

    A sequence 「8.」 before the first 「I.」 and 「9.」 after it shows that the Roman
    items are a list inside section 8, not the document's top numbering.
    """
    first = next(
        (i for i, m in enumerate(markers) if m and any(r.kind == kind and r.value == 1 for r in m.readings)), None
    )
    if first is None:
        return False
    last_values: dict[str, int] = {}
    for m in markers[:first]:
        if m is not None and m.readings[0].kind in _TOP_RANK:
            r = m.readings[0]
            if r.value == last_values.get(r.kind, 0) + 1:
                last_values[r.kind] = r.value
    seen_kind_run = True
    for m in markers[first:]:
        if m is None:
            continue
        kinds = {r.kind for r in m.readings}
        if kind in kinds and seen_kind_run:
            continue
        seen_kind_run = False
        r = m.readings[0]
        if r.kind in last_values and last_values[r.kind] >= 2 and r.value == last_values[r.kind] + 1:
            return True
        if kind in kinds:
            return False
    return False


class _Builder:
    def __init__(self, doc: Document, grammar: Grammar) -> None:
        self.doc = doc
        self.grammar = grammar
        self.root = _Node(Reading("root", 0, ""), "", None, 0)
        self.stack: list[_Node] = [self.root]
        self.front = _Node(Reading("front", 0, "front"), "", None, 0, segment="front", parent=self.root)

    def build(self) -> _Node:
        markers = [
            None if b.kind in (BlockKind.TABLE, BlockKind.FOOTNOTE, BlockKind.TOC) else self.grammar.parse(b.orig)
            for b in self.doc.blocks
        ]
        self.contents = _contents_pages(self.doc, markers)
        # Learned per part (the body, each annex): where a part numbers with 「1.」, a bare
        # 「1 」 opens a sentence (「1 支援地域あたり最大…」), not a clause; an annex with its own
        # numbering (「別添2 情報保護・管理要領」: 「1 作業開始前の遵守事項」) keeps it.
        parts: list[int] = []
        part = 0
        for m in markers:
            part += m is not None and m.readings[0].kind == "annex"
            parts.append(part)
        dotted = {p for m, p in zip(markers, parts, strict=True) if m is not None and m.readings[0].kind == "arabic"}
        markers = [
            None if m is not None and m.readings[0].kind == "arabic_space" and p in dotted else m
            for m, p in zip(markers, parts, strict=True)
        ]
        # The front matter ends at the first marker of the document's top numbering: the
        # highest-ranking type that appears starting from 1 (Ⅰ in most calls, １ in a 通知).
        firsts = {r.kind for m in markers if m is not None for r in m.readings if r.value == 1}
        self.top_kinds = {"roman", "annex"} | {k for k in firsts if k.startswith("dai")}
        if _nested_inside_other(markers, "roman"):
            # 「8. …」「I. … II. … III. …」「9. …」: the Roman list sits inside section 8
            self.top_kinds.discard("roman")
        codes = [r.kind for m in markers if m is not None for r in m.readings if r.kind.startswith("code")]
        if codes:
            self.top_kinds.add(codes[0])  # a 要領 manual: the first code opens the body
        elif not self.top_kinds & firsts:
            self.top_kinds |= {next((k for k in _TOP_RANK if k in firsts), "roman")}
        started = closed = False
        for i, block in enumerate(self.doc.blocks):
            if block.kind is BlockKind.TOC or _page(block) in self.contents:
                continue
            marker = markers[i]
            if started and marker is None and _END_MARK.match(block.text):
                closed = True  # 「以上」: the numbered body ends here
            elif closed and marker is None and _is_appendix_heading(block):
                self._open_appendix(i, block)
                closed = False
                continue
            if marker is not None and self._is_annex_reference(block, marker):
                marker = None
            if marker is None or (not started and not self._can_start(marker)):
                self._body(i, started)
                continue
            started = True
            self._place(i, block, marker)
        if self.front.blocks:
            self.root.children.insert(0, self.front)
        return self.root

    def _open_appendix(self, i: int, block: Block) -> None:
        """An unnumbered section after 「以上」 (「情報セキュリティに関する事項」): a top-level clause of its own."""
        del self.stack[1:]
        heading = block.text.strip().lstrip("#").strip().strip("*").strip()
        node = _Node(Reading("appendix", 0, heading), "", heading, i, [i], parent=self.root)
        node.segment = self._segment(self.root, node.reading)
        self.root.children.append(node)
        self.stack.append(node)

    def _can_start(self, marker: Marker) -> bool:
        return any(r.kind in self.top_kinds for r in marker.readings)

    @staticmethod
    def _is_annex_reference(block: Block, marker: Marker) -> bool:
        # 「別添1-1~14「希望する伴走支援」の内容を踏まえて…」 names annexes; it is not one
        if marker.readings[0].kind != "annex":
            return False
        return len(block.orig) > ANNEX_MAX_CHARS or bool(re.match(r"^[~～〜「、。はをにの]", marker.rest))

    def _body(self, i: int, started: bool) -> None:
        if not started:
            self.front.blocks.append(i)
            return
        top = self.stack[-1]
        if top.reading.kind.split(":")[0] in _ITEM_MARKERS and self.doc.blocks[i].kind is not BlockKind.LIST_ITEM:
            # a paragraph after a bullet or ① item belongs to the item's parent
            while len(self.stack) > 1 and self.stack[-1].reading.kind.split(":")[0] in _ITEM_MARKERS:
                self.stack.pop()
            top = self.stack[-1]
        top.blocks.append(i)

    def _choose(self, marker: Marker) -> tuple[Reading, int | None]:
        """Pick the reading that continues an open sequence; return it and the stack depth it joins."""
        for reading in marker.readings:
            for depth in range(len(self.stack) - 1, 0, -1):
                node = self.stack[depth]
                if node.reading.kind != reading.kind:
                    continue
                if reading.kind in _UNORDERED or reading.kind.startswith(("bullet", "code")):
                    return reading, depth
                if reading.value == node.reading.value + 1:
                    return reading, depth
        first = marker.readings[0]
        if first.kind == "annex":
            return first, 1 if len(self.stack) > 1 else None
        if first.value == 1 or first.kind.startswith(("bullet", "code")) or first.kind in _UNORDERED:
            return first, None
        # an irregular number (skipped or repeated): join the nearest open sequence of its type
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].reading.kind == first.kind:
                return first, depth
        # … or a closed one: 「1.」「2-1.」「2-2.」「3.」 — 3 follows 1 under the same parent
        for depth in range(len(self.stack) - 1, 0, -1):
            siblings = self.stack[depth - 1].children
            if any(c.reading.kind == first.kind and c.reading.value < first.value for c in siblings):
                return first, depth
        return first, None

    def _place(self, i: int, block: Block, marker: Marker) -> None:
        if marker.readings[0].kind.split(":")[0] not in _ITEM_MARKERS:
            # bullets and ① items are leaves: numbering after them belongs to their parent
            while len(self.stack) > 1 and self.stack[-1].reading.kind.split(":")[0] in _ITEM_MARKERS:
                self.stack.pop()
        reading, depth = self._choose(marker)
        if reading.kind in self.top_kinds and (reading.kind in ("roman", "annex") or reading.kind.startswith("dai")):
            # a top-level sequence: close everything; its level is the first place it was seen
            same = [d for d in range(1, len(self.stack)) if self.stack[d].reading.kind == reading.kind]
            depth = same[0] if same else depth
        if reading.kind == "hyphen2" and depth is None:
            depth = self._missing_major(reading)
        if depth is not None:
            del self.stack[depth:]
        parent = self.stack[-1]
        node = _Node(reading, marker.label, _split_heading(block, marker), i, [i], parent=parent)
        node.segment = self._segment(parent, reading)
        parent.children.append(node)
        self.stack.append(node)

    def _missing_major(self, reading: Reading) -> int | None:
        """「2-1.」 right after 「1.」: section 2 has no heading of its own, so 2-1 is 1's sibling, not its child."""
        major = int(reading.segment.split("-")[0])
        for depth in range(len(self.stack) - 1, 0, -1):
            node = self.stack[depth]
            if node.reading.kind in ("arabic", "arabic_space"):
                return depth if node.reading.value != major else None
        return None

    @staticmethod
    def _segment(parent: _Node, reading: Reading) -> str:
        if reading.kind.startswith("bullet"):
            seg = f"{reading.segment}{parent.child_count(reading.kind) + 1}"
        else:
            seg = reading.segment
        taken = {c.segment for c in parent.children}
        if seg not in taken:
            return seg
        n = 2
        while f"{seg}#{n}" in taken:
            n += 1
        return f"{seg}#{n}"


def _freeze(doc: Document, node: _Node, prefix: str, level: int) -> Clause:
    path = f"{prefix}.{node.segment}" if prefix else node.segment
    blocks = [doc.blocks[i] for i in node.blocks]
    prov: list[Provenance] = [p for b in blocks for p in b.prov]
    children = [_freeze(doc, c, path, level + 1) for c in node.children]
    start = node.blocks[0] if node.blocks else node.block_start
    end = (node.blocks[-1] + 1) if node.blocks else start
    return Clause(
        path=path,
        label=node.label,
        marker=node.reading.kind,
        level=level,
        heading=node.heading,
        orig="\n".join(b.orig for b in blocks),
        text="\n".join(b.text for b in blocks),
        prov=prov,
        blocks=(start, end),
        children=children,
    )


# Cross-references. Each pattern's groups give the parts of a path.
_REF_ANNEX = re.compile(rf"(別添|別紙|様式)\s*([{_D}]+(?:\s*[-－]\s*[{_D}]+)?)")
_REF_ABSOLUTE = re.compile(
    rf"([ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]|(?<![A-Za-z])(?:VIII|VII|III|IX|IV|VI|II|V|I)(?![A-Za-z]))\s*[.．]?\s*"
    rf"([{_D}]{{1,2}})\s*[.．](?:\s*[(（]([{_D}]{{1,2}})[)）])?"
)
_REF_RELATIVE = re.compile(rf"(?<![{_D}A-Za-zⅠ-Ⅻ.．])[(（]([{_D}]{{1,2}})[)）](?=の)")
_REF_PREVIOUS = re.compile(r"前項|前号")


def _find_references(root: list[Clause]) -> list[Reference]:
    by_path: dict[str, Clause] = {}
    parent_of: dict[str, Clause | None] = {}

    def index(clauses: list[Clause], parent: Clause | None) -> None:
        for c in clauses:
            by_path[c.path] = c
            parent_of[c.path] = parent
            index(c.children, c)

    index(root, None)
    annex_paths = [p for p in by_path if re.match(r"^(別添|別紙|様式)", p)]
    refs: list[Reference] = []
    for path, clause in by_path.items():
        text = _nfkc(clause.orig)
        for m in _REF_ANNEX.finditer(text):
            name = m.group(1) + re.sub(r"\s+", "", m.group(2))
            target = next((p for p in annex_paths if p == name or p.startswith(name + "-")), None)
            refs.append(Reference(clause_path=path, raw=m.group(0), target_path=target))
        for m in _REF_ABSOLUTE.finditer(text):
            roman = _ROMAN_FW.get(m.group(1)) or _ROMAN_ASCII.get(m.group(1))
            if roman is None:
                continue
            want = f"{_ROMAN_OUT[roman]}.{int(m.group(2))}" + (f".({int(m.group(3))})" if m.group(3) else "")
            refs.append(
                Reference(clause_path=path, raw=m.group(0).strip(), target_path=want if want in by_path else None)
            )
        for m in _REF_RELATIVE.finditer(text):
            seg = f"({int(m.group(1))})"
            target = None
            scope: Clause | None = clause
            while scope is not None and target is None:
                target = next((c.path for c in scope.children if c.path.endswith("." + seg)), None)
                scope = parent_of.get(scope.path)
            if target is None:
                target = next((c.path for c in root if c.path.endswith(seg)), None)
            refs.append(Reference(clause_path=path, raw=m.group(0), target_path=target))
        if _REF_PREVIOUS.search(text):
            parent = parent_of.get(path)
            siblings = parent.children if parent else root
            idx = next((k for k, c in enumerate(siblings) if c.path == path), 0)
            target = siblings[idx - 1].path if idx > 0 else None
            raw = _REF_PREVIOUS.search(text)
            refs.append(Reference(clause_path=path, raw=raw.group(0) if raw else "前項", target_path=target))
    return refs


_GRADE = re.compile(r"^[A-ESＡ-Ｅ]$|^[◎○△×]$")
_POINTS = re.compile(rf"^[{_D}]{{1,3}}\s*(点)?$")


def _criteria(doc: Document, clauses: list[Clause]) -> list[Criterion]:
    """Rows of evaluation tables (審査基準, 評価項目, 配点) with their points or grades."""
    out: list[Criterion] = []
    owner: dict[int, str] = {}
    for c in (x for top in clauses for x in top.walk()):
        for i in range(c.blocks[0], c.blocks[1]):
            owner.setdefault(i, c.path)
    for i, block in enumerate(doc.blocks):
        table = block.table
        if table is None or not re.search(r"評価|採点|配点|審査", block.text[:200]):
            continue
        grades: list[str] = []
        for row in table.rows():
            cells = [c.text.strip() for c in row]
            letters = [x for x in cells if _GRADE.match(x)]
            if len(letters) >= 3:
                grades = [_nfkc(x) for x in letters]
                continue
            if not cells or not cells[0] or re.search(r"評価項目|審査項目", cells[0]):
                continue
            points = [_int(re.sub(r"\s*点$", "", x)) for x in cells[1:] if _POINTS.match(x)]
            texts = [x for x in cells[1:] if x and not _POINTS.match(x)]
            if not points and not texts:
                continue
            out.append(
                Criterion(
                    clause_path=owner.get(i, ""),
                    item=cells[0],
                    points=points,
                    grades=grades if len(grades) == len(points) else [],
                    max_points=max(points) if points else None,
                    viewpoint=texts[-1] if texts else "",
                )
            )
    return out


def segment(doc: Document, *, rules: list[tuple[str, str]] | None = None) -> Document:
    """Build the clause tree of a document from its Japanese numbering.

    Args:
        doc: an ingested Document (blocks in reading order).
        rules: marker rules to use instead of ``HEADING_RULES_V1``.

    Returns:
        The Document with ``clauses``, ``references`` and ``criteria`` filled.

    Example:
        >>> from pipeline.ingest import read_text
        >>> doc = segment(read_text("corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"))
        >>> [c.path for c in doc.clauses]
        ['front', 'I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', '別添1', '別添2']
        >>> [c.path for c in doc.iter_clauses() if c.path.startswith("IV.1.(1).ロ") and c.marker != "bullet:・"]
        ['IV.1.(1).ロ', 'IV.1.(1).ロ.a', 'IV.1.(1).ロ.b']
    """
    grammar = Grammar(rules)
    root = _Builder(doc, grammar).build()
    clauses = [_freeze(doc, c, "", 1) for c in root.children]
    references = _find_references(clauses)
    criteria = _criteria(doc, clauses)
    produced = {**doc.produced_by, "structure": HEADING_RULES if rules is None else "heading_rules.custom"}
    return doc.model_copy(
        update={"clauses": clauses, "references": references, "criteria": criteria, "produced_by": produced}
    )


# Case annexes: a run of sibling annexes, each one case of the same thing
# (「別添1-1 希望する伴走支援について（宮城県）」 …).
MIN_CASES = 3  # sibling annexes needed to call them cases
# 「別添1-3」「別紙 2－1」「参考資料1-2」 as path ids write them (ASCII hyphens; 「#2」 for a repeated label)
_SIBLING = re.compile(r"^(?P<kind>別添|別紙|参考資料|参考|様式)(?P<main>\d+)-(?P<sub>\d+)(?:#\d+)?$")
_BRACKETED_END = re.compile(r"[（(](?P<name>[^（）()]{1,30})[）)]\s*$")


def case_annexes(rows: Iterable[tuple[str, str, str, int]]) -> dict[tuple[str, str], str]:
    """The top-level annexes that are cases of one thing, with the name each goes by as printed.

    Args:
        rows: ``(document id, path, heading, level)`` of clauses (only level-1 annexes count).

    Returns:
        ``(document id, annex path)`` → the bracketed name at the end of its heading (「宮城県」).

    Example:
        >>> heads = [f"希望する伴走支援について（{p}）" for p in ("宮城県", "栃木県", "新潟県")]
        >>> case_annexes(("d", f"別添1-{i}", h, 1) for i, h in enumerate(heads, 1))[("d", "別添1-2")]
        '栃木県'
    """
    # (document, kind, main number, heading without its bracketed end) → [(annex path, bracketed name)]
    groups: dict[tuple[str, str, str, str], list[tuple[str, str]]] = {}
    for doc_id, path, heading, level in rows:
        m = _SIBLING.match(path)
        if level != 1 or m is None:
            continue
        text = unicodedata.normalize("NFKC", heading).strip()
        b = _BRACKETED_END.search(text)
        if b is not None:
            groups.setdefault((doc_id, m["kind"], m["main"], text[: b.start()].strip()), []).append((path, b["name"]))
    annexes: dict[tuple[str, str], str] = {}
    for (doc_id, *_), members in groups.items():
        counts: dict[str, int] = {}
        for _, name in members:
            counts[name] = counts.get(name, 0) + 1
        distinct = [(path, name) for path, name in members if counts[name] == 1]  # a name twice names neither
        if len(distinct) >= MIN_CASES:
            annexes.update(((doc_id, path), name) for path, name in distinct)
    return annexes


def iter_outline(clauses: list[Clause], *, include_items: bool = False) -> Iterator[Clause]:
    """Clauses in document order; bullets and circled items only if asked for."""
    for c in clauses:
        if include_items or c.marker.split(":")[0] not in _ITEM_MARKERS:
            yield c
        yield from iter_outline(c.children, include_items=include_items)


def outline_record(
    clause: Clause, *, include_items: bool = False, extra: Callable[[Clause], dict[str, object]] | None = None
) -> dict[str, object]:
    """A clause and its subtree as JSON data: ``{path, label, heading, level, text, pages, children}``.

    Args:
        clause: the top of the subtree.
        include_items: keep bullet and circled items (leaves) too.
        extra: more fields for each node (the server adds the clause id and requirement kinds).
    """
    node: dict[str, object] = {
        "path": clause.path,
        "label": clause.label,
        "heading": clause.heading,
        "level": clause.level,
        "text": clause.text,
        "pages": sorted({p.page_no for p in clause.prov if p.page_no is not None}),
    }
    if extra is not None:
        node |= extra(clause)
    node["children"] = [
        outline_record(c, include_items=include_items, extra=extra)
        for c in clause.children
        if include_items or c.marker.split(":")[0] not in _ITEM_MARKERS
    ]
    return node
