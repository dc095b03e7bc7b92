"""koubo's comparison commands (registered on the app in :mod:`pipeline.cli`).

``koubo diff`` compares two versions of a call; ``koubo changes`` answers "what changed" questions;
``koubo diff-batch`` runs many pairs and writes an index page.
"""

from __future__ import annotations

import csv
import html
import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.cli import _fail, _progress, app, err, load_document, write_atomic
from pipeline.diff import change_record, diff_documents
from pipeline.document import Change, DocumentDiff, SourceFile
from pipeline.errors import PipelineError
from pipeline.settings import Settings
from pipeline.structure import segment

DIFF_FORMATS = ("md", "json", "html", "shinkyu", "xlsx", "csv")


def _diff(old: str, new: str, settings: Settings) -> DocumentDiff:
    return diff_documents(segment(load_document(old, settings)), segment(load_document(new, settings)))


def _diff_json(diff: DocumentDiff, substantive_only: bool) -> str:
    def call(s: SourceFile) -> dict[str, object]:
        return {"path": s.path, "id": s.sha256[:12], "title": s.title, "fiscal_year": s.fiscal_year,
                "secretariat": s.secretariat}  # fmt: skip

    changes = [c for c in diff.changes if c.substantive or not substantive_only]
    data = {"old": call(diff.old), "new": call(diff.new), "changes": [change_record(c) for c in changes]}
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The earlier call: a file (pdf, txt, md) or a document id.")],
    new: Annotated[str, typer.Argument(help="The later call: a file or a document id.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="md, json, html, shinkyu (新旧対照表 HTML), xlsx (新旧対照表) or csv.")
    ] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    substantive_only: Annotated[
        bool, typer.Option("--substantive-only", help="Leave out editorial changes (JSON and CSV).")
    ] = False,
) -> None:
    """Compare two versions of a call: what changed that matters, separated from editorial noise."""
    from pipeline import report

    if fmt not in DIFF_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(DIFF_FORMATS)}", param_hint="--format")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("an Excel file needs --output FILE.xlsx", param_hint="--output")
    settings = Settings()
    try:
        d = _diff(old, new, settings)
    except PipelineError as e:
        _fail(e)
        return
    if substantive_only:
        d = d.model_copy(update={"changes": d.substantive()})
    if fmt == "xlsx" and output is not None:
        report.write_shinkyu_xlsx(d, output)
    elif fmt == "csv" and output is not None:
        report.write_csv(d, output)
    else:
        if fmt == "md":
            text = report.markdown_summary(d)
        elif fmt == "json":
            text = _diff_json(d, substantive_only)
        elif fmt == "html":
            text = report.html_report(d)
        elif fmt == "shinkyu":
            text = report.shinkyu_html(d)
        else:
            text = str(report.diff_frame(d).to_csv(index=False))
        if output is None:
            sys.stdout.write(text)
        else:
            write_atomic(output, text)
    n_sub = len(d.substantive())
    err.print(f"{len(d.changes)} change items, {n_sub} substantive" + (f" → {output}" if output else ""), markup=False)


