"""Line joining on real PDFs, measured against a labelled sample (tests/data/linebreaks.jsonl).

The sample holds 180 pairs of consecutive lines from five real PDFs, drawn by
tests/data/make_linebreak_sample.py from bare pdfplumber lines and labelled by
looking at the rendered pages: ``wrap`` (the PDF only wrapped the line) or
``break`` (a new paragraph, item, heading or row starts).
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

from conftest import DATA, REALPDFS
from pipeline.ingest.normalize import strip_ws

# Three labelled breaks are joined today: a formula's numerator tail and its
# denominator (twice), and an item caption whose body sits one line below at the
# same width. Allowing at most these, and no wrap left unjoined.
MAX_BREAKS_JOINED = 3


def _norm(s: str) -> str:
    return strip_ws(unicodedata.normalize("NFKC", s))


def test_wrapped_lines_are_joined_and_breaks_kept(ingested):
    """This test ensures that no labelled wrap is left as a line break inside a sentence, and that
    labelled breaks stay breaks."""
    records = [json.loads(line) for line in (DATA / "linebreaks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 180
    outcome: Counter[tuple[str, str]] = Counter()
    missing = []
    for r in records:
        doc = ingested(REALPDFS / r["file"])
        near = {r["page"] - 1, r["page"], r["page"] + 1}
        texts = [_norm(b.text) for b in doc.blocks if any(p.page_no in near for p in b.prov)]
        a, b = _norm(r["a"]), _norm(r["b"])
        if not (any(a in t for t in texts) and any(b in t for t in texts)):
            missing.append(r)
            continue
        predicted = "wrap" if any(a + b in t for t in texts) else "break"
        outcome[(r["label"], predicted)] += 1
    assert outcome[("wrap", "break")] == 0, outcome
    assert outcome[("break", "wrap")] <= MAX_BREAKS_JOINED, outcome
    assert outcome[("wrap", "wrap")] >= 80
    assert len(missing) <= 2, [(m["file"], m["page"], m["a"]) for m in missing]
