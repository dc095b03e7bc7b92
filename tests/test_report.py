"""Tests for pipeline.report: the frame, CSV, JSON, Markdown, the HTML report, the 新旧対照表 (HTML and Excel).

The diff is built by hand, so these tests do not depend on diff.py: an amount cut (1億円 → 7,000万円程度), an
added security clause, a removed annex, a renumbered annex, an editorial change of the secretariat's name and a
change whose texts carry HTML (``<script>``, ``<p>``, ``&lt;``), which every page must show escaped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock

from pipeline import report
from pipeline.document import (
    Change,
    ChangeCategory,
    ChangeKind,
    DiffOp,
    DocumentDiff,
    SourceFile,
    ValueChange,
    ValueType,
)
from pipeline.report import (
    CATEGORY_LABELS,
    FRAME_COLUMNS,
    KIND_LABELS,
    diff_frame,
    html_report,
    markdown_summary,
    shinkyu_html,
    write_csv,
    write_reports,
    write_shinkyu_xlsx,
)

OLD = SourceFile(
    path="corpora/chiiki-dx/2025/chiiki-dx_fy2025_koubo.pdf",
    sha256="a" * 64,
    media_type="application/pdf",
    n_bytes=123_456,
    title="地域デジタル基盤活用推進事業 公募要領",
    programme="chiiki-dx",
    fiscal_year=2025,
    issuer="総務省",
    secretariat="株式会社A&B総研",
)
NEW = OLD.model_copy(
    update={
        "path": "corpora/chiiki-dx/2026/chiiki-dx_fy2026_koubo.pdf",
        "sha256": "b" * 64,
        "fiscal_year": 2026,
        "secretariat": "株式会社C研究所",
    }
)

AMOUNT = Change(
    kind=ChangeKind.MODIFIED,
    substantive=True,
    category=ChangeCategory.AMOUNT,
    reason="amount: 1億円 → 7,000万円程度 (−30%)",
    old_path="II.2",
    new_path="II.2",
    old_heading="業務委託費",
    new_heading="業務委託費",
    old_text="業務委託費限度額 1億円（消費税及び地方消費税を含む。）",
    new_text="業務委託費限度額 7,000万円程度（消費税及び地方消費税を含む。）",
    old_pages=[4],
    new_pages=[5],
    diff=[
        DiffOp(op="equal", text="業務委託費限度額 "),
        DiffOp(op="delete", text="1億円"),
        DiffOp(op="insert", text="7,000万円程度"),
        DiffOp(op="equal", text="（消費税及び地方消費税を含む。）"),
    ],
    values=[
        ValueChange(
            type=ValueType.AMOUNT,
            old="1億円",
            new="7,000万円程度",
            old_normalized=100_000_000,
            new_normalized=70_000_000,
            delta="−30%",
        ),
        ValueChange(type=ValueType.DATE, old="令和7年4月1日", new="令和8年4月1日", delta="+365 days"),
    ],
    similarity=0.86,
    importance=17.5,
)
ADDED_TEXT = "(3) 情報セキュリティ\n受託者は、ISMS（ISO/IEC 27001）の認証を取得していること。"
ADDED = Change(
    kind=ChangeKind.ADDED,
    substantive=True,
    category=ChangeCategory.SECURITY,
    reason="added: III.4.(3)",
    new_path="III.4.(3)",
    new_heading="情報セキュリティ",
    new_text=ADDED_TEXT,
    new_pages=[9],
    diff=[DiffOp(op="insert", text=ADDED_TEXT)],
    importance=13.0,
)
REMOVED_TEXT = "別添3 様式集\n様式1 応募申請書\n様式2 経費内訳書"
REMOVED = Change(
    kind=ChangeKind.REMOVED,
    substantive=True,
    category=ChangeCategory.PROCESS,
    reason="removed: 別添3 with 2 clauses below it",
    old_path="別添3",
    old_heading="様式集",
    old_text=REMOVED_TEXT,
    old_pages=[20, 21],
    diff=[DiffOp(op="delete", text=REMOVED_TEXT)],
    importance=12.0,
)
RENUMBERED = Change(
    kind=ChangeKind.RENUMBERED,
    substantive=False,
    category=ChangeCategory.OTHER,
    reason="renumbered: same text",
    old_path="別添2",
    new_path="別添1",
    old_heading="審査基準",
    new_heading="審査基準",
    old_text="別添2 審査基準",
    new_text="別添1 審査基準",
    importance=0.5,
)
SECRETARIAT = Change(
    kind=ChangeKind.MODIFIED,
    substantive=False,
    category=ChangeCategory.CONTACT,
    reason="editorial: secretariat's name or the same words",
    old_path="VI.1",
    new_path="VI.1",
    old_heading="問合せ先",
    new_heading="問合せ先",
    old_text="問合せ先：株式会社A&B総研 地域DX事務局",
    new_text="問合せ先：株式会社C研究所 地域DX事務局",
    diff=[
        DiffOp(op="equal", text="問合せ先：株式会社"),
        DiffOp(op="delete", text="A&B総研"),
        DiffOp(op="insert", text="C研究所"),
        DiffOp(op="equal", text=" 地域DX事務局"),
    ],
    similarity=0.9,
    importance=15.0,  # above two substantive changes: substantive must still come first
)
MARKUP_OLD = '<p>提出書類は<li>様式1</li>とする &lt;必須&gt;</p><a href="x" onclick="steal()">リンク</a>'
MARKUP_NEW = "<p>提出書類は<li>様式1</li>とする &lt;必須&gt;</p><script>alert(1)</script>"
MARKUP = Change(
    kind=ChangeKind.MODIFIED,
    substantive=False,
    category=ChangeCategory.OTHER,
    reason="editorial: <b>markup</b> & spacing only",
    old_path="IV.<i>1</i>",
    new_path="IV.<i>1</i>",
    old_heading='提出書類 "<script>alert(2)</script>"',
    new_heading='提出書類 "<script>alert(2)</script>"',
    old_text=MARKUP_OLD,
    new_text=MARKUP_NEW,
    diff=[
        DiffOp(op="equal", text="<p>提出書類は<li>様式1</li>とする &lt;必須&gt;</p>"),
        DiffOp(op="delete", text='<a href="x" onclick="steal()">リンク</a>'),
        DiffOp(op="insert", text="<script>alert(1)</script>"),
    ],
    values=[ValueChange(type=ValueType.URL, old="https://example.go.jp/?a=1&b=<x>", new=None)],
    importance=0.8,
)
# deliberately not in report order: editorial first, substantive by ascending importance
DIFF = DocumentDiff(
    old=OLD,
    new=NEW,
    changes=[SECRETARIAT, MARKUP, REMOVED, RENUMBERED, ADDED, AMOUNT],
    produced_by={"diff": "diff_rules.v1"},
)
ORDER = [AMOUNT, ADDED, REMOVED, SECRETARIAT, MARKUP, RENUMBERED]  # substantive by importance, then editorial


class _Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# --- frame ------------------------------------------------------------------------------------------------------


def test_frame_has_one_row_per_change_in_report_order() -> None:
    """This test ensures that the frame has the agreed columns, one row per change, substantive first by importance."""
    frame = diff_frame(DIFF)
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == len(DIFF.changes)
    assert frame["reason"].tolist() == [c.reason for c in ORDER]
    assert frame["substantive"].tolist() == [True, True, True, False, False, False]
    assert frame["importance"].tolist() == [17.5, 13.0, 12.0, 15.0, 0.8, 0.5]
    first = frame.iloc[0]
    assert (first["kind"], first["category"]) == ("modified", "amount")
    assert first["values"] == "amount: 1億円 → 7,000万円程度 (−30%); date: 令和7年4月1日 → 令和8年4月1日 (+365 days)"
    removed = frame.iloc[2]
    assert removed["old_path"] == "別添3" and pd.isna(removed["new_path"]) and pd.isna(removed["new_text"])
    assert frame.iloc[4]["values"] == "url: https://example.go.jp/?a=1&b=<x> → —"


def test_frame_breaks_ties_by_clause_path_numerically() -> None:
    """This test ensures that changes of equal importance follow the clause numbering (3.(2) before 3.(10))."""
    base = SECRETARIAT.model_copy(update={"importance": 1.0})
    changes = [base.model_copy(update={"new_path": p, "old_path": p}) for p in ("3.(10)", "3.(2)", "10", "3.(2).ア")]
    removed = REMOVED.model_copy(update={"substantive": False, "importance": 1.0, "old_path": "3.(3)"})
    frame = diff_frame(DocumentDiff(old=OLD, new=NEW, changes=[*changes, removed]))
    assert frame["new_path"].fillna("(" + frame["old_path"] + ")").tolist() == [
        "3.(2)",
        "3.(2).ア",
        "(3.(3))",
        "3.(10)",
        "10",
    ]


def test_every_kind_and_category_has_a_japanese_label() -> None:
    """This test ensures that a new ChangeKind or ChangeCategory cannot reach the reports without a label."""
    assert set(KIND_LABELS) == set(ChangeKind)
    assert set(CATEGORY_LABELS) == set(ChangeCategory)


# --- CSV, Markdown ----------------------------------------------------------------------------------------------


def test_csv_has_a_bom_and_round_trips_with_pandas(tmp_path: Path) -> None:
    """This test ensures that the CSV starts with a UTF-8 BOM and reads back with pandas to the same rows."""
    path = tmp_path / "diff.csv"
    write_csv(DIFF, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "業務委託費限度額 7,000万円程度" in raw.decode("utf-8-sig")
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    expected = diff_frame(DIFF).fillna("")
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert back.loc[1, "new_text"] == ADDED_TEXT  # the newline inside a field survives
    assert back.loc[4, "new_text"] == MARKUP_NEW  # CSV is data: markup is kept as written


def test_markdown_summary_names_the_calls_the_counts_and_the_value_change() -> None:
    """This test ensures that the Markdown summary has both calls, the counts and the substantive changes in order."""
    md = markdown_summary(DIFF)
    title = md.splitlines()[0]
    assert title.startswith("# ")
    assert "令和7年度" in title and "令和8年度" in title and title.index("令和7年度") < title.index("令和8年度")
    assert "株式会社A\\&B総研" in title and "株式会社C研究所" in title
    assert "実質的 (substantive) 3 件、形式的 (editorial) 3 件" in md
    assert "種別: 追加 1、削除 1、変更 3、番号変更 1" in md
    assert "分野: 金額 1、手続 1、問合せ先 1、セキュリティ 1、その他 2" in md
    items = [line for line in md.splitlines() if re.match(r"\d+\. ", line)]
    assert len(items) == 3
    assert items[0].startswith("1. **金額** (変更) II.2 業務委託費: amount: 1億円 → 7,000万円程度 (−30%)")
    assert "date: 令和7年4月1日 → 令和8年4月1日 (+365 days)" in items[0]  # the delta the reason leaves out
    assert items[0].count("1億円 → 7,000万円程度") == 1  # not repeated after the reason
    assert items[1].startswith("2. **セキュリティ** (追加) III.4.(3) 情報セキュリティ")
    assert items[2].startswith("3. **手続** (削除) 別添3 様式集")
    assert "形式的な変更（表記、年度、事務局名、番号など）: 3 件（変更 2、番号変更 1）。" in md


def test_markdown_escapes_text_that_would_become_markup() -> None:
    """This test ensures that HTML in a substantive change's reason is escaped in the Markdown summary."""
    loud = MARKUP.model_copy(update={"substantive": True, "importance": 20.0})
    md = markdown_summary(DocumentDiff(old=OLD, new=NEW, changes=[loud]))
    assert "<script>" not in md and "<b>" not in md
    assert "\\<b\\>markup\\</b\\> \\& spacing only" in md


# --- HTML report ------------------------------------------------------------------------------------------------


def test_html_report_escapes_every_string_from_the_documents() -> None:
    """This test ensures that markup in texts, headings, paths, reasons and values comes back escaped, never raw."""
    page = html_report(DIFF)
    assert "<script>alert" not in page and 'onclick="' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "&quot;" in page  # heading, quotes too
    assert "&lt;p&gt;提出書類は&lt;li&gt;様式1&lt;/li&gt;とする &amp;lt;必須&amp;gt;&lt;/p&gt;" in page
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in page
    assert "<del>&lt;a href=&quot;x&quot; onclick=&quot;steal()&quot;&gt;リンク&lt;/a&gt;</del>" in page
    assert "&lt;b&gt;markup&lt;/b&gt; &amp; spacing only" in page
    assert "IV.&lt;i&gt;1&lt;/i&gt;" in page
    assert "https://example.go.jp/?a=1&amp;b=&lt;x&gt;" in page
    assert "株式会社A&amp;B総研" in page
    # the documents' markup did not turn into elements: only the report's own tags are in the page
    tags = {tag for tag, _ in _tags(page)}
    assert tags <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "span", "table",
                    "thead", "tbody", "tr", "th", "td", "section", "ul", "li", "b", "p", "div", "label", "input",
                    "button", "ol", "a", "colgroup", "col", "ins", "del", "footer", "script"}  # fmt: skip
    assert [tag for tag, _ in _tags(page)].count("script") == 1
    assert not any("onclick" in attrs for _, attrs in _tags(page))


