"""Draw the fresh, unlabelled modality sample that tests/data/modality_fresh3.jsonl labels.

For each of seven sources, list candidate sentences with koubo's sentence splitter
(``pipeline.nlp.modality.split_sentences``; nothing of the classifier is used):

- a ``.txt`` corpus file: every line is split; ``page_or_line`` is the 1-based line
  number. Markdown heading lines (``#``) are skipped.
- a ``.pdf``: ``pipeline.ingest.read_pdf`` and every block's ``orig`` is split;
  ``page_or_line`` is the block's first page. Table and toc blocks are skipped.

A candidate has 12-220 characters, at least one kana or kanji, and a predicate
(a piece shorter than 20 characters that does not end in 。, or a bold-only
``**…**`` line without 。, is taken for a heading or a label and skipped). A
sentence already in modality_gold.jsonl, modality_fresh.jsonl or
modality_fresh2.jsonl is excluded (whitespace removed; equal, or for 20+
characters one containing the other); only their "sentence" field is read.
Repeats inside a source are kept once. Candidates are sorted by
(page_or_line, position), then 24 per source are drawn with one
``random.Random(20261122)`` in the order of SOURCES and written in document order,
with ``modality``, ``subject`` and ``note`` left null for the annotator.

Run:  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py /tmp/exp/fresh3_unlabelled.jsonl
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from pipeline.document import BlockKind
from pipeline.ingest import read_pdf
from pipeline.nlp.modality import split_sentences

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    "corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt",
    "corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt",
    "corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt",
    "corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt",
    "corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt",
    "tests/data/realpdfs/tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf",
    "tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_R7-10.pdf",
]
LABELLED = ["modality_gold.jsonl", "modality_fresh.jsonl", "modality_fresh2.jsonl"]
PER_SOURCE = 24
SEED = 20261122
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff々〆]")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def known_sentences() -> list[str]:
    out: list[str] = []
    for name in LABELLED:
        with (ROOT / "tests/data" / name).open(encoding="utf-8") as f:
            out.extend(squash(json.loads(line)["sentence"]) for line in f if line.strip())
    return out


def keep(sentence: str, known: list[str]) -> bool:
    if not 12 <= len(sentence) <= 220 or not JAPANESE.search(sentence):
        return False
    ends = sentence.rstrip().endswith("。")
    if (len(sentence) < 20 and not ends) or (sentence.startswith("**") and sentence.endswith("**")):
        return False
    s = squash(sentence)
    return not any(s == k or (min(len(s), len(k)) >= 20 and (s in k or k in s)) for k in known)


def pieces(source: str) -> list[tuple[int, str]]:
    path = ROOT / source
    out: list[tuple[int, str]] = []
    if path.suffix == ".txt":
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.lstrip().startswith("#"):
                out.extend((no, s) for s in split_sentences(line))
    else:
        for block in read_pdf(path).blocks:
            if block.kind not in (BlockKind.TABLE, BlockKind.TOC):
                page = block.prov[0].page_no or 0
                out.extend((page, s) for s in split_sentences(block.orig))
    return out


def candidates(source: str, known: list[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    out: list[tuple[int, int, str]] = []
    for pos, (where, sentence) in enumerate(pieces(source)):
        if keep(sentence, known) and squash(sentence) not in seen:
            seen.add(squash(sentence))
            out.append((where, pos, sentence))
    return [(where, sentence) for where, _, sentence in sorted(out)]


def main(out_path: str) -> None:
    known = known_sentences()
    rng = random.Random(SEED)
    rows: list[dict[str, object]] = []
    for source in SOURCES:
        cands = candidates(source, known)
        picked = sorted(rng.sample(range(len(cands)), PER_SOURCE))
        for i in picked:
            where, sentence = cands[i]
            rows.append(
                {"source": source, "page_or_line": where, "sentence": sentence, "modality": None, "subject": None}
            )
        print(f"{source}: {len(cands)} candidates, {PER_SOURCE} drawn", file=sys.stderr)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_modality_sample.py OUT.jsonl")
    main(sys.argv[1])
