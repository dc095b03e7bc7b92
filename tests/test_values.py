"""Tests for pipeline.nlp.values: the gold cases of tests/data/values_gold.jsonl, organisations, edge cases.

Comparison policy for the gold file: a gold case lists the values a reader checked by hand, not
necessarily every value in the sentence. We compare the extracted values *of the gold case's types*,
in text order, one for one (type, raw, normalized, qualifier, and a warning exactly where
``weekday_ok`` is false). Values of other types are not checked by the gold test; the inline tables
below pin the ones that matter (organisations, plain sentences).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import DATA, corpus_rows
from pipeline.document import Value, ValueType
from pipeline.nlp.values import VALUE_RULES, extract_values, table_unit

GOLD = [json.loads(line) for line in (DATA / "values_gold.jsonl").read_text(encoding="utf-8").splitlines() if line]
FISCAL_YEAR = {"corpora/" + r["file"]: int(r["fiscal_year"]) for r in corpus_rows()}


def _view(v: Value) -> dict[str, Any]:
    return {"type": v.type.value, "raw": v.raw, "normalized": v.normalized, "qualifier": v.qualifier}


@pytest.mark.parametrize("case", GOLD, ids=[f"{c['source'].rsplit('/', 1)[-1]}:{c['line']}" for c in GOLD])
def test_gold_values(case: dict[str, Any]) -> None:
    """This test ensures that every hand-checked value of a gold sentence is found with its gold normal form."""
    text = case["text"]
    values = extract_values(text, base_year=FISCAL_YEAR[case["source"]])
    gold_types = {g["type"] for g in case["values"]}
    got = [v for v in values if v.type.value in gold_types]
    expected = [{k: g[k] for k in ("type", "raw", "normalized", "qualifier")} for g in case["values"]]
    assert [_view(v) for v in got] == expected, case["note"]
    for v, g in zip(got, case["values"], strict=True):
        assert v.span is not None and text[v.span[0] : v.span[1]] == v.raw
        assert (v.warning is not None) == (g.get("weekday_ok") is False), (v.raw, v.warning)


# fmt: off
ORGANISATIONS = [
    # (sentence from the corpus, organisations as normalised, in text order)
    ("株式会社三菱総合研究所ホームページ (<https://pubpjt.mri.co.jp/publicoffer/20250307.html>)",
     ["株式会社三菱総合研究所"]),
    ("■株式会社 NTT データ経営研究所", ["株式会社NTTデータ経営研究所"]),
    ("た、委託予定先名を総務省および株式会社三菱総合研究所のホームページで公表します。",
     ["総務省", "株式会社三菱総合研究所"]),
    ("経済産業省 商務情報政策局 情報技術利用促進課 デジタル人材政策室", ["経済産業省商務情報政策局"]),
    ("④ 契約期間は、実施機関と東北経済産業局が委託契約を締結した日以降、", ["東北経済産業局"]),
    ("独立行政法人情報処理推進機構（IPA）が公開する最新の「安全なウェブサイトの作り方」",
     ["独立行政法人情報処理推進機構"]),
    ("・総務省（信越総合通信局）及び支援事業者との連絡調整窓口", ["総務省", "信越総合通信局"]),
    ("〇〇経済産業局(内閣府沖縄総合事務局) 〇〇 殿", ["内閣府沖縄総合事務局"]),
    ("その他株式会社三菱総合研究所又は株式会社 NTT データ経営研究所の意図せざる変更",
     ["株式会社三菱総合研究所", "株式会社NTTデータ経営研究所"]),
    ("事務局は但馬県民局県民躍動室が担う。", ["但馬県民局"]),
    ("加東市教育委員会事務局と本事業事務局及び県庁内各部局が連携する", ["加東市教育委員会事務局"]),
    ("当省外へのアクセスを自動的に発生させる機能", []),
    ("関係府省庁施策推進・連絡会議決定", []),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), ORGANISATIONS, ids=[f"org{i}" for i in range(len(ORGANISATIONS))])
def test_organisations(text: str, expected: list[str]) -> None:
    """This test ensures that named organisations are found and generic words (当省, 事務局, 省庁) are not."""
    orgs = [v for v in extract_values(text) if v.type is ValueType.ORGANISATION]
    assert [v.normalized for v in orgs] == expected
    assert all(v.span is not None and text[v.span[0] : v.span[1]] == v.raw for v in orgs)


# fmt: off
EDGE_CASES = [
    # (sentence, base_year, expected (type, raw, normalized, qualifier) in text order)
    ("本事業の目的は、地域の課題を解決することである。", None, []),
    ("令和元年5月1日に改元された", None, [("date", "令和元年5月1日", "2019-05-01", None)]),
    ("5月19日(火)に実施する", None, []),  # no year anywhere: skipped, not guessed
    ("5月19日(火)に実施する", 2026, [("date", "5月19日(火)", "2026-05-19", None)]),
    ("令和8年4月1日～同日17時", None,
     [("date", "令和8年4月1日", "2026-04-01", "から"), ("date", "同日17時", "2026-04-01T17:00", "まで")]),
    ("令和8年2月30日必着", None, []),  # no such day
    ("令和7年3月31日（消印有効）", None, [("date", "令和7年3月31日", "2025-03-31", "消印有効")]),
    ("補助率は2分の1以内とする", None, [("rate", "2分の1", 0.5, "以内")]),
    ("補助率は1割とする", None, [("rate", "1割", 0.1, None)]),
    ("上限１億２，０００万円（税抜）", None, [("amount", "１億２，０００万円", 120000000, "上限,税抜")]),
    ("問合せ：info＠example.go.jp、TEL：03-1234-5678", None,
     [("email", "info＠example.go.jp", "info@example.go.jp", None), ("phone", "03-1234-5678", "03-1234-5678", None)]),
    ("3町村のDX推進体制（構成6町村長）", None, [("count", "3町村", {"min": 3, "max": 3, "unit": "町村"}, None)]),
    ("第1回の会議は令和7年度に開催し、3～5件程度を採択する", None,
     [("count", "3～5件", {"min": 3, "max": 5, "unit": "件"}, "程度")]),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "base_year", "expected"), EDGE_CASES, ids=[f"edge{i}" for i in range(len(EDGE_CASES))]
)
def test_edge_cases(text: str, base_year: int | None, expected: list[tuple[Any, ...]]) -> None:
    """This test ensures that plain sentences yield nothing and era, 同日, fraction and full-width forms resolve."""
    got = [v for v in extract_values(text, base_year=base_year) if v.type is not ValueType.ORGANISATION]
    assert [(v.type.value, v.raw, v.normalized, v.qualifier) for v in got] == expected


def test_weekday_warning_message() -> None:
    """This test ensures that a contradicting weekday is reported with the printed and the actual weekday."""
    (value,) = extract_values("令和8年4月13日(火)")
    assert value.warning == "printed 火 but 2026-04-13 is 月"


def test_rules_are_versioned() -> None:
    """This test ensures that the rule set carries a versioned name for produced_by."""
    assert VALUE_RULES == "value_rules.v2"


# fmt: off
TABLE_CASES = [
    # (the clause's sentences in order, the amounts (raw, yen) found in each)
    (["各都道府県、以下の金額を上限とします。", "（単位：円）", "宮城\t149,464,000\t57,851,000"],
     [[], [], [("149,464,000", 149464000), ("57,851,000", 57851000)]]),
    (["(単位:千円、税込) 予算額 182,000 うち人件費 40,500"], [[("182,000", 182000000), ("40,500", 40500000)]]),
    (["【単位：百万円】", "総額 1,234.5"], [[], [("1,234.5", 1234500000)]]),
    (["（金額単位：千円）", "合計\t2,500"], [[], [("2,500", 2500000)]]),
    # not cells: a number a counter, a unit or 年 follows, or the end of a range
    (["（単位：円）", "本文は2,000字以内、1,200万 の 1,200ページ、1,000から2,000 まで、令和 2,026年"], [[], []]),
    (["予算額 182,000 と 40,500"], [[]]),  # no unit declared: bare numbers are not amounts
    (["182,000 （単位：千円）", "40,500"], [[], [("40,500", 40500000)]]),  # only numbers after the declaration
]
# fmt: on


@pytest.mark.parametrize(("sentences", "expected"), TABLE_CASES, ids=[f"table{i}" for i in range(len(TABLE_CASES))])
def test_a_table_unit_makes_its_bare_numbers_amounts(sentences: list[str], expected: list[list[Any]]) -> None:
    """This test ensures that after 「（単位：円）」, 「(単位:千円、税込)」 or 「【単位：百万円】」 the grouped
    numbers standing alone as cells are amounts in that unit; numbers a counter, a unit or 年 follows, and the end
    of a range, are not; and without a declared unit nothing is read."""
    unit = None
    got = []
    for sentence in sentences:
        start = 0
        if declared := table_unit(sentence):
            unit, start = declared
        values = extract_values(sentence, unit=unit, unit_from=start)
        got.append([(v.raw, v.normalized) for v in values if v.type is ValueType.AMOUNT])
    assert got == expected


def test_the_budget_table_of_the_yorozu_call_gives_each_prefectures_amounts() -> None:
    """This test ensures that the requirements of the yorozu call carry the amounts of its budget table (V.3,
    「（単位：円）」 above rows of bare numbers), so that 宮城's 149,464,000 yen is a value of that clause."""
    from pathlib import Path

    from conftest import CORPORA
    from pipeline.ingest import ingest_path, load_manifest
    from pipeline.nlp import find_requirements
    from pipeline.structure import segment

    path = CORPORA / "yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt"
    doc = ingest_path(Path(path), manifest=load_manifest(CORPORA / "MANIFEST.csv")).document
    assert doc is not None
    rows = {
        r.sentence.split()[0]: [v.normalized for v in r.values if v.type is ValueType.AMOUNT]
        for r in find_requirements(segment(doc)).requirements
        if r.clause_path == "V.3" and r.sentence.strip()
    }
    assert rows["宮城"] == [149464000, 57851000, 37678000, 53935000]
    assert rows["青森"][0] == 141565000 and len([k for k, v in rows.items() if len(v) == 4]) == 6
    assert rows["各都道府県、以下の金額を上限とします。"] == []
