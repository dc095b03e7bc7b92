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
3. a trailing 「〜ので、注意してください」 or 「〜ので、ご了承ください」 is cut: the
   warning only repeats the force of the clause before it (「認められませんので、
   注意してください」 is a prohibition, not an obligation to pay attention).

Then :data:`RULES` is tried in order and the first match wins; a few rules need
the clause heading (:data:`HEADING_RULES`, tried first), e.g. a bare
「〜を有すること」 under 「応募者の資格要件」 is eligibility, while the same ending
elsewhere is an obligation.

Two cases look past the last predicate (``modality_rules.v2``):

- a chain whose first link carries the rule: 「Aを認めますが、Bしてください」 and
  「Aも可能ですので、Bしてください」 keep the permission (or ban) of A over the
  procedure B; 「Aできるものとし、…場合があります」 keeps A;
- a plain-form statement (「…を開催します」「…を受ける。」「…こととします」「…ことが
  必要。」), which no rule decides, is a duty only if it binds the party doing the
  work: a stated subject (「実施機関は、」「受注者が、」) or, when none is stated,
  the caller's ``default_subject`` (the document's main actor, not the applicant).
  It describes, and is ``none``, when the issuer acts (「経済産業省から提供する」
  「選定結果は…通知します」, humble 「お知らせいたします」), when the verb states a
  state or a plan (「構成する」「目指す」), or when it sets a value (「…を上限とします」).

``modality_rules.v3`` adds what a predicate can and cannot be ordered to do and
what a chain's first link settles:

- a state of being a kind of party (「…労働者であること」「暴力団員等でないこと」),
  meeting a criterion (「当該基準に該当しない」) or a past fact (「…支払われなかったこと」)
  cannot be an order, so such items are eligibility, with or without a heading;
  so are cost-scope phrasings (「計上は不要」「経費に含まない」「本事業の対象は、…とする」)
  and labels (「受講対象：…」);
- a ban or a duty stated in the first link governs the chain (「取り扱わないものとし、…」
  「棚を設けることとし、…協議の上決定する」), and 「〜ないものとする」 is a ban;
- a plain 「…しない」 is a ban when its affirmative would bind the party doing the work;
  「この限りでない」 is an exemption (permission), 「…されたい」 a directive (obligation);
- a time limit inside a condition (「3か月以内に離職した場合」) is not a due date, while
  one counted from an event (「初回の認定日までに」「契約締結後おおむね６か月で」) is;
- in a procurement specification (main actor 受注者/受託者) the 事務局 is the office the
  contractor runs, so its plain-form tasks are the contractor's duties.

``modality_rules.v4`` follows the written labelling guideline
(``tests/data/modality_guidelines.md``) on which all labelled sets were relabelled:
a duty with a time limit counted from an event is a deadline; cost borne, caps
(「上限が…となります」「一の都道府県につき1件」), selection refusals and definitions of
a qualifying class are eligibility; 「努めなければならない」 and 「適当ではありません」 are
advice; a pointer (「…を参照すること」) and an issuer reserving a right (「事務局は…
できるものとします」) bind no reader; an aside that is the only predicate decides.

``modality_rules.v5`` adds, from the third sample: a marked item that is only a condition
(「ｂ …離職した場合」) is eligibility, as is 「…に該当する場合に適用する」; a contract or project
term (「契約期間は、…」) and a labelled date (「募集開始日：…」) are deadlines.

``modality_rules.v6`` follows guideline v2.2 and the errors on the fourth and fifth
samples: in a grant manual (main actor 事業主) an act listed under a case or a
requirement is a condition of the grant; the applicant's own posts and set-up under a
qualification heading are eligibility; headings naming a class of persons (「…の身体
障害者」) or a case (「…転換する場合」, 経過措置) make their bare items conditions; costs
not paid, payment limits and a selection that may be lost are eligibility; a rule
taking effect (「…から施行する」) binds nobody; a kanji numeral with a space (「六 …」)
marks an item.

``modality_rules.v7`` follows guideline v2.4: a bare item under a heading about costs (a
cost category) and a nominalised task (「…の提出」) are none, no longer eligibility. Scored on
the seventh sample before this change (v6: accuracy 0.780, requirements P 0.763 R 0.755).

``modality_rules.v8``: 「…が…を含まないこと」 is a state the deliverable must have (obligation), not
a banned act (three such sentences were read as prohibitions in the fourth to seventh samples).

``modality_rules.v9``: what a cost does not include (「補助対象経費には消費税を含まないものとします」) is
eligibility, a cost scope (guideline step 4), not a prohibition; no labelled sentence changes.

``modality_rules.v10``: a grant manual's 「…に対しては、…の支給はしない」 and 「…に定める額を支給する」, a cost
admitted (「…に限り、対象経費とします」), a cap stated as 「…を上限とします」, an entitlement written without a
comma (「…者に対し支給する」) are eligibility; 「…場合があること」 is a possibility (none). Written from the errors of
gold and fresh…fresh9 (8 sentences right that were wrong, none wrong that was right), before fresh10's errors
were read.

``modality_rules.v11``: a sentence is read under the clause tree's nearest *title* (「(2) 応募要件」「【新潟県】」,
label included), no longer under an item's own text (「① …を有すること」 was its own heading, so no heading rule
applied to it; see ``pipeline.nlp.sentence_contexts``); a title 「…の確認」 (支給要件の確認) is the issuer's checking
procedure: plain statements under it describe it, and its bare items are papers, not conditions. Over gold and
fresh…fresh10 read as the pipeline reads them, rules alone: accuracy 0.815 → 0.840. fresh11, drawn and labelled
blind after this version was committed and scored once: rules alone 0.808 (v10 as the pipeline ran it: 0.758).

``modality_rules.v12``: a unit price (「依頼業務1事案につき原則、50,000円（税抜き）とする」) says how much is paid
for the work, eligibility (guideline v2.2), no longer a setting (none); 4 sentences of the labelled sets change, all
to their label, one of them in fresh11, whose errors were read before this rule was written (rules alone over all
1,816: 0.838 → 0.840). Not yet scored on a blind sample.

``modality_rules.v13``: a clause has an *author* when a party other than the issuer wrote it: a call's annexes in
which each applicant region describes itself (「別添1-3 希望する伴走支援について（新潟県）」, see
``pipeline.nlp.sentence_contexts``). There a plain-form statement, a 〜ものとする, a 〜必要がある or a 〜に努める with
no subject of its own (「…勉強会を県主催で立ち上げる。」) is the region's own plan, none (guideline step 1: a plan
binds no reader); a sentence that names its actor (「伴走支援事業者は、…支援する。」) is read as before.

``modality_rules.v14``: a lease specification's lessor (賃貸人, 「賃貸人は、…設置すること」) is an actor and, like
受注者 and 受託者, a contractor: the main actor of such a document (``pipeline.nlp.ROLE_TERMS``) and the subject of
its duties, no longer 受注者 (which the 東京都 仮設校舎 specification names twice, 賃貸人 eighteen times).

``modality_rules.v15``: 〜います and 〜いる after a kanji are verbs of action (「実施機関は、…運営業務を行います」,
「扱います」「用いる」), not the 〜ています of a description, which the descriptive-verb list had taken them for; and
「公募を行います」 is the issuer's process. Over all 1,936 labelled sentences, rules alone: 10 right that were wrong
(nine of them 実施機関's work in the よろず call), 1 the other way (a 地方公共団体 call's account of the support it
will receive); accuracy 0.848 → 0.853, requirements R 0.805 → 0.814.

