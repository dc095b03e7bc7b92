"""NLP speed: koubo's structure + requirements against a plain full-GiNZA ``nlp.pipe``.

koubo reads the clause tree, splits and classifies every sentence with rules and
its learned modality model (``models/modality.npz``, loaded before timing) and
extracts values; with --ginza it also sends to GiNZA (NER and other unused
components off, in batches) the requirement sentences whose subject the rules
leave open. Both are timed.
The alternative is the obvious one: the full ``ja_ginza`` pipeline over every
sentence. Both run in this process over the same five corpus documents; the
ratio is the figure to read (absolute times vary on a shared machine).

Goal (issue #3): koubo ≥ 10× faster and ≤ 30 s for the five documents.

Run:  .venv/bin/python bench/nlp.py [--sample N]
``--sample N`` times the full pipeline on N sentences only and scales up (say so).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import spacy  # noqa: E402

from pipeline.document import Modality  # noqa: E402
from pipeline.ingest import read_text  # noqa: E402
from pipeline.nlp import default_model, find_requirements  # noqa: E402
from pipeline.nlp.ginza import GinzaParser  # noqa: E402
from pipeline.structure import segment  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=0, help="time the full pipeline on this many sentences only")
    args = ap.parse_args()
    paths = sorted((ROOT / "corpora").rglob("*.txt"))
    docs = [read_text(p) for p in paths]
    n_chars = sum(len(b.orig) for d in docs for b in d.blocks)

    model = default_model(ROOT / "models")  # read once per process, as the CLI does
    t0 = time.perf_counter()
    results = [find_requirements(segment(d), model=model) for d in docs]
    t_koubo = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d in docs:
        find_requirements(segment(d))
    t_rules = time.perf_counter() - t0
    t0 = time.perf_counter()
    parser = GinzaParser()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d in docs:
        find_requirements(segment(d), parser, model)
    t_koubo_ginza = time.perf_counter() - t0
    sentences = [r.sentence for d in results for r in d.requirements]
    n_req = sum(1 for d in results for r in d.requirements if r.modality is not Modality.NONE)

    t0 = time.perf_counter()
    full = spacy.load("ja_ginza")
    t_full_load = time.perf_counter() - t0
    todo = sentences
    if args.sample and args.sample < len(sentences):
        todo = random.Random(0).sample(sentences, args.sample)
    t0 = time.perf_counter()
    for _ in full.pipe(todo, batch_size=64):
        pass
    t_full = (time.perf_counter() - t0) * len(sentences) / len(todo)
    scaled = f" (scaled from a sample of {len(todo)})" if todo is not sentences else ""

    print(f"documents: {len(docs)}, characters: {n_chars:,}, sentences: {len(sentences):,}, requirements: {n_req:,}")
    print(f"koubo structure + requirements (default: rules + model):     {t_koubo:6.2f} s")
    print(f"koubo structure + requirements, rules alone (--rules-only):  {t_rules:6.2f} s")
    print(
        f"koubo with --ginza (parse only subject-less requirements):   {t_koubo_ginza:6.2f} s   (+{t_load:.1f} s load)"
    )
    print(f"plain nlp.pipe, full ja_ginza pipeline{scaled}:   {t_full:6.2f} s   (+{t_full_load:.1f} s model load)")
    print(f"ratio: koubo is {t_full / t_koubo:.1f}x faster; with --ginza {t_full / t_koubo_ginza:.1f}x")
    print("goal: >= 10x faster and <= 30 s")


if __name__ == "__main__":
    main()
