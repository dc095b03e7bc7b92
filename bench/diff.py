"""Diff speed: FY2025 (001) against FY2026 (000), end to end from ingested documents, beside plain difflib.

koubo: load both documents from outputs/documents (ingested there first if they are not), segment,
align, type the changes. difflib: ``difflib.unified_diff`` over the same two texts, line by line.
Both are timed in the same run (median of ``--repeat`` runs); item counts are printed side by side.

Run:  .venv/bin/python bench/diff.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import difflib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.cli import load_document  # noqa: E402
from pipeline.diff import diff_documents  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.structure import segment  # noqa: E402

OLD = ROOT / "corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.pdf"
NEW = ROOT / "corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.pdf"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    settings = Settings()
    for p in (OLD, NEW):  # warm: both ingested (cached in outputs/documents)
        load_document(str(p), settings)
    koubo_times, difflib_times = [], []
    n_items = n_sub = n_hunks = n_lines = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        old, new = (segment(load_document(str(p), settings)) for p in (OLD, NEW))
        diff = diff_documents(old, new)
        koubo_times.append(time.perf_counter() - t0)
        n_items, n_sub = len(diff.changes), len(diff.substantive())
        a, b = old.body_text().splitlines(), new.body_text().splitlines()
        t0 = time.perf_counter()
        lines = list(difflib.unified_diff(a, b, lineterm="", n=0))
        difflib_times.append(time.perf_counter() - t0)
        n_hunks = sum(1 for x in lines if x.startswith("@@"))
        n_lines = sum(1 for x in lines if x[:1] in "+-" and not x.startswith(("+++", "---")))
    print(f"koubo diff (load + segment + align + type), median of {args.repeat}: "
          f"{statistics.median(koubo_times):.2f} s; {n_items} change items, {n_sub} substantive")
    print(f"difflib line diff of the same texts, median of {args.repeat}: "
          f"{statistics.median(difflib_times):.2f} s; {n_hunks} hunks, {n_lines} changed lines, none typed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