``modality_rules.v16``: an issuer in the last clause makes a plain-form sentence the issuer's procedure only when
it is that clause's agent (「…報告し、事務局が内容を確認する」), not when it sits in a relative clause that modifies a
noun (「受託者は、事務局が指定する様式を用いる」: the secretariat names the form, the contractor uses it). Noticed in
use, not written from a sample's errors; over all 2,056 labelled sentences it changes no answer.

``modality_rules.v17``: a list item that names a kind of person or case, ending in 〜もの or 〜者 with no topic of
its own (「ヌ 一上肢のすべての指の機能に著しい障害を有するもの」 under 「母子家庭の母等」, 「① …経営相談を専門的に行う
者」 under a coordinator's title), says who or what qualifies: eligibility, as the labels have it; not under a cost
heading, whose items are categories (guideline v2.4). Written from the errors over all 2,056 labelled sentences,
rules alone: 10 right that were wrong, none the other way; accuracy 0.853 → 0.857, requirements R 0.813 → 0.822.

``modality_rules.v18``: v17's kind of person or case needs the words that describe it before the noun (「…を有する
もの」「…以下のもの」「…が講じられた労働者」); a title line (「イ 対象者」「3. 実施地域及び支援対象者」) has none and is
not one, nor is an item that names a cost (「f. その他(諸経費):…経費であって、…もの」). v17 read six titles and two cost
items of the five calls as eligibility; v18 reads four sentences there so, all four coordinator profiles. The
labelled sentences score as with v17.

``modality_rules.v19``: a courtesy standing alone (「あらかじめご了承ください。」「何卒ご理解のほど…」) is none: the
sentence before it carries the force, as 「…ので、ご了承ください」 already was. Written from the errors of fresh14 (142
sentences, scored blind with v18: rules alone 0.824 / 0.785 / 0.761, with the model 0.859 / 0.818 / 0.806); it
changes that one sentence among the 2,198 labelled.

``modality_rules.v20`` changes what the pipeline passes to these rules, not the rules: the default subject of a
sentence is the main actor of its section where another party is the topic or subject (「受注者は」「受注者が」) of the
section's sentences at least three times and more than twice as often as the enclosing main actor
(``pipeline.nlp.DocumentActors.within``). The よろず call's information-security part binds 受注者, not the call's
実施機関. Over the 2,198 labelled sentences the modalities are as with v19; subjects are right for 0.563 of those that
name one, against 0.515 (0.616 against 0.564 of the requirements read as such; rules alone 0.551 against 0.505).

``modality_rules.v21`` changes subjects, not the rules' modalities: a が-subject inside a relative or subordinate
clause (「事務局が指定する期日までに、…提出すること」「利用者が確認できるように」「労働者が同意した場合は」) is not the
sentence's subject (``find_subject`` reads the next が, then the heading and the default); and 相談 in a heading means
applying only where it does not name a desk (the よろず call's 「ワンストップ相談窓口」 sections bind 実施機関, not the
applicant). Over the 2,198 labelled sentences, rules alone, the modalities are as with v20; subjects are right for 0.575
of those that name one, against 0.551 (0.651 against 0.624 of the requirements read as such); with the model, 0.587
against 0.563 (0.642 against 0.616).

``modality_rules.v22`` changes no modality either: a plain duty (``obligation.plain``, ``obligation.plain_strong``,
``obligation.monotosuru``) whose sentence names its actor as topic, and an actor other than the issuer
(「伴走支援事業者は、…保存するものとします」「実施機関は、…運営業務を行います」), is marked ``@stated``, and the learned model
keeps that answer (``pipeline.nlp.learned.TRUSTED_RULES``). Of the 2,342 labelled sentences, 46 are such duties:
the rules were right on 35, the model trained without each sentence's family (``modality_model.v2``) on 29.

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
    "find_subject",
    "issuer_reserves_right",
    "split_sentences",
    "subject_of",
]

MODALITY_RULES = "modality_rules.v22"

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
            "賃貸人",
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
            "賃貸人",
            "賃借人",
            "委託事業者",
            "契約相手方",
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
# What follows a が-subject that belongs to a subordinate clause, before the clause's first comma: a verb in its
# plain form (ending in る, た, う or ない: する, された, できる, しない …) and the noun it modifies
# (「事務局が指定する期日」「支援地域が希望する支援内容」「中小企業庁が定める「」」), or a conjunction that makes the
# clause a condition, time, reason or purpose (「労働者が同意した場合は」「…に際して」「被保険者が離職したため」
# 「利用者が確認できるように」); 国際・実際・交際 are words, not 〜の際.
_SUBORDINATE_AFTER = re.compile(
    r"[^、。]*?(?:(?:ない|[るたう])[「一-龥ァ-ヶー々]|場合|とき|(?<![国実交])際|ため|ように|ような|ので)"
)

# Clause headings that make a bare 〜こと item a condition on who may apply or what is covered.
ELIGIBILITY_HEADING = re.compile(
    r"資格|要件|応募できる者|申請できる者|対象者|適格|欠格|経験[・、]?能力|対象経費|補助対象|支給対象|対象となる|応募条件|申請者及び"
    r"|(?:いずれか|全て|すべて)に該当する(?:者|もの|事業主)"
    # a grant manual's case headings: 「イ 雇用する有期雇用労働者等を正規雇用労働者等に転換する場合」, 経過措置
    r"|(?:する|した|される|された|である|となった)場合$|経過措置"
    # a heading naming a class of persons: 「(ホ) 社会的事情により就職が著しく阻害されている者」「…の身体障害者」
    r"|(?:[いるたのな]|障害)者$"
    # 「…に参加するデジタル人材は以下を想定」: the profile of the persons sought (guideline v2.3)
    r"|(?:者|人材)は以下を想定"
)
# Clause headings under which a 〜こと sentence is a nominalised aim or background, not a duty.
DESCRIPTIVE_HEADING = re.compile(r"目的|背景|趣旨|経緯|概要|はじめに")
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
# Events that open a period in place of a date: 「契約締結日～令和9年3月31日」.
_PERIOD_START = r"契約(?:締結|確定)(?:の)?日(?:の翌日)?|委託契約締結日|交付決定(?:の)?日|採択(?:決定)?日|事業開始日"
# Words that make a date a plan or an example rather than a due date.
NOT_DEADLINE_WORD = re.compile(r"予定|想定|頃|目途|目処|目安|から適用|以降")
# A due time relative to an event: 遅くとも1時間以内に, 14日以内に.
RELATIVE_LIMIT = re.compile(
    rf"遅くとも|{_NUM}\s*(?:時間|日|営業日|週間|か月|ヶ月|カ月|箇月)以内に"
    # 「コース実施日の前日までに」「…から起算して1か月前の日までに」: a day fixed relative to an event
    r"|(?:の|は)?(?:前日|翌日|末日|前々日)までに|起算して[^。]{0,20}日までに"
    # 「採用された日から 週間以内に」 (a blank left for the number in a model rule)
    rf"|日から\s*(?:{_NUM})?\s*(?:日|週間|か月|ヶ月|カ月|箇月|年)以内に"
    # 「初回の認定日までに」「契約締結日までに」: a day named by its event
    r"|(?:認定|提出|申請|締結|開始|終了|完了|開催|納入|納品|交付決定)日までに"
    # 「契約締結後おおむね６か月で完了させること」: a period counted from an event
    rf"|後(?:おおむね|概ね|原則)?\s*{_NUM}\s*(?:時間|日|営業日|週間|か月|ヶ月|カ月|箇月|年)(?:以内)?で(?:完了|終了|提出|報告|納品|納入)"
)

# What is left of a sentence that is only a date/time (range) once the dates are taken out.
_DATE_FILLER = re.compile(rf"^(?:[\s～~〜\-－‐ー・、,]|から|まで|及び|同年|の|{_PERIOD_START})*$")

