"""Sentence modality and subject: what a sentence of a call requires, and of whom.

Consumes one sentence (``str``) of a clause body, optionally with the heading of
the clause it sits in and a clause-level actor. Produces a :class:`Classification`:
a :class:`~pipeline.document.Modality` (obligation, prohibition, permission,
eligibility, deadline, recommendation or none), the actor it binds, and the name
of the rule that decided, so that every label can be explained.

Heavy dependencies: none (``re`` only). A caller holding a dependency parse
(GiNZA) may pass the subject it found as ``default_subject``.

How it works. Japanese puts the modality in the predicate at the end of the
sentence, so the rules look at the *end* of the main clause after three cuts:

1. text inside 「」 and 『』 is dropped (a quoted title such as
   「…してはならない」 is not the sentence's own predicate);
2. parenthetical asides （…） / (...) are dropped (「（金額の変更を除く。）」
   after 「変更を認めます」 must not turn a permission into an exclusion);
3. a trailing 「〜ので、注意してください」 is cut: the warning only repeats the
   force of the clause before it (「認められませんので、注意してください」 is a
   prohibition, not an obligation to pay attention).

Then :data:`RULES` is tried in order and the first match wins; a few rules need
the clause heading (:data:`HEADING_RULES`, tried first), e.g. a bare
「〜を有すること」 under 「応募者の資格要件」 is eligibility, while the same ending
elsewhere is an obligation.

The rule set is versioned as :data:`MODALITY_RULES`; change the name whenever a
change to the tables below can change an output.
"""

# ruff: noqa: E501  (the rule tables are data: one rule per line reads better than wrapped regexes)
from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.document import Modality

__all__ = [
    "ACTORS",
    "HEADING_RULES",
    "MODALITY_RULES",
    "RULES",
    "Classification",
    "classify",
    "split_sentences",
]

MODALITY_RULES = "modality_rules.v1"

# Longest first, so that 伴走支援事業者 wins over 事業者 and 委託予定先 over 委託先.
ACTORS: tuple[str, ...] = tuple(
    sorted(
        (
            "伴走支援事業者",
            "補助事業者",
            "間接補助事業者",
            "中小企業者",
            "小規模事業者",
            "事業者",
            "応募者",
            "申請者",
            "共同申請者",
            "提案者",
            "採択者",
            "受託者",
            "委託先",
            "委託予定先",
            "再委託先",
            "受注者",
            "落札者",
            "実施機関",
            "代表機関",
            "支援機関",
            "事業主",
            "事務局",
            "地方公共団体",
            "都道府県",
            "市区町村",
            "支援地域",
            "参加者",
            "常駐支援者",
            "業務従事者",
            "プロジェクトマネージャー",
            "プロジェクトリーダー",
            "業務統括責任者",
            "コンソーシアム",
            "幹事法人",
            "法人",
            "労働者",
            "ＭＦ登録者",
            "承認申請者",
            "承認取得者",
            "事故当事者",
            "専門家等",
        ),
        key=len,
        reverse=True,
    )
)

# A noun that names an actor by its suffix: 〇〇者, 〇〇団体, 〇〇機関, 〇〇法人, 〇〇局, 〇〇省,
# or a company name. Particles and punctuation cannot be inside the noun.
# Hiragana is excluded too: actor nouns are kanji/katakana, and 「申請できる者」 is a relative clause, not a noun.
_NOUN_CHAR = r"[^\s、。，．,.「」『』（）()：:・又及並若或ぁ-ん]"
GENERIC_ACTOR = re.compile(
    rf"(?:(?:株式会社|一般社団法人|一般財団法人|公益財団法人|公益社団法人){_NOUN_CHAR}+"
    rf"|{_NOUN_CHAR}{{0,10}}(?:事業者|者|団体|機関|法人|局|省|庁|会社))$"
)

# Topic/subject markers after an actor noun, strongest first: a は-topic names who
# the sentence is about more reliably than a が-subject, which is often inside a
# subordinate 〜場合 clause.
_TOPIC_MARKERS: tuple[str, ...] = ("においては", "にあっては", "には", "では", "は")
_SUBJECT_MARKERS: tuple[str, ...] = ("が",)

# Clause headings that make a bare 〜こと item a condition on who may apply or what is covered.
ELIGIBILITY_HEADING = re.compile(
    r"資格|要件|応募できる者|申請できる者|対象者|適格|欠格|経験[・、]?能力|対象経費|補助対象|支給対象|対象となる|応募条件|申請者及び"
)
# Clause headings under which a bare date is a due date.
DEADLINE_HEADING = re.compile(r"期間|期限|締切|締め切り|〆切|受付")

# Dates and times as printed in calls: 令和7年2月10日, 2月28日（金）, 2026年4月7日, 17:00, 午後5時, 正午.
_NUM = r"[0-9０-９一二三四五六七八九十元]+"
DATE = re.compile(
    rf"(?:(?:令和|平成|R|Ｒ)?\s*{_NUM}\s*年\s*)?{_NUM}\s*月\s*{_NUM}\s*日"
    rf"|{_NUM}\s*[/／]\s*{_NUM}\s*[（(][月火水木金土日][）)]"
)
TIME = re.compile(rf"{_NUM}\s*[:：]\s*{_NUM}|(?:午前|午後)?\s*{_NUM}\s*時|正午")
DEADLINE_WORD = re.compile(r"締切|締め切|〆切|期限|必着|まで|以内|受付期間|募集期間|公募期間|応募期間")
# Words that make a date a plan or an example rather than a due date.
NOT_DEADLINE_WORD = re.compile(r"予定|想定|頃|目途|目処|目安|から適用|以降")
# A due time relative to an event: 遅くとも1時間以内に, 14日以内に.
RELATIVE_LIMIT = re.compile(rf"遅くとも|{_NUM}\s*(?:時間|日|営業日|週間|か月|ヶ月|カ月)以内に")

# What is left of a sentence that is only a date/time (range) once the dates are taken out.
_DATE_FILLER = re.compile(r"^(?:[\s～~〜\-－‐ー・、,]|から|まで|及び|同年|の)*$")