@app.command()
def changes(
    question: Annotated[
        str | None, typer.Argument(help="A question in Japanese: 「常駐支援者の要件はどう変わった？」")
    ] = None,
    old: Annotated[str | None, typer.Argument(help="The earlier call: a file or a document id.")] = None,
    new: Annotated[str | None, typer.Argument(help="The later call: a file or a document id.")] = None,
    k: Annotated[int, typer.Option("-k", help="Change items per question (1–50).")] = 5,
    queries: Annotated[
        Path | None, typer.Option("--queries", help="Answer each line of this file as a question (then give OLD NEW).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    lexical: Annotated[bool, typer.Option("--lexical", help="Rank by words only, without the e5 model.")] = False,
) -> None:
    """Answer "what changed" questions between two calls with the change items that match, and their diffs.

    With --queries, the positional arguments are OLD NEW.
    """
    from pipeline.changes import rank_changes

    if queries is not None:  # `koubo changes --queries Q.txt OLD NEW`: the arguments shift left
        question, old, new = None, question, old
    if old is None or new is None:
        raise typer.BadParameter("give QUESTION OLD NEW, or --queries FILE OLD NEW")
    if fmt not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    if not 1 <= k <= 50:
        raise typer.BadParameter("between 1 and 50", param_hint="-k")
    if queries is not None:
        if not queries.is_file():
            raise typer.BadParameter(f"{queries}: no such file", param_hint="--queries")
        questions = [x.strip() for x in queries.read_text(encoding="utf-8").splitlines() if x.strip()]
    elif question and question.strip():
        questions = [question]
    else:
        raise typer.BadParameter("the question is empty")
    settings = Settings()
    try:
        d = _diff(old, new, settings)
        embedder = None
        if not lexical:
            from pipeline.embed.embedder import load_embedder

            embedder = load_embedder(settings.models)
        answers = rank_changes(d, questions, k=k, embedder=embedder)
    except PipelineError as e:
        _fail(e)
        return
    if fmt == "json":
        data = [[{**change_record(c), "score": round(s, 6)} for c, s in hits] for hits in answers]
        sys.stdout.write(json.dumps(data if queries is not None else data[0], ensure_ascii=False, indent=1) + "\n")
        return
    out = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    for q, hits in zip(questions, answers, strict=True):
        table = Table(title=escape(q), title_justify="left", show_lines=True, pad_edge=False)
        for col in ("#", "change", "旧 (old)", "新 (new)"):
            table.add_column(col, overflow="fold")
        for i, (c, _) in enumerate(hits, start=1):
            head = f"{c.kind.value} · {c.category.value}\n{'substantive' if c.substantive else 'editorial'}\n"
            head += f"{escape(c.old_path or '—')} → {escape(c.new_path or '—')}\n{escape(c.reason)}"
            table.add_row(str(i), head, _side(c, "delete"), _side(c, "insert"))
        out.print(table)


def _side(c: Change, op: str) -> str:
    """One side of the character diff, changed runs struck (old) or underlined (new)."""
    style = "strike red" if op == "delete" else "underline green"
    parts = []
    for run in c.diff:
        if run.op == "equal":
            parts.append(escape(run.text[:200]))
        elif run.op == op:
            parts.append(f"[{style}]{escape(run.text[:400])}[/{style}]")
    return "".join(parts)[:1200]


@app.command("diff-batch")
def diff_batch(
    pairs: Annotated[Path, typer.Argument(help="CSV with columns old,new[,name]: one comparison per row.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the reports.")] = Path("outputs/diffs"),
) -> None:
    """Compare many pairs of calls; write each pair's reports and an index page linking them.

    A bad pair is reported and the batch goes on; exits 1 if any pair failed.
    """
    from pipeline import report

    if not pairs.is_file():
        raise typer.BadParameter(f"{pairs}: no such file")
    with pairs.open(encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("old") and r.get("new")]
    if not rows:
        raise typer.BadParameter(f"{pairs}: no rows with old and new columns")
    settings = Settings()
    done: list[tuple[str, dict[str, Path], DocumentDiff]] = []
    failed: list[tuple[str, str]] = []
    with _progress() as bar:
        task = bar.add_task("diff", total=len(rows), current="")
        for i, r in enumerate(rows, start=1):
            name = (r.get("name") or f"{Path(r['old']).stem}__{Path(r['new']).stem}").strip() or f"pair{i}"
            name = re.sub(r"[\\/:*?\"<>|\s]+", "_", name)  # a file name, whatever the CSV says
            bar.update(task, current=name)
            try:
                d = _diff(r["old"], r["new"], settings)
                files = report.write_reports(d, output / name, name)
                done.append((name, files, d))
            except PipelineError as e:
                failed.append((name, e.message))
                err.print(f"FAILED  {name}: {e.message}", markup=False)
            bar.advance(task)
    write_atomic(output / "index.html", _index_page(done, failed, output))
    err.print(f"{len(rows)} pairs: {len(done)} compared, {len(failed)} failed. Index: {output / 'index.html'}",
              markup=False)  # fmt: skip
    if failed:
        raise typer.Exit(1)


def _index_page(
    done: list[tuple[str, dict[str, Path], DocumentDiff]], failed: list[tuple[str, str]], root: Path
) -> str:
    e = html.escape
    rows = []
    for name, files, d in done:
        links = " · ".join(f'<a href="{e(str(p.relative_to(root)))}">{e(fmt)}</a>' for fmt, p in files.items())
        rows.append(
            f"<tr><td>{e(name)}</td><td>{e(d.old.title or '')} ({d.old.fiscal_year or ''})</td>"
            f"<td>{e(d.new.title or '')} ({d.new.fiscal_year or ''})</td><td>{len(d.substantive())}</td>"
            f"<td>{len(d.changes)}</td><td>{links}</td></tr>"
        )
    for name, message in failed:
        rows.append(f'<tr class="failed"><td>{e(name)}</td><td colspan="5">失敗: {e(message)}</td></tr>')
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>koubo 比較一覧</title>'
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em}.failed{color:#a00}</style></head><body>"
        "<h1>比較一覧 (diff reports)</h1><table><tr><th>比較</th><th>旧</th><th>新</th>"
        "<th>重要な変更</th><th>全変更</th><th>レポート</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )
