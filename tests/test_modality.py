"""Sentence modality and subject (pipeline.nlp.modality, issue #3)."""

# ruff: noqa: E501  (the case table keeps one case per line)
from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.document import Document, Modality
from pipeline.nlp.modality import MODALITY_RULES, RULES, classify, split_sentences

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "data" / "modality_gold.jsonl"
FRESH = ROOT / "tests" / "data" / "modality_fresh.jsonl"
FRESH2 = ROOT / "tests" / "data" / "modality_fresh2.jsonl"

# Bounds on ALL 198 gold sentences (labels of guideline v2, tests/data/modality_guidelines.md),
# rounded down. The rules were written with all of them in view, so these pin regressions and
# say nothing about unseen text: that is what the one-off run on a held-out sample is for.
# Lowered from 0.95 / 0.89 when 5 gold and 2 fresh labels were changed to guideline v2.4 (the
# consistency review of 2026-11-22): v7 reaches 0.949 and 0.883 on the relabelled files, and its
# eligibility recall on gold is 0.875.
# Lowered again (recall 0.87 → 0.83, fresh 0.88 → 0.86) when the evaluation began to read each sentence in the
# context the pipeline gives it (the clause tree's title, modality_rules.v11) instead of the nearest numbered line
# above it: on these dev files v11 reaches 0.944, eligibility recall 0.833 and 0.867, while over all 1,696 labelled
# sentences its accuracy rose from 0.815 to 0.840 (bench/modality_eval.py --rules-only, every --gold file).
MIN_ACCURACY = 0.94
MIN_RECALL = 0.83
# Accuracy on the two later samples, rounded down; modality_rules.v4 was written with both in
# view (v2 scored 0.767 on fresh unseen, v3 0.650 on fresh2 unseen), so these too pin regressions.
MIN_FRESH_ACCURACY = 0.86
MIN_FRESH2_ACCURACY = 0.74

OB, PR, PE, EL, DL, RC, NO = (
    Modality.OBLIGATION,
    Modality.PROHIBITION,
    Modality.PERMISSION,
    Modality.ELIGIBILITY,
    Modality.DEADLINE,
    Modality.RECOMMENDATION,
    Modality.NONE,
)