# Every regex below is searched in the *cleaned* sentence (quotes and asides dropped,
# trailing 。 stripped); most are anchored at its end, where the predicate is.
_E = r"\s*$"
# fmt: off
RULES: tuple[tuple[str, Modality, re.Pattern[str]], ...] = tuple(
    (name, modality, re.compile(pattern))
    for name, modality, pattern in (
        # --- descriptions that only look like rules -------------------------------------
        # 「伴走支援事業者は、シンクタンク…等の事業者を想定しています」: the intended profile of a party or post (v2.3)
        ("eligibility.profile", Modality.ELIGIBILITY, r"^[^。]{0,40}?(?:者|人材|ーター|法人|企業)(?:等)?は、?[^。]*?(?:(?:者|事業者|企業|法人|団体|機関|人材|候補|ベンダ)(?:等)?|「」)を想定(?:して|し)?(?:います|いる|します|する|しております|おります)?" + _E),
        ("none.assumption",     Modality.NONE, r"(?:想定|予定)(?:して|され|し)?(?:います|いる|おります|おり|です|である)" + _E),
        # 「…変更があった場合には、不採択となることがあります」: a conditional loss of a selection (v2.1)
        ("eligibility.may_lose", Modality.ELIGIBILITY, r"(?:不採択|採択(?:の)?取(?:り)?消し?|契約(?:の)?解除|対象外)と(?:なる|する)(?:場合|こと)が(?:あります|ある)(?:こと)?" + _E),
        ("none.possibility",    Modality.NONE, r"(?:場合|こと)[がも](?:あります|ある|あり得ます|ございます)(?:こと)?" + _E),
        ("none.not_necessarily", Modality.NONE, r"わけ(?:では|で)(?:ありません|ない)" + _E),
        ("none.purpose",        Modality.NONE, r"(?:を|が)目的と(?:する|します|している|しています)" + _E),
        ("none.definition",     Modality.NONE, r"(?<!者を)(?<!者と)(?:を|と)いう" + _E),
        # 「※以下も必ず参照すること」「詳細は別紙を参照してください」: a pointer, not a duty
        ("none.pointer",        Modality.NONE, r"(?:参照|ご覧)(?:ください|下さい|すること|のこと|して(?:ください|下さい))" + _E),
        ("none.interpretation", Modality.NONE, r"(?:を含む|とみなす|に該当する)ものと(?:する|します)" + _E),
        # 「…をもって採択者とするものとします」: a status is assigned, nobody is bound
        ("none.designation",    Modality.NONE, r"(?<!必須)(?<!義務)とするものと(?:する|します)" + _E),
        # 「当該限定とは、…該当するものとする」: a definition by とは
        ("none.toha",           Modality.NONE, r"とは[、，][^。]*(?:ものと(?:する|します)|(?:もの|こと)(?:です|である)|を指(?:す|します))" + _E),
        # 「…できない場合もありますのでご了承ください」: a possible outcome, not an instruction
        ("none.notice",         Modality.NONE, r"(?:場合|こと)(?:も|が)(?:あります|ある|ございます)(?:ので|ため)[、，]?[^。]{0,20}(?:了承|承知|理解)[^。]{0,12}" + _E),
        # 「あらかじめご了承ください。」 alone: a courtesy about what the sentence before it said, which carries the force
        ("none.courtesy",       Modality.NONE, r"^(?:あらかじめ|予め|何卒|なにとぞ)?[、，]?(?:ご|御)?(?:了承|承知|理解|容赦)(?:くださいますよう|のほど)?[^、。]{0,12}" + _E),
        # 「事業実施には予算案の可決・成立が必要となります」: a condition on an event, not on an actor
        # 「…「雇用安定事業の実施等について」は平成29年４月１日から施行する」: when a rule takes effect
        ("none.enactment",      Modality.NONE, r"(?:から|より)(?:施行|適用)(?:する|します|される|されます)" + _E + r"|は廃止(?:する|します)" + _E),
        ("none.budget_condition", Modality.NONE, r"(?:成立|可決|議決)(?:等)?(?:が|を)必要と(?:なります|なる|します|する)" + _E),
        # --- due dates --------------------------------------------------------------------
        # a limit inside a condition (「3か月以内に離職した場合」) is not the main predicate
        ("deadline.relative",   Modality.DEADLINE, rf"(?:{RELATIVE_LIMIT.pattern})(?![^。]*(?:場合|とき))"),
        # 「本助成金の支給申請期間は、…から起算して２か月以内です」: the window itself is the point
        ("deadline.window",     Modality.DEADLINE, r"(?:申請|提出|申込|申し込み|受付|募集|応募|公募|契約|事業実施|実施|委託)(?:の)?期間(?:は[、，]|[：:])"),
        # --- eligibility: costs (経費) that can or cannot be charged -------------------------
        ("eligibility.cost",    Modality.ELIGIBILITY,
         r"(?:経費|費用|計上|旅費|賃借料|人件費)[^。]*(?:計上でき|計上することができ|含めることができ|認められ(?:ません|ない)"
         r"|対象(?:と|に)(?:します|する|なります|なりません|しません)|対象外|自己負担|限り"
         r"|(?:支給|支払|支出)(?:され|し|い(?:たし)?|われ)(?:ません|ない)"
         r"|含ま(?:ない|れ(?:ない|ません)|ず)|含め(?:ない|ません))"),  # 「補助対象経費には消費税を含まないものとします」
        # --- eligibility: who may apply, what is covered -----------------------------------
        # 「会場借料の計上は不要とする」: the cost is not to be charged, not a favour to the applicant
        ("eligibility.cost_not_charged", Modality.ELIGIBILITY, r"計上(?:は|も)?(?:不要|必要(?:は|が)?(?:ない|ありません))"),
        ("eligibility.label",   Modality.ELIGIBILITY, r"^(?:申請者|応募者|申請できる数|応募できる数|応募資格|申請資格|対象者|支援対象|補助対象者)\s*[：:]"
         # 「受講対象：学生・社会人等」「参加資格：…」: a short label naming who is covered
         r"|^[^：:、。\s]{0,6}(?:対象|資格)者?\s*[：:]"),
        ("eligibility.disqualify", Modality.ELIGIBILITY, r"欠格|無効と(?:します|する|なります)|(?:応募|申請|提案)は(?:受け付け|受付|受理し)(?:ません|ない)"),
        ("eligibility.not_selected", Modality.ELIGIBILITY, r"(?:委託予定先|採択|選定|支給|補助)(?:の対象)?と(?:しません|しない|なりません|ならない)" + _E),
        # 「…の支給を受けた事業主に対しては、…助成金の支給はしない」: who a grant is not paid to (a grant or 「に対しては」
        # must be named: 「受託者は、謝金を支給しないものとする」 and 〜支給しないこと are the reader's bans)
        ("eligibility.not_paid", Modality.ELIGIBILITY, r"(?:に対しては|助成金|奨励金|給付金)[^。]*支給(?:は|を)?(?:しない|しません|行わない|行いません)(?:ものと(?:する|します))?" + _E),
        # 「次のイ又はロに掲げる区分に応じ、それぞれ当該区分に定める額を支給する」: how much a grant pays (not
        # 「受託者は、講師に対し、別表に定める額を支給するものとする」, a duty)
        ("eligibility.amount_paid", Modality.ELIGIBILITY, r"(?:に応じ|区分)[^。]*(?:額|円)を支給(?:する|します)" + _E),
        ("eligibility.requirements", Modality.ELIGIBILITY, r"要件を(?:全て|すべて)?満たす"),
        ("eligibility.limited", Modality.ELIGIBILITY, r"に限(?:ります|る|り(?:です|ます)?|らせて(?:頂|いただ)きます|定(?:します|する|されます))" + _E),
        ("eligibility.excluded", Modality.ELIGIBILITY, r"(?:を除く|を除きます|対象外(?:です|とします|とする|となります|となる)?|対象と(?:なりません|しません|ならない|しない))" + _E),
        ("eligibility.not_included", Modality.ELIGIBILITY, r"(?:経費|対象|委託費|補助金|助成金)(?:等)?に(?:は)?含(?:まれ(?:ません|ない)|ま(?:ない|ず)|め(?:ません|ない|られません|ることはできません))(?:こと)?" + _E),
        # 「…その状態が生じた者は含めない」: a class of persons left out of the definition
        ("eligibility.persons_excluded", Modality.ELIGIBILITY, r"(?:者|もの)(?:は|を)含め(?:ない|ません|ず)" + _E),
        # 「当該基準に該当しない」「次に該当する受給資格者が該当する」: who meets a criterion
        ("eligibility.criterion", Modality.ELIGIBILITY, r"(?:(?:基準|要件|条件|者|事業主|企業|法人)に|(?:者|もの|事業主)が)該当(?:する|しない|します|しません)(?:もの(?:です|である|とする|とします))?" + _E),
        # 「…は賃貸人の負担とします」: a cost the call does not cover
        ("eligibility.borne",   Modality.ELIGIBILITY, r"(?:の|が)(?:自己)?負担と(?:します|する|なります|なる)" + _E),
        # 「主に支援対象者は、…とします」「本事業の対象とする経費は、…のとおりです」: what the target is
        ("eligibility.target_topic", Modality.ELIGIBILITY, r"^[^。、]{0,30}?(?:対象者|支援対象|対象経費|対象事業者|対象となる[^、。は]{1,12}|対象とする[^、。は]{1,12}|の対象)は[、，][^。]*(?:とします|とする|です|である|となります)" + _E),
        ("eligibility.can_be_target", Modality.ELIGIBILITY, r"対象とすることができる(?:こと)?" + _E),
        # 「…と認める場合に限り、対象経費とします」
        ("eligibility.cost_target", Modality.ELIGIBILITY, r"対象経費と(?:します|する|なります|なる|しません|しない)" + _E),
        ("eligibility.target",  Modality.ELIGIBILITY, r"(?:を|の)対象と(?:します|する|しています|なる(?:こと)?|なります|すること(?:ができる(?:こと)?)?)" + _E),
        ("eligibility.select",  Modality.ELIGIBILITY, r"満たす[^。]*を選定(?:します|する)" + _E),
        # 「都道府県・市区町村の費用負担はありません」「応募に要する一切の費用は、応募者において負担していただきます」
        ("eligibility.cost_borne", Modality.ELIGIBILITY, r"(?:費用|経費|手数料)[^。]*負担(?:は(?:ありません|ない|生じません)|して(?:いただきます|いただく|ください)|となります|とします)" + _E),
        # 「事業規模の上限が5000万円となります」「…の支給申請上限人数は、…名までとする」: a cap on how much or how many
        # 「予算規模：182,000千円（税込み）を上限とします」
        ("eligibility.cap_as",  Modality.ELIGIBILITY, r"を上限と(?:します|する|なります|なる)(?:こと)?" + _E),
        ("eligibility.cap",     Modality.ELIGIBILITY, r"上限(?:額|人数|件数|数)?(?:は|が)[、，]?[^。]*(?:となります|とします|とする|です|である|まで)" + _E),
        # 「支払額は、委託契約額の範囲内で、事業に要した費用の合計となります」: how much of the costs is paid (v2.2)
        ("eligibility.payment", Modality.ELIGIBILITY, r"支払(?:額|金額)は[、，]?[^。]*(?:範囲内|上限|限度|以内)"),
        # 「依頼業務1事案につき原則、50,000円（税抜き）とする」: a unit price, how much is paid for the work (v2.2)
        ("eligibility.unit_price", Modality.ELIGIBILITY, r"(?<!同)(?:[0-9０-９]+|一)\s*(?:事案|件|日|時間|人|名|回|コマ|単位)につき[、，]?[^。]*?[0-9０-９,，.．]+\s*(?:円|千円|万円)(?:[（(][^）)]*[）)])?(?:とする|とします)" + _E),
        # 「各都道府県につき、1件」「一の都道府県につき一の申請とします」
        ("eligibility.per_unit", Modality.ELIGIBILITY, rf"につき[、，]?\s*(?:{_NUM}|一)\s*(?:件|名|人|回|申請|社|者)"),
        # 「…は、選定しません」「採択いたしません」
        ("eligibility.not_chosen", Modality.ELIGIBILITY, r"(?:選定|採択)(?:し|いたし|致し)ません" + _E),
        # 「就職困難な者とは、…をいう」「…を特定受給資格者といい」: a definition of a qualifying class
        ("eligibility.class_definition", Modality.ELIGIBILITY, r"(?:者|事業主|労働者)(?:等)?とは[、，][^。]*(?:をいう|をいい|を指す|とする)|これを[^。]{0,12}者といい"),
        # 「次のイ又はロのいずれかに該当すること」: meeting a criterion is a state, never an act
        ("eligibility.meets",   Modality.ELIGIBILITY, r"いずれか(?:に|の)?該当(?:する|しない)(?:こと|もの|者)" + _E),
        # 「…出勤した労働者に対しては、１０日の年次有給休暇を与える」: an entitlement under a condition
        ("eligibility.entitlement", Modality.ELIGIBILITY, r"(?:者|労働者|事業主)に対(?:して|しては|し)[、，]?[^。]*(?:与える|支給する|付与する|支給します|付与します)" + _E),
        # 「この基準は、次のいずれかに該当する場合に適用する」: which cases qualify
        ("eligibility.applies_when", Modality.ELIGIBILITY, r"該当する場合に(?:適用|限り)"),
        ("eligibility.not_accepted", Modality.ELIGIBILITY, r"者による(?:応募|申請|提案)は[^。]*(?:受け付け|受理し)(?:ません|ない)" + _E),
        # --- prohibitions -----------------------------------------------------------------
        # double negatives first: 「差し支えないこと」 must not fall to 〜ないこと, 「求めません」 is not a ban
        ("permission.no_objection_koto", Modality.PERMISSION, r"(?:差し支え|差支え)(?:ない|ありません)(?:こと|もの(?:と|で)(?:する|します|あること))?" + _E),
        ("permission.not_required", Modality.PERMISSION, r"を(?:求め|要し)(?:ません|ない)(?:こと)?" + _E + r"|不要(?:です|とします|とする|である)?" + _E),
        ("prohibition.naranai", Modality.PROHIBITION, r"(?:て|で)は(?:ならない|ならず|なりません|いけない|いけません)(?:もの(?:と|で)(?:します|する|いたします|あること))?(?:こと)?" + _E),
        # 「…取り扱ってはならず、…遵守すること」: the ban is the main force of the chain
        ("prohibition.naranazu", Modality.PROHIBITION, r"(?:て|で)はならず[、，]"),
        # 「要機密情報を取り扱わないものとし、以下を措置する」: a ban in the first link governs the chain
        ("prohibition.nai_monotoshi", Modality.PROHIBITION, r"(?:し|せ|わ|さ|け|め|れ|え|べ|ち|ま)ない(?:もの|こと)とし[、，]"),
        ("prohibition.fuka",    Modality.PROHIBITION, r"不可(?:とします|とする|です|である|となります|となる)?" + _E),
        ("prohibition.kinshi",  Modality.PROHIBITION, r"禁止(?:し[、，]|します|する|とします|とする|です|されています|されている|事項)|禁(?:ずる|じる|じます|じられ(?:ている|ています|る|ます))$"),
        ("prohibition.dekinai", Modality.PROHIBITION, r"(?:でき|いただけ)(?:ません|ない(?:こと|もの(?:と|で)(?:します|する|いたします|あること))?)" + _E),
        ("prohibition.mitomenai", Modality.PROHIBITION, r"(?:認め|受け付け|受理し)(?:られ)?(?:ません|ない(?:こと|もの(?:と|で)(?:します|する|いたします))?)" + _E),
        ("prohibition.polite",  Modality.PROHIBITION, r"応じ(?:られ)?(?:ません|かねます)" + _E + r"|ご?遠慮(?:ください|下さい|願います|いただきます)|お断り(?:いたします|します|致します)|いたしかねます|致しかねます|差し控え"),
        ("prohibition.naide",   Modality.PROHIBITION, r"ないで(?:ください|下さい)" + _E),
        # 「提供するアプリケーションが脆弱性を含まないこと」: a state the deliverable must have, not a banned act
        # (「経費には消費税を含まないものとします」 is about costs, not a deliverable: the subject with が is required)
        ("obligation.not_contain", Modality.OBLIGATION, r"が[^。、]*?を含まない(?:こと(?:と(?:する|します))?|ものであること)" + _E),
        ("prohibition.shinai",  Modality.PROHIBITION, r"(?:し|せ|わ|さ|け|め|れ|え|べ|ち|ま)ない(?:こと|ように(?:してください|すること)|(?:もの|こと)と(?:する|します|いたします|致します))" + _E),
        # --- permissions, including double negatives ---------------------------------------
        ("permission.not_needed", Modality.PERMISSION, r"必要は(?:ありません|ない|ございません)|(?:義務|必須)(?:では|で)(?:ありません|ない)"),
        ("permission.optional", Modality.PERMISSION, r"任意(?:です|とします|である|であること)?" + _E),
        ("permission.no_objection", Modality.PERMISSION, r"差し支え(?:ありません|ない)|(?:構い|かまい)ません|(?:構わ|かまわ)ない|結構です|妨げ(?:ません|ない)|拒むものでは(?:ない|ありません)|ない(?:という)?ことは(?:ない|ありません)" + _E),
        # 「公知である情報については、この限りではありません」: an exemption from the rule before
        ("permission.exception", Modality.PERMISSION, r"(?:この|その)限りで(?:は)?(?:ない|ありません|ございません)" + _E),
        ("permission.ka",       Modality.PERMISSION, r"(?<!不)可(?:能)?(?:とします|とする|です|である(?:こと)?)?" + _E),
        # 「…てもよい」「…でもよい」
        ("permission.temoyoi",  Modality.PERMISSION, r"(?:て|で)も(?:よい|良い|よろしい|構わない)(?:こと|もの(?:と|で)(?:する|します|あること))?" + _E),
        # 得る is potential after a verb (「なり得る」), but 「承認を得ること」 is to obtain: a duty
        ("permission.dekiru",   Modality.PERMISSION, r"(?:でき|(?<![をがはも])得)(?:ます|る(?:もの(?:と|で)(?:します|する|あること))?|ること)" + _E),
        ("permission.mitomeru", Modality.PERMISSION, r"認め(?:ます|る|られます)" + _E),
        # --- recommendations ----------------------------------------------------------------
        ("recommendation.nozomashii", Modality.RECOMMENDATION, r"望ましい|望まれ(?:ます|る)|推奨|お勧め|お薦め|おすすめ"),
        # 「…の維持に努めなければならない」: a duty to endeavour is advice in force (guideline step 6)
        ("recommendation.tsutomeru_must", Modality.RECOMMENDATION, r"努めなければ(?:ならない|なりません)" + _E),
        # 「あまりに長い期間は適当ではありません」: advice against, not a ban
        ("recommendation.not_appropriate", Modality.RECOMMENDATION, r"(?:適当|適切|妥当)(?:では|で)(?:ない|ありません|なく)" + _E + r"|(?:適当|適切)(?:です|である)" + _E),
        ("recommendation.tsutomeru", Modality.RECOMMENDATION, r"努め(?:ること(?:と(?:する|します))?|ることを求め(?:る|ます|ている|ています)|てください|て下さい|るものとします|るものとする|る|ます)" + _E),
        # 「期限に余裕をもって送付してください」: advice on how, not a duty
        ("recommendation.advice", Modality.RECOMMENDATION, r"(?:余裕を(?:もって|持って)|なるべく|できるだけ|できる限り|可能な限り|お?早めに)(?![^。]*(?:速やか|直ちに|遅滞なく|早急))[^。]*(?:ください|下さい|お願い(?:します|いたします|致します)|こと)" + _E),
        # 「支援能力強化に努めるとともに、…共有する」: the effort verb governs the coordinated chain
        ("recommendation.tsutomeru_chain", Modality.RECOMMENDATION, r"努め(?:るとともに|つつ)[、，][^。]*(?:[うくぐすつぬぶむる]|ます)" + _E),
        # --- obligations ----------------------------------------------------------------------
        ("obligation.must",     Modality.OBLIGATION, r"なければ(?:ならない|なりません|ならず)|なくては(?:ならない|なりません)|ねばならない"),
        ("obligation.duty",     Modality.OBLIGATION, r"責務を負う|義務を負う|義務(?:があります|がある)"),
        ("obligation.necessary", Modality.OBLIGATION, r"必要(?:があります|がある(?:こと)?|です|となります|とします|であること)" + _E),
        ("obligation.require",  Modality.OBLIGATION, r"を要(?:します|する)|必須(?:です|とします)?" + _E),
        ("obligation.monotosuru", Modality.OBLIGATION, r"ものと(?:します|する|いたします|致します)" + _E),
        ("obligation.kudasai",  Modality.OBLIGATION, r"(?:ください|下さい|いただきます|頂きます|願います|お願い(?:します|いたします|致します)|(?:され|せられ)たい)" + _E),
        ("none.descriptive_koto", Modality.NONE, r"(?:もの|情報|とおり|通り)であること" + _E),
        # 「派遣労働者として雇用されている者でないこと」: being a kind of party cannot be ordered; it qualifies
        ("eligibility.is_party", Modality.ELIGIBILITY, r"(?:者|法人|団体|事業主|労働者|企業|機関|事業所)(?:等)?(?:であること|でないこと|ではないこと)" + _E
         # 「暴力団員等でないこと」「指名停止期間中でないこと」: not being something is a state, never an action
         + r"|[一-龥ァ-ヶー]で(?:は)?ないこと" + _E),
        # 「…賃金が支払期日までに支払われなかったこと」: a past fact cannot be ordered; it is a criterion
        ("eligibility.past_fact", Modality.ELIGIBILITY, r"(?:[^し]た|れた|なかった|だ)こと" + _E),
        ("obligation.koto",     Modality.OBLIGATION, r"こと" + _E),
    )
)

