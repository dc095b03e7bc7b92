"""`koubo diff`, `koubo changes` and `koubo diff-batch` in-process, on the FY2025 and FY2026 calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import CORPORA
from pipeline.cli import app

OLD = str(CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt")
NEW = str(CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt")
runner = CliRunner()


def test_diff_json(tmp_path: Path) -> None:
    """This test ensures that the JSON diff has the documented shape and the amount change with its values."""
    r = runner.invoke(app, ["diff", OLD, NEW, "-f", "json", "--substantive-only"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["old"]["fiscal_year"] == 2025 and data["new"]["fiscal_year"] == 2026
    assert all(c["substantive"] for c in data["changes"])
    c = next(c for c in data["changes"] if c["new_path"] == "II.2")
    assert {"kind", "category", "reason", "old_path", "old_text", "new_text", "diff", "values"} <= set(c)
    assert any(v["type"] == "amount" and v["delta"] == "−30%" for v in c["values"])


def test_diff_writes_reports(tmp_path: Path) -> None:
    """This test ensures that -o writes the HTML report and the Excel 新旧対照表."""
    html_file, xlsx_file = tmp_path / "d.html", tmp_path / "d.xlsx"
    assert runner.invoke(app, ["diff", OLD, NEW, "-f", "html", "-o", str(html_file)]).exit_code == 0
    assert "7,000" in html_file.read_text(encoding="utf-8")
    assert runner.invoke(app, ["diff", OLD, NEW, "-f", "xlsx", "-o", str(xlsx_file)]).exit_code == 0
    from openpyxl import load_workbook

    ws = load_workbook(xlsx_file).worksheets[0]
    assert {"新", "旧", "備考"} <= {c.value for row in ws.iter_rows(max_row=6) for c in row}


def test_diff_xlsx_needs_output() -> None:
    """This test ensures that an Excel diff to stdout is refused as a usage error."""
    assert runner.invoke(app, ["diff", OLD, NEW, "-f", "xlsx"]).exit_code == 2


def test_changes_answers_a_question() -> None:
    """This test ensures that a question about the amount ranks the II.2 change first (lexical ranking)."""
    question = "業務委託費の上限はどう変わった？"
    r = runner.invoke(app, ["changes", question, OLD, NEW, "-k", "3", "-f", "json", "--lexical"])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)
    assert hits[0]["new_path"] == "II.2" and len(hits) == 3


def test_changes_queries_file(tmp_path: Path) -> None:
    """This test ensures that --queries answers one list per question, in order."""
    q = tmp_path / "q.txt"
    q.write_text("業務委託費の上限はどう変わった？\n常駐支援者の要件はどう変わった？\n", encoding="utf-8")
    r = runner.invoke(app, ["changes", "--queries", str(q), OLD, NEW, "-k", "3", "-f", "json", "--lexical"])
    assert r.exit_code == 0, r.output
    lists = json.loads(r.stdout)
    assert len(lists) == 2 and lists[0][0]["new_path"] == "II.2"
    assert any("IV.1.(1)" in (h["new_path"] or h["old_path"] or "") for h in lists[1])


def test_diff_batch_goes_on_past_a_bad_pair(tmp_path: Path) -> None:
    """This test ensures that a batch writes each good pair's reports and an index, reports the bad pair, exits 1."""
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"old,new,name\n{OLD},{NEW},chiiki/2025-2026\n{OLD},{tmp_path / 'missing.pdf'},broken\n",
                     encoding="utf-8")  # fmt: skip
    out = tmp_path / "diffs"
    r = runner.invoke(app, ["diff-batch", str(pairs), "-o", str(out)])
    assert r.exit_code == 1
    assert "FAILED  broken" in r.stderr and "2 pairs: 1 compared, 1 failed" in r.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "chiiki_2025-2026" in index and "broken" in index
    assert (out / "chiiki_2025-2026" / "chiiki_2025-2026.xlsx").is_file()


@pytest.mark.parametrize("args", [["diff", OLD, NEW, "-f", "pdf"], ["changes", "  ", OLD, NEW]])
def test_bad_parameters(args: list[str]) -> None:
    """This test ensures that bad parameters are usage errors."""
    assert runner.invoke(app, args).exit_code == 2