def test_html_report_is_one_self_contained_japanese_page() -> None:
    """This test ensures that the page declares ja/UTF-8, loads nothing from outside and allows only its own code."""
    page = html_report(DIFF)
    assert page.startswith('<!DOCTYPE html>\n<html lang="ja">')
    assert '<meta charset="utf-8">' in page
    tags = _tags(page)
    assert not [attrs for tag, attrs in tags if "src" in attrs or tag == "link"]
    assert all((attrs.get("href") or "#").startswith("#") for _, attrs in tags)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert style is not None and script is not None
    csp = next(attrs["content"] for tag, attrs in tags if attrs.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp
    assert f"style-src {_csp_hash(style.group(1))}" in csp and f"script-src {_csp_hash(script.group(1))}" in csp
    assert re.search(r"@media print \{.*?\.filters[^{]*\{ display: none", style.group(1), re.S)
    assert "<h1>公募要領 新旧比較" in page and "重要な変更" in page
    assert "令和7年度（FY2025）" in page and "令和8年度（FY2026）" in page
    assert "株式会社C研究所" in page and "地域デジタル基盤活用推進事業 公募要領" in page


def test_html_report_puts_substantive_changes_first_and_marks_the_diff() -> None:
    """This test ensures that rows are substantive first by importance, with <del>/<ins> from Change.diff."""
    page = html_report(DIFF)
    rows = [attrs for tag, attrs in _tags(page) if tag == "tr" and (attrs.get("id") or "").startswith("c")]
    assert [r["data-substantive"] for r in rows] == ["1", "1", "1", "0", "0", "0"]
    assert [r["data-cat"] for r in rows] == [c.category.value for c in ORDER]
    positions = [page.index(f'<tr id="c{i}"') for i in range(1, 7)]
    assert positions == sorted(positions)
    table = page[page.index('<table class="sbs">') :]
    assert table.index("7,000万円程度") < table.index("ISMS") < table.index("様式2 経費内訳書") < table.index("C研究所")
    assert "業務委託費限度額 <del>1億円</del>（消費税" in page
    assert "業務委託費限度額 <ins>7,000万円程度</ins>（消費税" in page
    assert "<ins>(3) 情報セキュリティ\n受託者は" in page  # added: the whole text is inserted
    assert "<del>別添3 様式集\n様式1 応募申請書\n様式2 経費内訳書</del>" in page  # removed: all deleted
    assert "別添2 → 別添1" in page
    # the ranked section lists the substantive changes only, most important first
    ranked = page[page.index('<ol class="ranked">') : page.index("</ol>")]
    assert ranked.count("<li ") == 3
    assert ranked.index("II.2") < ranked.index("III.4.(3)") < ranked.index("別添3")
    assert "C研究所" not in ranked


def test_html_report_has_filters_for_the_categories_present() -> None:
    """This test ensures that the page offers a substantive-only checkbox and one button per category present."""
    tags = _tags(html_report(DIFF))
    assert any(tag == "input" and attrs.get("id") == "only-substantive" for tag, attrs in tags)
    cats = [attrs["data-cat"] for tag, attrs in tags if tag == "button"]
    assert cats == ["", "amount", "process", "contact", "security", "other"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_html_report_script_hides_and_shows_rows() -> None:
    """This test ensures that the page's script, run in node on a stand-in DOM, filters rows as the controls say."""
    page = html_report(DIFF)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert script is not None
    tags = _tags(page)

    def dataset(attrs: dict[str, str | None]) -> dict[str, str | None]:
        return {k[5:]: v for k, v in attrs.items() if k.startswith("data-")}

    items: list[dict[str, Any]] = [
        {"tag": t, "data": dataset(a)} for t, a in tags if "chg" in (a.get("class") or "").split()
    ]
    buttons = [dataset(a) for t, a in tags if t == "button"]
    harness = """
    const spec = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const mk = (tag, data) => ({ tagName: tag.toUpperCase(), dataset: data, hidden: false, attrs: {}, on: {},
      setAttribute(k, v) { this.attrs[k] = v; }, addEventListener(t, f) { this.on[t] = f; } });
    const items = spec.items.map((i) => mk(i.tag, i.data));
    const buttons = spec.buttons.map((b) => mk("button", b));
    const only = mk("input", {}); only.checked = false;
    const status = { textContent: "" };
    globalThis.document = {
      getElementById: (id) => ({ "only-substantive": only, "filter-status": status })[id],
      querySelectorAll: (sel) => ({ ".chg": items, "button[data-cat]": buttons })[sel],
    };
    new Function(spec.script)();
    const snap = () => items.map((i) => i.hidden);
    const out = { initial: snap(), status: [status.textContent] };
    only.checked = true; only.on.change(); out.only = snap(); out.status.push(status.textContent);
    buttons.find((b) => b.dataset.cat === "amount").on.click(); out.both = snap(); out.status.push(status.textContent);
    out.pressed = buttons.map((b) => b.attrs["aria-pressed"]);
    only.checked = false; only.on.change(); buttons[0].on.click(); out.reset = snap();
    console.log(JSON.stringify(out));
    """
    run = subprocess.run(
        ["node", "-e", harness],
        input=json.dumps({"script": script.group(1), "items": items, "buttons": buttons}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = json.loads(run.stdout)
    substantive = [i["data"]["substantive"] == "1" for i in items]
    amount = [i["data"]["cat"] == "amount" for i in items]
    assert len(items) == 9  # 3 ranked entries + 6 table rows
    assert out["initial"] == [False] * 9
    assert out["only"] == [not s for s in substantive]
    assert out["both"] == [not (s and a) for s, a in zip(substantive, amount, strict=True)]
    assert out["pressed"] == ["false", "true", "false", "false", "false", "false"]
    assert out["reset"] == [False] * 9
    assert out["status"] == ["表示中 showing: 6 / 6 件", "表示中 showing: 3 / 6 件・実質的のみ",
                             "表示中 showing: 1 / 6 件・実質的のみ・金額"]  # fmt: skip


def test_html_report_of_an_empty_diff_says_so() -> None:
    """This test ensures that a diff with no changes still gives a page (and every other report) saying so."""
    empty = DocumentDiff(old=OLD, new=NEW)
    assert "変更はありません" in html_report(empty)
    assert "変更はありません" in shinkyu_html(empty)
    assert "変更 0 件" in markdown_summary(empty)
    assert list(diff_frame(empty).columns) == list(FRAME_COLUMNS) and diff_frame(empty).empty


# --- 新旧対照表 ---------------------------------------------------------------------------------------------------


def test_shinkyu_html_has_new_old_remark_columns_with_marked_changes() -> None:
    """This test ensures that the 新旧対照表 page is 新 | 旧 | 備考, substantive first, changes marked, text escaped."""
    page = shinkyu_html(DIFF)
    heads = re.findall(r"<th>(.*?)</th>", page)
    assert heads == ["新 令和8年度（FY2026）", "旧 令和7年度（FY2025）", "備考"]
    row = r'<tr class="(substantive|editorial)"><td>(.*?)</td>\s*<td>(.*?)</td><td class="remark">(.*?)</td>'
    rows = re.findall(row, page, re.S)
    assert [r[0] for r in rows] == ["substantive"] * 3 + ["editorial"] * 3
    _, new, old, remark = rows[0]
    assert "<ins>7,000万円程度</ins>" in new and "<del>" not in new
    assert "<del>1億円</del>" in old and "<ins>" not in old
    assert remark.startswith("変更・金額・実質的<br>amount: 1億円 → 7,000万円程度 (−30%)<br>date:")
    assert rows[1][2] == '<span class="none">（新設）</span>' and rows[2][1] == '<span class="none">（削除）</span>'
    assert "別添2 → 別添1" in rows[5][3]
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;p&gt;" in page and "&amp;lt;必須&amp;gt;" in page


def test_shinkyu_xlsx_marks_inserted_and_deleted_text_with_rich_text(tmp_path: Path) -> None:
    """This test ensures that the workbook has a title, 新/旧/備考 headers and red bold / red struck-through runs."""
    path = tmp_path / "shinkyu.xlsx"
    write_shinkyu_xlsx(DIFF, path)
    wb = openpyxl.load_workbook(path, rich_text=True)
    assert wb.sheetnames == ["新旧対照表", "変更一覧"]
    ws = wb["新旧対照表"]
    title = str(ws["A1"].value)
    assert title.startswith("新旧対照表") and "令和8年度" in title and "株式会社A&B総研" in title
    assert [ws.cell(row=3, column=c).value for c in (1, 2, 3)] == ["新", "旧", "備考"]
    assert ws.freeze_panes == "A4"
    assert ws.max_row == 3 + len(DIFF.changes)
    assert ws.column_dimensions["A"].width == 60 and ws.column_dimensions["C"].width == 42
    new, old, remark = (ws.cell(row=4, column=c) for c in (1, 2, 3))
    assert isinstance(new.value, CellRichText) and isinstance(old.value, CellRichText)
    assert str(new.value) == f"【II.2 業務委託費】\n{AMOUNT.new_text}"
    assert str(old.value) == f"【II.2 業務委託費】\n{AMOUNT.old_text}"
    inserted = [b for b in new.value if isinstance(b, TextBlock) and b.font.b]
    assert [(b.text, b.font.color.rgb) for b in inserted] == [("7,000万円程度", "FFFF0000")]
    deleted = [b for b in old.value if isinstance(b, TextBlock) and b.font.strike]
    assert [(b.text, b.font.color.rgb) for b in deleted] == [("1億円", "FFFF0000")]
    assert all(not (isinstance(b, TextBlock) and b.font.b) for b in old.value)
    assert new.alignment.wrap_text and remark.alignment.wrap_text
    assert str(remark.value).startswith("変更・金額・実質的\namount: 1億円 → 7,000万円程度 (−30%)")
    # added clause: the new text is all marked, the old cell says 新設; the markup row keeps its text as text
    assert str(ws.cell(row=5, column=2).value) == "（新設）"
    added = [b for b in ws.cell(row=5, column=1).value if isinstance(b, TextBlock) and b.font.b]
    assert [b.text for b in added] == [ADDED_TEXT]
    assert str(ws.cell(row=8, column=1).value).endswith("<script>alert(1)</script>")
    table = wb["変更一覧"]
    assert [c.value for c in table[1]] == list(FRAME_COLUMNS)
    assert [table.cell(row=r, column=4).value for r in range(2, 8)] == [c.reason for c in ORDER]
    assert table.cell(row=2, column=2).value is True and table.cell(row=2, column=12).value == 17.5


def test_shinkyu_xlsx_keeps_formula_like_text_as_text(tmp_path: Path) -> None:
    """This test ensures that a clause starting with '=' is stored as text, never as a formula Excel would run."""
    formula = SECRETARIAT.model_copy(update={"old_text": "=1+1", "new_text": '=HYPERLINK("http://x")', "diff": []})
    path = tmp_path / "f.xlsx"
    write_shinkyu_xlsx(DocumentDiff(old=OLD, new=NEW, changes=[formula]), path)
    table = openpyxl.load_workbook(path)["変更一覧"]
    cells = [table.cell(row=2, column=c) for c in (9, 10)]
    assert [c.value for c in cells] == ["=1+1", '=HYPERLINK("http://x")'] and {c.data_type for c in cells} == {"s"}


# --- writing files ----------------------------------------------------------------------------------------------


def test_write_reports_writes_six_files_and_nothing_else(tmp_path: Path) -> None:
    """This test ensures that write_reports writes the six formats under the stem and leaves no temporary file."""
    out = tmp_path / "reports" / "chiiki-dx"
    paths = write_reports(DIFF, out, "chiiki-dx_fy2025-fy2026")
    assert set(paths) == {"html", "shinkyu_html", "xlsx", "csv", "md", "json"}
    assert sorted(os.listdir(out)) == sorted(p.name for p in paths.values())
    assert paths["shinkyu_html"].name == "chiiki-dx_fy2025-fy2026.shinkyu.html"
    assert paths["html"].read_text(encoding="utf-8") == html_report(DIFF)
    assert paths["md"].read_text(encoding="utf-8") == markdown_summary(DIFF)
    assert DocumentDiff.from_json(paths["json"].read_text(encoding="utf-8")) == DIFF
    assert openpyxl.load_workbook(paths["xlsx"])["新旧対照表"]["A3"].value == "新"
    assert pd.read_csv(paths["csv"], encoding="utf-8-sig").shape == (6, len(FRAME_COLUMNS))
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in paths.values())


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This test ensures that a writer failing halfway keeps the previous file whole and removes its temp file."""
    path = tmp_path / "diff.xlsx"
    path.write_bytes(b"previous workbook")

    def broken_save(self: object, filename: str) -> None:
        Path(filename).write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_shinkyu_xlsx(DIFF, path)
    assert path.read_bytes() == b"previous workbook"
    assert os.listdir(tmp_path) == ["diff.xlsx"]


@pytest.mark.parametrize("stem", ["", ".", "..", "../escape", "sub/name"])
def test_write_reports_refuses_a_stem_with_a_folder(tmp_path: Path, stem: str) -> None:
    """This test ensures that a stem naming a folder is refused before anything is written."""
    with pytest.raises(ValueError, match="plain file name"):
        write_reports(DIFF, tmp_path / "out", stem)
    assert not (tmp_path / "out").exists()


def test_report_is_the_only_module_importing_pandas() -> None:
    """This test ensures that pandas and openpyxl stay inside pipeline/report.py (house rule: one importer)."""
    pipeline_dir = Path(report.__file__).parent
    importers = sorted(
        str(p.relative_to(pipeline_dir))
        for p in pipeline_dir.rglob("*.py")
        if re.search(r"^\s*(import|from) (pandas|openpyxl)\b", p.read_text(encoding="utf-8"), re.M)
    )
    assert importers == ["report.py"]
