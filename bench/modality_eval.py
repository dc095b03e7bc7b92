"""Modality and subject accuracy of ``pipeline.nlp.modality`` on the hand-labelled gold file.

The gold file (``tests/data/modality_gold.jsonl``, 198 sentences) is split by
source so that the rules are not tuned on the sentences they are judged on:

- DEVELOPMENT: ``corpora/chiiki-dx/…`` and ``tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf``;
- HELD-OUT:    ``corpora/digital-jinzai/…``, ``corpora/yorozu/…`` and
  ``tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-07.pdf``.

Each sentence is classified in the context the pipeline gives it (``pipeline.nlp.sentence_contexts``: the title
the clause tree puts over it and the default subject under that title): the labelled sentence is found among the
pipeline's sentences of its document, first in the clauses that cover its line or page, then anywhere in the
document; one the pipeline does not have (text the segmenter leaves out) falls back to ``--context lines``, the
nearest preceding short line that starts with a numbering marker, which is how this script measured until
``modality_rules.v11``. How many sentences were found where, and how many fell back, is printed.

Prints, for development, held-out and all: per-modality precision, recall, F1
and support, micro P/R (= accuracy), macro P/R/F1, requirement P/R (``none`` as
the negative class: a requirement sentence counts as found only with its right
kind), subject accuracy (exact match where the gold subject is not null) and the
confusion matrix. ``--gold`` may be given several times; the files are pooled, each scored by a model
trained without it.
Where sentences were labelled twice, blind and independently (``modality_b``, and
``modality_a`` where the gold was adjudicated), the two annotators' agreement is
printed beside: the human ceiling the classifier is measured against.

The pipeline's learned model (``pipeline.nlp.learned``), which decides where no trusted rule fired, is
trained here on every shipped labelled sentence except those of the files being scored, so its figure is
always held out. ``--hold-out document`` holds out more: each sentence is scored by a model that saw no
sentence of its document (a new call); ``--hold-out family`` more still: no sentence of its programme's calls
(``corpora/<programme>/…``) or of any version of its manual (``…_R7-04.pdf`` and ``…_R7-07.pdf``), as with a
new kind of document. ``--rules-only`` scores the rules alone.

Run:  .venv/bin/python bench/modality_eval.py [--errors] [--split dev|held-out|all] [--gold F] [--rules-only]
      .venv/bin/python bench/modality_eval.py --speed     # classify + split over the corpus .txt files
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.document import Document, Modality  # noqa: E402
from pipeline.nlp import (  # noqa: E402
    DocumentActors,
    SentenceContext,
    SubjectParser,
    classify_sentences,
    sentence_contexts,
)
from pipeline.nlp.learned import (  # noqa: E402
    OFFSETS,
    TRAINING_FILE,
    Context,
    Example,
    ModalityModel,
    Neighbour,
    training_examples,
)
from pipeline.nlp.modality import Classification, classify, find_subject, split_sentences  # noqa: E402

GOLD = ROOT / "tests/data/modality_gold.jsonl"
TRAINING = ROOT / "pipeline/nlp" / TRAINING_FILE
DEV_SOURCES = ("corpora/chiiki-dx/", "tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf")
LABELS: tuple[Modality, ...] = tuple(Modality)

# A heading is a short line that starts with a numbering marker: （１） (1) 1. １． イ. ア 【…】 Ⅱ ## a.
HEADING_MARKER = re.compile(
    r"^\s*(?:#{1,6}\s|[（(]\s*[0-9０-９a-zA-Zア-ン一-十]{1,3}\s*[）)]|[0-9０-９]{1,2}\s*[.．、]?\s*(?=[^\d０-９\s.．])"
    r"|[ア-ン]\s*[.．、\s　]|[a-zａ-ｚ]\s*[.．]|[一二三四五六七八九十]{1,2}\s*[.．、]|【|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]"
    r"|(?:I{1,3}|IV|VI{0,3}|IX|X)\s)"
)
HEADING_MAX_CHARS = 40  # longer lines are numbered body items, not headings

# Terms that name the actor a document is mostly about; the most frequent one is its main actor.


@dataclass(frozen=True)
class Item:
    source: str
    where: int
    sentence: str
    gold: Modality
    gold_subject: str | None
    heading: str | None
    default_subject: str | None
    # Two independent blind labels where the sentence was double-annotated (first
    # annotator, second annotator; the gold is theirs, or adjudicated where they differ).
    annotators: tuple[Modality, Modality] | None = None
    set: str = ""  # the labelled file it came from (modality_fresh9 …)
    author: str | None = None  # who wrote its clause when not the issuer (a region's own annex)
    # the pipeline's sentences around it (``around``), or None where the pipeline does not have it
    around: tuple[Neighbour, ...] | None = None

    @property
    def dev(self) -> bool:
        return self.source.startswith(DEV_SOURCES)


def is_heading(line: str) -> bool:
    s = line.strip().lstrip("-*＊ ")
    # A numbered requirement (「8. 〜に協力すること」) is a list item, not a heading.
    return (
        bool(s)
        and len(s) <= HEADING_MAX_CHARS
        and not s.endswith(("。", "こと", "こと。"))
        and bool(HEADING_MARKER.match(s))
    )


PdfReader = Callable[[Path], Document]

_PDF_READER: list[PdfReader] = []  # set by load_items(); a test passes its session cache


def _read_pdf(path: Path) -> Document:
    from pipeline.ingest import read_pdf

    return read_pdf(path)


def _read_source(path: Path) -> Document:
    """A source as the pipeline ingests it: the PDF reader set by load_items() (or ``read_pdf``), else ``read_text``."""
    if path.suffix == ".pdf":
        return (_PDF_READER[-1] if _PDF_READER else _read_pdf)(path)
    from pipeline.ingest import read_text

    return read_text(path)


@cache
def source_lines(source: str) -> tuple[tuple[int, str], ...]:
    """(line or page number, text) of a source: text lines for .txt, ingested blocks for a PDF."""
    path = ROOT / source
    if path.suffix == ".pdf":
        # The same blocks `koubo show <pdf>` prints.
        return tuple((b.prov[0].page_no or 0, b.orig) for b in _read_source(path).blocks)
    return tuple(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def find_heading(source: str, where: int, sentence: str) -> str | None:
    """The nearest heading before the sentence's own line (.txt) or block (PDF)."""
    lines = source_lines(source)
    if source.endswith(".pdf"):
        key = _squash(sentence)[:20]
        idx = next((i for i, (p, t) in enumerate(lines) if p == where and key in _squash(t)), None)
        if idx is None:
            idx = next((i for i, (p, _) in enumerate(lines) if p > where), len(lines))
    else:
        idx = where - 1  # 0-based index of the sentence's own line
    for _, text in reversed(lines[:idx]):
        if is_heading(text):
            return text.strip().lstrip("-*＊ ")
    return None