# Every regex below is searched in the *cleaned* sentence (quotes and asides dropped,
# trailing 。 stripped); most are anchored at its end, where the predicate is.
_E = r"\s*$"
# fmt: off
RULES: tuple[tuple[str, Modality, re.Pattern[str]], ...] = tuple(
    (name, modality, re.compile(pattern))
    for name, modality, pattern in (
        # --- descriptions that only look like rules -------------------------------------
        ("none.assumption",     Modality.NONE, r"(?:想定|予定)(?:して|され|し)?(?:います|いる|おります|おり|です|である)" + _E),
        ("none.possibility",    Modality.NONE, r"(?:場合|こと)が(?:あります|ある|あり得ます|ございます)" + _E),
        ("none.not_necessarily", Modality.NONE, r"わけ(?:では|で)(?:ありません|ない)" + _E),
        ("none.purpose",        Modality.NONE, r"(?:を|が)目的と(?:する|します|している|しています)" + _E),
        ("none.definition",     Modality.NONE, r"(?:を|と)いう" + _E),
        ("none.interpretation", Modality.NONE, r"(?:を含む|とみなす)ものと(?:する|します)" + _E),
        # --- due dates --------------------------------------------------------------------
        ("deadline.relative",   Modality.DEADLINE, RELATIVE_LIMIT.pattern),
        # --- eligibility: costs (経費) that can or cannot be charged -------------------------
        ("eligibility.cost",    Modality.ELIGIBILITY,
         r"(?:経費|費用|計上|旅費|賃借料|人件費)[^。]*(?:計上でき|計上することができ|含めることができ|認められ(?:ません|ない)"
         r"|対象(?:と|に)(?:します|する|なります|なりません|しません)|対象外|自己負担|限り)"),
        # --- eligibility: who may apply, what is covered -----------------------------------
        ("eligibility.label",   Modality.ELIGIBILITY, r"^(?:申請者|応募者|申請できる数|応募できる数|応募資格|申請資格|対象者|支援対象|補助対象者)\s*[：:]"),
        ("eligibility.disqualify", Modality.ELIGIBILITY, r"欠格|無効と(?:します|する|なります)|(?:応募|申請|提案)は(?:受け付け|受付|受理し)(?:ません|ない)"),
        ("eligibility.not_selected", Modality.ELIGIBILITY, r"(?:委託予定先|採択|選定|支給|補助)(?:の対象)?と(?:しません|しない|なりません|ならない)" + _E),
        ("eligibility.requirements", Modality.ELIGIBILITY, r"要件を(?:全て|すべて)?満たす"),
        ("eligibility.limited", Modality.ELIGIBILITY, r"に限(?:ります|る|り(?:です|ます)?|らせて(?:頂|いただ)きます|定(?:します|する|されます))" + _E),
        ("eligibility.excluded", Modality.ELIGIBILITY, r"(?:を除く|を除きます|対象外(?:です|とします|となります)?|対象と(?:なりません|しません|ならない|しない))" + _E),
        ("eligibility.can_be_target", Modality.ELIGIBILITY, r"対象とすることができる(?:こと)?" + _E),
        ("eligibility.target",  Modality.ELIGIBILITY, r"(?:を|の)対象と(?:します|する|しています|なる(?:こと)?|なります|すること(?:ができる(?:こと)?)?)" + _E),
        ("eligibility.select",  Modality.ELIGIBILITY, r"満たす[^。]*を選定(?:します|する)" + _E),
        ("eligibility.not_accepted", Modality.ELIGIBILITY, r"者による(?:応募|申請|提案)は[^。]*(?:受け付け|受理し)(?:ません|ない)" + _E),
        # --- prohibitions -----------------------------------------------------------------
        ("prohibition.naranai", Modality.PROHIBITION, r"(?:て|で)は(?:なら|いけ)(?:ない|ず|ません)(?:もの(?:と|で)(?:します|する|いたします|あること))?(?:こと)?" + _E),
        ("prohibition.kinshi",  Modality.PROHIBITION, r"禁止(?:し[、，]|します|する|とします|とする|です|されています|されている|事項)"),
        ("prohibition.dekinai", Modality.PROHIBITION, r"(?:でき|いただけ)(?:ません|ない(?:こと|もの(?:と|で)(?:します|する|いたします|あること))?)" + _E),
        ("prohibition.mitomenai", Modality.PROHIBITION, r"(?:認め|受け付け|受理し)(?:られ)?(?:ません|ない(?:こと|もの(?:と|で)(?:します|する|いたします))?)" + _E),
        ("prohibition.polite",  Modality.PROHIBITION, r"ご?遠慮(?:ください|下さい|願います|いただきます)|お断り(?:いたします|します|致します)|いたしかねます|致しかねます|差し控え"),
        ("prohibition.naide",   Modality.PROHIBITION, r"ないで(?:ください|下さい)" + _E),
        ("prohibition.shinai",  Modality.PROHIBITION, r"(?:し|せ|わ|さ|け|め|れ|え|べ|ち|ま)ない(?:こと|ように(?:してください|すること))" + _E),
        # --- permissions, including double negatives ---------------------------------------
        ("permission.not_needed", Modality.PERMISSION, r"必要は(?:ありません|ない|ございません)|(?:義務|必須)(?:では|で)(?:ありません|ない)"),
        ("permission.optional", Modality.PERMISSION, r"任意(?:です|とします|である|であること)?" + _E),
        ("permission.no_objection", Modality.PERMISSION, r"差し支え(?:ありません|ない)|(?:構い|かまい)ません|結構です|妨げ(?:ません|ない)|拒むものでは(?:ない|ありません)|ない(?:という)?ことは(?:ない|ありません)" + _E),
        ("permission.ka",       Modality.PERMISSION, r"(?:も|は)?可(?:とします|とする|です|能です|能である(?:こと)?|能とします)?" + _E),
        ("permission.dekiru",   Modality.PERMISSION, r"(?:でき|得)(?:ます|る(?:もの(?:と|で)(?:します|する|あること))?|ること)" + _E),
        ("permission.mitomeru", Modality.PERMISSION, r"認め(?:ます|る|られます)" + _E),
        # --- recommendations ----------------------------------------------------------------
        ("recommendation.nozomashii", Modality.RECOMMENDATION, r"望ましい|望まれ(?:ます|る)|推奨|お勧め|お薦め|おすすめ"),
        ("recommendation.tsutomeru", Modality.RECOMMENDATION, r"努め(?:ること|てください|て下さい|るものとします|るものとする|る|ます)" + _E),
        # --- obligations ----------------------------------------------------------------------
        ("obligation.must",     Modality.OBLIGATION, r"なければ(?:ならない|なりません|ならず)|なくては(?:ならない|なりません)|ねばならない"),
        ("obligation.duty",     Modality.OBLIGATION, r"責務を負う|義務を負う|義務(?:があります|がある)"),
        ("obligation.necessary", Modality.OBLIGATION, r"必要(?:があります|がある(?:こと)?|です|となります|とします|であること)" + _E),
        ("obligation.require",  Modality.OBLIGATION, r"を要(?:します|する)|必須(?:です|とします)?" + _E),
        ("obligation.monotosuru", Modality.OBLIGATION, r"ものと(?:します|する|いたします|致します)" + _E),
        ("obligation.kudasai",  Modality.OBLIGATION, r"(?:ください|下さい|いただきます|頂きます|願います|お願い(?:します|いたします|致します))" + _E),
        ("none.descriptive_koto", Modality.NONE, r"(?:もの|情報|とおり|通り)であること" + _E),
        ("obligation.koto",     Modality.OBLIGATION, r"こと" + _E),
    )
)

