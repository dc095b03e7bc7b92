"""The command line, in-process: ingest, show, errors and help."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from typer.testing import CliRunner

from conftest import CORPORA
from pipeline.cli import app

TXT = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt"
PDF = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.pdf"
runner = CliRunner()


def test_ingest_writes_by_programme_and_year_and_skips_unchanged(tmp_path):
    """This test ensures that ingest writes outputs/documents/<programme>/<year>/<id>.json with the
    manifest's metadata, and that a second run leaves it alone unless --force is given."""
    out = tmp_path / "docs"
    r = runner.invoke(app, ["ingest", str(TXT), str(PDF), "-o", str(out)])
    assert r.exit_code == 0, r.output
    files = sorted(out.rglob("*.json"))
    assert [f.parent.relative_to(out).as_posix() for f in files] == ["chiiki-dx/2025", "chiiki-dx/2025"]
    doc = json.loads(files[0].read_text())
    assert doc["source"]["secretariat"] == "株式会社三菱総合研究所"
    assert doc["source"]["fiscal_year"] == 2025
    assert "2 files: 2 ingested, 0 unchanged, 0 failed" in r.stderr
    mtime = files[0].stat().st_mtime_ns
    again = runner.invoke(app, ["ingest", str(TXT), "-o", str(out)])
    assert again.exit_code == 0
    assert "1 files: 0 ingested, 1 unchanged, 0 failed" in again.stderr
    assert files[0].stat().st_mtime_ns == mtime
    forced = runner.invoke(app, ["ingest", str(TXT), "-o", str(out), "--force"])
    assert "1 files: 1 ingested" in forced.stderr


def test_ingest_reads_again_what_an_older_reader_wrote(tmp_path):
    """This test ensures that a document ingested by an older reader of koubo (its produced_by says so)
    is read again by `koubo ingest` and by commands given the source file, not served stale."""
    out = tmp_path / "docs"
    assert runner.invoke(app, ["ingest", str(TXT), "-o", str(out)]).exit_code == 0
    (target,) = out.rglob("*.json")
    doc = json.loads(target.read_text())
    current = doc["produced_by"]["ingest"]
    doc["produced_by"]["ingest"] = "text_reader.v0"
    target.write_text(json.dumps(doc, ensure_ascii=False))
    again = runner.invoke(app, ["ingest", str(TXT), "-o", str(out)])
    assert "1 files: 1 ingested, 0 unchanged" in again.stderr
    assert json.loads(target.read_text())["produced_by"]["ingest"] == current


def test_show_prints_blocks_with_pages(tmp_path):
    """This test ensures that show prints each block with its page and kind, filtered by --pages."""
    r = runner.invoke(app, ["show", str(PDF), "--pages", "2"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines and all(line.lstrip().startswith("p.2") for line in lines)
    assert any("推進体制構築支援" in line for line in lines)


def test_show_by_id_and_json(tmp_path, monkeypatch):
    """This test ensures that show finds an ingested document by id and prints valid JSON."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CORPORA, tmp_path / "corpora", ignore=shutil.ignore_patterns("*.pdf"))
    assert runner.invoke(app, ["ingest", "corpora/chiiki-dx/2025"]).exit_code == 0
    doc_id = next((Path(os.environ["KOUBO_OUTPUTS"]) / "documents").rglob("*.json")).stem
    r = runner.invoke(app, ["show", doc_id[:8], "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["schema_name"] == "koubo.Document"


def test_show_unknown_document_is_a_clear_error():
    """This test ensures that an unknown document gives 'Error: …' and exit 1, not a traceback."""
    r = runner.invoke(app, ["show", "deadbeef0000"])
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: deadbeef0000: no such file, and no ingested document with that id")


def test_bad_format_is_a_usage_error():
    """This test ensures that an unknown --format exits 2 (a usage error)."""
    r = runner.invoke(app, ["show", str(TXT), "--format", "xml"])
    assert r.exit_code == 2


def test_every_command_has_help():
    """This test ensures that koubo and each of its commands print help."""
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("ingest", "show", "outline", "requirements"):
        sub = runner.invoke(app, [cmd, "--help"])
        assert sub.exit_code == 0 and "Usage:" in sub.stdout
        assert cmd in r.stdout
