"""Ingestion speed: koubo's read_pdf against bare pdfplumber ``page.extract_text()``.

Both read the same PDFs in the same run, file by file and alternating which
goes first, so that the ratio holds on a noisy machine even where absolute
times do not. The goal (issue #2): koubo's extra work (tables, headers and
footers, block joining, normalisation) costs at most 1.5× bare extraction.

Run:  .venv/bin/python bench/ingest.py [--repeat N] [PDF ...]
Default PDFs: the corpus renditions in corpora/ and the real PDFs in
tests/data/realpdfs/ (the scanned one excluded: it has no text to extract).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import pdfplumber

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.ingest import read_pdf  # noqa: E402


def default_pdfs() -> list[Path]:
    pdfs = sorted((ROOT / "corpora").rglob("*.pdf")) + sorted((ROOT / "tests/data/realpdfs").glob("*.pdf"))
    return [p for p in pdfs if "scanned" not in p.name]


def bare(path: Path) -> int:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()
        return len(pdf.pages)


def koubo(path: Path) -> int:
    return len(read_pdf(path).pages)


def timed(fn, path: Path) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    gc.collect()
    t = time.perf_counter()
    n = fn(path)
    return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pdfs", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=1, help="passes over the files (default 1)")
    args = ap.parse_args()
    pdfs = args.pdfs or default_pdfs()
    total_bare = total_koubo = 0.0
    total_pages = 0
    print(f"{'file':<58} {'pages':>5} {'bare p/s':>9} {'koubo p/s':>9} {'ratio':>6}")
    for i, path in enumerate(pdfs):
        tb = tk = 0.0
        pages = 0
        for r in range(args.repeat):
            order = [(bare, "b"), (koubo, "k")] if (i + r) % 2 == 0 else [(koubo, "k"), (bare, "b")]
            for fn, tag in order:
                dt, pages = timed(fn, path)
                if tag == "b":
                    tb += dt
                else:
                    tk += dt
        total_bare += tb
        total_koubo += tk
        total_pages += pages * args.repeat
        n = pages * args.repeat
        print(f"{path.name[:58]:<58} {pages:>5} {n / tb:>9.2f} {n / tk:>9.2f} {tk / tb:>6.2f}")
    print("-" * 92)
    print(
        f"{'all (' + str(len(pdfs)) + ' files)':<58} {total_pages // args.repeat:>5} "
        f"{total_pages / total_bare:>9.2f} {total_pages / total_koubo:>9.2f} {total_koubo / total_bare:>6.2f}"
    )
    print(f"koubo / bare extract_text time ratio: {total_koubo / total_bare:.2f} (goal ≤ 1.50)")


if __name__ == "__main__":
    main()
