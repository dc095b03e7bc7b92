"""Requirements: clauses → sentences with modality, subject and values.

Consumes a Document with its clause tree (``structure.segment``); produces the
Document with ``requirements``: one per sentence of every clause, with its
modality (obligation, prohibition, permission, eligibility, deadline,
recommendation, none), its subject and the values it states.

Heavy dependencies: spaCy + GiNZA, only in ``pipeline.nlp.ginza`` and only
when a parser is passed. The modality comes from ordered rules on the
sentence's predicate, the values from regular rules: both are exact and fast.
A parser (GiNZA's dependency parse, batched, NER and the other unused
components off) sees only requirement sentences whose subject the rules could
not find. Measured on the labelled sentences it finds a subject in 1 of 109
such sentences: Japanese requirements mostly leave the subject unsaid, and the
document's main actor is the better default. So it is opt-in.

Where no rule fired on an explicit modal marker, a small learned model
(``pipeline.nlp.learned``: character n-grams and the rules' own answer, a
logistic regression in numpy) decides. The pipeline uses it by default
(``default_model``): on new sentences of the documents it was trained on it beats
the rules alone (0.741 → 0.797 accuracy on the blind fresh9 sample); on a document
it has never seen it is no better than them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline.document import Clause, Document, Modality, Requirement
from pipeline.nlp.modality import (
    MODALITY_RULES,
    Classification,
    classify,
    find_subject,
    issuer_reserves_right,
    split_sentences,
    subject_of,
)
from pipeline.nlp.values import VALUE_RULES, extract_values, table_unit
from pipeline.structure import case_annexes

if TYPE_CHECKING:  # numpy and scikit-learn only when a learned model is used
    from pipeline.nlp.learned import Context, ModalityModel

__all__ = [
    "DocumentActors",
    "SentenceContext",
    "SubjectParser",
    "acting_roles",
    "classify",
    "classify_sentences",
    "default_model",
    "extract_values",
    "find_requirements",
    "modality_version",
    "requirement_record",
    "sentence_contexts",
    "split_sentences",
]  # fmt: skip

log = logging.getLogger(__name__)

# Terms for the party a call binds, most specific first; the most frequent one
# in a document is its main actor.
ROLE_TERMS: tuple[str, ...] = (
    "伴走支援事業者", "補助事業者", "事業主", "実施機関", "受託者", "受注者", "賃貸人", "ＭＦ登録者",
)  # fmt: skip
APPLICANT_TERMS = ("申請者", "応募者")
# Under headings about applying, a sentence binds the applicant rather than the main actor.
APPLYING_HEADING = re.compile(r"応募|申請|提出|説明会|質問|募集|公募|受付|期間|期限|締切|相談(?!窓口)")
# A section has its own main actor where another role is the topic or subject (「受注者は」「受注者が」) at least this
# often in it, and more than twice as often as the enclosing main actor (``DocumentActors.within``).
SECTION_MENTIONS = 3
_ACTING = re.compile("(" + "|".join(map(re.escape, ROLE_TERMS)) + ")(?:は|が)")


def acting_roles(text: str) -> Counter[str]:
    """How often each role term (:data:`ROLE_TERMS`) is the topic or subject in a text: 「受注者は」「受注者が」."""
    return Counter(_ACTING.findall(text))


class SubjectParser(Protocol):
    """What finds subjects the rules leave open (GinzaParser, or a test double)."""

    name: str

    def subjects(self, sentences: list[str]) -> list[str | None]: ...


@dataclass(frozen=True)
class DocumentActors:
    """Who a call binds: its applicant term and its main actor, counted in its text."""

    applicant: str | None
    main: str | None

    @classmethod
    def of(cls, text: str) -> DocumentActors:
        applicant = max(APPLICANT_TERMS, key=text.count)
        counts = Counter({term: text.count(term) for term in ROLE_TERMS})
        term, n = counts.most_common(1)[0]
        return cls(applicant if text.count(applicant) else None, term if n else None)

    def within(self, acting: Counter[str]) -> DocumentActors:
        """The actors of a section, given how often each role acts in it (:func:`acting_roles`): its own main actor
        where another role than the enclosing main actor is the topic or subject of its sentences at least
        :data:`SECTION_MENTIONS` times and more than twice as often (the information-security section of a call
        whose main actor is 実施機関 speaks of 受注者 throughout).

        Example:
            >>> actors = DocumentActors("申請者", "実施機関")
            >>> actors.within(acting_roles("受注者は、…。受注者は、…。受注者が…。実施機関は、…。")).main
            '受注者'
            >>> actors.within(acting_roles("受注者は、…。実施機関は、…。")).main
            '実施機関'
        """
        if not acting:
            return self
        term, n = acting.most_common(1)[0]
        if term != self.main and n >= SECTION_MENTIONS and n > 2 * acting[self.main or ""]:
            return DocumentActors(self.applicant, term)
        return self

    def default_subject(self, heading: str | None) -> str | None:
        """The applicant under a heading about applying, else the main actor."""
        if heading and APPLYING_HEADING.search(heading) and self.applicant:
            return self.applicant
        return self.main or self.applicant


def modality_version(model: ModalityModel | None) -> str:
    """What decides modalities, as recorded in ``produced_by``: the rules, plus the model if one is used."""
    return MODALITY_RULES if model is None else f"{MODALITY_RULES}+{model.version}"


def default_model(models_dir: Path) -> ModalityModel | None:
    """The learned modality model the pipeline uses, from ``models_dir/modality.npz`` (``make models`` builds it;
    it is trained there, in a few seconds, if it is missing or stale). Read once per process and folder, also
    when several threads ask at once.

    Returns None, with a warning, where it cannot be had (numpy or scikit-learn not installed): the rules alone
    then decide, and ``produced_by`` says so.
    """
    key = Path(models_dir).resolve()
    with _models_lock:  # the server's threads: one loads (or trains), the others wait and take its model
        if key not in _models:
            _models[key] = _load_model(key)
        return _models[key]


_models: dict[Path, ModalityModel | None] = {}
_models_lock = threading.Lock()


def _load_model(models_dir: Path) -> ModalityModel | None:
    try:
        from pipeline.nlp.learned import load_model

        return load_model(models_dir)
    except ImportError as e:
        log.warning("the learned modality model is not available (%s); the rules alone decide modalities", e)
        return None


def classify_sentences(
    sentences: Sequence[str],
    headings: Sequence[str | None],
    defaults: Sequence[str | None],
    model: ModalityModel | None = None,
    authors: Sequence[str | None] | None = None,
    clauses: Sequence[str] | None = None,
    context: Sequence[Context | None] | None = None,
) -> list[Classification]:
    """Classify sentences with the rules and, where no trusted rule fired, with the learned model.

    Args:
        sentences: the sentences, as printed.
        headings: each sentence's clause heading (context for items and plain statements).
        defaults: each sentence's default subject (the clause-level actor).
        model: the learned classifier (``pipeline.nlp.learned.load_model``); without it, the rules alone.
        authors: who wrote each sentence's clause when not the issuer (``SentenceContext.author``); default none.
        clauses: each sentence's clause path, for sentences given in document order (a document's every
            sentence): the model then reads what the rules said of the sentences around each one.
        context: that context given for each sentence instead (``Example.context``; the evaluation's sentences
            are not a document's every sentence).

    Returns:
        One Classification per sentence. Where the model decided, ``rule`` is ``"model:"`` followed by
        the rule that fired (``"model:heading.eligibility_item"``).
    """
    authors = authors if authors is not None else [None] * len(sentences)
    out = [
        classify(s, heading=h, default_subject=d, author=a)
        for s, h, d, a in zip(sentences, headings, defaults, authors, strict=True)
    ]
    if model is None:
        return out
    from pipeline.nlp.learned import contexts, trusted

    if clauses is not None:
        if context is not None:
            raise ValueError("give the sentences' clauses or their context, not both")
        context = contexts(out, clauses)
    ask = [i for i, c in enumerate(out) if not trusted(c.rule)]
    learned = model.predict(
        [sentences[i] for i in ask],
        [headings[i] for i in ask],
        [out[i] for i in ask],
        [context[i] for i in ask] if context is not None else None,
    )
    for i, modality in zip(ask, learned, strict=True):
        c = out[i]
        if modality is Modality.PERMISSION and issuer_reserves_right(sentences[i], defaults[i]):
            modality = Modality.NONE  # the issuer's own right binds no reader, as in classify
        if modality is c.modality:
            subject = c.subject
        elif modality is Modality.NONE:
            subject = None
        else:
            subject = subject_of(sentences[i], headings[i], defaults[i])
        out[i] = Classification(modality, subject, f"model:{c.rule}")
    return out


# A bracketed title alone on a line of a clause's body (a cover page's 「【応募受付期間】」): a title for what follows.
_INNER_TITLE = re.compile(r"^[*#\s]*【[^】]{1,20}】[*\s]*$")
# A caption in angle brackets alone on a line (「#### <コンサルティング>」; ingestion has already removed HTML markup).
_CAPTION = re.compile(r"^[#*\s]*[<＜〈][^<>＜＞〈〉]{1,20}[>＞〉][*\s]*$")
# A clause heading longer than this reads as an item's own sentence, not as a title over what follows.
TITLE_MAX_CHARS = 40
# A local government's name (「新潟県」「弥彦村」): a case annex so named was written by that region about itself.
_REGION = re.compile(r"^\S{1,10}(?:都|道|府|県|市|区|町|村)$")


def _title(clause: Clause) -> str | None:
    """The clause's heading as printed (「(2) 応募要件」「【新潟県】」) where it reads as a title over its body;
    None for an item whose heading is its own sentence (「① …体制を有すること」「・…の写し」「(ｃ) …以内のもの」)."""
    heading = clause.heading
    if (
        not heading
        or clause.marker.startswith("bullet")
        or len(heading) > TITLE_MAX_CHARS
        or heading.rstrip().endswith(("。", "こと", "もの"))
    ):
        return None
    if clause.marker in ("bracket", "square"):  # the label is the title as printed: 「【3 町村の受入体制】」
        return clause.label
    return f"{clause.label} {heading}".strip()


@dataclass(frozen=True)
class SentenceContext:
    """A sentence of a clause with what the rules read beside it: the title it sits under, the default subject
    under that title, and the clause's author where a party other than the issuer wrote it.

    The title is the clause's own (``_title``) for its body, else the nearest enclosing clause's: an item, and the
    heading line itself, sit under the title above. A caption line (「<コンサルティング>」) sits under none, and a
    bracketed title alone on a line of a body (a cover page's 「【応募受付期間】」) is the title of the lines after it,
    to the end of that clause.

    The author is the region that wrote a case annex about itself: one of a run of sibling annexes named after
    local governments (「別添1-3 希望する伴走支援について（新潟県）」 → 「新潟県」;
    ``pipeline.structure.case_annexes``).
    """

    sentence: str
    heading: str | None
    default: str | None
    clause: Clause
    author: str | None = None

    @property
    def path(self) -> str:
        return self.clause.path


def sentence_contexts(doc: Document) -> list[SentenceContext]:
    """Every sentence of every clause, in clause order, with the context ``find_requirements`` classifies it in.

    A sentence ends at 。 and at a printed line break (a new block, a title line); the heading line is kept, since
    「(2)提出期限 令和8年4月10日(金)午前11時」 states a deadline. A sentence's default subject is the applicant under a
    heading about applying, else the main actor of its section (``DocumentActors.within``: a section where another
    party acts throughout) or of the document. Evaluations (``bench/modality_eval.py``) read the same contexts, so
    that they score the pipeline as it runs.
    """
    actors = DocumentActors.of("\n".join(b.orig for b in doc.blocks))  # as printed: 「ＭＦ登録者」 is a full-width term
    authors = {
        path: name
        for (_, path), name in case_annexes(("", c.path, c.heading or "", c.level) for c in doc.clauses).items()
        if _REGION.match(name)
    }
    rows: list[SentenceContext] = []

    acting: dict[int, Counter[str]] = {}  # by clause id: how often each role acts in the clause and those under it

    def count(clause: Clause) -> Counter[str]:
        total = acting_roles(clause.orig)
        for child in clause.children:
            total += count(child)
        acting[id(clause)] = total
        return total

    def visit(clause: Clause, above: str | None, author: str | None, actors: DocumentActors) -> None:
        actors = actors.within(acting[id(clause)])  # a section where another party acts throughout binds that party
        title = _title(clause) or above
        inner = title  # the title of the lines that follow (a bracketed title line changes it)
        for n, line in enumerate(clause.orig.split("\n")):
            for sentence in (s for s in split_sentences(line) if s.strip()):
                if n == 0:
                    heading = above  # the heading line sits under the enclosing title, not under itself
                elif _CAPTION.match(sentence):
                    heading = None  # 「<コンサルティング>」: a label over a group of items, not a condition
                else:
                    heading = inner
                    if _INNER_TITLE.match(sentence):
                        inner = sentence.strip("*# ")
                # the default subject matters to the rules too: a plain-form 「…を行う。」 binds the main actor
                rows.append(SentenceContext(sentence, heading, actors.default_subject(heading), clause, author))
        for child in clause.children:
            visit(child, title, author, actors)

    for clause in doc.clauses:
        count(clause)
        visit(clause, None, authors.get(clause.path), actors)
    return rows


def find_requirements(
    doc: Document, parser: SubjectParser | None = None, model: ModalityModel | None = None
) -> Document:
    """Classify every sentence of every clause and extract its values.

    Args:
        doc: a Document with its clause tree.
        parser: finds subjects the rules cannot (e.g. ``GinzaParser()``); only
            requirement sentences without a stated subject are sent to it.
        model: the learned modality classifier (``default_model(settings.models)`` in the pipeline), which
            decides where no trusted rule fired, reading the rules' answer among its features; without it,
            the rules alone decide.

    Returns:
        The Document with ``requirements`` filled, in clause order.

    Example:
        >>> from pipeline.ingest import read_text
        >>> from pipeline.structure import segment
        >>> path = "corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
        >>> doc = find_requirements(segment(read_text(path)))
        >>> items = ("IV.1.(1).ロ.b.・1", "IV.1.(1).ロ.b.・7")
        >>> [(r.clause_path, r.modality.value) for r in doc.requirements if r.clause_path in items]
        [('IV.1.(1).ロ.b.・1', 'eligibility'), ('IV.1.(1).ロ.b.・7', 'recommendation')]
    """
    version = modality_version(model)
    year = doc.source.fiscal_year
    rows = sentence_contexts(doc)
    decided = classify_sentences(
        [r.sentence for r in rows],
        [r.heading for r in rows],
        [r.default for r in rows],
        model,
        [r.author for r in rows],
        clauses=[r.path for r in rows],
    )
    pending = [(r.path, r.sentence, c.modality, c.subject) for r, c in zip(rows, decided, strict=True)]
    # the parser sees only requirement sentences that name no subject themselves
    ask = [i for i, (_, s, m, _) in enumerate(pending) if m is not Modality.NONE and find_subject(s) is None]
    if parser is not None and ask:
        for i, found in zip(ask, parser.subjects([pending[i][1] for i in ask]), strict=True):
            if found:
                path, sentence, modality, _ = pending[i]
                pending[i] = (path, sentence, modality, found)
    requirements = []
    units: dict[str, int] = {}  # clause path → the unit of yen its table declared (「（単位：円）」), from there on
    for path, sentence, modality, subject in pending:
        unit_from = 0
        if declared := table_unit(sentence):
            units[path], unit_from = declared
        requirements.append(
            Requirement(
                clause_path=path,
                sentence=sentence,
                modality=modality,
                subject=subject if modality is not Modality.NONE else None,
                values=extract_values(sentence, base_year=year, unit=units.get(path), unit_from=unit_from),
                produced_by=version,
            )
        )
    produced = {**doc.produced_by, "modality": version, "values": VALUE_RULES}
    if parser is not None:
        produced["subject_parser"] = parser.name
    return doc.model_copy(update={"requirements": requirements, "produced_by": produced})


def requirement_record(r: Requirement) -> dict[str, object]:
    """A requirement as JSON data: ``{clause_path, sentence, modality, subject, values: [{type, raw, normalized,
    qualifier}]}`` (``koubo requirements --format json`` and the server's clause records)."""
    return {
        "clause_path": r.clause_path,
        "sentence": r.sentence,
        "modality": r.modality.value,
        "subject": r.subject,
        "values": [v.model_dump(include={"type", "raw", "normalized", "qualifier"}, mode="json") for v in r.values],
    }