# The RULES tried before the heading rules: what a 〜を想定 sentence is does not depend on its heading.
_BEFORE_HEADINGS = tuple(r for r in RULES if r[0] in ("eligibility.profile", "none.assumption"))

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
        # The applicant's own organisation or posts under a qualification heading
        # (「…経理統括責任者を設置すること」「…体制を構築すること」): what it must have, not an act of the work.
        ("heading.eligibility_setup", ELIGIBILITY_HEADING.pattern,
         r"(?:体制|責任者|管理者|担当者|統括者|マネージャー|人員|要員)(?:等)?(?:を|に)[^。、]{0,12}(?:構築|確保|設置|配置|整備|置|選任|にす)(?:する|く|る)?こと" + _E,
         Modality.ELIGIBILITY),
        # Under 「事業の目的」 a 〜こと sentence is a nominalised aim (「…優位性を確立すること。」), not a duty.
        ("heading.descriptive_koto", DESCRIPTIVE_HEADING.pattern, r"[^なれ]こと" + _E, Modality.NONE),
        # A bare noun phrase listed under 「応募資格」 or a class of persons: a condition of who qualifies.
        # Not under a heading about costs: a cost category (「・建物等施設に関する経費」) has no predicate
        # of its own and is none, the lead sentence carries the scope (guideline v2.2, v2.4); nor a
        # nominalised task (「…報告書等の提出」「成果の取りまとめ」), also none (v2.2).
        # Nor under 「支給要件の確認」: what the issuer checks, and by which papers, is its own procedure.
        ("heading.eligibility_item", r"^(?!.*(?:経費|費用|費目|の確認(?:[（(][^）)]*[）)])?$)).*?(?:" + ELIGIBILITY_HEADING.pattern + ")",
         r"[^するいたことだでしまんうくぐぶむぬつ]"
         r"(?<!提出)(?<!交付)(?<!実施)(?<!作成)(?<!管理)(?<!受領)(?<!請求)(?<!報告)(?<!運営)(?<!調整)(?<!取りまとめ)"
         r"(?<!提出等)(?<!交付等)(?<!実施等)(?<!作成等)(?<!管理等)(?<!報告等)" + _E,
         Modality.ELIGIBILITY),
    )
)
# fmt: on

