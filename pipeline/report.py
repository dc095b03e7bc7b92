"""Report: a DocumentDiff → a table, a summary and pages a person reads (HTML, 新旧対照表, Excel, CSV, Markdown).

Consumes a :class:`~pipeline.document.DocumentDiff` (from :func:`pipeline.diff.diff_documents`); produces a
pandas DataFrame of its change items (:func:`diff_frame`), a Markdown summary, a self-contained HTML report with
filters, a 新旧対照表 as HTML and as an Excel workbook, and the CSV and JSON files. Every change item appears in
every format, substantive ones first, by importance.

Heavy dependencies: pandas (the frame and the CSV) and openpyxl (the workbook); this is the only module that
imports either.

Everything taken from the documents or the diff is HTML-escaped before it goes into a page: calls quote HTML
fragments (``<p>``, ``&lt;``) and a report must show them, not run them. The HTML pages load nothing from
outside and carry a Content-Security-Policy that lets only their own inline style and script run.

The ``write_*`` functions write atomically (a temporary file in the same folder, then :func:`os.replace`), so
a reader sees the old file or the new one, never half of one. They overwrite: refusing to is the CLI's job.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]  # no stubs installed: types-openpyxl would type this
import pandas as pd  # type: ignore[import-untyped]  # no stubs installed: pandas-stubs would type this
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.cell.rich_text import CellRichText, TextBlock  # type: ignore[import-untyped]
from openpyxl.cell.text import InlineFont  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]

from pipeline.diff import change_record, value_text
from pipeline.document import Change, ChangeCategory, ChangeKind, DocumentDiff, SourceFile
from pipeline.utils import atomic_write, write_text_atomic

__all__ = [
    "CATEGORY_LABELS",
    "FRAME_COLUMNS",
    "KIND_LABELS",
    "REPORT_FORMAT",
    "call_label",
    "change_paths",
    "change_sides",
    "diff_frame",
    "extra_values",
    "html_report",
    "markdown_summary",
    "nendo",
    "ordered_changes",
    "shinkyu_html",
    "write_csv",
    "write_json",
    "write_reports",
    "write_shinkyu_xlsx",
]

REPORT_FORMAT = "report.v1"  # bump when a report's layout or columns change
FRAME_COLUMNS = (
    "kind", "substantive", "category", "reason", "old_path", "new_path", "old_heading", "new_heading",
    "old_text", "new_text", "values", "importance",
)  # fmt: skip
KIND_LABELS: dict[ChangeKind, str] = {
    ChangeKind.ADDED: "追加",
    ChangeKind.REMOVED: "削除",
    ChangeKind.MODIFIED: "変更",
    ChangeKind.MOVED: "移動",
    ChangeKind.RENUMBERED: "番号変更",
}
CATEGORY_LABELS: dict[ChangeCategory, str] = {
    ChangeCategory.DEADLINE: "期限・日程",
    ChangeCategory.AMOUNT: "金額",
    ChangeCategory.ELIGIBILITY: "応募資格",
    ChangeCategory.EVALUATION: "審査・評価",
    ChangeCategory.DELIVERABLE: "成果物",
    ChangeCategory.PROCESS: "手続",
    ChangeCategory.CONTACT: "問合せ先",
    ChangeCategory.SECURITY: "セキュリティ",
    ChangeCategory.OTHER: "その他",
}
XLSX_RED = "FFFF0000"
XLSX_GREY = "FF595959"
XLSX_MAX_CELL = 32_767  # Excel's limit on the characters of one cell
XLSX_WIDTHS = {"A": 60, "B": 60, "C": 42}  # 新 | 旧 | 備考, in character widths

_WRAPPED_COLUMNS = {FRAME_COLUMNS.index(n) + 1 for n in ("reason", "old_text", "new_text", "values")}
_Run = tuple[str, bool]  # a piece of one side's text, and whether the diff marks it as changed


# --- shared helpers ---------------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _path_key(path: str) -> tuple[tuple[int, int, str], ...]:
    """Sort 3.(10) after 3.(2): digit runs compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", path) if p)


def ordered_changes(diff: DocumentDiff) -> list[Change]:
    """Substantive first, then by importance (highest first), then by place in the new call (or the old one)."""
    return sorted(
        diff.changes,
        key=lambda c: (
            not c.substantive,
            -c.importance,
            _path_key(c.new_path or c.old_path or ""),
            _path_key(c.old_path or ""),
        ),
    )