@cache
def _contexts(source: str) -> tuple[tuple[str, SentenceContext, frozenset[int]], ...]:
    """The pipeline's sentences of a source (``sentence_contexts``), each squashed for matching and with the lines
    (.txt) or pages (PDF) its clause covers."""
    from pipeline.structure import segment

    out = []
    for row in sentence_contexts(segment(_read_source(ROOT / source))):
        where: set[int] = set()
        for p in row.clause.prov:
            if p.page_no is not None:
                where.add(p.page_no)
            elif p.line_start is not None:
                where.update(range(p.line_start, (p.line_end or p.line_start) + 1))
        out.append((_key(row.sentence), row, frozenset(where)))
    return tuple(out)


_BULLET = re.compile(r"^[-*＊・•‐－◇◆■□○●※\s]+")
_TAG = re.compile(r"</?[a-z][^<>]*>")  # the labelled text keeps 「JC-STAR<sup>3</sup>」, the ingested 「JC-STAR3」

# How the labelled sentences were found among the pipeline's: in a clause covering their line or page, elsewhere in
# the document, or not at all (then read with --context lines).
FOUND: Counter[str] = Counter()


def _key(sentence: str) -> str:
    return _squash(unicodedata.normalize("NFKC", _BULLET.sub("", _TAG.sub("", html.unescape(sentence)))))


def pipeline_context(source: str, where: int, sentence: str) -> SentenceContext | None:
    """The pipeline's own context for a labelled sentence: the row of ``sentence_contexts`` with the same text (else
    one containing it or contained in it, else one holding its first 20 characters), looked for first among the
    clauses that cover its line or page, then in the whole document, nearest first. None where no row matches."""
    key = _key(sentence)
    rows = _contexts(source)
    near = [(k, r, w) for k, r, w in rows if where in w]
    for pool, found_in in ((near, "own clause"), (rows, "elsewhere")):
        found = [(r, w) for k, r, w in pool if k == key] or [
            (r, w) for k, r, w in pool if len(key) >= 8 and (key in k or (k in key and len(k) >= 8))
        ]
        if not found and len(key) >= 20:
            found = [(r, w) for k, r, w in pool if key[:20] in k]
        if found:
            FOUND[found_in] += 1
            return min(found, key=lambda rw: min((abs(x - where) for x in rw[1]), default=10**6))[0]
    FOUND["not found"] += 1
    return None


