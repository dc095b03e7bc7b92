"""Draw the line-break sample that tests/data/linebreaks.jsonl labels.

Candidates are pairs of consecutive body lines as bare pdfplumber reads them
(``page.extract_text_lines()``), not as koubo does, so that the labels do not
depend on the code they judge. Pages with ruled tables are left out (their
text goes to cells), as are lines in the header/footer bands. Pairs whose
first line ends without 。 are over-sampled: they are the ambiguous ones.

Run:  .venv/bin/python tests/data/make_linebreak_sample.py > tests/data/linebreaks_candidates.jsonl
Each candidate is then labelled by looking at the page: ``wrap`` (the PDF only
wrapped the line; B continues A's sentence or paragraph) or ``break`` (B starts
a new paragraph, list item, heading or table row).
"""

from __future__ import annotations

import itertools
import json
import random
import sys
from pathlib import Path

import pdfplumber

HERE = Path(__file__).resolve().parent
FILES = {
    "mhlw_careerup_shikyu_yoryo_R7-07.pdf": 40,
    "mhlw_koyohoken_gyomu_50301_R7-10.pdf": 35,
    "mhlw_model_shugyo_kisoku_R5-07.pdf": 40,
    "mhlw_tsuchi_H26-11.pdf": 30,
    "tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf": 35,
}
SEED = 20261122


def candidates(path: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            if len(page.rects) + len(page.lines) >= 4 and page.find_tables():
                continue
            h = float(page.height)
            lines = [ln for ln in page.extract_text_lines() if 0.1 * h < ln["top"] < 0.9 * h]
            for a, b in itertools.pairwise(lines):
                if not a["text"].strip() or not b["text"].strip():
                    continue
                out.append(
                    {
                        "file": path.name,
                        "page": page.page_number,
                        "a": a["text"],
                        "b": b["text"],
                        "a_bbox": [round(a["x0"], 1), round(a["top"], 1), round(a["x1"], 1), round(a["bottom"], 1)],
                        "b_bbox": [round(b["x0"], 1), round(b["top"], 1), round(b["x1"], 1), round(b["bottom"], 1)],
                    }
                )
    return out


def main() -> None:
    rng = random.Random(SEED)
    for name, n in FILES.items():
        pairs = candidates(HERE / "realpdfs" / name)
        open_ended = [p for p in pairs if not str(p["a"]).rstrip().endswith("。")]
        closed = [p for p in pairs if str(p["a"]).rstrip().endswith("。")]
        k_open = min(len(open_ended), int(n * 0.75))
        pick = rng.sample(open_ended, k_open) + rng.sample(closed, min(len(closed), n - k_open))
        pick.sort(key=lambda p: (int(p["page"]), p["a_bbox"][1]))  # type: ignore[index]
        for p in pick:
            sys.stdout.write(json.dumps(p, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