def extra_values(c: Change) -> list[str]:
    """Value deltas the reason does not already spell out (diff.py often puts them in the reason)."""
    return [t for t in map(value_text, c.values) if t not in c.reason]


def change_paths(c: Change) -> str:
    if c.old_path and c.new_path and c.old_path != c.new_path:
        return f"{c.old_path} → {c.new_path}"
    return c.new_path or c.old_path or ""


def nendo(year: int | None) -> str:
    """2025 → 「令和7年度（FY2025）」."""
    if year is None:
        return ""
    if year >= 2019:
        era = f"令和{'元' if year == 2019 else year - 2018}年度"
    elif year >= 1989:
        era = f"平成{'元' if year == 1989 else year - 1988}年度"
    else:
        return f"{year}年度"
    return f"{era}（FY{year}）"


def call_label(src: SourceFile) -> str:
    """「地域DX推進事業 公募要領（令和7年度（FY2025）・事務局: 株式会社A）」."""
    title = src.title or Path(src.path).name
    extra = [x for x in (nendo(src.fiscal_year), f"事務局: {src.secretariat}" if src.secretariat else "") if x]
    return f"{title}（{'・'.join(extra)}）" if extra else title


def _remark(c: Change) -> list[str]:
    """The 備考 of a change: what kind, which field, why, and the values that moved."""
    weight = "実質的" if c.substantive else "形式的"
    head = f"{KIND_LABELS[c.kind]}・{CATEGORY_LABELS[c.category]}・{weight}"
    lines = [head]
    if c.kind in (ChangeKind.MOVED, ChangeKind.RENUMBERED) and c.old_path != c.new_path:
        lines.append(change_paths(c))
    lines.append(c.reason)
    return lines + extra_values(c)


def change_sides(c: Change) -> tuple[list[_Run], list[_Run]]:
    """The old and the new text as runs, changed runs flagged (deleted on the old side, inserted on the new)."""
    if c.diff:
        old = [(op.text, op.op == "delete") for op in c.diff if op.op != "insert"]
        new = [(op.text, op.op == "insert") for op in c.diff if op.op != "delete"]
    else:
        old = [(c.old_text, c.kind is ChangeKind.REMOVED)] if c.old_text else []
        new = [(c.new_text, c.kind is ChangeKind.ADDED)] if c.new_text else []
    return _merge(old), _merge(new)


def _merge(runs: Iterable[_Run]) -> list[_Run]:
    out: list[_Run] = []
    for text, changed in runs:
        if not text:
            continue
        if out and out[-1][1] == changed:
            out[-1] = (out[-1][0] + text, changed)
        else:
            out.append((text, changed))
    return out


def _location(path: str | None, heading: str | None) -> str:
    return " ".join(x for x in (path, heading) if x)


def _missing(side: str) -> str:
    """What stands in the empty column of an added or removed clause."""
    return "（新設）" if side == "old" else "（削除）"


def _counts(diff: DocumentDiff) -> tuple[Counter[ChangeKind], Counter[ChangeCategory], int]:
    kinds = Counter(c.kind for c in diff.changes)
    cats = Counter(c.category for c in diff.changes)
    return kinds, cats, sum(c.substantive for c in diff.changes)


def _count_text(counter: Counter[Any], labels: dict[Any, str]) -> str:
    return "、".join(f"{labels[k]} {counter[k]}" for k in labels if counter[k])


# --- the frame, CSV, JSON, Markdown -----------------------------------------------------------------------------


def diff_frame(diff: DocumentDiff) -> pd.DataFrame:
    """One row per change item, substantive first, then by importance, then by clause path.

    Args:
        diff: the comparison of two calls.

    Returns:
        A DataFrame with the columns of :data:`FRAME_COLUMNS`. ``kind`` and ``category`` hold the enum values
        (``"modified"``, ``"amount"``); ``values`` joins the value deltas with ``"; "``; a path, heading or
        text the change does not have is missing (NaN).

    Example:
        >>> diff_frame(d).loc[0, ["category", "values"]].tolist()  # doctest: +SKIP
        ['amount', 'amount: 1億円 → 7,000万円程度 (−30%)']
    """
    rows = []
    for c in ordered_changes(diff):
        record = change_record(c)  # the JSON record, with the values as one string and the importance added
        rows.append(
            {k: record[k] for k in FRAME_COLUMNS if k in record}
            | {"values": "; ".join(value_text(v) for v in c.values), "importance": float(c.importance)}
        )
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    return frame.astype({"substantive": bool, "importance": float})


