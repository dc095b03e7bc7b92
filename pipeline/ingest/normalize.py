"""Character repairs and normalisation shared by the PDF and text readers.

``repair`` produces ``orig`` (what a reader sees on the page); ``to_text``
produces ``text`` (for matching). ``join_lines`` glues a wrapped line back to
the one before it the way Japanese typesetting broke it: no space between
Japanese characters, none inside a number.
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZATION = "normalize.v1"


def _build_radical_map() -> dict[int, str]:
    # Kangxi Radicals (U+2F00-2FDF) and CJK Radicals Supplement (U+2E80-2EFF):
    # PDFs made from Word often map kanji glyphs to these look-alikes (⽉ for 月).
    # NFKC knows the standard kanji for each; we apply it to these ranges only,
    # so that orig keeps its full-width digits and numbering as printed.
    table: dict[int, str] = {}
    for cp in [*range(0x2E80, 0x2F00), *range(0x2F00, 0x2FE0)]:
        ch = chr(cp)
        norm = unicodedata.normalize("NFKC", ch)
        if norm != ch and len(norm) == 1:
            table[cp] = norm
    return table


RADICALS = _build_radical_map()

# Private-use code points that Symbol/Wingdings fonts put out for bullets and
# arrows when the PDF carries no ToUnicode entry for them.
PRIVATE_USE_BULLETS: dict[int, str] = {
    0xF06C: "●",
    0xF06E: "■",
    0xF071: "□",
    0xF075: "◆",
    0xF076: "❖",
    0xF09F: "●",
    0xF0A7: "▪",
    0xF0A8: "□",
    0xF0B7: "•",
    0xF0D8: "➢",
    0xF0E0: "→",
    0xF0E8: "➔",
    0xF0FC: "✓",
    0xF0FE: "☑",
}

_TRANSLATE = {**RADICALS, **PRIVATE_USE_BULLETS}

_CJK_RANGES = (
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x31FF),
    (0x3200, 0x33FF),  # enclosed CJK (㈱, ①… are 0x2460 below), compatibility
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),  # full-width forms
    (0x2460, 0x24FF),  # enclosed alphanumerics ①
    (0x2500, 0x27BF),  # box drawing, shapes, dingbats: ■ ◆ ● ※ ➢
    (0x2010, 0x2027),  # dashes, quotes, ・-like, ‥ …
    (0x203B, 0x203B),  # ※
)


def is_cjk(ch: str) -> bool:
    """True for characters that Japanese text sets without spaces around them."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def repair(s: str) -> str:
    """Map Kangxi radicals and private-use bullets to what they stand for."""
    return s.translate(_TRANSLATE)


_WS = re.compile(r"\s+")
_CJK_CLASS = (
    r"\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60\uff61-\uffef"
    r"\u2460-\u24ff\u2500-\u27bf\u2010-\u2027\u203b"
)
_SPACE_AFTER_CJK = re.compile(rf"(?<=[{_CJK_CLASS}]) (?=[{_CJK_CLASS}])")


def to_text(orig: str) -> str:
    """``orig`` → ``text``: NFKC, whitespace folded, no spaces between Japanese characters.

    Example:
        >>> to_text("（１）　応募者の 資格  要件")
        '(1) 応募者の資格要件'
    """
    s = unicodedata.normalize("NFKC", orig)
    s = _WS.sub(" ", s).strip()
    return _SPACE_AFTER_CJK.sub("", s)


_DIGITISH = set("0123456789０１２３４５６７８９,，.．")


def join_lines(a: str, b: str) -> str:
    """Join a line wrapped by typesetting back to the line before it.

    No space goes in where either side is Japanese, nor inside a number broken
    across lines (「１，０」 + 「００万円」 → 「１，０００万円」). Latin words get one space.

    Example:
        >>> join_lines("地域の状況・ニ", "ーズを踏まえ")
        '地域の状況・ニーズを踏まえ'
    """
    a = a.rstrip()
    b = b.lstrip()
    if not a:
        return b
    if not b:
        return a
    last, first = a[-1], b[0]
    if is_cjk(last) or is_cjk(first):
        return a + b
    if last in _DIGITISH and first in _DIGITISH:
        return a + b
    if last in "/-‐_(（[" or first in ")）],.:;/":
        return a + b
    return a + " " + b


def strip_ws(s: str) -> str:
    """All whitespace removed: the form fidelity and duplicate checks compare."""
    return _WS.sub("", s)
