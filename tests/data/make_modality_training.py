"""Write pipeline/nlp/modality_training.jsonl: every labelled sentence with its heading, for the learned model.

Each line is ``{"sentence", "heading", "default", "modality", "set", "source"}`` (and ``"author"`` where a party other
than the issuer wrote its clause, and ``"around"`` where the pipeline has the sentence: the sentences around it, each
``[offset, same clause, sentence, heading, default, author]``, as ``pipeline.nlp.learned.Context`` reads them): the
sentence and its final label as in ``tests/data/modality_*.jsonl`` (gold, then fresh, fresh2 …, in that order), the
title the pipeline reads it under (``pipeline.nlp.sentence_contexts``, found by ``bench/modality_eval.py``; the
nearest heading line above it in its source for the few sentences not found among the pipeline's), the default subject
the pipeline passes to the rules for it (the model reads the rules' answer), the name of the labelled file it came
from and the document it was drawn from (for leave-one-document-out evaluation).
``pipeline.nlp.learned`` trains on this file.

A sample that has not yet been scored once, blind, must not be in it: name the files with ``--only`` (a
file name in tests/data, repeatable) to leave the newest one out.

Run:  cd /work/main && .venv/bin/python tests/data/make_modality_training.py [--only modality_gold.jsonl …]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import modality_eval  # noqa: E402

OUT = ROOT / "pipeline" / "nlp" / "modality_training.jsonl"


def labelled_files() -> list[Path]:
    """gold first, then the fresh samples in the order they were drawn."""
    fresh = sorted(
        (ROOT / "tests/data").glob("modality_fresh*.jsonl"),
        key=lambda p: int(re.sub(r"\D", "", p.stem) or 1),
    )
    return [ROOT / "tests/data/modality_gold.jsonl", *fresh]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", help="a labelled file in tests/data to include (repeatable)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    files = [ROOT / "tests/data" / n for n in args.only] if args.only else labelled_files()
    rows = []
    for path in files:
        for item in modality_eval.load_items(gold=path):
            rows.append(
                {
                    "sentence": item.sentence,
                    "heading": item.heading,
                    "default": item.default_subject,
                    "modality": item.gold.value,
                    "set": path.stem,
                    "source": item.source,
                    **({"author": item.author} if item.author else {}),
                    **({"around": [n.row() for n in item.around]} if item.around is not None else {}),
                }
            )
        print(f"{path.name}: {sum(r['set'] == path.stem for r in rows)} sentences", file=sys.stderr)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)
    print(f"{len(rows)} sentences -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