def around(source: str, row: SentenceContext) -> tuple[Neighbour, ...]:
    """The pipeline's sentences around one of its rows, as the learned model reads them: the one before and the one
    after (in any clause), and the others of the same clause up to ``AROUND`` sentences away (``Context.reads``)."""
    rows = _contexts(source)
    i = next(j for j, (_, r, _) in enumerate(rows) if r is row)
    out = []
    for k in OFFSETS:
        if not 0 <= i + k < len(rows):
            continue
        near = rows[i + k][1]
        same = near.clause.path == row.clause.path
        if Context.reads(k, same):
            out.append(Neighbour(k, same, near.sentence, near.heading, near.default, near.author))
    return tuple(out)


@cache
def _actors(source: str) -> DocumentActors:
    return DocumentActors.of("\n".join(t for _, t in source_lines(source)))


def default_subject(source: str, heading: str | None) -> str | None:
    """What the pipeline passes as default_subject (pipeline.nlp.DocumentActors)."""
    return _actors(source).default_subject(heading)


def row_context(
    source: str, where: int, sentence: str, context: str = "pipeline"
) -> tuple[str | None, str | None, str | None, tuple[Neighbour, ...] | None]:
    """A labelled sentence's heading, default subject, author and the sentences around it: the pipeline's
    (``pipeline_context``), or, with ``context="lines"`` or where the pipeline has no such sentence, the nearest
    heading line, the document's default subject under it, and no author or sentences around."""
    found = pipeline_context(source, where, sentence) if context == "pipeline" else None
    if found is not None:
        return found.heading, found.default, found.author, around(source, found)
    heading = find_heading(source, where, sentence)
    return heading, default_subject(source, heading), None, None


def load_items(pdf_reader: PdfReader | None = None, gold: Path = GOLD, context: str = "pipeline") -> list[Item]:
    """The gold sentences with their headings and default subjects.

    Args:
        pdf_reader: how to read a PDF (default ``read_pdf``); tests pass their
            session cache so that the 82-page PDF is read once.
        context: ``"pipeline"``: each sentence's heading and default subject as ``find_requirements`` gives
            them (the clause tree's); ``"lines"``: the nearest numbered short line above it in the source (how
            this script measured until modality_rules.v11, kept for comparison). A sentence not found among the
            pipeline's falls back to the lines.
    """
    if pdf_reader is not None:
        _PDF_READER.append(pdf_reader)
    items = []
    for line in gold.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        heading, default, author, near = row_context(r["source"], int(r["page_or_line"]), r["sentence"], context)
        second = r.get("modality_b")
        first = r.get("modality_a", r["modality"])
        items.append(
            Item(
                source=r["source"],
                where=int(r["page_or_line"]),
                sentence=r["sentence"],
                gold=Modality(r["modality"]),
                gold_subject=r["subject"],
                heading=heading,
                default_subject=default,
                annotators=(Modality(first), Modality(second)) if second else None,
                set=gold.stem,
                author=author,
                around=near,
            )
        )
    return items


@dataclass(frozen=True)
class Scores:
    n: int
    accuracy: float
    macro_p: float
    macro_r: float
    macro_f1: float
    per_label: dict[Modality, tuple[float, float, float, int]]
    subject_accuracy: float
    subject_n: int
    # of the sentences both the labellers (naming a party) and the pipeline read as requirements
    subject_in_requirements: float
    subject_in_requirements_n: int
    req_p: float  # over requirement sentences: a sentence counts as found only with its right kind
    req_r: float
    confusion: dict[tuple[Modality, Modality], int]


Prediction = tuple[Item, Modality, str | None, str]  # a labelled sentence, and the modality, subject and rule found

# A version tag closing a document's file name (「…_R7-04」「…_H28-01」): the versions of one manual are a family.
_VERSION_TAG = re.compile(r"_[RHS]\d{1,2}-\d{1,2}$")


def family(source: str) -> str:
    """The family a labelled sentence's document belongs to: a programme's calls (``corpora/chiiki-dx``), or the
    versions of one document (``mhlw_careerup_shikyu_yoryo`` for its R7-04 and R7-07 editions).

    >>> family("corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt")
    'corpora/chiiki-dx'
    >>> family("tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_R7-04.pdf")
    'mhlw_careerup_shikyu_yoryo'
    """
    parts = Path(source).parts
    if len(parts) > 2 and parts[0] == "corpora":
        return "/".join(parts[:2])
    return _VERSION_TAG.sub("", Path(source).stem)


