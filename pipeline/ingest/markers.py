"""Numbering markers and bullets as printed in Japanese administrative documents.

Both readers use them to tell where a block starts: a line that opens with a
marker is a new list item or heading, not the continuation of the line before.
The clause tree (issue #3) parses the markers themselves; here they only split.
"""

from __future__ import annotations

import re

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