# --- plain-form statements (「…を行う。」「…とする。」「…こととします。」) ------------------------
# Such a sentence states a duty when it binds the party that carries out the work, and describes
# when it tells what the issuer does or what something is; the subject decides (see _plain).
PLAIN_END = re.compile(
    r"(?P<strong>(?:こと|もの)と(?:する|します|いたします|致します)|ことが必要(?:である|です)?)"
    + _E
    + r"|(?P<verb>[うくぐすつぬぶむる]|ます)"
    + _E
)
# Verbs that describe a state, a plan or a definition, whoever the subject is. 〜いる/〜います after a kanji is
# a verb of action (「行います」「扱います」「用いる」), not the auxiliary of 「…しています」.
DESCRIPTIVE_VERB = re.compile(
    r"(?:です|ある|あります|(?<![一-龥々])(?:いる|います)|おる|おります|なる|なります|できる|できます|れる|れます|いう|言う|ござる|ございます"
    r"|変わる|変わります|伴う|伴います"
    r"|指す|指します|含む|含みます|帰属する|帰属します|属する|該当する|該当します|相当する|相当します|意味する|意味します"
    r"|目指す|目指します|期待する|期待します|希望する|希望します|予定する|予定します|想定する|想定します|考える|考えます"
    r"|思う|思います|見込む|見込みます|異なる|異なります|示す|示します|構成する|構成します|適用する|適用します"
    r"|有する|有します|存在する|存在します|資する|資します|応じます|準ずる|準じます|よる|よります|みなす|みなします)"
    + _E
)
# After an issuer agent (が, から …): a verb in its plain form, then the noun it modifies and a case particle
# (「…が指定する様式を」「…から提供したデータに」): the agent is inside a relative clause.
_RELATIVE_AFTER = re.compile(r"[^、。]{0,20}?(?:する|した|る|た)[一-龥ァ-ヶー々]{1,8}(?:を|に|で|へ|から|まで|の|と)")
# An actor on the issuing side: the ministry, its bureau, the secretariat, a named company running the call.
ISSUER = re.compile(
    r"(?:省|庁|局|大臣|事務局|本部|委員会|東京都|監督員|担当職員|発注者)$|^株式会社|^(?:当|本|弊)(?:省|局|庁|社)$"
)
_ISSUER_NOUN = r"(?:[^\s、。，「」（）()をにがはでと]{0,12}?(?:省|庁|経済産業局|労働局|総合事務局|事務局|本部|委員会)|当(?:省|局|庁|社)|株式会社[^\s、。，はがでに]{1,12}|監督員|担当職員)"
# The issuer as the agent of the sentence: 「経済産業省から提供する」「中小企業庁において設定します」「委員会で審査を行い」.
ISSUER_AGENT = re.compile(_ISSUER_NOUN + r"(?:から|より|において(?:は)?|にて|では|で|が|は)")
# What the issuer does with applications and payments; stated without a subject, it is the issuer's procedure.
ISSUER_PROCESS = re.compile(
    r"(?:公募|審査|評価|採点|選定|採択|公表|通知|連絡|確定|掲載|公開|廃棄|廃止|決定|ヒアリング|現地調査|確認|回答|返却|支払|精算|交付|支給|取消|取り消|受付|受け付け|重視|考慮|加点|減点|判断|支弁)"
    r"(?:を|と|は|も)?(?:行(?:う|います)|実施(?:する|します|いたします)|(?:いた|致)?します|する)"
    + _E
    + r"|(?:受け付け|取り消し?)(?:ます|る)"
    + _E
    # humble forms (「お知らせいたします」「ご連絡します」) are the writer's, i.e. the issuer's, own acts
    + r"|(?:お|ご|御)[^、。をにが]{1,6}(?:いたします|致します|します|申し上げます)"
    + _E
    # 「…に応じて加点することとします」: the issuer scores, even in the こととする form
    + r"|(?:審査|評価|採点|加点|減点|採択|選定|公表)(?:を)?(?:行う|する|実施する)(?:こと|もの)と(?:する|します)"
    + _E
)
# Clause headings about the issuer's own procedure (review, selection, payment): plain statements there describe it.
ISSUER_HEADING = re.compile(r"審査|評価|採択|選定|選考|結果|支払|確定|通知|の確認(?:[（(][^）)]*[）)])?$")
# Headings of an annexed application (a region's plans and roles): plain statements there are that body's plans.
PLAN_HEADING = re.compile(
    r"伴走支援を受け|受け入れる体制|受入体制|後の計画|希望する伴走支援|具体的な取組|[県府市町村区][^】]{0,14}の役割|【[^】]*[県府都道市町村区]】"
)
# The document itself as topic (「本通知は、…から適用し」「本要領は」): a statement about the text, not a duty.
_DOCUMENT_TOPIC = re.compile(
    r"^(?:本|この|当該)?(?:通知|要領|仕様書|特記事項|要綱|規程|指針|ガイドライン|公募要領)(?:は|では)[、，]?"
)
# A named place as topic (「福井県では」「小千谷市においても」): a plan of that body, as in the annexed applications.
_PLACE_TOPIC = re.compile(r"^[^、。]{0,12}?[一-龥]{1,6}[県府都道市町村区](?:では|は|においては|においても|も)[、，]?")
# 「…を上限とします」「…のとおりとする」「同様とします」: a setting or a reference, not a duty.
_SETTING = re.compile(
    r"(?:とおり|通り|同様|一部|上限|下限|限度|目安|前提|目標|方針|基本|以下|以上|以内|まで|程度|円|名|件|対象)と(?:する|します)"
    + _E
)
# 「当該順位は、…応募者全体での順位とします」: a polite noun + とします with no object in its clause sets a value.
_POLITE_SETTING = re.compile(r"(?:^|[、，])[^、，を]*[^とをの]と(?:します|いたします|致します)" + _E)
APPLICANTS: tuple[str, ...] = ("応募者", "申請者", "提案者", "参加者")
# Main actors of a procurement specification, who run whatever office the specification sets up.
CONTRACTORS: tuple[str, ...] = ("受注者", "受託者", "賃貸人")
# Main actors of a grant manual (支給要領), whom its conditions qualify for the grant.
GRANTEES: tuple[str, ...] = ("事業主",)