def group_of(by: str) -> Callable[[Item | Example], str]:
    """What a held-out model leaves out, of a labelled sentence (an ``Item``) or a training example: its labelled
    file (``"file"``), its document (``"document"``) or its document's family (``"family"``)."""
    if by == "file":
        return lambda x: x.set
    if by == "document":
        return lambda x: x.source
    if by == "family":
        return lambda x: family(x.source)
    raise ValueError(f"hold out by file, document or family, not {by!r}")


def score(
    items: Iterable[Item],
    parser: SubjectParser | None = None,
    model: ModalityModel | None = None,
    models: dict[str, ModalityModel] | None = None,
    by: str = "file",
) -> tuple[Scores, list[Prediction]]:
    """Score the pipeline's classification (rules, and the learned model where given).

    ``models`` gives each labelled file (``by="file"``), each source document (``by="document"``) or each family
    of documents (``by="family"``) its own model, one trained without it, in place of ``model``.
    With a parser, subjects follow the pipeline (rules, then the parser, then the default).

    Returns:
        The scores, and every sentence's prediction (``measure`` scores any part of them).
    """
    items = list(items)
    by_index: dict[int, Classification] = {}
    group = group_of(by)
    for name in dict.fromkeys(map(group, items)):  # each file (document, family) with its own held-out model
        idx = [i for i, it in enumerate(items) if group(it) == name]
        mine = models[name] if models is not None else model
        said = classify_sentences(
            [items[i].sentence for i in idx],
            [items[i].heading for i in idx],
            [items[i].default_subject for i in idx],
            mine,
            [items[i].author for i in idx],
            context=[_context(items[i]) for i in idx] if mine is not None else None,
        )
        by_index.update(zip(idx, said, strict=True))
    found = [by_index[i] for i in range(len(items))]
    pairs = [(it, c.modality, c.subject, c.rule) for it, c in zip(items, found, strict=True)]
    if parser is not None:  # as find_requirements: requirement sentences that name no subject themselves
        ask = [
            i for i, (it, m, _, _) in enumerate(pairs) if m is not Modality.NONE and find_subject(it.sentence) is None
        ]
        parsed = dict(zip(ask, parser.subjects([items[i].sentence for i in ask]), strict=True))
        pairs = [
            (it, m, (parsed.get(i) or subj) if i in parsed else subj, rule)
            for i, (it, m, subj, rule) in enumerate(pairs)
        ]
    return measure(pairs), pairs


def _context(item: Item) -> Context | None:
    return Example(item.sentence, item.heading, item.gold, default=item.default_subject, around=item.around).context()


def measure(pairs: list[Prediction]) -> Scores:
    """The scores of these predictions against their labels."""
    n = len(pairs)
    confusion = Counter((it.gold, pred) for it, pred, _, _ in pairs)
    per_label: dict[Modality, tuple[float, float, float, int]] = {}
    for lab in LABELS:
        tp = confusion[(lab, lab)]
        n_pred = sum(v for (_, p), v in confusion.items() if p == lab)
        support = sum(v for (g, _), v in confusion.items() if g == lab)
        p = tp / n_pred if n_pred else 0.0
        r = tp / support if support else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per_label[lab] = (p, r, f, support)
    present = [lab for lab in LABELS if per_label[lab][3]]
    correct = sum(confusion[(lab, lab)] for lab in LABELS)
    with_subject = [(it, subj) for it, _, subj, _ in pairs if it.gold_subject is not None]
    subj_ok = sum(1 for it, subj in with_subject if subj == it.gold_subject)
    both = [
        (it, subj)
        for it, pred, subj, _ in pairs
        if it.gold_subject is not None and it.gold is not Modality.NONE and pred is not Modality.NONE
    ]
    hit = sum(v for (g, p), v in confusion.items() if g == p and g is not Modality.NONE)
    n_pred_req = sum(v for (_, p), v in confusion.items() if p is not Modality.NONE)
    n_gold_req = sum(v for (g, _), v in confusion.items() if g is not Modality.NONE)
    return Scores(
        n=n,
        accuracy=correct / n if n else 0.0,
        macro_p=sum(per_label[lab][0] for lab in present) / len(present) if present else 0.0,
        macro_r=sum(per_label[lab][1] for lab in present) / len(present) if present else 0.0,
        macro_f1=sum(per_label[lab][2] for lab in present) / len(present) if present else 0.0,
        per_label=per_label,
        subject_accuracy=subj_ok / len(with_subject) if with_subject else 0.0,
        subject_n=len(with_subject),
        subject_in_requirements=sum(subj == it.gold_subject for it, subj in both) / len(both) if both else 0.0,
        subject_in_requirements_n=len(both),
        req_p=hit / n_pred_req if n_pred_req else 0.0,
        req_r=hit / n_gold_req if n_gold_req else 0.0,
        confusion=dict(confusion),
    )


