"""Values stated in a sentence: dates, amounts, counts, rates, contacts and organisations.

Consumes one sentence (a ``str``), produces ``list[Value]`` in text order.
Heavy dependencies: none (``re``, ``datetime``, ``unicodedata``), so it runs on
every sentence of every call without loading a model.

Matching runs on a *folded* copy of the sentence: full-width ASCII (０-９, （）,
：, ～, ＠ …) and the ideographic space are mapped one character to one
character onto ASCII, and every wave dash onto ``~``. Because the fold keeps
the length, spans found in the folded copy are spans of the original, and
``Value.raw`` is always ``sentence[span[0]:span[1]]``.

Extractors run in priority order (url, email, phone, date, amount, rate,
count, organisation); a later match that overlaps an earlier one is dropped,
so 「令和 6 年 12 月 31 日」 is one date, not a date plus a count of 6 年.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import chain

from pipeline.document import Value, ValueType

VALUE_RULES = "value_rules.v2"  # v2: bare numbers under a table's 「（単位：円）」 are amounts

# --- rules (data) -------------------------------------------------------------------------------

ERA_BASE: dict[str, int] = {"令和": 2018, "平成": 1988, "昭和": 1925}
WEEKDAYS = "月火水木金土日"  # index = date.weekday()
QUALIFIER_WINDOW = 8  # characters looked at before a value for 最大/上限/約 …

# Attached after a date, in the order tried; the first that matches at the cursor wins.
DATE_QUALIFIERS: tuple[tuple[str, str], ...] = (
    (r"必着", "必着"),
    (r"\(?消印有効\)?", "消印有効"),
    (r"まで", "まで"),
    (r"から|より", "から"),
    (r"以降", "以降"),
    (r"頃|ごろ|を?目途|を?めど", "頃"),
)
# Before an amount/count/rate (separators such as は/が/の may sit between).
PREFIX_QUALIFIERS: tuple[tuple[str, str], ...] = (
    (r"最大|最高|上限額?", "上限"),
    (r"限度額", "限度額"),
    (r"(?<![契規予条集要節制公解誓])約|概ね|おおむね", "程度"),  # 約 but not 契約, 規約 …
)
# After an amount/count/rate, read left to right (「（税込み）を上限とします」 → 税込,上限).
SUFFIX_QUALIFIERS: tuple[tuple[str, str], ...] = (
    (r"\(?(?:消費)?税込み?\)?", "税込"),
    (r"\(?税(?:抜き?|別)\)?", "税抜"),
    (r"程度|前後", "程度"),
    (r"以内", "以内"),
    (r"以下|を超えない|を超えず|を上回らない", "以下"),
    (r"未満|を下回る|に満たない", "未満"),
    (r"以上", "以上"),
    (r"を限度額?(?:と|に)?", "限度額"),
    (r"を上限(?:と|に)?|が上限|を最大", "上限"),
)
# A count bound by these is capped (max only); 以上 opens the top instead.
MAX_QUALIFIERS = frozenset({"以内", "以下", "未満", "上限", "限度額"})

# Longest first: the alternation takes the first that fits.
COUNT_UNITS: tuple[str, ...] = (
    "市区町村", "都道府県", "市町村", "自治体", "団体", "機関", "市町",
    "か所", "カ所", "ヵ所", "ヶ所", "箇所", "ヵ月", "ヶ月", "か月", "カ月", "ケ月",
    "時間", "週間", "町村", "件", "名", "人", "回", "者", "社", "校", "部", "日", "年", "市", "町", "村",
)  # fmt: skip
PLACE_UNITS = frozenset({"市区町村", "都道府県", "市町村", "町村", "自治体", "団体", "市町", "市", "町", "村"})
# Word continuations that turn a unit into another word (人材, 社会, 市場, 年度 …).
UNIT_NOT_BEFORE: dict[str, str] = {"人": "材口件", "社": "会員内", "年": "度", "日": "本", "部": "分"}
PLACE_NOT_BEFORE = "場民長役内外議"
PER_UNIT = r"[ \t]*(?:あたり|当たり|につき|ごと|毎)"  # 「1 市町あたり」 is a denominator, not a count

MINISTRIES: tuple[str, ...] = (
    "内閣官房", "内閣府", "デジタル庁", "復興庁", "総務省", "法務省", "外務省", "財務省", "文部科学省",
    "厚生労働省", "農林水産省", "経済産業省", "国土交通省", "環境省", "防衛省", "金融庁", "消費者庁",
    "こども家庭庁", "中小企業庁", "資源エネルギー庁", "特許庁", "観光庁", "気象庁", "林野庁", "水産庁",
    "文化庁", "スポーツ庁", "警察庁", "国税庁", "公正取引委員会", "個人情報保護委員会",
)  # fmt: skip
LEGAL_FORMS: tuple[str, ...] = (
    "株式会社", "有限会社", "合同会社", "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
    "独立行政法人", "国立研究開発法人", "特定非営利活動法人",
)  # fmt: skip
# 〇〇局 that name a kind of office, not one office: 事務局 (a secretariat, unless of a 委員会),
# 各部局, 郵便局, a bare 総合通信局 or 産業局.
GENERIC_BUREAU = r"(?<!委員会)事務局|部局|郵便局|^(?:認証|総合通信|産業|当|各|本|同)局"
# Words that end an organisation name running on into the sentence (株式会社〇〇ホームページ).
NAME_STOPWORDS = r"ホームページ|ウェブサイト|サイト|並|又|及|等|以外|宛|様|殿|担当"  # 並/又/及: 並びに, 又は, 及び

# --- compiled patterns ----------------------------------------------------------------------------

_FOLD: dict[int, str] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: " ", 0x301C: "~", 0x223C: "~", 0x2212: "-", 0x2010: "-", 0x2011: "-"})

_FOLD_NEEDED = re.compile("[\uff01-\uff5e\u3000\u301c\u223c\u2212\u2010\u2011]")
_URL_HINT = re.compile(r"https?://|www\.")
_EMAIL_HINT = re.compile(r"@|atmark")
_PHONE_HINT = re.compile(r"\d-\d")
_DATE_HINT = re.compile("日")
_AMOUNT_HINT = re.compile("円")
_RATE_HINT = re.compile("[%割半]|パーセント|分の")
_COUNT_HINT = re.compile(r"\d")
_ORG_HINT = re.compile("[省庁局府]|法人|会社|委員会|内閣")

_S = r"[ \t]*"
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_TIME = (
    rf"(?P<noon>正午)|(?:(?P<ampm>午前|午後){_S})?(?P<hh>\d{{1,2}}){_S}時(?!間)(?:{_S}(?P<mm>\d{{1,2}}){_S}分|(?P<half>半))?"
    r"|(?P<hh2>\d{1,2}):(?P<mm2>\d{2})"
)
# Patterns open with a digit or a fixed character, never a look-behind, so that re can skip
# ahead to candidates; a number glued to the left is rejected in Python (_glued) instead.
_DATE_RE = re.compile(rf"(?P<month>\d{{1,2}}|同){_S}月{_S}(?P<day>\d{{1,2}}|同){_S}日|(?P<same_d>同日)")
_YEAR_BEFORE_RE = re.compile(
    rf"(?:(?P<era>令和|平成|昭和){_S}(?P<eyear>元|\d{{1,2}})|(?:西暦{_S})?(?<!\d)(?P<year>\d{{4}})|(?P<same_y>同)){_S}年{_S}\Z"
)
_DATE_START_RE = re.compile(rf"令和|平成|昭和|西暦|\d{{4}}{_S}年|同年|同日|(?:\d{{1,2}}|同){_S}月")
_WEEKDAY_RE = re.compile(rf"{_S}\({_S}(?P<wd>[{WEEKDAYS}]){_S}(?:曜日?)?{_S}(?:[・,、]{_S}[祝休]日?{_S})?\)")
_TIME_AFTER_RE = re.compile(rf"{_S}(?:の{_S})?(?:{_TIME})")
_TIME_RE = re.compile(_TIME)
_RANGE_DASH_RE = re.compile(rf"{_S}~{_S}")
_DAY_ONLY_RE = re.compile(rf"(?P<day>\d{{1,2}}){_S}日")
_DASH_BEFORE_RE = re.compile(rf"~{_S}\Z")
_ERA_BEFORE_RE = re.compile(rf"(?:{'|'.join(ERA_BASE)}|西暦){_S}\Z")
_MONTH_BEFORE_RE = re.compile(rf"月{_S}\Z")
_PER_UNIT_RE = re.compile(PER_UNIT)
_DATE_QUAL = [(re.compile(rf"{_S}(?:{p})"), q) for p, q in DATE_QUALIFIERS]
_PREFIX_QUAL = [(re.compile(rf"(?:{p})(?:[はがでの:]|\s)*$"), q) for p, q in PREFIX_QUALIFIERS]
_SUFFIX_QUAL = [(re.compile(rf"{_S}(?:{p})"), q) for p, q in SUFFIX_QUALIFIERS]

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%\\]+"
_URL_RE = re.compile(rf"(?:https?://|www\.){_URL_CHARS}")
_MD_LINK_RE = re.compile(rf"\[(?P<label>https?://{_URL_CHARS})\]\((?P<target>https?://{_URL_CHARS})\)")
_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+?(?:@|\\?_atmark\\?_)"
    r"[A-Za-z0-9-]+(?:\.(?:[A-Za-z0-9-]+|[ \t][a-z]{2,4}(?![A-Za-z0-9])))+"
)
_PHONE_RE = re.compile(r"(?<![\d-])0\d{1,4}-\d{1,4}-\d{3,4}(?![\d-])")
_AMOUNT_RE = re.compile(rf"(?:{_NUM})(?:{_S}[兆億万千]{_S}(?:{_NUM})?)*{_S}円")
_AMOUNT_TOKEN_RE = re.compile(rf"{_NUM}|[兆億万千]")
# A table that states its unit (「（単位：円）」「(単位:千円)」) prints its amounts as bare grouped numbers.
# 「（単位：円）」「(単位:千円、税込)」「（金額単位：千円）」「【単位：百万円】」
_TABLE_UNIT_RE = re.compile(rf"[(【][^()【】]{{0,6}}単位{_S}:{_S}(?P<mult>千|百万|万|億)?{_S}円[^()【】]{{0,8}}[)】]")
_TABLE_UNITS = {"千": 10**3, "万": 10**4, "百万": 10**6, "億": 10**8}
# A table cell: a grouped number (「149,464,000」「1,234.5」) standing alone, a space, a tab, the end or a closing
# bracket after it; 「2,000字以内」「1,200万」「1,000から」 are not cells.
_BARE_AMOUNT_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?=[ \t\n)]|$)")
_RANGE_BEFORE_RE = re.compile(rf"(?:から|~){_S}\Z")
_RATE_RE = re.compile(
    rf"(?P<a>{_NUM})(?:{_S}~{_S}(?P<b>{_NUM}))?{_S}(?P<u>%|パーセント|割(?![合引増安]))"
    rf"|(?P<den>\d+){_S}分の{_S}(?P<num>\d+)"
    r"|(?P<half>半(?:分|額))"
)
_COUNT_RE = re.compile(
    rf"(?P<a>{_NUM})(?:{_S}~{_S}(?P<b>{_NUM}))?{_S}(?P<mult>[万千])?{_S}(?P<no>の{_S})?"
    rf"(?P<unit>{'|'.join(COUNT_UNITS)})"
)
_NAME = r"[A-Za-z0-9&・\u30A0-\u30FF\u4E00-\u9FFF々]+"
_MINISTRY_RE = re.compile(rf"(?:{'|'.join(MINISTRIES)})(?:{_S}[\u4E00-\u9FFF]{{2,10}}局(?!長))?")
_LEGAL_RE = re.compile(rf"(?:{'|'.join(LEGAL_FORMS)}){_S}(?P<name>{_NAME}(?:[ \t]{_NAME})*)")
# Names that end in a fixed word are found from that word backwards: trying a name pattern at
# every position of every sentence was the slowest part of extraction.
_ORG_ENDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile("局(?!長)"), re.compile(r"(?<![\u4E00-\u9FFF〇])[\u4E00-\u9FFF]{2,10}\Z")),  # 東北経済産業局
    (re.compile("株式会社"), re.compile(r"(?<![A-Za-z0-9&・\u30A0-\u30FF])[A-Za-z0-9&・\u30A0-\u30FF]+\Z")),
)
_GENERIC_BUREAU_RE = re.compile(GENERIC_BUREAU)
_NAME_STOP_RE = re.compile(rf"[ \t]*(?:{NAME_STOPWORDS})")


def table_unit(sentence: str) -> tuple[int, int] | None:
    """The unit of yen a table declares in this sentence (「（単位：千円）」 → 1,000), and where the declaration ends:
    the bare numbers after it, in this sentence and the rest of its clause, are amounts in that unit.

    Example:
        >>> table_unit("（単位：千円）")
        (1000, 7)
    """
    if "単位" not in sentence:  # nearly every sentence: no folding, no pattern
        return None
    m = _TABLE_UNIT_RE.search(sentence.translate(_FOLD) if _FOLD_NEEDED.search(sentence) else sentence)
    return (_TABLE_UNITS.get(m.group("mult") or "", 1), m.end()) if m else None


def extract_values(
    sentence: str, *, base_year: int | None = None, unit: int | None = None, unit_from: int = 0
) -> list[Value]:
    """Find the values stated in one sentence, with their normal forms and qualifiers.

    Args:
        sentence: One sentence (or table cell) as printed; full-width digits and
            stray spaces from PDF extraction are fine.
        base_year: Gregorian year for a date printed without one (「5月19日(火)」),
            typically the call's fiscal year. A date inherits the year of an
            earlier date in the same sentence first; with neither it is skipped.
        unit: yen per unit of a table the sentence belongs to (see :func:`table_unit`):
            its bare grouped numbers (「149,464,000」) from ``unit_from`` on are amounts.

    Returns:
        The values in text order. ``raw`` is exactly ``sentence[span[0]:span[1]]``;
        ``warning`` is set when a printed weekday contradicts its date.

    Example:
        >>> [(v.normalized, v.qualifier) for v in extract_values("締切日：令和8年2月12日（木）17時必着")]
        [('2026-02-12T17:00', '必着')]
        >>> extract_values("1 支援地域あたり最大 1 億円（税込）")[0].qualifier
        '上限,税込'
    """
    folded = sentence.translate(_FOLD) if _FOLD_NEEDED.search(sentence) else sentence
    taken: list[tuple[int, int]] = []
    found: list[Value] = []
    extractors: list[tuple[re.Pattern[str], Callable[[str, str], list[Value]]]] = [
        (_URL_HINT, _urls),
        (_EMAIL_HINT, _emails),
        (_PHONE_HINT, _phones),
        (_DATE_HINT, lambda text, f: _dates(text, f, base_year)),
        (_AMOUNT_HINT, _amounts),
        (_RATE_HINT, _rates),
        (_COUNT_HINT, _counts),
        (_ORG_HINT, _organisations),
    ]
    for hint, extractor in extractors:
        # Most sentences hold no value of a given type; a one-character test skips the full pattern.
        if hint.search(folded):
            found += _claim(extractor(sentence, folded), taken)
    if unit:
        found += _claim(_table_amounts(sentence, folded, unit, unit_from), taken)
    return sorted(found, key=lambda v: v.span or (0, 0))


def _glued(f: str, s: int, also: str = "") -> bool:
    """True when the match starts inside a longer number (「12月」 seen from 「2月」)."""
    return s > 0 and (f[s - 1].isdigit() or f[s - 1] in ".," + also)


def _claim(values: list[Value], taken: list[tuple[int, int]]) -> list[Value]:
    kept = []
    for v in values:
        s, e = v.span or (0, 0)
        if all(e <= ts or s >= te for ts, te in taken):
            taken.append((s, e))
            kept.append(v)
    return kept


def _value(
    kind: ValueType, sentence: str, s: int, e: int, norm: object, quals: list[str], warn: str | None = None
) -> Value:
    return Value.model_validate(
        {"type": kind, "raw": sentence[s:e], "normalized": norm, "qualifier": ",".join(quals) or None,
         "span": (s, e), "warning": warn}
    )  # fmt: skip


def _num(text: str) -> Decimal:
    # Decimal, not float: 50.31 % must give 0.5031, not 0.5030999999999999.
    return Decimal(text.replace(",", ""))


# --- contacts -------------------------------------------------------------------------------------


def _urls(sentence: str, f: str) -> list[Value]:
    out: list[Value] = []
    links = [(m.start("label"), m.end("label"), m.group("target"), m.end()) for m in _MD_LINK_RE.finditer(f)]
    for s, e, target, _ in links:
        # A Markdown link [url](url): one value, raw as printed, normal form the real target.
        out.append(_value(ValueType.URL, sentence, s, e, target.replace("\\", ""), []))
    covered = [(s, end) for s, _, _, end in links]
    for m in _URL_RE.finditer(f):
        s, e = m.start(), m.end()
        if any(cs <= s < ce for cs, ce in covered):
            continue
        while e > s and f[e - 1] in ".,;:!?\\":
            e -= 1
        out.append(_value(ValueType.URL, sentence, s, e, f[s:e].replace("\\", ""), []))
    return out


def _emails(sentence: str, f: str) -> list[Value]:
    out = []
    for m in _EMAIL_RE.finditer(f):
        norm = re.sub(r"\\?_atmark\\?_", "@", m.group())
        norm = re.sub(r"\s+", "", norm).replace("\\", "")
        out.append(_value(ValueType.EMAIL, sentence, m.start(), m.end(), norm, []))
    return out


def _phones(sentence: str, f: str) -> list[Value]:
    out = []
    for m in _PHONE_RE.finditer(f):
        if sum(c.isdigit() for c in m.group()) in (10, 11):  # Japanese numbers: 10 digits, mobiles 11
            out.append(_value(ValueType.PHONE, sentence, m.start(), m.end(), m.group(), []))
    return out


# --- dates ----------------------------------------------------------------------------------------


def _dates(sentence: str, f: str, base_year: int | None) -> list[Value]:
    """Dates in order, resolving 同年/同月/同日, year-less dates and 「A～B」 ranges as it goes."""
    out: list[Value] = []
    prev: date | None = None
    pos = 0
    while m := _DATE_RE.search(f, pos):
        s, e = m.start(), m.end()
        pos = e
        if _glued(f, s):
            continue
        y = _YEAR_BEFORE_RE.search(f, max(0, s - 16), s) if not m.group("same_d") else None
        day = _resolve_date(m, y, prev, base_year)
        if day is None:
            continue
        s = y.start() if y else s
        e, stamp, warn = _date_tail(f, e, day)
        pos = e
        prev = day
        out.append(_dated(sentence, f, s, e, stamp, warn))
        # The end of a range may print only what changed: 「5月19日(火)～21日(木)」, 「10:00～11:45」.
        dash = _RANGE_DASH_RE.match(f, e)
        if dash is None or _DATE_START_RE.match(f, dash.end()):
            continue
        s2 = dash.end()
        if d := _DAY_ONLY_RE.match(f, s2):
            try:
                day2 = prev.replace(day=int(d.group("day")))
            except ValueError:
                continue
            e2, stamp2, warn2 = _date_tail(f, d.end(), day2)
            prev = day2
        elif (t := _TIME_RE.match(f, s2)) and (timed := _stamp(prev, t)):
            e2, stamp2, warn2 = t.end(), timed, None
        else:
            continue
        out.append(_dated(sentence, f, s2, e2, stamp2, warn2))
        pos = e2
    return out


def _resolve_date(m: re.Match[str], y: re.Match[str] | None, prev: date | None, base_year: int | None) -> date | None:
    if m.group("same_d"):
        return prev
    if y and y.group("era"):
        year: int | None = ERA_BASE[y.group("era")] + (1 if y.group("eyear") == "元" else int(y.group("eyear")))
    elif y and y.group("year"):
        year = int(y.group("year"))
    elif y and y.group("same_y"):
        year = prev.year if prev else None
    else:  # no year printed: the sentence's earlier date first, then the call's year
        year = prev.year if prev else base_year
    month = prev.month if m.group("month") == "同" and prev else m.group("month")
    day = prev.day if m.group("day") == "同" and prev else m.group("day")
    if year is None or month == "同" or day == "同":
        return None
    try:
        return date(year, int(month), int(day))
    except ValueError:
        return None


def _date_tail(f: str, e: int, day: date) -> tuple[int, str, str | None]:
    """Read the weekday and time after a date: (end, normal form, weekday warning)."""
    warn = None
    if wd := _WEEKDAY_RE.match(f, e):
        e = wd.end()
        actual = WEEKDAYS[day.weekday()]
        if wd.group("wd") != actual:
            warn = f"printed {wd.group('wd')} but {day.isoformat()} is {actual}"
    stamp = day.isoformat()
    if (t := _TIME_AFTER_RE.match(f, e)) and (timed := _stamp(day, t)) is not None:
        e, stamp = t.end(), timed
    return e, stamp, warn


def _stamp(day: date, t: re.Match[str]) -> str | None:
    if t.group("noon"):
        hh, mm = 12, 0
    elif t.group("hh2"):
        hh, mm = int(t.group("hh2")), int(t.group("mm2"))
    else:
        hh = int(t.group("hh")) + (12 if t.group("ampm") == "午後" and int(t.group("hh")) < 12 else 0)
        mm = 30 if t.group("half") else int(t.group("mm") or 0)
    if hh > 23 or mm > 59:
        return None
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}"


def _dated(sentence: str, f: str, s: int, e: int, stamp: str, warn: str | None) -> Value:
    quals = []
    if _DASH_BEFORE_RE.search(f, max(0, s - 8), s):
        quals.append("まで")
    if _RANGE_DASH_RE.match(f, e):
        quals.append("から")
    quals += _scan_suffix(f, e, _DATE_QUAL)
    return _value(ValueType.DATE, sentence, s, e, stamp, list(dict.fromkeys(quals)), warn)


# --- numbers --------------------------------------------------------------------------------------


def _scan_prefix(f: str, s: int) -> list[str]:
    window = f[max(0, s - QUALIFIER_WINDOW) : s]
    quals: list[str] = []
    while True:
        hit = next(((m, q) for rx, q in _PREFIX_QUAL if (m := rx.search(window))), None)
        if hit is None:
            return quals[::-1]
        quals.append(hit[1])
        window = window[: hit[0].start()]


def _scan_suffix(f: str, e: int, rules: list[tuple[re.Pattern[str], str]]) -> list[str]:
    pos = e + (1 if f[e : e + 1] == "間" else 0)  # 「3ヶ月間」: 間 is not a qualifier
    quals: list[str] = []
    while hit := next(((m, q) for rx, q in rules if (m := rx.match(f, pos))), None):
        quals.append(hit[1])
        pos = hit[0].end()
    return quals


def _qualified(f: str, s: int, e: int) -> list[str]:
    return list(dict.fromkeys(_scan_prefix(f, s) + _scan_suffix(f, e, _SUFFIX_QUAL)))


def _amounts(sentence: str, f: str) -> list[Value]:
    out = []
    for m in _AMOUNT_RE.finditer(f):
        if _glued(f, m.start()):
            continue
        total, section, cur = Decimal(0), Decimal(0), Decimal(0)
        for tok in _AMOUNT_TOKEN_RE.findall(m.group()):
            if tok == "千":  # 5千万: 千 multiplies inside a 万/億 section
                section += (cur or 1) * 1000
                cur = Decimal(0)
            elif tok in "兆億万":
                total += (section + cur) * {"兆": 10**12, "億": 10**8, "万": 10**4}[tok]
                section = cur = Decimal(0)
            else:
                cur = _num(tok)
        yen = int(total + section + cur)
        out.append(_value(ValueType.AMOUNT, sentence, m.start(), m.end(), yen, _qualified(f, m.start(), m.end())))
    return out


def _table_amounts(sentence: str, f: str, unit: int, start: int) -> list[Value]:
    """The bare grouped numbers of a table whose unit is ``unit`` yen (「宮城 149,464,000」): cells, not numbers
    a counter or another unit follows (「1,000件」「2,000字」「1,200万」)."""
    out = []
    for m in _BARE_AMOUNT_RE.finditer(f, start):
        if _glued(f, m.start()) or _RANGE_BEFORE_RE.search(f, 0, m.start()):
            continue  # inside a longer number, or the end of a range of something else (「1,000から2,000」)
        yen = int(_num(m.group()) * unit)
        out.append(_value(ValueType.AMOUNT, sentence, m.start(), m.end(), yen, _qualified(f, m.start(), m.end())))
    return out


def _rates(sentence: str, f: str) -> list[Value]:
    out = []
    for m in _RATE_RE.finditer(f):
        if _glued(f, m.start()):
            continue
        norm: float | dict[str, float]
        if m.group("half"):
            norm = 0.5
        elif m.group("den"):
            if int(m.group("den")) == 0:
                continue
            norm = float(Decimal(m.group("num")) / Decimal(m.group("den")))
        else:
            scale = Decimal(10) if m.group("u") == "割" else Decimal(100)
            a = float(_num(m.group("a")) / scale)
            norm = {"min": a, "max": float(_num(m.group("b")) / scale)} if m.group("b") else a
        out.append(_value(ValueType.RATE, sentence, m.start(), m.end(), norm, _qualified(f, m.start(), m.end())))
    return out


def _counts(sentence: str, f: str) -> list[Value]:
    out = []
    for m in _COUNT_RE.finditer(f):
        s, e, unit = m.start(), m.end(), m.group("unit")
        if _glued(f, s, also="第"):  # 第1回 is an ordinal
            continue
        after = f[e : e + 1]
        if after and after in UNIT_NOT_BEFORE.get(unit, PLACE_NOT_BEFORE if unit in PLACE_UNITS else ""):
            continue
        if (m.group("no") and unit not in PLACE_UNITS) or _PER_UNIT_RE.match(f, e):
            continue
        mult = {"万": 10_000, "千": 1_000}.get(m.group("mult") or "", 1)
        a = int(_num(m.group("a")) * mult)
        b = int(_num(m.group("b")) * mult) if m.group("b") else None
        if unit == "年" and (a >= 1000 or _ERA_BEFORE_RE.search(f, max(0, s - 8), s)):
            continue  # a calendar year (2050 年, 令和 5 年), not a duration
        if unit == "日" and (_MONTH_BEFORE_RE.search(f, max(0, s - 8), s) or _WEEKDAY_RE.match(f, e)):
            continue  # the day of a date that did not resolve
        quals = _qualified(f, s, e)
        if b is not None:
            lo, hi = a, b
        elif "以上" in quals:
            lo, hi = a, None
        elif MAX_QUALIFIERS.intersection(quals):
            lo, hi = None, a
        else:
            lo, hi = a, a
        out.append(_value(ValueType.COUNT, sentence, s, e, {"min": lo, "max": hi, "unit": unit}, quals))
    return out


# --- organisations --------------------------------------------------------------------------------


def _organisations(sentence: str, f: str) -> list[Value]:
    out = []
    for m in chain(_MINISTRY_RE.finditer(f), _LEGAL_RE.finditer(f)):
        s, e = m.start(), m.end()
        if m.re is _LEGAL_RE:
            name_start = m.start("name")
            stop = _NAME_STOP_RE.search(f, name_start, e)
            e = stop.start() if stop else e
            if e <= name_start:
                continue
        out.append(_value(ValueType.ORGANISATION, sentence, s, e, _org_name(sentence[s:e]), []))
    for end_rx, name_rx in _ORG_ENDS:
        for m in end_rx.finditer(f):
            name = name_rx.search(f, max(0, m.start() - 12), m.start())
            if name and not _GENERIC_BUREAU_RE.search(f[name.start() : m.end()]):
                s, e = name.start(), m.end()
                out.append(_value(ValueType.ORGANISATION, sentence, s, e, _org_name(sentence[s:e]), []))
    return out


def _org_name(raw: str) -> str:
    """NFKC, and drop spaces PDF extraction put between Japanese characters (keep 「NTT DATA」)."""
    text = unicodedata.normalize("NFKC", raw)
    return re.sub(r"(?<![A-Za-z0-9])\s+|\s+(?![A-Za-z0-9])", "", text)