# Leading list markers: ・, -, ①, (1), （１）, 1., １．, ア., イ , a., 【…】 is left alone (it is a label).
_MARKER = re.compile(
    r"^(?:\s*(?:[-‐－•・●○◎◇◆■□▪※＊*]|[①-⑳㉑-㉟]|[（(]\s*[0-9０-９a-zA-Zａ-ｚア-ンｱ-ﾝｲ-ﾝ一-十]{1,3}\s*[）)]"
    r"|[0-9０-９]{1,2}\s*[.．、)）](?![0-9０-９])|[一二三四五六七八九十]{1,2}\s*[.．]|[一二三四五六七八九十]{1,2}[\s　](?=[^\s　年月日])|[a-zａ-ｚ]\s*[.．]|[a-zａ-ｚ]\s+(?=[^\sa-zA-Zａ-ｚＡ-Ｚ])|[ア-ン]\s*[.．、\s　]|[ⅰ-ⅹⅠ-Ⅹ]\s*[.．]?|[0-9０-９]{1,2}\s+(?![0-9０-９]*\s*[年月日時分条項号名人件円%％万千億]))\s*)+"
)
# The same markers for re.match(text, pos): '^' would only match at the very start of the text.
_ITEM_START = re.compile(_MARKER.pattern.removeprefix("^"))
_QUOTED = re.compile(r"「[^「」]*」|『[^『』]*』")
_PAREN = re.compile(r"[（(][^（）()]*[）)]")
_TRAILING = re.compile(r"[\s。．.、，,]+$")
# 「〜ので、(提案書作成の際には特に)注意してください」「〜負担としますので、ご了承ください」: the warning or
# courtesy repeats the force of what precedes it.
_WARNING_TAIL = re.compile(
    r"(?:ので|ため)[、，]?[^。]{0,24}?(?:ご|御)?(?:注意|留意|了承|承知|理解)(?:して|の上|し)?[^、。]{0,12}$"
)
_LABEL_ACTOR = re.compile(r"^(?:申請者|応募者|対象者|応募資格者)\s*[：:]\s*([^、。，\s（(]+?)(?:$|[、。，\s（(])")
_HEADING_ACTOR = re.compile("(" + "|".join(map(re.escape, ACTORS)) + ")(?:の|が|は|として|に)")
_DATE_OR_TIME = re.compile(f"(?:{DATE.pattern})|(?:{TIME.pattern})")
_DATE_LABEL = re.compile(r"^[^：:、。]{0,12}(?:日|日時|期間|期限|締切)\s*[：:]")
# A bare condition listed as an item (「ｂ 事業規模の縮小又は事業の転換等に伴い、…離職した場合」): a case that qualifies.
_CONDITION_ITEM = re.compile(r"(?:場合|とき)$")
# A list item naming a kind of person or case (「ヌ 一上肢のすべての指の機能に著しい障害を有するもの」「(ニ) …に掲げる者
# であって、…者」): the list says who or what qualifies. Not under a cost heading, whose items are categories.
# The noun follows what describes it (「…を有する」「…以下の」「…身につけた」), which a title (「イ 対象者」) lacks.
_CLASS_ITEM = re.compile(r"(?<=[うくぐすつぬぶむるたいなの])(?:もの|者|人材|労働者|事業主)$")
_COST = re.compile(r"経費|費用|費目")
_TOPIC = re.compile(r"は[、，]")


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


