"""Numbering markers and bullets as printed in Japanese administrative documents.

Both readers use them to tell where a block starts: a line that opens with a
marker is a new list item or heading, not the continuation of the line before.
The clause tree (issue #3) parses the markers themselves; here they only split.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from pipeline.document import BlockKind

T = TypeVar("T")

# Markers that open a list item or a heading: numbering as printed in Japanese
# administrative documents, and bullets.
MARKER = re.compile(
    r"^\s*(?:"
    r"第\s*[0-9０-９一二三四五六七八九十百]+\s*[章節条款項部編]?"
    r"|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ]+[.．、\s　]"
    r"|[IVX]{1,4}[.．\s　]"
    r"|[0-9０-９]{1,3}(?:[-－‐.．][0-9０-９]{1,3})*[.．、)）\s　]"
    r"|[(（〔][0-9０-９一二三四五六七八九十a-zA-Zａ-ｚア-ンｱ-ﾝイロハニホヘト]{1,3}[)）〕]"
    r"|[①-⑳㉑-㉟❶-❿⑴-⒇]"
    r"|[アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンｱ-ﾝ][.．、\s　]"
    r"|[イロハニホヘト二][.．、\s　]"
    r"|[a-zA-Zａ-ｚＡ-Ｚ][.．)）]\s?"
    r"|[・•●○◯◎■□◆◇▪▫➢➤►▶※★☆✓✔\-－]"
    r"|【[^】]{1,30}】"
    r"|別[添紙表記][0-9０-９\-－]*"
    r"|様式[0-9０-９\-－]*"
    r")"
)
# Numbers followed by a counter or unit, bullets that also join words (予算・人材),
# lone katakana and Latin letters: these start a new block only after a line
# that stopped short or ended a sentence.
WEAK_MARKER = re.compile(
    r"^\s*(?:[0-9０-９]{1,4}(?:[.．,，][0-9０-９]+)?\s*[年月日円件名人時分秒号条項歳回倍割％%ヶか箇万億千百週間ページ頁行列点]"
    r"|[0-9０-９]{1,3}[\s　]"
    r"|[・\-－]"
    r"|[アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
    r"ｱ-ﾝイロハニ二a-zA-Zａ-ｚＡ-Ｚ][.．、\s　]"
    r")"
)
SENTENCE_END = ("。", "．", "：", ":", "）", ")", "」")
HEADING_MARKER = re.compile(
    r"^\s*(?:第[0-9０-９一二三四五六七八九十百]+[章節部編]?"
    r"|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+[.．、\s　]|[IVX]{1,4}[.．\s　]|【[^】]{1,30}】\s*$)"
)


def starts_marker(text: str) -> bool:
    """True if the line opens with a numbering marker or bullet: 「（１）」「ア 」「・」「第3章」."""
    return bool(MARKER.match(text))


def weak_marker(text: str) -> bool:
    """True for a marker that a wrapped line can start with by chance: 「13 年６月」, 「・人材」, 「ア 」."""
    return bool(WEAK_MARKER.match(text))


# A paragraph that starts with one of these continues the word before it.
_CONTINUES_WORD = set("ーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎ、。，．）」』】〕")
_ENDS_SENTENCE = set("。．.！？!?）)」』】〉》＞>:：")
# Particles and endings no sentence or item opens with.
_NEVER_OPENS = set("をのがにへはるれらりっ")
_HIRAGANA = re.compile(r"[ぁ-ゖ]")
# 「へ 任意特定適用事業所である場合」: ヘ of イロハ printed (or read) as hiragana へ is a marker.
_KANA_MARKER = re.compile(r"[ぁ-ゖ][\s　.．、)）]")
_KANJI = re.compile(r"[一-龥々]")
_KANJI_KANA = re.compile(r"[一-龥々ァ-ヶー]")
_PARENS = re.compile(r"[(（][^()（）]*[)）]")
# A paragraph that opens with a label (「支援メニュー例：」) or an era date starts afresh.
_LABEL_OR_ERA = re.compile(r"(?:[^。、]{1,12}[：:]|令和|平成|昭和)")
# Words that open a new sentence although they start with hiragana.
_OPENER = re.compile(
    r"(?:なお|また|ただし|しかし|しかも|さらに|まず|および|おって|もし|もっとも|たとえば|ちなみに|すなわち|つまり"
    r"|よって|したがって|ついては|つきましては|あらかじめ|いずれ|いわゆる|おおむね|すでに|すべて|ほか|ここ|そこ"
    r"|この|その|これ|それ|あの|どの|こう|そう|こちら|そちら|ご|お)"
)


def _unclosed(s: str) -> int:
    """How many round brackets ``s`` opens and does not close (negative: closes more than it opens)."""
    return s.count("(") + s.count("（") - s.count(")") - s.count("）")


def continues_sentence(prev: str, nxt: str, *, cut_words: bool = True) -> bool:
    """Whether paragraph ``nxt`` is the rest of paragraph ``prev``, cut where a page ended.

    Converted text puts a blank line (and sometimes a footnote) there, a PDF a new
    block at the top of the next page, even in the middle of a sentence:
    「…代表機関に情報」 / 「管理統括責任者を設置することを含む。)を構築すること」,
    「…以内に行わ」 / 「れるように留意して行うこと。」. ``nxt`` continues ``prev`` when
    it cannot open a sentence: a particle, hiragana that is no opener (なお, また …),
    a bracket closed that ``prev`` opened, or (with ``cut_words``) a kanji word cut
    inside a sentence, which is only safe to assume where a page ended.

    Example:
        >>> continues_sentence("遅くとも1時間以内に行わ", "れるように留意して行うこと。")
        True
        >>> continues_sentence("報告すること。", "なお、様式は別紙のとおり。")
        False
    """
    if starts_marker(nxt) or _KANA_MARKER.match(nxt):
        return False
    first, last = nxt[:1], prev[-1:]
    if first in _CONTINUES_WORD and last not in _ENDS_SENTENCE:
        return True  # 「ニ」 / 「ーズ」
    if first in _NEVER_OPENS and not prev.endswith(("。", "．")):
        return True  # 「…営業所(…をいう。))」 / 「の代表者、…」
    if _unclosed(prev) > 0 and _unclosed(nxt) < 0:
        return True  # a bracket opened before the break is closed after it
    if _HIRAGANA.match(first):
        return last not in _ENDS_SENTENCE and not _OPENER.match(nxt)
    # 「…かつ、当該知的」 / 「財産権を…」: a sentence cut inside a word, kanji on both sides.
    tail = re.split(r"[。．]", _PARENS.sub("", prev))[-1]
    title = starts_marker(prev) and len(prev) <= 30  # 「イ. 伴走支援事業者の法人としての経験、能力」
    return (
        cut_words
        and not title
        and bool(_KANJI_KANA.match(last) and _KANJI.match(first))
        and "、" in tail
        and len(tail) >= 20
        and not _LABEL_OR_ERA.match(nxt)
    )


def rejoin_cut_sentences(
    pieces: Iterable[T],
    *,
    kind: Callable[[T], BlockKind],
    orig: Callable[[T], str],
    cut_words: Callable[[T, T], bool | None],
    join: Callable[[T, T], T],
) -> list[T]:
    """Join each paragraph to the paragraph or list item whose sentence it finishes (``continues_sentence``).

    Footnotes printed at the foot of the page in between are stepped over and stay
    pieces of their own, after the joined one. Both readers use it on their own
    pieces: ``cut_words(prev, piece)`` says whether a kanji word may be cut there
    (``None``: never join these two), ``join(prev, piece)`` makes the joined piece.
    """
    out: list[T] = []
    for p in pieces:
        k = len(out) - 1
        while k >= 0 and kind(out[k]) is BlockKind.FOOTNOTE:
            k -= 1
        prev = out[k] if k >= 0 else None
        if (
            prev is not None
            and kind(p) is BlockKind.PARAGRAPH
            and kind(prev) in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM)
            and orig(prev)
            and (cut := cut_words(prev, p)) is not None
            and continues_sentence(orig(prev), orig(p), cut_words=cut)
        ):
            out[k] = join(prev, p)
            continue
        out.append(p)
    return out