# Tried before RULES: (name, heading regex, sentence regex, modality).
HEADING_RULES: tuple[tuple[str, re.Pattern[str], re.Pattern[str], Modality], ...] = tuple(
    (name, re.compile(heading), re.compile(sentence), modality)
    for name, heading, sentence, modality in (
        # A state, not an action, listed under a qualification heading: 〜を有すること, 〜であること.
        ("heading.eligibility_state", ELIGIBILITY_HEADING.pattern,
         r"(?:有する|有している|ている|てる|である|でない|ではない|できる|満たす|満たしている|該当する|該当しない|受けていない|確実である|在籍する|所属する)こと" + _E
         + r"|(?:者|法人|団体|機関)" + _E
         + r"|を?必要と(?:します|する)" + _E + r"|を要(?:します|する)" + _E,
         Modality.ELIGIBILITY),
        # A bare noun phrase listed under 「対象とならない経費」 or 「応募資格」: an item of the list.
        ("heading.eligibility_item", ELIGIBILITY_HEADING.pattern + r"|経費",
         r"[^するいたことだでしまんうくぐぶむぬつ]" + _E, Modality.ELIGIBILITY),
    )
)
# fmt: on

# Leading list markers: ・, -, ①, (1), （１）, 1., １．, ア., イ , a., 【…】 is left alone (it is a label).
_MARKER = re.compile(
    r"^(?:\s*(?:[-‐－•・●○◎◇◆■□▪※＊*]|[①-⑳㉑-㉟]|[（(]\s*[0-9０-９a-zA-Zａ-ｚア-ンｱ-ﾝｲ-ﾝ一-十]{1,3}\s*[）)]"
    r"|[0-9０-９]{1,2}\s*[.．、)）](?![0-9０-９])|[一二三四五六七八九十]{1,2}\s*[.．]|[a-zａ-ｚ]\s*[.．]|[ア-ン]\s*[.．、\s　]|[ⅰ-ⅹⅠ-Ⅹ]\s*[.．]?|[0-9０-９]{1,2}\s+(?![0-9０-９]*\s*[年月日時分条項号名人件円%％万千億]))\s*)+"
)
# The same markers for re.match(text, pos): '^' would only match at the very start of the text.
_ITEM_START = re.compile(_MARKER.pattern.removeprefix("^"))
_QUOTED = re.compile(r"「[^「」]*」|『[^『』]*』")
_PAREN = re.compile(r"[（(][^（）()]*[）)]")
_TRAILING = re.compile(r"[\s。．.、，,]+$")
# 「〜ので、(提案書作成の際には特に)注意してください」: the warning repeats the force of what precedes it.
_WARNING_TAIL = re.compile(r"(?:ので|ため)[、，]?[^。]{0,24}?(?:ご)?(?:注意|留意)(?:して|の上|し)?[^、。]{0,12}$")
_LABEL_ACTOR = re.compile(r"^(?:申請者|応募者|対象者|応募資格者)\s*[：:]\s*([^、。，\s（(]+?)(?:$|[、。，\s（(])")
_HEADING_ACTOR = re.compile("(" + "|".join(map(re.escape, ACTORS)) + ")(?:の|が|は|として|に)")
_DATE_OR_TIME = re.compile(f"(?:{DATE.pattern})|(?:{TIME.pattern})")