def write_csv(diff: DocumentDiff, path: Path) -> None:
    """Write :func:`diff_frame` as CSV, encoded UTF-8 *with a byte-order mark* (``utf-8-sig``).

    The BOM is what makes Excel open the file as UTF-8; without it Excel reads Japanese as mojibake. Read it
    back with ``pd.read_csv(path, encoding="utf-8-sig")``. Fields with newlines are quoted.

    Args:
        diff: the comparison of two calls.
        path: the file to write (replaced atomically).
    """
    frame = diff_frame(diff)
    atomic_write(Path(path), lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n"))


def write_json(diff: DocumentDiff, path: Path) -> None:
    """Write the diff itself as JSON (``DocumentDiff.to_json``), readable again by ``DocumentDiff.from_json``.

    Args:
        diff: the comparison of two calls.
        path: the file to write (replaced atomically).
    """
    write_text_atomic(Path(path), diff.to_json(indent=1))


def _md(text: str) -> str:
    """Inline Markdown: one line, with the characters that would start markup or HTML escaped.

    ``_`` is left alone (CommonMark does not emphasise inside words, and URLs in calls are full of it).
    """
    return re.sub(r"([\\`*\[\]<>&])", r"\\\1", " ".join(text.split()))


def markdown_summary(diff: DocumentDiff) -> str:
    """A short Markdown summary: the two calls, the counts, then each substantive change.

    Args:
        diff: the comparison of two calls.

    Returns:
        Markdown text: a title line 旧 → 新 with years and secretariats, counts by kind and by category, a
        numbered list of the substantive changes (category, paths, reason, value deltas) and one line on the
        editorial ones. Text from the documents is escaped so it cannot turn into markup.

    Example:
        >>> print(markdown_summary(d))  # doctest: +SKIP
        # 公募要領の変更: 地域DX 公募要領（令和6年度（FY2024）・事務局: A）→ …
        ...
        1. **金額** II.2 業務委託費: amount: 1億円 → 7,000万円程度 (−30%)
    """
    kinds, cats, n_sub = _counts(diff)
    lines = [
        f"# 公募要領の変更: {_md(call_label(diff.old))} → {_md(call_label(diff.new))}",
        "",
        f"- 変更 {len(diff.changes)} 件: 実質的 (substantive) {n_sub} 件、形式的 (editorial) "
        f"{len(diff.changes) - n_sub} 件",
    ]
    if diff.changes:
        lines += [f"- 種別: {_count_text(kinds, KIND_LABELS)}", f"- 分野: {_count_text(cats, CATEGORY_LABELS)}"]
    substantive = [c for c in ordered_changes(diff) if c.substantive]
    if substantive:
        lines += ["", "## 実質的な変更", ""]
        for i, c in enumerate(substantive, 1):
            where = _location(change_paths(c), c.new_heading or c.old_heading)
            item = f"{i}. **{CATEGORY_LABELS[c.category]}** ({KIND_LABELS[c.kind]}) {_md(where)}: {_md(c.reason)}"
            extra = extra_values(c)
            lines.append(item + (f" — {_md('; '.join(extra))}" if extra else ""))
    editorial = [c for c in diff.changes if not c.substantive]
    lines.append("")
    if editorial:
        by_kind = _count_text(Counter(c.kind for c in editorial), KIND_LABELS)
        lines.append(f"形式的な変更（表記、年度、事務局名、番号など）: {len(editorial)} 件（{by_kind}）。")
    else:
        lines.append("形式的な変更はありません。" if diff.changes else "変更はありません。")
    return "\n".join(lines) + "\n"


# --- HTML -------------------------------------------------------------------------------------------------------

_CSS = """
:root { --fg: #1b1b1b; --muted: #5b5b5b; --line: #d0d0d0; --ins: #d9f5dc; --del: #ffdcdc; }
* { box-sizing: border-box; }
body { font-family: "Hiragino Sans", "Yu Gothic UI", "Meiryo", "Noto Sans JP", sans-serif; color: var(--fg);
  margin: 0 auto; max-width: 1400px; padding: 1.2rem 1.5rem 3rem; line-height: 1.6; font-size: 15px; }
h1 { font-size: 1.45rem; margin: 0 0 .6rem; } h2 { font-size: 1.15rem; margin: 1.8rem 0 .6rem; }
.en { color: var(--muted); font-weight: normal; font-size: .85em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; vertical-align: top; text-align: left; }
thead th { background: #f2f2f2; }
.calls th { width: 9rem; background: #f7f7f7; }
.counts { display: flex; flex-wrap: wrap; gap: .4rem 1.6rem; padding: 0; list-style: none; margin: .3rem 0; }
.filters { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: .5rem 0;
  display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; z-index: 1; }
.filters label { margin-right: 1rem; }
.filters button { border: 1px solid var(--line); background: #fafafa; border-radius: 1rem; padding: .15rem .7rem;
  cursor: pointer; font: inherit; font-size: .9em; }
.filters button[aria-pressed="true"] { background: #1b1b1b; color: #fff; border-color: #1b1b1b; }
.status { color: var(--muted); font-size: .9em; margin: .3rem 0; }
.badge { display: inline-block; border-radius: .3rem; padding: 0 .45rem; font-size: .85em; color: #fff;
  background: #6b6b6b; white-space: nowrap; }
.cat-deadline { background: #b3261e; } .cat-amount { background: #8a5a00; } .cat-eligibility { background: #1f5fa8; }
.cat-evaluation { background: #6a3fa0; } .cat-deliverable { background: #00756a; } .cat-process { background: #3d6b21; }
.cat-contact { background: #555f6b; } .cat-security { background: #8c1d5a; } .cat-other { background: #6b6b6b; }
.kind { font-size: .85em; border: 1px solid var(--line); border-radius: .3rem; padding: 0 .35rem; }
.path { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
.ranked > li { margin-bottom: .7rem; } .reason { margin: .15rem 0; }
.values { margin: .1rem 0; padding-left: 1.2rem; font-size: .92em; } .values li { margin: 0; }
.sbs { table-layout: fixed; } .sbs col.n { width: 3rem; } .sbs col.meta { width: 22%; }
.sbs td.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.loc { display: block; font-weight: bold; margin-bottom: .2rem; white-space: normal; }
tr.editorial td.meta { color: var(--muted); }
ins { background: var(--ins); text-decoration: underline; }
del { background: var(--del); text-decoration: line-through; }
.none { color: var(--muted); }
footer { margin-top: 2rem; color: var(--muted); font-size: .85em; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .filters, .noprint { display: none !important; }
  tr { break-inside: avoid; } thead { display: table-header-group; } h2 { break-after: avoid; }
  ins, del, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""

_JS = """
(() => {
  const only = document.getElementById("only-substantive");
  const buttons = [...document.querySelectorAll("button[data-cat]")];
  const items = [...document.querySelectorAll(".chg")];
  const status = document.getElementById("filter-status");
  let cat = "";
  function apply() {
    for (const el of items) {
      el.hidden = (only.checked && el.dataset.substantive !== "1") || (cat !== "" && el.dataset.cat !== cat);
    }
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.cat === cat));
    const rows = items.filter((el) => el.tagName === "TR");
    const shown = rows.filter((el) => !el.hidden).length;
    const label = buttons.find((b) => b.dataset.cat === cat).dataset.label;
    status.textContent = `表示中 showing: ${shown} / ${rows.length} 件` + (only.checked ? "・実質的のみ" : "")
      + (cat ? `・${label}` : "");
  }
  for (const b of buttons) b.addEventListener("click", () => { cat = b.dataset.cat; apply(); });
  only.addEventListener("change", apply);
  apply();
})();
"""

_SHINKYU_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Hiragino Mincho ProN", "Yu Mincho", "Noto Serif JP", serif; color: #111; margin: 1.2rem auto;
  max-width: 1400px; padding: 0 1.2rem; line-height: 1.65; font-size: 15px; }
h1 { font-size: 1.4rem; text-align: center; margin: 0 0 .5rem; }
.calls, .legend { margin: .2rem 0; } .legend { color: #444; font-size: .9em; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin-top: .6rem; }
col.side { width: 38%; } col.remark { width: 24%; }
th, td { border: 1px solid #555; padding: .35rem .5rem; vertical-align: top; text-align: left; }
thead th { background: #eee; text-align: center; }
td { white-space: pre-wrap; overflow-wrap: anywhere; }
.loc { display: block; font-weight: bold; white-space: normal; }
ins { color: #c00000; font-weight: bold; text-decoration: underline; }
del { color: #c00000; text-decoration: line-through; }
.none, .editorial td.remark { color: #555; }
@media print {
  body { margin: 0; padding: 0; max-width: none; font-size: 9.5pt; }
  tr { break-inside: avoid; } thead { display: table-header-group; }
}
"""


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def _page(title: str, css: str, body: str, js: str | None = None) -> str:
    script_src = _csp_hash(js) if js is not None else "'none'"
    csp = f"default-src 'none'; style-src {_csp_hash(css)}; script-src {script_src}; base-uri 'none'"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">',
        f'<meta name="generator" content="koubo {REPORT_FORMAT}">',
        f"<title>{_e(title)}</title>",
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        body,
        f"<script>{js}</script>" if js is not None else "",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _runs_html(runs: Sequence[_Run], tag: str) -> str:
    return "".join(f"<{tag}>{_e(text)}</{tag}>" if changed else _e(text) for text, changed in runs)