# (sentence, heading, modality, subject or None to skip the subject check). Written from the
# forms of the issue and from corpus lines that are not in the gold file (checked below).
# fmt: off
CASES: list[tuple[str, str | None, Modality, str | None]] = [
    # 〜こと items: state under a qualification heading → eligibility, action → obligation
    ("・ 本業務の遂行に際し、必要かつ十分な時間が確保できること", "a. プロジェクトマネージャーの経験・能力", EL, "プロジェクトマネージャー"),
    ("⑤ 予算決算及び会計令第70条及び第71条の規定に該当しない者", "二. 伴走支援事業者としての適格性", EL, "伴走支援事業者"),
    ("③ 総務省の物品の製造契約、物品の購入契約及び役務等契約指名停止措置要領に基づく指名停止を受けている期間中でないこと", "二. 伴走支援事業者としての適格性", EL, None),
    ("・ 日本国内に拠点を有すること", "（１）応募資格", EL, "応募者"),
    ("・ 定期的に進捗を報告すること", None, OB, "応募者"),
    ("ＭＦ登録者は、適切なバリデーションを実施した旨の宣誓書を提出すること。", None, OB, "ＭＦ登録者"),
    ("成果報告書は、事務局が指定する期日までに提出すること。", None, OB, None),
    # obligations
    ("また、コンソーシアムを代表する業務執行者として、以下の業務を執行する代表機関を選任して下さい。", None, OB, "応募者"),
    ("送信の際には「@」に変更してください。", None, OB, None),
    ("補助事業者は、交付規程に従って帳簿を整備しなければならない。", None, OB, "補助事業者"),
    ("本業務の実施に当たっては、関係法令を遵守する必要があります。", None, OB, None),
    ("共同申請者においては、幹事法人を定めるものとします。", None, OB, "共同申請者"),
    ("「第三者に提供してはならない」旨を契約書に記載すること。", None, OB, None),  # the quote is not the predicate
    ("個人情報の取扱いについては十分注意してください。", None, OB, None),
    # prohibitions
    ("伴走支援事業者は、本業務で知り得た情報を第三者に開示してはならない。", None, PR, "伴走支援事業者"),
    ("・接続に関して技術的なお問い合わせには対応いたしかねます。", "(4) 注意事項", PR, None),
    ("提出期限を過ぎた場合は、いかなる理由があっても受け付けることはできません。", None, PR, None),
    ("同一の事業について、国の他の補助金を重複して受けることはできない。", None, PR, None),
    ("受託者は、本業務の全部を一括して再委託しないこと。", None, PR, "受託者"),
    # a state the deliverable must have is a duty, not a banned act
    ("(1) 提供するアプリケーション・コンテンツが不正プログラムを含まないこと。", "２．報告事項", OB, None),
    ("納品する成果物が個人情報を含まないこととします。", None, OB, None),
    ("補助対象経費には消費税を含まないものとします。", "(3) 補助対象経費", EL, None),  # a cost scope, not a ban
    ("選定後の常駐支援者の削除は認められませんので、十分注意してください。", None, PR, None),
    # permissions, including double negatives
    ("説明会への参加は必須ではありません。", None, PE, "応募者"),
    ("提案書の提出は電子メールによる提出も可とします。", None, PE, None),
    ("複数の提案を行うことを妨げない。", None, PE, None),
    ("様式は任意の形式で作成しても差し支えありません。", None, PE, None),
    ("説明会に参加しなければ応募できないということはない。", None, PE, None),
    ("応募は、一法人の単独でも、複数法人の共同でも構いません。", None, PE, None),
    # the issuer reserving a right binds no reader (guideline v2, adjudicated case)
    ("事務局は、応募者に対し、必要に応じて追加資料の提出を求めることができる。", None, NO, None),
    # eligibility
    ("申請できる者は、日本国内に本社を有する中小企業者に限ります。", None, EL, "応募者"),
    ("ただし、公租公課を滞納している者を除く。", "（１）応募資格", EL, None),
    ("消費税は補助対象外です。", None, EL, None),
    ("自社製品の調達に係る経費は、補助対象経費として計上できません。", None, EL, None),
    ("申請者：市区町村（一部事務組合を含む。）", None, EL, "市区町村"),
    # deadlines
    ("応募者は、提案書を令和8年4月28日（火）正午までに提出してください。", None, DL, "応募者"),
    ("申請書類は、令和7年5月30日（金）17時必着とします。", None, DL, None),
    ("令和8年4月7日（火）～同年4月28日（火）", "（３）応募受付期間", DL, "応募者"),
    ("補助事業者は、事業完了後30日以内に実績報告書を提出しなければならない。", None, DL, "補助事業者"),
    # recommendations
    ("本事業の成果は、広く公表することが望まれます。", None, RC, None),
    ("・ 情報セキュリティに関する第三者認証を取得していることが望ましい。", "（１）応募資格", RC, None),
    # descriptions that only look like rules
    ("※迷惑メール対策のため、「@」を「_atmark_」と表示しております。", None, NO, None),
    ("(1) 日時 令和7年2月17日(月) 13:00~14:00", "【説明会開催要領】", NO, None),  # an event, not a due date
    ("令和8年4月7日（火）～同年4月28日（火）", "（３）事業の概要", NO, None),
    ("事業期間は、交付決定日から令和8年2月末日までを予定しています。", None, NO, None),
    ("本要領は、特に断りのない限り、令和7年4月1日から適用する。", None, NO, None),
    ("補助金の額の確定は、実績報告書の審査を経て行います。", None, NO, None),
    ("虚偽の記載があった場合は、採択を取り消すことがあります。", None, NO, None),
    # the intended profile of a party to be appointed is eligibility (guideline v2.3); 想定 of a quantity is none
    ("伴走支援事業者は、地方銀行等の事業者を想定しています。", None, EL, "伴走支援事業者"),
    ("採択件数は5件程度を想定しています。", None, NO, None),
    ("本事業の参加者は、30名程度を想定しています。", None, NO, None),  # a number of persons, not a profile
    ("補助事業者は、1件あたり500万円程度の事業規模を想定しています。", None, NO, None),
    ("伴走支援事業者は、地方銀行等の事業者を想定しております。", None, EL, "伴走支援事業者"),
    # guideline v2.4: a cost category listed under a cost heading, and a nominalised task, are none
    ("- ・ 建物等施設に関する経費", "(2) 直接経費として計上できない経費", NO, None),
    ("- ・ 事業終了後に生じた損害の賠償に要する経費", "## （2）直接経費として計上できない経費", NO, None),
    ("- ・ 事務局への成果報告書及び事前協議書等の提出", "イ. 伴走支援事業者の法人としての経験、能力", NO, None),
    ("- ・ 報告書等の提出等", "1. 応募資格", NO, None),
    ("- ・ 官公庁等における地域DX推進の実務経験を有する者", "1. 応募資格", EL, None),
]
# fmt: on