@dataclass(frozen=True)
class Classification:
    """The modality of one sentence, the actor it binds and the rule that decided.

    Attributes:
        modality: obligation, prohibition, permission, eligibility, deadline,
            recommendation or none.
        subject: the actor the sentence binds (「伴走支援事業者」, 「応募者」 …), or
            None when none is stated or implied, and always None for ``none``.
        rule: the name of the rule that fired (e.g. ``"prohibition.dekinai"``), for
            explanations and debugging.
    """

    modality: Modality
    subject: str | None
    rule: str


def classify(sentence: str, *, heading: str | None = None, default_subject: str | None = None) -> Classification:
    """Classify one sentence of a call by its modality and find the actor it binds.

    Args:
        sentence: one sentence, as printed (markers such as ①, ・, （１） may lead).
        heading: the heading of the clause the sentence sits in, used as context:
            a bare 〜こと item under 「応募者の資格要件」 is eligibility, a bare date
            under 「提出期限」 is a deadline.
        default_subject: the clause-level actor (the document's main applicant term,
            or a subject a parser found), used when the sentence states none and is
            not a plain description.

    Returns:
        A :class:`Classification` with the modality, the subject and the rule name.

    Example:
        >>> classify("伴走支援事業者は、本業務に係る情報を第三者に漏らしてはならない。").modality
        <Modality.PROHIBITION: 'prohibition'>
        >>> classify("説明会への出席は、義務ではありません。", default_subject="応募者")
        Classification(modality=<Modality.PERMISSION: 'permission'>, subject='応募者', rule='permission.not_needed')
        >>> classify("令和7年2月10日（月）～同年2月28日（金）午後5時", heading="（4）公募期間").modality
        <Modality.DEADLINE: 'deadline'>
    """
    text = _clean(sentence)
    modality, rule = _modality(text, heading)
    if modality is Modality.NONE:
        return Classification(modality, None, rule)
    subject = find_subject(text) or (_heading_actor(heading) if heading else None) or default_subject
    return Classification(modality, subject, rule)


def find_subject(sentence: str) -> str | None:
    """The actor named as topic (〇〇は、) or subject (〇〇が) of a sentence, if any.

    A known actor (:data:`ACTORS`) or a noun ending in 者/事業者/団体/機関/法人/局/省
    counts; a は-topic is preferred to a が-subject.

    Example:
        >>> find_subject("（１）ＭＦ登録者は、承認申請者等に対して事前に通知すること。")
        'ＭＦ登録者'
    """
    text = _clean(sentence)
    if m := _LABEL_ACTOR.match(text):  # 「申請者：都道府県」 names the actor after the colon
        return m.group(1)
    for markers in (_TOPIC_MARKERS, _SUBJECT_MARKERS):
        best: tuple[int, str] | None = None
        for marker in markers:
            start = 0
            while (i := text.find(marker, start)) != -1:
                start = i + 1
                actor = _actor_ending_at(text[:i])
                if actor and (best is None or i < best[0]):
                    best = (i, actor)
                    break
        if best:
            return best[1]
    return None