def held_out_model(scored: set[str], by: str = "file") -> ModalityModel:
    """The learned model trained on every shipped labelled sentence except those of the files being scored (by
    ``"file"``), or except every sentence drawn from the documents in ``scored`` (by ``"document"``: the model
    then knows nothing of those documents, as with a new call), or from the families in ``scored`` (by
    ``"family"``: nothing of the programme's other calls or of the document's other versions either).

    A sample not yet in the training file (the newest, scored once blind) is held out by construction.
    """
    shipped = training_examples(TRAINING)
    key = group_of(by)
    examples = [e for e in shipped if key(e) not in scored]
    held = sorted(scored & {key(e) for e in shipped})
    print(
        f"learned model: trained on {len(examples)} of {len(shipped)} labelled sentences"
        + (f" (held out: {', '.join(held)})" if held else " (the scored sentences are not among them)")
    )
    return ModalityModel.train(examples)


def agreement(items: Iterable[Item]) -> str | None:
    """The two annotators against each other on the double-annotated sentences: the human ceiling."""
    pairs = [it.annotators for it in items if it.annotators]
    if not pairs:
        return None
    n = len(pairs)
    po = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(first[lab] * second[lab] for lab in LABELS) / (n * n)
    kappa = (po - pe) / (1 - pe) if pe < 1 else 1.0
    hit = sum(1 for a, b in pairs if a == b and a is not Modality.NONE)
    n_second = sum(1 for _, b in pairs if b is not Modality.NONE)
    n_first = sum(1 for a, _ in pairs if a is not Modality.NONE)
    return (
        f"annotators, second vs first on {n} double-labelled: agreement {po:.3f}  kappa {kappa:.3f}  "
        f"requirements P {hit / n_second if n_second else 0:.3f}  R {hit / n_first if n_first else 0:.3f}"
    )


def report(name: str, s: Scores) -> str:
    out = [f"== {name}: {s.n} sentences =="]
    out.append(f"{'modality':<16}{'P':>6}{'R':>6}{'F1':>6}{'n':>5}")
    for lab in LABELS:
        p, r, f, sup = s.per_label[lab]
        out.append(f"{lab.value:<16}{p:6.2f}{r:6.2f}{f:6.2f}{sup:5d}")
    out.append(f"micro P = R = accuracy  {s.accuracy:.3f}")
    out.append(f"macro P {s.macro_p:.3f}  R {s.macro_r:.3f}  F1 {s.macro_f1:.3f}")
    out.append(f"requirements P {s.req_p:.3f}  R {s.req_r:.3f}  (none = no requirement; right kind needed)")
    out.append(f"subject accuracy        {s.subject_accuracy:.3f}  (n={s.subject_n}, gold subject not null)")
    out.append(
        f"  of requirements       {s.subject_in_requirements:.3f}  (n={s.subject_in_requirements_n}, both labelled and "
        "read as requirements)"
    )
    short = {lab: lab.value[:5] for lab in LABELS}
    out.append("confusion (rows gold, columns predicted)")
    out.append(" " * 8 + "".join(f"{short[lab]:>7}" for lab in LABELS))
    for g in LABELS:
        out.append(f"{short[g]:<8}" + "".join(f"{s.confusion.get((g, p), 0):>7}" for p in LABELS))
    return "\n".join(out)


def by_document(predictions: list[Prediction]) -> str:
    """The same scores for each source document: where the misses are (calls for proposals, manuals, rules)."""
    out = ["by document (accuracy, requirements P and R)", f"  {'document':<52}{'n':>5}{'acc':>7}{'P':>7}{'R':>7}"]
    sources = sorted({p[0].source for p in predictions})
    groups = [(Path(source).stem, [p for p in predictions if p[0].source == source]) for source in sources]
    groups += [
        ("the five calls (corpora/)", [p for p in predictions if p[0].source.startswith("corpora/")]),
        ("other government PDFs", [p for p in predictions if not p[0].source.startswith("corpora/")]),
    ]
    for name, part in groups:
        if part:
            s = measure(part)
            out.append(f"  {name[:52]:<52}{s.n:>5}{s.accuracy:7.3f}{s.req_p:7.3f}{s.req_r:7.3f}")
    return "\n".join(out)