# modality_rules.v2 forms: (sentence, heading, default_subject, modality). Plain-form statements
# (「…開催します」「…を受ける。」「…こととします」) depend on who is bound, so each case names the
# document's main actor as a caller would. Written from corpus lines (some shortened or with the
# actor made explicit) that are in neither labelled file (checked below).
# fmt: off
V2_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    # plain-form duties of the contractor / implementing body
    ("この1つの取組として、「よろず支援拠点連携フォーラム」を年1回以上開催し、拠点間の連携等を促進します。", None, "実施機関", OB),
    ("なお、選定の過程においては、チーフコーディネーターと連携することとします。", None, "実施機関", OB),
    ("その際、担当職員の確認を必ず受ける。", "２．報告事項", "受注者", OB),
    ("- (3) その後、東北経済産業局の確認を経た上で、実施機関が、当該事業実施計画を全国本部に提出します。", None, "実施機関", OB),
    ("参考図面を基に、監督員と協議の上、承諾図を提出し、監督員の承諾を得ること。", None, "受注者", OB),  # 〜を得る is not potential
    # plain-form statements of what the issuer does or what something is
    ("具体的な作業は経済産業省から指示する。", None, "受注者", NO),
    ("なお、過年度の受講生や企業情報等は契約後に経済産業省から提供する。", None, "受注者", NO),
    ("当該実施計画書は、業務委託(請負)契約書の一部とします。", "(1) 実施計画書の作成", "伴走支援事業者", NO),
    ("選定結果は、審査委員会終了後に応募者に通知します。", "(1) 選定結果等の通知", "伴走支援事業者", NO),
    ("本協議会は全体会とワーキンググループで構成する。", None, "伴走支援事業者", NO),
    ("また、委託予定先名を総務省および株式会社三菱総合研究所のホームページで公表します。", None, "伴走支援事業者", NO),
    ("予算等の状況によって、今後、内容等が変更になることもありますので、あらかじめご了承ください。", None, "実施機関", NO),
    ("その際、伴走支援事業者に協力を求めることがありますので御承知おきください。", None, "伴走支援事業者", NO),
    # permissions: 不要, 〜でもよい, a permission before a procedure
    ("説明会への事前登録は不要です。", None, "応募者", PE),
    ("ただし、照明器具配線、最終コンセントは１．６ｍｍでもよい。", None, "受注者", PE),
    ("設計図（施工図）の図面サイズはＡ１判とし、仮設校舎等の規模に応じＡ２判とすることができる。", None, "受注者", PE),
    ("なお、共同での応募も認めますが、その場合は代表者を定めてください。", None, "応募者", PE),
    # prohibitions: てはなりません, てはならず (main force of a chain), 不可
    ("受注者は、本業務で知り得た情報を第三者に提供してはなりません。", None, "受注者", PR),
    ("受注者は、要機密情報をクラウドサービスで取り扱ってはならず、規程等を遵守する。", None, "受注者", PR),
    ("会議費での経費計上は不可とします。", None, "実施機関", PR),
    # deadlines: a period opened by an event, a day fixed relative to an event
    ("契約締結日～令和9年3月31日", "3. 事業実施期間", "受託者", DL),
    ("事故の発生を認知した日の翌日までに、事故報告書を提出しなければならない。", None, "受託者", DL),
    # eligibility: costs not covered, who the target is
    ("提出書類の作成費は経費に含まれません。", None, "応募者", EL),
    ("支援対象者は、県内で事業を行う中小企業者とします。", None, "実施機関", EL),
]
# fmt: on


