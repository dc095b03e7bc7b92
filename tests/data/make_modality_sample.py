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

Run with no options, the script reproduces exactly the fresh3 sample described above. Options:

- ``--seed N`` (default 20261122) and ``--per-source N`` (default 24);
- ``--source PATH`` (repeatable, relative to the repository root): the sources to draw
  from, in this order; given once or more, it replaces the default list of seven;
- ``--exclude NAME`` (repeatable, a file in tests/data): the labelled files whose
  sentences are excluded; given once or more, it replaces the default exclusion set.
  The default exclusion set depends on the seed, so that the default run stays fresh3:
  with the default seed it is the original three files (modality_gold.jsonl,
  modality_fresh.jsonl, modality_fresh2.jsonl; fresh3 itself must not be excluded);
  with any other seed it is modality_gold.jsonl plus every modality_fresh*.jsonl
  present in tests/data except the output file. Since that glob grows as new samples
  are labelled, an exact regeneration of a later sample should name its exclusions
  with ``--exclude``. The files excluded are printed to stderr.

fresh4 (tests/data/modality_fresh4.jsonl, 7 x 22 = 154 sentences) was drawn with
seed 4 from the five calls and two other real PDFs, excluding all four earlier files:

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 4 --per-source 22 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-04.pdf \
    --source tests/data/realpdfs/mhlw_model_shugyo_kisoku_R5-07.pdf \
    --exclude modality_gold.jsonl --exclude modality_fresh.jsonl \
    --exclude modality_fresh2.jsonl --exclude modality_fresh3.jsonl \
    /tmp/exp/fresh4_unlabelled.jsonl

fresh5 (tests/data/modality_fresh5.jsonl, 163 sentences) was drawn with seed 5, 22 per source from the
five calls and three real PDFs, excluding all five earlier files. The 地方公共団体 call had only 9
unlabelled candidates left, and a source with fewer candidates than asked gives all it has:

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 5 --per-source 22 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/chusho_data_rikatsuyo_policy_20250214.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_H28-01.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf \
    --exclude modality_gold.jsonl --exclude modality_fresh.jsonl \
    --exclude modality_fresh2.jsonl --exclude modality_fresh3.jsonl --exclude modality_fresh4.jsonl \
    /tmp/exp/fresh5_unlabelled.jsonl

fresh6 (tests/data/modality_fresh6.jsonl, 168 sentences): seed 6, 24 per source, excluding all six earlier files.

The samples up to fresh6 were drawn with the PDF reader pdf_reader.v1. From commit d5977cf on
(pdf_reader.v2 joins sentences cut at page ends) a PDF source yields slightly different candidates,
so to redraw a sample exactly, run this script from a checkout of e05c427 with that checkout first
on the path (PYTHONPATH=<checkout>); the .txt sources are split line by line and are unaffected:

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 6 --per-source 24 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf \
    --source tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_R7-10.pdf \
    --exclude modality_gold.jsonl --exclude modality_fresh.jsonl --exclude modality_fresh2.jsonl \
    --exclude modality_fresh3.jsonl --exclude modality_fresh4.jsonl --exclude modality_fresh5.jsonl \
    /tmp/exp/fresh6_unlabelled.jsonl

fresh8 (tests/data/modality_fresh8.jsonl, 151 sentences; the 地方公共団体 call had no sentence left to draw,
and the 中小企業 data policy PDF only 7) was drawn with pdf_reader.v2, excluding gold and fresh…fresh7:

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 8 --per-source 24 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/chusho_data_rikatsuyo_policy_20250214.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_H28-01.pdf \
    --exclude modality_gold.jsonl --exclude modality_fresh.jsonl --exclude modality_fresh2.jsonl \
    --exclude modality_fresh3.jsonl --exclude modality_fresh4.jsonl --exclude modality_fresh5.jsonl \
    --exclude modality_fresh6.jsonl --exclude modality_fresh7.jsonl \
    /tmp/exp/fresh8_unlabelled.jsonl

fresh9 (tests/data/modality_fresh9.jsonl, 143 sentences) was drawn with pdf_reader.v2, 13 per source from
four calls and eight real PDFs (the 地方公共団体 call and the 中小企業 data policy PDF had no sentence left),
excluding gold and fresh…fresh8:

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 9 --per-source 13 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/chusho_data_rikatsuyo_policy_20250214.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-04.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_H28-01.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_R7-10.pdf \
    --source tests/data/realpdfs/mhlw_model_shugyo_kisoku_R5-07.pdf \
    --source tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf \
    --source tests/data/realpdfs/tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf \
    /tmp/exp/fresh9_unlabelled.jsonl

(With seed 9 the default exclusion set is gold and every modality_fresh*.jsonl present, fresh…fresh8 at the
time; to redraw it now that fresh9 exists, name the nine files with --exclude.)

fresh10 (tests/data/modality_fresh10.jsonl, 143 sentences) was drawn with seed 10, 13 per source, from the four
calls and seven real PDFs fresh9 had sentences from, excluding gold and fresh…fresh9 (named, as the default set
now also holds fresh10):

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 10 --per-source 13 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-04.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_H28-01.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_R7-10.pdf \
    --source tests/data/realpdfs/mhlw_model_shugyo_kisoku_R5-07.pdf \
    --source tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf \
    --source tests/data/realpdfs/tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf \
    --exclude modality_gold.jsonl --exclude modality_fresh.jsonl --exclude modality_fresh2.jsonl \
    --exclude modality_fresh3.jsonl --exclude modality_fresh4.jsonl --exclude modality_fresh5.jsonl \
    --exclude modality_fresh6.jsonl --exclude modality_fresh7.jsonl --exclude modality_fresh8.jsonl \
    --exclude modality_fresh9.jsonl \
    /tmp/exp/fresh10_unlabelled.jsonl