def _side_html(c: Change, side: str, runs: Sequence[_Run], tag: str) -> str:
    path, heading = (c.old_path, c.old_heading) if side == "old" else (c.new_path, c.new_heading)
    if path is None and not runs:
        return f'<span class="none">{_e(_missing(side))}</span>'
    loc = _location(path, heading)
    return (f'<span class="loc">{_e(loc)}</span>' if loc else "") + _runs_html(runs, tag)


def _badge(c: Change) -> str:
    cat = c.category.value
    return f'<span class="badge cat-{_e(cat)}" title="{_e(cat)}">{_e(CATEGORY_LABELS[c.category])}</span>'


def _values_html(c: Change) -> str:
    extra = extra_values(c)
    return f'<ul class="values">{"".join(f"<li>{_e(v)}</li>" for v in extra)}</ul>' if extra else ""


def _data_attrs(c: Change, extra_class: str = "") -> str:
    classes = f"chg {extra_class}".strip()
    return f'class="{classes}" data-cat="{_e(c.category.value)}" data-substantive="{int(c.substantive)}"'


def _calls_table(diff: DocumentDiff) -> str:
    fields: list[tuple[str, Callable[[SourceFile], object]]] = [
        ("公募名 Title", lambda s: s.title or ""),
        ("年度 FY", lambda s: nendo(s.fiscal_year)),
        ("事務局 Secretariat", lambda s: s.secretariat or ""),
        ("発出 Issuer", lambda s: s.issuer or ""),
        ("ファイル File", lambda s: Path(s.path).name),
    ]
    rows = [
        f"<tr><th>{_e(label)}</th><td>{_e(get(diff.old))}</td><td>{_e(get(diff.new))}</td></tr>"
        for label, get in fields
        if get(diff.old) or get(diff.new)
    ]
    return (
        '<table class="calls"><thead><tr><th></th><th>旧 Old</th><th>新 New</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def html_report(diff: DocumentDiff) -> str:
    """One self-contained HTML page for reading a diff: summary, filters, ranked changes and a 旧 | 新 table.

    The page has its CSS and a few lines of JavaScript inline and loads nothing else. A checkbox shows only
    substantive changes, buttons filter by category; printing hides the filters. Every string from the
    documents or the diff is escaped with :func:`html.escape`.

    Args:
        diff: the comparison of two calls.

    Returns:
        The HTML page (``lang="ja"``, UTF-8).

    Example:
        >>> Path("report.html").write_text(html_report(d), encoding="utf-8")  # doctest: +SKIP
    """
    ordered = ordered_changes(diff)
    kinds, cats, n_sub = _counts(diff)
    title = f"新旧比較: {call_label(diff.old)} → {call_label(diff.new)}"
    body: list[str] = [
        "<header>",
        '<h1>公募要領 新旧比較 <span class="en">Comparison of two calls for proposals</span></h1>',
        _calls_table(diff),
        "</header>",
        '<section id="summary"><h2>概要 <span class="en">Summary</span></h2>',
        '<ul class="counts">',
        f'<li>変更 全 <b>{len(diff.changes)}</b> 件 <span class="en">changes</span></li>',
        f'<li>実質的 <b>{n_sub}</b> 件 <span class="en">substantive</span></li>',
        f'<li>形式的 <b>{len(diff.changes) - n_sub}</b> 件 <span class="en">editorial</span></li>',
        "</ul>",
    ]
    if diff.changes:
        body += [
            f'<p>種別 <span class="en">kind</span>: {_e(_count_text(kinds, KIND_LABELS))}</p>',
            f'<p>分野 <span class="en">category</span>: {_e(_count_text(cats, CATEGORY_LABELS))}</p>',
        ]
    body.append("</section>")
    buttons = ['<button type="button" data-cat="" data-label="すべて" aria-pressed="true">すべて All</button>']
    for cat in CATEGORY_LABELS:
        if cats[cat]:
            label = CATEGORY_LABELS[cat]
            buttons.append(
                f'<button type="button" data-cat="{_e(cat.value)}" data-label="{_e(label)}" aria-pressed="false">'
                f'{_e(label)} <span class="en">{_e(cat.value)}</span> ({cats[cat]})</button>'
            )
    body += [
        '<div class="filters" role="group" aria-label="絞り込み Filters">',
        '<label><input type="checkbox" id="only-substantive"> 実質的な変更のみ '
        '<span class="en">substantive only</span></label>',
        *buttons,
        "</div>",
        '<p id="filter-status" class="status"></p>',
        '<section id="important"><h2>重要な変更 <span class="en">Substantive changes, most important first</span></h2>',
    ]
    number = {id(c): i for i, c in enumerate(ordered, 1)}
    ranked = [c for c in ordered if c.substantive]
    if ranked:
        body.append('<ol class="ranked">')
        for c in ranked:
            body.append(
                f'<li {_data_attrs(c)}>{_badge(c)} <span class="kind">{_e(KIND_LABELS[c.kind])}</span> '
                f'<span class="path">{_e(change_paths(c))}</span> {_e(c.new_heading or c.old_heading or "")} '
                f'<a class="noprint" href="#c{number[id(c)]}">→ 対照表</a>'
                f'<div class="reason">{_e(c.reason)}</div>{_values_html(c)}</li>'
            )
        body.append("</ol>")
    else:
        body.append('<p class="none">実質的な変更はありません。</p>')
    body += [
        "</section>",
        '<section id="all"><h2>全変更 旧・新対照 <span class="en">All changes, side by side</span></h2>',
    ]
    if ordered:
        body += [
            '<table class="sbs"><colgroup><col class="n"><col class="meta"><col><col></colgroup>',
            f"<thead><tr><th>#</th><th>変更 Change</th><th>旧 Old {_e(nendo(diff.old.fiscal_year))}</th>"
            f"<th>新 New {_e(nendo(diff.new.fiscal_year))}</th></tr></thead><tbody>",
        ]
        for c in ordered:
            old_runs, new_runs = change_sides(c)
            pages = _pages_text(c)
            meta = (
                f'{_badge(c)} <span class="kind">{_e(KIND_LABELS[c.kind])}</span> '
                f"{'<b>実質的</b>' if c.substantive else '形式的'}"
                f'<div class="path">{_e(change_paths(c))}</div>'
                f'<div class="reason">{_e(c.reason)}</div>{_values_html(c)}'
                + (f'<div class="en">{_e(pages)}</div>' if pages else "")
            )
            weight = "substantive" if c.substantive else "editorial"
            body.append(
                f'<tr id="c{number[id(c)]}" {_data_attrs(c, weight)}>'
                f'<td>{number[id(c)]}</td><td class="meta">{meta}</td>'
                f'<td class="text old">{_side_html(c, "old", old_runs, "del")}</td>'
                f'<td class="text new">{_side_html(c, "new", new_runs, "ins")}</td></tr>'
            )
        body.append("</tbody></table>")
    else:
        body.append('<p class="none">変更はありません。 <span class="en">No changes.</span></p>')
    produced = "、".join(f"{k}: {v}" for k, v in sorted(diff.produced_by.items()))
    body += [
        "</section>",
        f"<footer>koubo {_e(REPORT_FORMAT)}" + (f" ・ {_e(produced)}" if produced else "") + "</footer>",
    ]
    return _page(title, _CSS, "\n".join(body), _JS)


def _pages_text(c: Change) -> str:
    old = ",".join(map(str, c.old_pages))
    new = ",".join(map(str, c.new_pages))
    if not old and not new:
        return ""
    return f"p. {old or '—'} → {new or '—'}"


def shinkyu_html(diff: DocumentDiff) -> str:
    """A 新旧対照表 as one printable HTML page: 新 | 旧 | 備考, one row per change, substantive first.

    Inserted text is underlined in bold red on the 新 side, deleted text struck through in red on the 旧 side
    (``<ins>``/``<del>``); the page prints on A4 landscape. Every string from the documents is escaped.

    Args:
        diff: the comparison of two calls.

    Returns:
        The HTML page (``lang="ja"``, UTF-8), without scripts.
    """
    rows = []
    for c in ordered_changes(diff):
        old_runs, new_runs = change_sides(c)
        remark = "<br>".join(_e(line) for line in _remark(c))
        weight = "substantive" if c.substantive else "editorial"
        rows.append(
            f'<tr class="{weight}"><td>{_side_html(c, "new", new_runs, "ins")}</td>'
            f'<td>{_side_html(c, "old", old_runs, "del")}</td><td class="remark">{remark}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="3" class="none">変更はありません。</td></tr>')
    body = "\n".join(
        [
            "<h1>新旧対照表</h1>",
            f'<p class="calls">新: {_e(call_label(diff.new))}<br>旧: {_e(call_label(diff.old))}</p>',
            '<p class="legend">（下線・太字は追加・変更箇所、取消線は削除箇所）</p>',
            '<table><colgroup><col class="side"><col class="side"><col class="remark"></colgroup>',
            f"<thead><tr><th>新 {_e(nendo(diff.new.fiscal_year))}</th><th>旧 {_e(nendo(diff.old.fiscal_year))}</th>"
            "<th>備考</th></tr></thead><tbody>",
            *rows,
            "</tbody></table>",
        ]
    )
    return _page(f"新旧対照表: {call_label(diff.new)}", _SHINKYU_CSS, body)


# --- Excel ------------------------------------------------------------------------------------------------------


def _xl(text: str) -> str:
    """Characters Excel's XML cannot hold (control characters) are dropped."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", text))


def _xl_side(c: Change, side: str, runs: Sequence[_Run]) -> Any:
    """The cell value of one side: rich text with the changed runs in red (bold on 新, struck through on 旧)."""
    path, heading = (c.old_path, c.old_heading) if side == "old" else (c.new_path, c.new_heading)
    grey = InlineFont(color=XLSX_GREY)
    if path is None and not runs:
        return CellRichText([TextBlock(InlineFont(color=XLSX_GREY, i=True), _missing(side))])
    marked = InlineFont(b=True, color=XLSX_RED) if side == "new" else InlineFont(strike=True, color=XLSX_RED)
    pieces: list[Any] = []
    loc = _location(path, heading)
    if loc:
        pieces.append(TextBlock(grey, _xl(f"【{loc}】") + ("\n" if runs else "")))
    budget = XLSX_MAX_CELL - len(loc) - 16
    for text, changed in runs:
        text = _xl(text)
        if not text:
            continue
        if len(text) > budget:
            text = text[: max(budget, 0)]
            pieces.append(TextBlock(marked, text) if changed and text else text)
            pieces.append(TextBlock(grey, "…（以下略）"))
            break
        budget -= len(text)
        pieces.append(TextBlock(marked, text) if changed else text)
    return CellRichText([p for p in pieces if not isinstance(p, str) or p])  # TextBlock.__eq__ cannot take a str


def _set_text(cell: Any, value: str) -> None:
    cell.value = _xl(value)[:XLSX_MAX_CELL]
    cell.data_type = "s"  # a text such as 「=1+1」 stays text, never a formula


def write_shinkyu_xlsx(diff: DocumentDiff, path: Path) -> None:
    """Write the 新旧対照表 as an Excel workbook, plus a sheet with every column of :func:`diff_frame`.

    Sheet 「新旧対照表」: a title row naming both calls, a legend, then 新 | 旧 | 備考, one row per change,
    substantive first. Inserted text in the 新 cell is red and bold, deleted text in the 旧 cell red and struck
    through (openpyxl rich text); cells wrap, the header rows are frozen and the sheet prints A4 landscape.
    Sheet 「変更一覧」: the frame, one row per change, with an autofilter.

    Args:
        diff: the comparison of two calls.
        path: the ``.xlsx`` file to write (replaced atomically).
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "新旧対照表"
    _set_text(ws["A1"], f"新旧対照表　新: {call_label(diff.new)}　旧: {call_label(diff.old)}")
    ws["A1"].font = Font(b=True, sz=13)
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.merge_cells("A1:C1")
    ws.row_dimensions[1].height = 36
    _set_text(ws["A2"], "赤字・太字: 追加・変更箇所（新）　赤字・取消線: 削除箇所（旧）")
    ws["A2"].font = Font(color=XLSX_GREY, sz=9)
    ws.merge_cells("A2:C2")
    header_fill = PatternFill("solid", fgColor="FFE7E6E6")
    for letter, label in zip("ABC", ("新", "旧", "備考"), strict=True):
        cell = ws[f"{letter}3"]
        cell.value = label
        cell.font = Font(b=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    wrap = Alignment(wrap_text=True, vertical="top")
    row = 3
    for row, c in enumerate(ordered_changes(diff), 4):
        old_runs, new_runs = change_sides(c)
        ws.cell(row=row, column=1).value = _xl_side(c, "new", new_runs)
        ws.cell(row=row, column=2).value = _xl_side(c, "old", old_runs)
        _set_text(ws.cell(row=row, column=3), "\n".join(_remark(c)))
        for col in range(1, 4):
            ws.cell(row=row, column=col).alignment = wrap
    for letter, width in XLSX_WIDTHS.items():
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    ws.auto_filter.ref = f"A3:C{row}"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    table = wb.create_sheet("変更一覧")
    frame = diff_frame(diff)
    table.append(list(FRAME_COLUMNS))
    for cell in table[1]:
        cell.font = Font(b=True)
        cell.fill = header_fill
    for r, record in enumerate(frame.itertuples(index=False), 2):
        for col, value in enumerate(record, 1):
            cell = table.cell(row=r, column=col)
            if isinstance(value, str):
                _set_text(cell, value)
                cell.alignment = Alignment(wrap_text=col in _WRAPPED_COLUMNS, vertical="top")
            elif not pd.isna(value):
                cell.value = value.item() if hasattr(value, "item") else value
    for letter, width in zip("ABCDEFGHIJKL", (11, 11, 12, 40, 12, 12, 20, 20, 50, 50, 36, 10), strict=True):
        table.column_dimensions[letter].width = width
    table.freeze_panes = "A2"
    table.auto_filter.ref = f"A1:L{max(len(frame) + 1, 1)}"
    atomic_write(Path(path), lambda tmp: wb.save(tmp))


# --- all at once ------------------------------------------------------------------------------------------------


def write_reports(diff: DocumentDiff, out_dir: Path, stem: str) -> dict[str, Path]:
    """Write every report of a diff into ``out_dir``, each file atomically.

    Args:
        diff: the comparison of two calls.
        out_dir: the folder to write into (created if missing).
        stem: the file name without suffix, e.g. ``"chiiki-dx_fy2025-fy2026"``; it may not contain a path.

    Returns:
        Format → path: ``html`` (``<stem>.html``), ``shinkyu_html`` (``<stem>.shinkyu.html``), ``xlsx``,
        ``csv``, ``md`` and ``json``.

    Raises:
        ValueError: ``stem`` is empty or names a folder (contains a path separator or is ``.``/``..``).

    Example:
        >>> write_reports(d, Path("outputs/reports"), "chiiki-dx_fy2025-fy2026")["xlsx"]  # doctest: +SKIP
        PosixPath('outputs/reports/chiiki-dx_fy2025-fy2026.xlsx')
    """
    if not stem or stem in (".", "..") or Path(stem).name != stem or "/" in stem or os.sep in stem:
        raise ValueError(f"report stem {stem!r} must be a plain file name without a folder, e.g. 'fy2025-fy2026'")
    out = Path(out_dir)
    paths = {
        "html": out / f"{stem}.html",
        "shinkyu_html": out / f"{stem}.shinkyu.html",
        "xlsx": out / f"{stem}.xlsx",
        "csv": out / f"{stem}.csv",
        "md": out / f"{stem}.md",
        "json": out / f"{stem}.json",
    }
    write_text_atomic(paths["html"], html_report(diff))
    write_text_atomic(paths["shinkyu_html"], shinkyu_html(diff))
    write_shinkyu_xlsx(diff, paths["xlsx"])
    write_csv(diff, paths["csv"])
    write_text_atomic(paths["md"], markdown_summary(diff))
    write_json(diff, paths["json"])
    return paths