# modality_rules.v3 forms: qualification and criterion lists, cost scope, bans in a plain or
# chained form, exemptions, directives of 通知 style and due dates counted from an event.
# Written from corpus lines (some shortened or reworded) that are in none of the labelled
# files (checked below, by membership only).
# fmt: off
V3_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    # eligibility: being a kind of party, meeting a criterion, a past fact in a criterion list
    ("ロ 派遣労働者として雇用されている者でないこと。", "10 キャリアアップ助成金", "事業主", EL),
    ("イ 期間の定めのない労働契約を締結している労働者であること。", None, "事業主", EL),
    ("暴力団員等でないこと。", None, "応募者", EL),
    ("中小企業事業主に該当しない。", "ロ 中小企業事業主であることの確認", "事業主", EL),
    ("(ホ) 次のいずれかに該当することとなったこと", "(イ) 解雇（自己の責めに帰すべき重大な理由によるものを除く。）", "事業主", EL),
    ("ただし、試用期間中に離職した者は含めない。", None, "事業主", EL),
    # eligibility: cost scope and labels
    ("なお、会場借料の計上は不要とする。", None, "受注者", EL),
    ("消費税は補助対象経費に含まない。", None, "応募者", EL),
    ("本事業の対象は、県内に本社を置く中小企業とする。", None, "実施機関", EL),
    ("参加資格：県内に事業所を有する中小企業者", None, "受注者", EL),
    ("なお、振込手数料は応募者の負担となりますので、ご了承ください。", None, "応募者", EL),  # the courtesy tail repeats
    ("対象外 ※ただし事務局が認めた場合は計上も可能", "(1) 経費の区分", "受注者", EL),  # a spaced ※ note annotates
    # prohibitions: 〜ないものとする, a ban in the first link, a plain negative of the bound party
    ("受託者は、個人情報を目的外に利用しないものとする。", None, "受託者", PR),
    ("受託者は、要機密情報を私物の端末で取り扱わないものとし、業務終了後は速やかに消去するものとします。", None, "受託者", PR),
    ("受注者は、貸与された機器を本業務以外の目的に使用しない。", None, "受注者", PR),
    ("１ ６週間（多胎妊娠の場合は１４週間）以内に出産予定の女性労働者が休業を請求した場合には、その者を就業させてはいけません。", None, "事業主", PR),  # a limit inside a condition
    ("業務時間中の私的な利用を禁ずる。", None, "受注者", PR),
    # permissions: an exemption, 構わない
    ("ただし、災害その他避けることができない場合は、この限りではない。", None, "事業主", PE),
    ("様式は任意のものを使用して構わない。", None, "応募者", PE),
    # obligations: a duty set in the first link, 通知-style directives, 事務局 run by the contractor
    ("各室に棚を設けることとし、棚の位置は監督員と協議の上決定する。", None, "受注者", OB),
    ("各労働局においては、その取扱いに遺漏のないよう留意されたい。", None, "事業主", OB),
    ("事務局は、参加企業に対して、プログラムの運営に関する助言を実施する。", None, "受注者", OB),
    # recommendations: hedged effort
    ("－\t配膳室の調理機器と排水管の接続は、可能な限り少なくすること。", "４ 排水設備", "受注者", RC),
    ("実施機関は、支援の質の向上に努めるとともに、得られた知見を関係機関と共有する。", None, "実施機関", RC),
    # deadlines counted from an event
    ("初回の認定日までに離職理由を判定する。", None, "事業主", DL),
    ("申請業務は、契約締結後おおむね３か月で完了させること。", None, "受注者", DL),
    # descriptions: a reading convention, the issuer's commitment, an issuer-run office
    ("なお、年齢は、誕生日の前日に満年齢に達するものとして取り扱う。", None, "事業主", NO),
    ("採択された事業の名称及び報告書は、一般に公開しますので、あらかじめご了承ください。", None, "伴走支援事業者", NO),
    ("事務局は、参加企業に対して、プログラムの運営に関する助言を実施する。", None, "伴走支援事業者", NO),
]
# fmt: on


# modality_rules.v6 forms (guideline v2.2): grant conditions, the applicant's own set-up, class and case
# headings, costs not paid, payment limits, a selection that may be lost, a rule taking effect.
# Written for these tests; in none of the labelled files (checked below, by membership only).
# fmt: off
V6_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    ("イ 対象労働者を正規雇用労働者に転換すること。", "ロ 有期雇用労働者等を正規雇用労働者等に転換する場合", "事業主", EL),
    ("なお、事業主は、対象労働者に制度を周知すること。", "ロ 有期雇用労働者等を正規雇用労働者等に転換する場合", "事業主", OB),
    ("イ 対象労働者を正規雇用労働者に転換すること。", "(3) 報告事項", "受注者", OB),
    ("・ 業務全体を統括する責任者を１名配置すること", "(2) 応募者の資格要件", "応募者", EL),
    ("(ａ) 両眼の視力の和が 0.05 以下のもの", "(イ) 身体障害者福祉法に定める身体障害者", "事業主", EL),
    ("五 その他、委託先として適当でないと認める場合", "2. 応募に当たっての注意事項", "応募者", EL),
    ("提案書の作成に要した費用は支払われません。", None, "応募者", EL),
    ("申請内容に虚偽があった場合には、不採択となることがあります。", None, "応募者", EL),
    ("支払額は、契約額の範囲内で、実際に要した経費の額とします。", None, "受託者", EL),
    ("この通達は、令和７年４月１日から施行する。", None, "事業主", NO),
]
# fmt: on