def speed() -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpora").rglob("*.txt"))]
    n_chars = sum(len(t) for t in texts)
    t0 = time.perf_counter()
    n_sent = 0
    for t in texts:
        for sentence in split_sentences(t):
            classify(sentence)
            n_sent += 1
    dt = time.perf_counter() - t0
    return f"speed: {len(texts)} files, {n_chars} chars, {n_sent} sentences: split + classify in {dt:.3f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--errors", action="store_true", help="list misclassified sentences")
    ap.add_argument("--split", choices=("dev", "held-out", "all"), help="only this split")
    ap.add_argument("--speed", action="store_true", help="time split + classify over the corpus .txt files")
    ap.add_argument("--subjects", action="store_true", help="list wrong subjects")
    ap.add_argument("--headings", action="store_true", help="show the heading found for each sentence")
    ap.add_argument("--gold", type=Path, action="append", help="labelled sentences (default: gold); repeatable")
    ap.add_argument("--ginza", action="store_true", help="find subjects the rules miss with GiNZA (as the pipeline)")
    ap.add_argument(
        "--hold-out",
        choices=("file", "document", "family"),
        default="file",
        help="train the model without the scored files (default), without any sentence of each scored "
        "sentence's document, as for a call it has never seen, or without any of its family (the programme's "
        "other calls, the document's other versions)",
    )
    ap.add_argument(
        "--rules-only",
        action="store_true",
        help="the rules alone, without the learned model (which is trained here without the scored files)",
    )
    ap.add_argument(
        "--context",
        choices=("pipeline", "lines"),
        default="pipeline",
        help="classify each sentence with the heading and subject the pipeline gives it (default), or with the "
        "nearest numbered line above it in the source (the older approximation)",
    )
    args = ap.parse_args(argv)
    if args.speed:
        print(speed())
        return 0
    golds: list[Path] = args.gold or [GOLD]
    items = [it for g in golds for it in load_items(gold=g, context=args.context)]
    if args.context == "pipeline":
        print(
            f"context: {FOUND['own clause']} sentences found in the clause that covers their line or page, "
            f"{FOUND['elsewhere']} elsewhere in their document, {FOUND['not found']} not found "
            "(read with --context lines)"
        )
    parser = None
    if args.ginza:
        from pipeline.nlp.ginza import GinzaParser

        parser = GinzaParser()
    splits = {
        "dev": [it for it in items if it.dev],
        "held-out": [it for it in items if not it.dev],
        "all": items,
    }
    if golds != [GOLD]:  # another sample: no development split applies
        splits = {"all": items}
    model, models = None, None
    if not args.rules_only and args.hold_out in ("document", "family"):  # each scored by a model that never saw it
        group = group_of(args.hold_out)
        models = {name: held_out_model({name}, args.hold_out) for name in dict.fromkeys(map(group, items))}
    elif not args.rules_only and len(golds) == 1:
        model = held_out_model({golds[0].stem})
    elif not args.rules_only:  # several files pooled: each is scored by a model trained without it
        models = {g.stem: held_out_model({g.stem}) for g in golds}
    for name, subset in splits.items():
        if args.split and name != args.split:
            continue
        s, predictions = score(subset, parser, model, models, args.hold_out)
        print(report(name, s))
        ceiling = agreement(subset)
        if ceiling:
            print(ceiling)
        print(by_document(predictions))
        if args.errors:
            for it, pred, _, rule in (p for p in predictions if p[1] != p[0].gold):
                doc = it.source.rsplit("/", 1)[-1][:24]
                print(f"  [{it.gold.value} → {pred.value} by {rule}] {doc} ({it.heading}) {it.sentence[:160]}")
        if args.subjects:
            for it in subset:
                if it.gold_subject is None:
                    continue
                c = classify(it.sentence, heading=it.heading, default_subject=it.default_subject, author=it.author)
                if c.subject != it.gold_subject:
                    print(f"  [subject {it.gold_subject} → {c.subject}] {it.sentence[:100]}")
        if args.headings:
            for it in subset:
                print(f"  {it.source.rsplit('/', 1)[-1][:20]}:{it.where} ({it.heading}) {it.sentence[:50]}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