# What an author other than the issuer says of its own plans, when the sentence names no actor (modality_rules.v13)
_OWN_PLAN_RULES = frozenset(
    {
        "obligation.plain", "obligation.plain_strong", "obligation.monotosuru", "obligation.necessary",
        "recommendation.tsutomeru", "recommendation.tsutomeru_chain",
    }
)  # fmt: skip


# Plain duties: their answer is trusted over the learned model's where the sentence names its bearer (v22)
_PLAIN_DUTY_RULES = frozenset({"obligation.plain", "obligation.plain_strong", "obligation.monotosuru"})


def classify(
    sentence: str, *, heading: str | None = None, default_subject: str | None = None, author: str | None = None
) -> Classification:
    """Classify one sentence of a call by its modality and find the actor it binds.

    Args:
        sentence: one sentence, as printed (markers such as ①, ・, （１） may lead).
        heading: the heading of the clause the sentence sits in, used as context:
            a bare 〜こと item under 「応募者の資格要件」 is eligibility, a bare date
            under 「提出期限」 is a deadline.
        default_subject: the clause-level actor (the document's main applicant term,
            or a subject a parser found), used when the sentence states none and is
            not a plain description.
        author: who wrote the clause when it is not the issuer (a region describing itself in its annex:
            「新潟県」); a plan it states without naming an actor is its own, and binds no reader.

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
    if (note := _NOTE.search(text)) and (head := _TRAILING.sub("", text[: note.start()])):
        modality, rule = _modality(head, heading)
        if modality is not Modality.NONE:
            subject = find_subject(head) or (_heading_actor(heading) if heading else None) or default_subject
            return Classification(modality, subject, rule + "@before_note")
    modality, rule = _modality(text, heading)
    if rule == "none.no_rule" and (neg := _PLAIN_NEGATIVE.search(text)):
        # 「個人情報を目的外に利用しない。」: a plain negative binds whom its affirmative would bind
        affirmative = _plain(text[: neg.start()] + _AFFIRMATIVE[neg.group()], heading, default_subject)
        if affirmative is not None and affirmative[0] is Modality.OBLIGATION:
            modality, rule = Modality.PROHIBITION, "prohibition.plain_negative"
    if rule == "none.no_rule" and _MARKER.match(sentence.lstrip("-#* ")):
        if _CONDITION_ITEM.search(text):
            modality, rule = Modality.ELIGIBILITY, "eligibility.condition_item"
        elif (
            _CLASS_ITEM.search(text)
            and not _TOPIC.search(text)  # 「② 物品は、…を有するもの」: a requirement on its topic, not a kind
            and not _COST.search(text)
            and not (heading and _COST.search(heading))
        ):
            modality, rule = Modality.ELIGIBILITY, "eligibility.class_item"
    if rule == "none.no_rule":
        modality, rule = _plain(text, heading, default_subject) or _aside(sentence, text, heading)
    if (
        rule == "obligation.koto"
        and default_subject in GRANTEES
        and heading
        and ELIGIBILITY_HEADING.search(heading)
        and find_subject(text) is None  # 「なお、事業主は、…周知を図ること」 states its duty-bearer: a duty
    ):
        # In a grant manual an act listed under a case or a requirement (「…正規雇用労働者等に転換すること」)
        # is what qualifies the employer for the grant, not a duty (guideline v2.1).
        modality, rule = Modality.ELIGIBILITY, "eligibility.grant_condition"
    if author and rule.split("@", 1)[0] in _OWN_PLAN_RULES and find_subject(text) is None:
        # 「…勉強会を県主催で立ち上げる。」 in a region's own annex: the region's plan, not a duty of the reader
        return Classification(Modality.NONE, None, "none.own_plan")
    if modality is Modality.NONE:
        return Classification(modality, None, rule)
    if modality is Modality.PERMISSION and issuer_reserves_right(sentence, default_subject):
        # 「株式会社三菱総合研究所は、…録画し、保存することができるものとします」: the issuer reserves a right
        return Classification(Modality.NONE, None, "none.issuer_right")
    stated = find_subject(text)
    subject = stated or (_heading_actor(heading) if heading else None) or default_subject
    if rule.split("@", 1)[0] in _PLAIN_DUTY_RULES and (actor := _stated_subject(text)) and not ISSUER.search(actor):
        rule += "@stated"  # 「伴走支援事業者は、…保存するものとします」: the duty's bearer is named (v22)
    return Classification(modality, subject, rule)


def issuer_reserves_right(sentence: str, default_subject: str | None = None) -> bool:
    """Whether a permission is the issuer's own (「事務局は、…録画することができるものとします」), binding no reader:
    its stated subject is the issuer, and not the party that carries out the work."""
    stated = find_subject(sentence)
    return bool(stated and ISSUER.search(stated) and not _contractor_runs(stated, default_subject))


def subject_of(sentence: str, heading: str | None = None, default_subject: str | None = None) -> str | None:
    """The actor a requirement binds: stated in the sentence, else named by its heading, else the default."""
    return find_subject(sentence) or (_heading_actor(heading) if heading else None) or default_subject


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
                if marker == "が" and _SUBORDINATE_AFTER.match(text, i + 1):
                    continue  # 「事務局が指定する期日までに…」「労働者が同意した場合は」: not the sentence's subject
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
    modality, rule = _ending(core, heading)
    if modality is Modality.OBLIGATION and (m := _FIRST_CLAUSE.search(core)):
        # A permission or ban stated first keeps its force over the procedure that follows it.
        first, first_rule = _ending(core[: m.end("pred")], heading)
        if first in (Modality.PERMISSION, Modality.PROHIBITION):
            return first, first_rule + "@first_clause"
    if modality is Modality.NONE and (m := _MONO_TOSHI.search(core)):
        first, first_rule = _ending(core[: m.start()] + "ものとする", heading)
        if first is not Modality.NONE:
            return first, first_rule + "@first_clause"
    return modality, rule


def _ending(core: str, heading: str | None) -> tuple[Modality, str]:
    # An intended profile or an assumption (〜を想定しています) says what it is whatever the heading.
    for name, modality, pattern in _BEFORE_HEADINGS:
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


# 「満年齢に達するものとして取り扱う」: a convention for reading the rules (like みなす), not a duty.
_DEEMED = re.compile(r"(?:もの|者)として(?:取り?扱|扱)(?:う|い|います)")
# A plain negative of a する-verb and its affirmative: 「複製しない」→「複製する」.
# Only the plain style: a polite 「…公開しません」 is the writer's (the issuer's) own commitment.
_AFFIRMATIVE = {"しない": "する"}
_PLAIN_NEGATIVE = re.compile(r"しない$")
# 「…維持することとし、…」: a strong plain-form first link of a chain.
_KOTO_TOSHI = re.compile(r"ことと(?:し|して)[、，]")
# 「対象外 ※…継続実施も可能」: a spaced ※ note annotates the statement before it.
_NOTE = re.compile(r"\s※")

# Endings that decide on their own even under a qualification heading.
_STRONGER = re.compile(r"望ましい|努め|(?:し|せ|わ)ないこと$|禁止|可能?$")
# 「Aを認めますが、Bしてください」「Aも可能ですので、Bしてください」: a concession or ground, then a procedure.
_FIRST_CLAUSE = re.compile(r"(?P<pred>ます|です|ない|る|可能|可)(?:が|ので)[、，]")
# 「…できるものとし、その場合には…公表する場合があります」: the first link of the chain carries the rule.
_MONO_TOSHI = re.compile(r"ものとし[、，]")


def _plain(text: str, heading: str | None, default_subject: str | None) -> tuple[Modality, str] | None:
    """A plain-form ending (「…を行う」「…とする」「…こととします」) as a duty, or None to leave it undecided."""
    core = _TRAILING.sub("", _WARNING_TAIL.sub("", text)) or text
    if (link := _KOTO_TOSHI.search(core)) and not ISSUER_PROCESS.search(core[: link.start()] + "こととする"):
        # 「棚を設けることとし、…協議の上決定する」: the duty is set in the first link, whoever acts later
        first = _plain(core[: link.start()] + "こととする", heading, default_subject)
        if first is not None and first[0] is Modality.OBLIGATION:
            return first[0], first[1] + "@first_clause"
    m = PLAIN_END.search(core)
    if m is None or DESCRIPTIVE_VERB.search(core) or _DEEMED.search(core):
        return None
    strong = m.group("strong") is not None
    # Only a subject stated in the sentence counts: under 「伴走支援事業者の法人としての経験」 the
    # heading's actor is the one being evaluated, not the one who 「確認します」.
    subject = _stated_subject(core)
    last_clause = re.split(r"[、，]", core)[-1]
    if _issuer_acts(last_clause):  # 「…報告し、東北経済産業局が…判断します」: the issuer acts last
        return Modality.NONE, "none.issuer_plain"
    if subject is not None:
        if ISSUER.search(subject) and not _contractor_runs(subject, default_subject):
            return Modality.NONE, "none.issuer_plain"
    elif _PLACE_TOPIC.match(core) or _DOCUMENT_TOPIC.match(core) or (strong and ISSUER_PROCESS.search(core)):
        return Modality.NONE, "none.issuer_plain"
    elif not strong:
        # Unstated subject: the issuer's own procedure, or a duty of the party the call is mainly about.
        if ISSUER_AGENT.search(core) or ISSUER_PROCESS.search(core) or _SETTING.search(core):
            return Modality.NONE, "none.issuer_plain"
        if heading and (
            ISSUER_HEADING.search(heading) or PLAN_HEADING.search(heading) or DESCRIPTIVE_HEADING.search(heading)
        ):
            return Modality.NONE, "none.issuer_plain"
        if default_subject is None or default_subject in APPLICANTS or ISSUER.search(default_subject):
            return None
    if not strong and (_SETTING.search(core) or _POLITE_SETTING.search(core)):
        return Modality.NONE, "none.setting"
    return Modality.OBLIGATION, "obligation.plain_strong" if strong else "obligation.plain"


def _issuer_acts(clause: str) -> bool:
    """Whether the issuer is the agent of the clause, not only of a relative clause within it: in
    「事務局が指定する様式を用いる」 the secretariat names the form and the sentence's own actor uses it."""
    m = ISSUER_AGENT.search(clause)
    if m is None:
        return False
    return m.group().endswith("は") or not _RELATIVE_AFTER.match(clause[m.end() :])