# modality_rules.v10 forms: a grant not paid or its amount, a cost admitted as covered, a cap stated with を上限と,
# an entitlement without a comma, and a possibility ending in こと. Written for these tests; in none of the
# labelled files (checked below, by membership only).
# fmt: off
V10_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    ("他の奨励金の支給を受けた事業主に対しては、同一の労働者について本助成金の支給はしない。", None, "事業主", EL),
    ("同一の事業所に対しては、二回目以降の支給を行わないものとする。", None, "事業主", EL),
    ("区分に応じ、それぞれ別表に定める額を支給する。", None, "事業主", EL),
    ("事務局が必要と認める場合に限り、会議費も対象経費とします。", None, "受託者", EL),
    ("1件あたりの委託額は5,000万円（税込）を上限とします。", None, "応募者", EL),
    ("第２０条 家族手当は、扶養家族を有する労働者に対し支給する。", None, "会社", EL),
    ("また、内容によっては、追加の審査が必要になる場合があること。", None, "申請者", NO),
    # not a grant withheld or its amount: the reader's own bans and duties about paying
    ("受託者は、事務局の承認なく謝金の支給を行わないこと。", None, "受託者", PR),
    ("受託者は、同一の講師に対して謝金を二重に支給しないこと。", None, "受託者", PR),
    ("受託者は、講師に対し、別表に定める額を支給するものとする。", None, "受託者", OB),
    ("審査の結果によっては、不採択となる場合があること。", None, "応募者", EL),
]
# fmt: on


# modality_rules.v11/v12: a title 「…の確認」 (with or without a parenthetical) is the issuer's procedure; a unit price
# paid for the work is eligibility, and forms that only look like one are not. Written for these tests.
# fmt: off
V12_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    ("ロ 対象労働者の賃金規定等の増額改定前及び増額改定後の雇用契約書等", "3007 支給要件の確認", "事業主", NO),
    ("ロ 対象労働者の賃金規定等の増額改定前及び増額改定後の雇用契約書等", "0701 支給要件の確認（共通）", "事業主", NO),
    ("ロ 対象労働者の賃金規定等の増額改定前及び増額改定後の雇用契約書等", "(2) 支給要件", "事業主", EL),
    ("支給要件は、次のイ及びロの書類により確認する。", "0701 支給要件の確認（共通）", "事業主", NO),
    ("相談業務1件につき原則、30,000円（税込み）とする。", "(1) 経費の区分", "実施機関", EL),
    ("専門家派遣1回につき、20,000円とします。", None, "実施機関", EL),
    ("同一事案につき、手数料として5,000円を納付することとします。", None, "応募者", OB),
    ("1件につき、提出部数は3部とし、10,000円以上の案件は別途協議とする。", None, "応募者", NO),
    ("1人当たり年間の平均賃金は3,000,000円となります。", None, "事業主", NO),
]
# fmt: on


# (sentence, author, modality): a region's own annex (modality_rules.v13); the default subject is the call's main actor
V13_CASES: list[tuple[str, str | None, Modality]] = [
    ("但馬地域3市2町による勉強会を県主催で立ち上げる。", "兵庫県", NO),  # its own plan
    ("外部支援を受けながら地域DXの推進体制を構築する必要がある。", "新潟県", NO),
    ("県としてもノウハウの獲得に努める。", "新潟県", NO),
    ("以下のイ～ホの伴走支援を希望し、具体的なロードマップの整理を行うものとする。", "京都府", NO),
    ("但馬地域3市2町による勉強会を県主催で立ち上げる。", None, OB),  # the same words in the call's own body
    ("伴走支援事業者は自らも市町と対話を重ね、県内市町の合意形成を支援する。", "兵庫県", OB),  # names its actor
    ("提案書には担当者の連絡先を記載してください。", "兵庫県", OB),  # a request, not a plan
    ("月1回の定例会に参加することが望ましい。", "兵庫県", RC),
]


@pytest.mark.parametrize(("sentence", "author", "modality"), V13_CASES)
def test_classify_v13_own_plans(sentence: str, author: str | None, modality: Modality) -> None:
    """This test ensures that a plan stated without an actor in a clause written by a region about itself is none
    (modality_rules.v13), while a sentence naming its actor, a request and the same plan in the call's body are not."""
    c = classify(sentence, default_subject="伴走支援事業者", author=author)
    assert c.modality is modality, c.rule
    assert (c.rule == "none.own_plan") is (author is not None and modality is NO)