def split_sentences(text: str) -> list[str]:
    """Split a clause body into sentences, keeping each one exactly as printed.

    A sentence ends at 。 (but not at a 。 inside 「」, 『』, （） or ()), and a new
    one starts at a line break followed by a bullet or a numbered item (・, -, ①,
    （１）, 1., ア …). Line breaks that only wrap a line are kept inside the
    sentence. Each sentence is a substring of ``text`` (only the whitespace around
    it is trimmed); empty pieces are dropped.

    Example:
        >>> split_sentences("以下の要件を満たすこと。\\n① 法人であること\\n② 「暴力団排除。」に同意すること。")
        ['以下の要件を満たすこと。', '① 法人であること', '② 「暴力団排除。」に同意すること。']
    """
    out: list[str] = []
    depth = 0
    start = 0
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch in "「『（(":
            depth += 1
        elif ch in "」』）)":
            depth = max(0, depth - 1)
        elif ch == "。" and depth == 0:
            # A closing bracket right after 。 belongs to the sentence it closes.
            end = i + 1
            _append(out, text, start, end)
            start = end
        elif ch == "\n" and _starts_item(text, i + 1):
            _append(out, text, start, i)
            start = i + 1
            depth = 0  # an unbalanced bracket must not swallow the following items
        i += 1
    _append(out, text, start, n)
    return out


def _append(out: list[str], text: str, start: int, end: int) -> None:
    piece = text[start:end].strip()
    if piece:
        out.append(piece)


def _starts_item(text: str, pos: int) -> bool:
    m = _ITEM_START.match(text, pos)
    # A marker must be followed by content; a lone "1" starting a wrapped line (「13 年」) is not a marker.
    return m is not None and m.end() > pos and m.end() < len(text) and text[m.end()] != "\n"


def _clean(sentence: str) -> str:
    text = _QUOTED.sub("「」", sentence)
    previous = None
    while previous != text:  # nested asides: （…（…）…）
        previous = text
        text = _PAREN.sub("", text)
    text = _MARKER.sub("", text, count=1)
    return _TRAILING.sub("", text.strip())


def _modality(text: str, heading: str | None) -> tuple[Modality, str]:
    core = _WARNING_TAIL.sub("", text)
    core = _TRAILING.sub("", core) or text
    if _is_deadline(core, heading):
        return Modality.DEADLINE, "deadline.date"
    # The descriptive 'none' rules come first in RULES and must beat the heading context.
    for name, modality, pattern in RULES:
        if modality is not Modality.NONE or not name.startswith("none.") or name == "none.descriptive_koto":
            break
        if pattern.search(core):
            return modality, name
    if heading:
        for name, heading_re, sentence_re, modality in HEADING_RULES:
            if heading_re.search(heading) and sentence_re.search(core) and not _STRONGER.search(core):
                return modality, name
    for name, modality, pattern in RULES:
        if pattern.search(core):
            return modality, name
    return Modality.NONE, "none.no_rule"


# Endings that decide on their own even under a qualification heading.
_STRONGER = re.compile(r"望ましい|努め|(?:し|せ|わ)ないこと$|禁止")


def _is_deadline(text: str, heading: str | None) -> bool:
    dates = list(_DATE_OR_TIME.finditer(text))
    if not dates:
        return False
    if NOT_DEADLINE_WORD.search(text) and not re.search(r"締切|締め切|〆切|期限|必着", text):
        return False
    if DEADLINE_WORD.search(text):
        return True
    # A bare date (range) under 公募期間 / 提出期限, or a range that closes at a time of day.
    rest = _DATE_OR_TIME.sub("", text)
    if _DATE_FILLER.match(rest):
        if heading and DEADLINE_HEADING.search(heading):
            return True
        return bool(re.search(r"[～~〜]", text) and TIME.search(text))
    return False


def _heading_actor(heading: str) -> str | None:
    # 「a. プロジェクトマネージャーの経験・能力」, 「４ ＭＦ登録者が開示すべき情報」: the clause is about that actor.
    m = _HEADING_ACTOR.match(_MARKER.sub("", heading.strip().lstrip("#* "), count=1))
    return m.group(1) if m else None


def _actor_ending_at(prefix: str) -> str | None:
    for actor in ACTORS:
        if prefix.endswith(actor):
            return actor
    m = GENERIC_ACTOR.search(prefix)
    if m and len(m.group(0)) >= 2:
        return m.group(0)
    return None