def _contractor_runs(subject: str, default_subject: str | None) -> bool:
    # In a procurement specification (main actor 受注者/受託者) the 事務局 is the office the contractor runs.
    return subject == "事務局" and default_subject in CONTRACTORS


def _stated_subject(core: str) -> str | None:
    # A は-topic, or a が-subject set off by a comma (「実施機関が、…提出します」); a bare 〜が is
    # too often inside a relative clause (「伴走支援事業者が提出する支出計画書」).
    for marker in (*_TOPIC_MARKERS, "が、", "が，"):
        start = 0
        while (i := core.find(marker, start)) != -1:
            start = i + 1
            if actor := _actor_ending_at(core[:i]):
                return actor
    return None


def _aside(sentence: str, text: str, heading: str | None) -> tuple[Modality, str]:
    """A bare label whose rule sits in its aside: 「教材例（…使用可能。ただし利用は任意であり、自由設計も可能。）」."""
    # Only a label with no predicate of its own: 「（オ） 有効期間（１年程度とすることが望ましい。）」
    if not text or re.search(r"[ぁ-ん]$", text):
        return Modality.NONE, "none.no_rule"
    asides = re.findall(r"[（(]([^（）()]{8,})[）)]", _QUOTED.sub("「」", sentence))
    if asides:
        last = [p for p in re.split(r"。", asides[-1]) if p.strip()]
        if last:
            modality, rule = _modality(_clean(last[-1]), heading)
            if modality is not Modality.NONE:
                return modality, rule + "@aside"
    return Modality.NONE, "none.no_rule"


def _is_deadline(text: str, heading: str | None) -> bool:
    text = _DATE_LABEL.sub("", text)  # 「募集開始日：令和8年2月16日（月）」: the label names the date
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