# modality_rules.v15: 〜います / 〜いる after a kanji is an act (行います, 扱います, 用いる), not 〜ています. Written for
# these tests (a sentence of the よろず call first used here was drawn into fresh13 afterwards).
# fmt: off
V15_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    ("実施機関は、了承を得た後、専門家との契約を行います。", None, "実施機関", OB),
    ("実施機関は、相談内容を個人情報として適切に取り扱います。", None, "実施機関", OB),
    ("受託者は、報告には所定の様式を用いる。", None, "受託者", OB),
    ("実施機関は、地域の支援機関と連携した体制を構築しています。", None, "実施機関", NO),  # a description
    ("事務局は、審査の結果を踏まえて契約手続を行います。", None, "実施機関", NO),  # the issuer's act
    ("令和8年2月から、次の順に公募を行います。", None, "実施機関", NO),
]
# modality_rules.v16: an issuer who only modifies a noun in the last clause (「事務局が指定する様式を用いる」) leaves the duty
# to the sentence's actor; an issuer who acts last still makes the sentence the issuer's procedure.
V16_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    ("受託者は、事務局が指定する様式を用いる。", None, "受託者", OB),  # the issuer only names the form
    ("受託者は、経済産業省から提供したデータに基づき分析を行う。", None, "受託者", OB),
    ("受託者は、週報を提出し、事務局が内容を確認する。", None, "受託者", NO),  # the issuer acts last
    ("受託者は、作業を終え、事務局は成果物を検査する。", None, "受託者", NO),
]
# modality_rules.v17: a list item naming a kind of person or case (「…を有するもの」「…を受ける者」) is eligibility; a cost
# category and an item with a topic of its own are not.
V17_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    ("ロ 両手の握力が著しく低下しているもの", "(イ) 次に掲げる障害", None, EL),  # a kind of case the list admits
    ("(ｃ) 特定の施設に通所している者", "3 対象となる者", None, EL),
    ("- ① 事務局の定める手引に従い、相談を専門に受ける者", "(※1) 相談員", "実施機関", EL),
    ("③ 旅費のうち、本事業のために使用されたもの", "(1) 経費の区分", None, NO),  # a cost category (v2.4)
    ("・ 調達する物品は、規格に適合するもの", "(3) 調達物品", None, NO),  # a topic of its own: not a kind
    # modality_rules.v18: a title names no kind (nothing describes the noun), nor does an item naming a cost
    ("イ 対象者", "(4) 事故等のリスクマネジメント", None, NO),
    ("3. 実施地域及び支援対象者", None, None, NO),
    ("f. その他(諸経費):事業に必要な設備等に要する経費であって、他の区分に属さないもの", "ホ. その他", None, NO),
    ("(ﾎ) 週所定労働時間の延長が講じられた労働者", "6003 対象労働者", None, EL),
]
# modality_rules.v19: a courtesy standing alone (「ご了承ください」) asks nothing of its own; a request to obtain consent does.
V19_CASES: list[tuple[str, str | None, str | None, Modality]] = [
    ("ご了承ください。", "(5) 留意事項", "応募者", NO),
    ("- 予め御理解のほどお願い申し上げます。", None, "応募者", NO),
    ("何卒ご容赦ください。", "3. 問合せ", None, NO),
    ("提出前に、所属長の了承を得てください。", "(2) 提出書類", "応募者", OB),  # consent to obtain: a duty
    ("本業務の趣旨を理解してください。", None, "受託者", OB),
]
# fmt: on


@pytest.mark.parametrize(("sentence", "heading", "default_subject", "modality"), V2_CASES)
def test_classify_v2_forms(sentence: str, heading: str | None, default_subject: str | None, modality: Modality) -> None:
    """This test ensures that the modality_rules.v2 forms (plain-form duties, chains, double negatives) are classified."""
    c = classify(sentence, heading=heading, default_subject=default_subject)
    assert c.modality is modality, c.rule


def test_plain_form_needs_a_bound_actor() -> None:
    """This test ensures that a plain-form statement binds only the main actor, never the applicant or the issuer."""
    sentence = "この1つの取組として、「よろず支援拠点連携フォーラム」を年1回以上開催し、拠点間の連携等を促進します。"
    assert classify(sentence, default_subject="実施機関").modality is OB
    assert classify(sentence, default_subject="応募者").modality is NO  # the call describing its own procedure
    assert classify(sentence, default_subject=None).modality is NO
    assert classify("経済産業省は、" + sentence, default_subject="実施機関").modality is NO


@pytest.mark.parametrize(("sentence", "heading", "modality", "subject"), CASES)
def test_classify(sentence: str, heading: str | None, modality: Modality, subject: str | None) -> None:
    """This test ensures that each inline sentence gets its modality and, where given, its subject."""
    c = classify(sentence, heading=heading, default_subject="応募者")
    assert c.modality is modality, c.rule
    if subject is not None:
        assert c.subject == subject
    if modality is Modality.NONE:
        assert c.subject is None


