"""`koubo index` and `koubo search` in-process: incremental runs, JSON shapes, filters, errors.

Sparse-only (BM25), so no model is needed; the model path is covered by
``test_embed.py`` and ``bench/search_quality.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import CORPORA
from pipeline.cli import app

FY2025 = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt"
FY2026 = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
YOROZU = CORPORA / "yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt"
HIT_KEYS = {"doc", "title", "fiscal_year", "clause_path", "heading", "text", "score", "pages"}

runner = CliRunner()


@pytest.fixture
def indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    r = runner.invoke(app, ["index", "--sparse-only", str(FY2025), str(FY2026)])
    assert r.exit_code == 0, r.output
    assert "2 files: 2 added, 0 replaced, 0 unchanged, 0 failed" in r.output
    return tmp_path / "out" / "indexes" / "default"


def test_index_is_incremental(indexed: Path) -> None:
    """This test ensures that a second run skips documents already indexed."""
    r = runner.invoke(app, ["index", "--sparse-only", str(FY2025), str(FY2026)])
    assert r.exit_code == 0
    assert "2 files: 0 added, 0 replaced, 2 unchanged, 0 failed" in r.output
    assert (indexed / "index.sqlite").is_file()


def test_index_replaces_what_older_rules_made(indexed: Path) -> None:
    """This test ensures that a document indexed by older rules of koubo is prepared and replaced, not kept."""
    import sqlite3

    with sqlite3.connect(indexed / "index.sqlite") as db:
        db.execute("UPDATE documents SET produced_by = json_set(produced_by, '$.modality', 'modality_rules.v0')")
    r = runner.invoke(app, ["index", "--sparse-only", str(FY2025), str(FY2026)])
    assert r.exit_code == 0, r.output
    assert "2 files: 0 added, 2 replaced, 0 unchanged, 0 failed" in r.output
    with sqlite3.connect(indexed / "index.sqlite") as db:
        versions = {json.loads(v)["modality"] for (v,) in db.execute("SELECT produced_by FROM documents")}
    assert versions != {"modality_rules.v0"} and len(versions) == 1


def test_search_json(indexed: Path) -> None:
    """This test ensures that a JSON search returns hits with the documented keys, the answer first."""
    r = runner.invoke(
        app, ["search", "業務委託費の限度額", "--mode", "sparse", "--year", "2026", "-k", "3", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)
    assert len(hits) == 3 and set(hits[0]) >= HIT_KEYS
    assert hits[0]["clause_path"] == "II.2" and hits[0]["fiscal_year"] == 2026
    assert "7,000 万円程度" in hits[0]["text"]


def test_search_queries_file(indexed: Path, tmp_path: Path) -> None:
    """This test ensures that --queries answers one list per line, in order."""
    qfile = tmp_path / "q.txt"
    qfile.write_text("説明会の日時\n\n採択件数は何件？\n", encoding="utf-8")
    r = runner.invoke(app, ["search", "--queries", str(qfile), "--mode", "sparse", "-k", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    lists = json.loads(r.stdout)
    assert len(lists) == 2 and all(len(hits) == 2 for hits in lists)
    assert any("採択件数" in (h["heading"] or "") for h in lists[1])


def test_search_doc_file_is_indexed_first(indexed: Path) -> None:
    """This test ensures that a --doc file not yet in the index is indexed, then searched alone."""
    r = runner.invoke(app, ["search", "チーフコーディネーター", "--mode", "sparse", "--doc", str(YOROZU), "-f", "json"])
    assert r.exit_code == 0, r.output
    assert "indexed" in r.stderr
    titles = {h["title"] for h in json.loads(r.stdout)}
    assert len(titles) == 1 and "よろず" in next(iter(titles))


def test_search_table_names_the_clause(indexed: Path) -> None:
    """This test ensures that the table shows the query, the clause path and the page or line."""
    r = runner.invoke(app, ["search", "常駐支援者の経験", "--mode", "sparse", "-k", "2"])
    assert r.exit_code == 0, r.output
    assert "常駐支援者の経験" in r.stdout and "IV.1.(1)" in r.stdout and "L" in r.stdout


@pytest.mark.parametrize(
    "args",
    [["search", "説明会", "-k", "0"], ["search", "  "], ["search", "説明会", "--mode", "fuzzy"], ["search"]],
)
def test_search_bad_parameters(indexed: Path, args: list[str]) -> None:
    """This test ensures that bad parameters are usage errors (exit 2), not crashes."""
    assert runner.invoke(app, args).exit_code == 2


def test_search_unknown_doc(indexed: Path) -> None:
    """This test ensures that an unknown document id is a clear error."""
    r = runner.invoke(app, ["search", "説明会", "--mode", "sparse", "--doc", "abcdef123456"])
    assert r.exit_code == 1
    assert "Error: abcdef123456: no indexed document has this id" in r.stderr


def test_search_empty_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test ensures that searching before indexing says how to build the index."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "empty"))
    r = runner.invoke(app, ["search", "説明会", "--mode", "sparse"])
    assert r.exit_code == 1 and "koubo index" in r.stderr


def test_index_reports_bad_files_and_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test ensures that a bad file is reported by name, the good ones are indexed, and the exit is 1."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n garbage")
    r = runner.invoke(app, ["index", "--sparse-only", str(bad), str(FY2026)])
    assert r.exit_code == 1
    assert "FAILED" in r.stderr and "broken.pdf" in r.stderr
    assert "2 files: 1 added, 0 replaced, 0 unchanged, 1 failed" in r.stderr