fresh11 (tests/data/modality_fresh11.jsonl, 120 sentences) was drawn with seed 11, 20 per source, from the seven
sources of issue 3 (the 地方公共団体 call had no candidate left), excluding gold and fresh…fresh10 (the default
set at the time; name them with --exclude to redraw it now):

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 11 --per-source 20 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf \
    /tmp/exp/fresh11_unlabelled.jsonl

fresh12 (tests/data/modality_fresh12.jsonl, 120 sentences) was drawn with seed 12, 24 per source, from four calls
(the 地方公共団体 call had no candidate left) and the employment-insurance manual R7-10, excluding gold and
fresh…fresh11 (the default set at the time):

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 12 --per-source 24 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_R7-10.pdf \
    /tmp/exp/fresh12_unlabelled.jsonl

fresh13 (tests/data/modality_fresh13.jsonl, 120 sentences) was drawn with seed 13, 30 per source, from the five
calls (the 地方公共団体 call had no candidate left, so four gave sentences), excluding gold and fresh…fresh12 (the
default set at the time): the command of fresh12 with ``--seed 13 --per-source 30``, the 地方公共団体 call
(corpora/chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt) added as the second source and the R7-10
manual left out.

fresh14 (tests/data/modality_fresh14.jsonl, 142 sentences) was drawn with seed 14, 24 per source, from four calls (the
地方公共団体 call has no candidate left; the digital-jinzai call had 22), the Tokyo specification and the R7-07 grant
manual, excluding gold and fresh…fresh13:

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 14 --per-source 24 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf \
    /tmp/exp/fresh14_unlabelled.jsonl

fresh15 (tests/data/modality_fresh15.jsonl, 144 sentences) was drawn with seed 15, 24 per source, from three calls
(the digital-jinzai call has no candidate left), the Tokyo specification, the R7-10 employment-insurance manual and
the R7-04 grant manual, excluding gold and fresh…fresh14 (now that fresh15 is in tests/data, name those fifteen
files with ``--exclude`` to draw it again exactly: checked, byte for byte):

  cd /work/main && .venv/bin/python tests/data/make_modality_sample.py --seed 15 --per-source 24 \
    --source corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt \
    --source corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt \
    --source corpora/digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt \
    --source corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt \
    --source tests/data/realpdfs/tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf \
    --source tests/data/realpdfs/mhlw_koyohoken_gyomu_50301_R7-10.pdf \
    --source tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-04.pdf \
    /tmp/exp/fresh15_unlabelled.jsonl

fresh16 (tests/data/modality_fresh16.jsonl, 131 sentences) was drawn the same way with ``--seed 16 --per-source 24``
and these sources, in this order, excluding gold and fresh…fresh15: the FY2025 and FY2026 地域DX calls, the よろず
call (its last 11 candidates), the Tokyo specification, the R7-07 grant manual, the model work rules and the MHLW
notice (which has no candidate left):
corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt,
corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt,
corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt,
tests/data/realpdfs/tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf,
tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf,
tests/data/realpdfs/mhlw_model_shugyo_kisoku_R5-07.pdf,
tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf.
"""

from __future__ import annotations

import argparse
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


def default_exclusions(seed: int, out_path: str) -> list[str]:
    """The original three files for the default seed (fresh3); otherwise gold and every fresh file but the output."""
    if seed == SEED:
        return list(LABELLED)
    out = Path(out_path).resolve()
    fresh = sorted(p.name for p in (ROOT / "tests/data").glob("modality_fresh*.jsonl") if p.resolve() != out)
    return ["modality_gold.jsonl", *fresh]


def known_sentences(labelled: list[str] = LABELLED) -> list[str]:
    out: list[str] = []
    for name in labelled:
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


def main(
    out_path: str,
    seed: int = SEED,
    per_source: int = PER_SOURCE,
    sources: list[str] | None = None,
    labelled: list[str] | None = None,
) -> None:
    sources = list(sources or SOURCES)
    labelled = list(labelled or default_exclusions(seed, out_path))
    print(f"excluding the sentences of: {', '.join(labelled)}", file=sys.stderr)
    known = known_sentences(labelled)
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for source in sources:
        cands = candidates(source, known)
        # A source with fewer candidates left than asked gives all it has (so
        # earlier samples, drawn with enough candidates, are reproduced exactly).
        take = min(per_source, len(cands))
        picked = sorted(rng.sample(range(len(cands)), take))
        for i in picked:
            where, sentence = cands[i]
            rows.append(
                {"source": source, "page_or_line": where, "sentence": sentence, "modality": None, "subject": None}
            )
        print(f"{source}: {len(cands)} candidates, {take} drawn", file=sys.stderr)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Draw an unlabelled modality sample (see the module docstring).")
    parser.add_argument("out", help="output .jsonl")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED}, the fresh3 sample)")
    parser.add_argument("--per-source", type=int, default=PER_SOURCE, help=f"per source (default {PER_SOURCE})")
    parser.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="PATH",
        help="a source .txt or .pdf relative to the repository root; repeatable, replaces the default list",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        dest="labelled",
        metavar="NAME",
        help="a labelled file in tests/data whose sentences are excluded; repeatable, replaces the default set "
        "(default seed: gold, fresh, fresh2; other seeds: gold and every modality_fresh*.jsonl but the output)",
    )
    args = parser.parse_args()
    main(args.out, args.seed, args.per_source, args.sources, args.labelled)