def test_cases_are_not_gold_sentences() -> None:
    """This test ensures that the inline cases are not copied from the gold file they would be judged against."""
    gold = {json.loads(line)["sentence"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not {sentence for sentence, *_ in CASES} & gold
    assert not {sentence for sentence, *_ in V2_CASES} & gold


# The versioned forms read with a heading and a default subject, each list under the comment that says what it covers.
FORMS: dict[str, list[tuple[str, str | None, str | None, Modality]]] = {
    "v3": V3_CASES, "v6": V6_CASES, "v10": V10_CASES, "v12": V12_CASES, "v15": V15_CASES, "v16": V16_CASES,
    "v17": V17_CASES, "v19": V19_CASES,
}  # fmt: skip


@pytest.mark.parametrize(
    ("sentence", "heading", "default_subject", "modality"),
    [pytest.param(*case, id=f"{version}-{i}") for version, cases in FORMS.items() for i, case in enumerate(cases)],
)
def test_classify_versioned_forms(
    sentence: str, heading: str | None, default_subject: str | None, modality: Modality
) -> None:
    """This test ensures that the forms each rule version added (the lists above, by version) are classified as
    labelled, the look-alikes included."""
    c = classify(sentence, heading=heading, default_subject=default_subject)
    assert c.modality is modality, c.rule


def _sentences(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {json.loads(line)["sentence"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_cases_are_not_labelled_sentences() -> None:
    """This test ensures that the v2, v3 and v6 cases are in none of the labelled samples (membership only, nothing is printed)."""
    # v2 and v3 cases were written before the later samples were drawn (two of them were drawn since);
    # the v6 cases are checked against every labelled file
    earlier = {"".join(s.split()) for path in (GOLD, FRESH, FRESH2) for s in _sentences(path)}
    every = {"".join(s.split()) for path in sorted(GOLD.parent.glob("modality_*.jsonl")) for s in _sentences(path)}
    cases = [sentence for sentence, *_ in V2_CASES + V3_CASES if "".join(sentence.split()) in earlier]
    later = V6_CASES + V10_CASES + V12_CASES + V15_CASES + V16_CASES + V17_CASES + V19_CASES
    cases += [sentence for sentence, *_ in later if "".join(sentence.split()) in every]
    # Report only our own cases: printing the labelled sets would show the held-out sample.
    assert not cases, cases


def test_rule_names_are_unique_and_versioned() -> None:
    """This test ensures that every rule has a distinct name and the rule set a versioned name."""
    names = [name for name, _, _ in RULES]
    assert len(names) == len(set(names))
    assert MODALITY_RULES == "modality_rules.v22"


def test_a_plain_duty_that_names_its_bearer_is_marked_stated() -> None:
    """This test ensures that a plain duty whose sentence names a bearer other than the issuer is marked ``@stated``
    (the learned model keeps it), while one with no bearer named, or with the issuer as topic, is not
    (modality_rules.v22; sentences written for this test)."""
    from pipeline.nlp.learned import trusted

    named = classify("受託者は、作業の記録を５年間保管するものとする。", default_subject="受託者")
    assert (named.modality, named.rule) == (Modality.OBLIGATION, "obligation.monotosuru@stated")
    plain = classify("実施機関は、毎月の相談件数を集計し、報告します。", default_subject="実施機関")
    assert plain.rule == "obligation.plain@stated" and trusted(plain.rule)
    unnamed = classify("毎月の相談件数を集計し、報告します。", default_subject="実施機関")
    assert unnamed.rule == "obligation.plain" and not trusted(unnamed.rule)
    issuer = classify("事務局は、提出された記録を保管する。", default_subject="伴走支援事業者")
    assert issuer.modality is Modality.NONE and not issuer.rule.endswith("@stated")


def test_default_subject_is_used_only_when_none_is_stated() -> None:
    """This test ensures that default_subject fills in an implied subject but never overrides a stated one."""
    assert classify("提案書を提出すること。", default_subject="応募者").subject == "応募者"
    assert classify("受託者は、提案書を提出すること。", default_subject="応募者").subject == "受託者"
    assert classify("本事業は、地域の課題を解決するものです。", default_subject="応募者").subject is None


def _bench() -> ModuleType:
    path = ROOT / "bench" / "modality_eval.py"
    spec = importlib.util.spec_from_file_location("modality_eval", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["modality_eval"] = module
    spec.loader.exec_module(module)
    return module


def test_gold_accuracy(ingested: Callable[[Path], Document]) -> None:
    """This test ensures that accuracy and per-modality recall on the whole gold file stay at what the rules reach."""
    bench = _bench()
    items = bench.load_items(pdf_reader=ingested)
    assert len(items) == 198
    scores, errors = bench.score(items)
    assert scores.accuracy >= MIN_ACCURACY, [e[0].sentence[:40] for e in errors]
    support = Counter(it.gold for it in items)
    for label, (_, recall, _, n) in scores.per_label.items():
        assert n == support[label]
        assert recall >= MIN_RECALL, label


@pytest.mark.parametrize(("gold", "minimum"), [(FRESH, MIN_FRESH_ACCURACY), (FRESH2, MIN_FRESH2_ACCURACY)])
def test_fresh_accuracy(ingested: Callable[[Path], Document], gold: Path, minimum: float) -> None:
    """This test ensures that accuracy on the later labelled samples stays at what modality_rules.v4 reaches."""
    bench = _bench()
    items = bench.load_items(pdf_reader=ingested, gold=gold)
    assert len(items) == 120
    scores, errors = bench.score(items)
    assert scores.accuracy >= minimum, [e[0].sentence[:40] for e in errors]


# A real clause body (chiiki-dx FY2025, 公募説明会 注意事項), with wrapped and bulleted lines.
CLAUSE = (
    "公募説明会への参加申込をした時点で、以下に掲げる事項に同意されたものとみなしますので、ご了承の上、お申し込みください。\n"
    "- ・プロバイダメールアドレス又はフリーアドレスで登録された場合、公募説明会の参加はいたしかねます。"
    "所属先のビジネス用個人メールアドレスをご登録ください。\n"
    "- ・接続に関して技術的なお問い合わせには対応いたしかねます。\n"
    "- ・株式会社三菱総合研究所は、公募説明会の模様及び内容を録音及び録画し、\n"
    "その記録を保存することができるものとします。"
)


def test_split_sentences_at_maru_and_bullets() -> None:
    """This test ensures that a clause body splits at 。 and at bulleted lines, and not at wrapped lines."""
    assert split_sentences(CLAUSE) == [
        "公募説明会への参加申込をした時点で、以下に掲げる事項に同意されたものとみなしますので、ご了承の上、お申し込みください。",
        "- ・プロバイダメールアドレス又はフリーアドレスで登録された場合、公募説明会の参加はいたしかねます。",
        "所属先のビジネス用個人メールアドレスをご登録ください。",
        "- ・接続に関して技術的なお問い合わせには対応いたしかねます。",
        "- ・株式会社三菱総合研究所は、公募説明会の模様及び内容を録音及び録画し、\nその記録を保存することができるものとします。",
    ]


def test_split_sentences_keeps_maru_inside_brackets() -> None:
    """This test ensures that a 。 inside 「」 or （） does not end a sentence."""
    text = (
        "「薬事法等の一部を改正する法律」（平成 25 年法律第 84 号。以下「改正法」という。）が公布されました。"
        "⑤ ※本事業における「常駐支援」とは、年間を通じて実施する支援活動をいう。"
    )
    assert split_sentences(text) == [
        "「薬事法等の一部を改正する法律」（平成 25 年法律第 84 号。以下「改正法」という。）が公布されました。",
        "⑤ ※本事業における「常駐支援」とは、年間を通じて実施する支援活動をいう。",
    ]


def test_split_sentences_numbered_items_and_text_preserved() -> None:
    """This test ensures that numbered items each start a sentence and every sentence is a substring of the input."""
    text = (
        "以下の要件を満たすこと。\n"
        "1. 申請時に管内の1以上の市区町村が伴走支援を受けることについて同意していること\n"
        "（２）伴走支援を受け入れる体制を確立できること\n"
        "ア 総務省及び事務局からの連絡に対して、迅速に対応する体制を\n確立できること"
    )
    sentences = split_sentences(text)
    assert sentences == [
        "以下の要件を満たすこと。",
        "1. 申請時に管内の1以上の市区町村が伴走支援を受けることについて同意していること",
        "（２）伴走支援を受け入れる体制を確立できること",
        "ア 総務省及び事務局からの連絡に対して、迅速に対応する体制を\n確立できること",
    ]
    assert all(s in text for s in sentences)


def test_split_sentences_whole_corpus_is_substrings() -> None:
    """This test ensures that splitting a whole corpus file loses no text: sentences appear in order."""
    text = (ROOT / "corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt").read_text(encoding="utf-8")
    pos = 0
    for s in split_sentences(text):
        i = text.find(s, pos)
        assert i >= 0, s[:40]
        assert not text[pos:i].strip(), text[pos:i][:40]  # only whitespace between sentences
        pos = i + len(s)
    assert not text[pos:].strip()
