"""Search: a ClauseIndex and a question in Japanese → ranked clause hits.

Consumes a :class:`~pipeline.index.ClauseIndex` and query strings; produces
lists of :class:`~pipeline.document.Hit`, each with its document, clause path,
heading, text (with the spans that match the query's words) and pages.

Heavy dependencies: those of the index (faiss, SudachiPy) and the embedder.

Three modes: ``sparse`` (BM25 over Sudachi tokens), ``dense`` (e5 vectors in
faiss) and ``hybrid`` (both, fused by reciprocal rank fusion: a clause scores
Σ 1 / (RRF_K + rank) over the lists it appears in). In hybrid search a question
that names a call — by secretariat, issuer or title words, matched with BM25
against each call's label, by fiscal year (「令和8年度の…」, which decides
among them), or by speaking only of the reader a call's title addresses
(「県だけで申し込める？」, a call 「（地方公共団体向け）」) — also lifts that call's
clauses by ``CALL_BOOST / (RRF_K + 1)``,
and a question asking for a kind of value (「いつまでに？」「いくら？」「何件？」
「問い合わせ先は？」) lifts the clauses that state a value of that kind (a date,
an amount, a count, an address) by ``VALUE_BOOST / (RRF_K + 1)``. The clauses of a case annex (one
region's wishes among fourteen alike) count ``CASE_WEIGHT`` of their score unless the question names the case.
Filters restrict both lists before ranking, so a filtered search still returns
its ``k`` best.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from pipeline.document import Hit, Modality
from pipeline.errors import ModelUnavailableError
from pipeline.index import ClauseIndex, Embedder, IndexedDocument
from pipeline.index.dense import VectorIndex
from pipeline.index.sparse import token_spans, tokenize
from pipeline.index.sparse import words as sudachi_words
from pipeline.index.store import SENTENCE_ID_BASE
from pipeline.ingest.normalize import to_text
from pipeline.nlp.values import ERA_BASE

__all__ = [
    "CANDIDATES", "CASE_WEIGHT", "COMPANION_WEIGHT", "DENSE_WEIGHT_WITH_COMPANION", "RRF_K", "SearchFilters",
    "SearchMode", "fiscal_years_named", "hit_record", "search", "search_many", "snippet_start", "synonym_table",
    "synonyms_in", "values_asked",
]  # fmt: skip

SearchMode = Literal["hybrid", "dense", "sparse"]
# The constant of reciprocal rank fusion (Cormack et al. 2009 use 60). 20 weighs the top of each list more: a
# clause only one list finds, but finds first, is not buried under clauses both lists rank twentieth. Chosen on
# the six query sets (313 questions): hybrid recall@5 pooled 0.824 at 60, 0.843 at 20 (10: 0.834, 15: 0.840, 30: 0.834).
RRF_K = 20
CANDIDATES = 100  # how deep each list is read before fusing
# How many vectors the dense search reads per clause it needs: a long clause's sentences have vectors of their
# own, and several of one clause can come before the next clause.
SENTENCE_DEPTH = 3
# Weight of each list in the fusion (1, 1 is plain RRF).
DENSE_WEIGHT = 1.0
SPARSE_WEIGHT = 1.0
# With the companion model (pipeline.embed.use: Google's USE multilingual v3), the two dense rankings share the
# dense list's vote: e5 and USE 0.5 each, BM25 1. USE alone finds less than e5 (dense recall@5 0.52 against 0.66
# over the 563 questions of the first eleven query sets), but it misses other questions. Chosen on those 563
# (hybrid recall@5 pooled; recall@1 in brackets): without USE 0.874 (0.654); e5/USE 0.5/0.5 0.892 (0.677),
# 0.4/0.4 0.885, 0.6/0.6 0.897 (0.670), 0.6/0.4 0.886, 0.4/0.6 0.890, 1/1 0.872. On the three sets written blind
# after the choice (heldout11–13, 150 questions), each scored once: 0.873 → 0.893 (recall@1 0.613 → 0.627).
DENSE_WEIGHT_WITH_COMPANION = 0.5
COMPANION_WEIGHT = 0.5
# A question that names a call (「令和8年度の…」「三菱総研の公募で…」「よろず支援拠点の…」) lifts that
# call's clauses in hybrid search by this share of a first place in one list.
CALL_BOOST = 0.5
# A question asking for a kind of value (「いつまでに？」 a date, 「いくら？」 an amount) lifts the clauses that
# state one by this share of a first place (see values_asked).
VALUE_BOOST = 0.5
# The clauses of a case annex (one region's 「希望する伴走支援について（長野県）」 of fourteen; pipeline.index.cases)
# weigh this much in hybrid search unless the question names the case: a general question is answered by the
# call's rules, not by one applicant's wishes. Chosen on the query sets up to heldout7 (413 questions, hybrid recall@5
# pooled): 1.0 (none) 0.838, 0.7 0.852, 0.6 0.857, 0.5 0.862 (recall@1 lower: 0.644 against 0.651), 0.4 0.852.
CASE_WEIGHT = 0.6
CALL_MIN_SCORE = 1.0  # BM25 score of the question against a call's label needed to count as naming it
# Everyday words and phrases for the terms calls use (「下請け」 → 再委託, 「持ち出し」 → 負担), in synonyms.tsv beside
# this module. Versioned: a change there changes rankings.
SYNONYMS = "synonyms.v3"
_SYNONYM_FILE = Path(__file__).with_name("synonyms.tsv")


@cache
def synonym_table() -> Mapping[str, tuple[str, ...]]:
    """The everyday expressions (NFKC, case-folded) and the call terms each stands for, from ``synonyms.tsv``
    (read once; read-only).

    Example:
        >>> synonym_table()["下請け"]
        ('再委託', '外注', '下請負')
    """
    table = {}
    for line in _SYNONYM_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, *terms = line.split("\t")
            table[unicodedata.normalize("NFKC", key).casefold()] = tuple(t for t in terms if t)
    return MappingProxyType(table)


def synonyms_in(query: str, tokens: Sequence[str] | None = None) -> list[str]:
    """The call terms for the everyday expressions a question contains (「下請けに出せる？」 → 再委託, 外注, …).

    A key is found as written (a substring of the question) or as the dictionary form of one of its words, so
    「申し込む」 is found in 「申し込める？」 too; a key of one character (「県」) only as a word, not inside 「県境」.

    Args:
        query: the question.
        tokens: its BM25 tokens (Sudachi normalised forms), if already computed.

    Example:
        >>> synonyms_in("県だけで申し込める？")
        ['都道府県', '応募', '申請', '申込']
    """
    text = unicodedata.normalize("NFKC", query).casefold()
    words = {unicodedata.normalize("NFKC", t).casefold() for t in (tokenize(query) if tokens is None else tokens)}
    return [
        term
        for key, terms in synonym_table().items()
        if (len(key) > 1 and key in text) or key in words
        for term in terms
    ]


class SearchFilters(BaseModel):
    """Which clauses a search may return; an empty field does not filter."""

    model_config = ConfigDict(frozen=True)

    docs: tuple[str, ...] = ()  # document ids
    programmes: tuple[str, ...] = ()
    fiscal_years: tuple[int, ...] = ()
    secretariats: tuple[str, ...] = ()
    kinds: tuple[Modality, ...] = ()  # only clauses stating a requirement of one of these kinds
    path_prefix: str | None = None  # 「IV.1」: the clause and everything under it

    def is_empty(self) -> bool:
        return not (
            self.docs or self.programmes or self.fiscal_years or self.secretariats or self.kinds or self.path_prefix
        )


def search(
    index: ClauseIndex,
    query: str,
    *,
    k: int = 10,
    mode: SearchMode = "hybrid",
    filters: SearchFilters | None = None,
) -> list[Hit]:
    """The ``k`` clauses that best answer ``query``.

    Args:
        index: an open clause index (with an embedder for ``dense`` and ``hybrid``).
        query: a question or keywords in Japanese.
        k: hits to return.
        mode: ``hybrid`` (default), ``dense`` or ``sparse``.
        filters: restrict to documents, programmes, fiscal years, secretariats, requirement kinds or a path.

    Returns:
        Hits, best first.

    Raises:
        ModelUnavailableError: ``dense``/``hybrid`` on an index opened without an embedder.

    Example:
        >>> search(index, "再委託の上限は？", k=3)[0].clause_path   # doctest: +SKIP
        'IV.5.(3)'
    """
    return search_many(index, [query], k=k, mode=mode, filters=filters)[0]


def search_many(
    index: ClauseIndex,
    queries: Sequence[str],
    *,
    k: int = 10,
    mode: SearchMode = "hybrid",
    filters: SearchFilters | None = None,
) -> list[list[Hit]]:
    """:func:`search` for many queries at once (queries are embedded in one batch); one list per query."""
    if mode != "sparse" and index.embedder is None:
        raise ModelUnavailableError(
            f"{mode} search needs the embedding model; build it with `make models`, or use --mode sparse"
        )
    filters = filters or SearchFilters()
    allowed = (
        None
        if filters.is_empty()
        else index.store.filter_ids(
            docs=filters.docs,
            programmes=filters.programmes,
            fiscal_years=filters.fiscal_years,
            secretariats=filters.secretariats,
            kinds=[m.value for m in filters.kinds],
            path_prefix=filters.path_prefix,
        )
    )
    if allowed is not None and allowed.size == 0:
        return [[] for _ in queries]
    depth = max(CANDIDATES, k)
    dense_lists: list[list[tuple[int, float]]] = [[] for _ in queries]
    best_sentences: list[dict[int, int]] = [{} for _ in queries]  # clause id → requirement id of its best sentence
    sparse_lists: list[list[tuple[int, float]]] = [[] for _ in queries]
    companion_lists: list[list[tuple[int, float]]] | None = None
    if mode in ("dense", "hybrid") and index.embedder is not None and queries:
        wanted = None if allowed is None else index.vectors_of_clauses(allowed)
        vi = index.vectors
        if vi is not None and vi.ntotal:
            for q, (ranking, best) in enumerate(_vector_rankings(index, index.embedder, vi, queries, wanted, depth)):
                dense_lists[q], best_sentences[q] = ranking, best
        companion = index.companion
        cv = index.companion_vectors if companion is not None and mode == "hybrid" else None
        if companion is not None and cv is not None and cv.ntotal:
            companion_lists = [r for r, _ in _vector_rankings(index, companion, cv, queries, wanted, depth)]
    own_tokens = [tokenize(q) for q in queries]
    synonyms = [synonyms_in(q, toks) for q, toks in zip(queries, own_tokens, strict=True)]
    if mode in ("sparse", "hybrid"):
        row_ids = index.bm25_ids
        mask = None if allowed is None else np.isin(row_ids, allowed)
        widened = [
            toks + [t for term in syn for t in _term_tokens(term)]
            for toks, syn in zip(own_tokens, synonyms, strict=True)
        ]
        sparse_lists = [[(int(row_ids[r]), s) for r, s in index.bm25.top(toks, depth, mask)] for toks in widened]
    # a call is named by the question's own words: a synonym's terms (「いつまで」 → 募集期間) would name the calls
    # whose titles use them (募集要領)
    named = _named_calls(index, queries, own_tokens) if mode == "hybrid" else [set() for _ in queries]
    asked = [values_asked(q) if mode == "hybrid" else set() for q in queries]
    cases = index.cases if mode == "hybrid" and index.cases.of_clause else None
    ranked = [
        _fuse(
            d, s, mode, index.clause_docs if calls else {}, calls, index.value_types if kinds else {}, kinds,
            {} if cases is None else cases.of_clause, frozenset() if cases is None else cases.named_in(q),
            None if companion_lists is None else companion_lists[i],
        )[:k]
        for i, (q, d, s, calls, kinds) in enumerate(zip(queries, dense_lists, sparse_lists, named, asked, strict=True))
    ]  # fmt: skip
    # the call terms a question's everyday words stand for are marked too: a hit for 「下請け」 shows its 「再委託」
    marked = [_words(q) | {t for t in syn if len(t) >= 2} for q, syn in zip(queries, synonyms, strict=True)]
    return _hits(index, ranked, dense_lists, sparse_lists, marked, best_sentences, companion_lists)


def _vector_rankings(
    index: ClauseIndex,
    model: Embedder,
    vectors: VectorIndex,
    queries: Sequence[str],
    wanted: np.ndarray | None,
    depth: int,
) -> list[tuple[list[tuple[int, float]], dict[int, int]]]:
    """One model's ranking of clauses for each question (a clause scores its best vector, its own or one of its
    sentences'), and the sentence that scored it where that was a sentence (see :func:`_by_clause`)."""
    qv = np.asarray(model.encode_queries(list(queries)), dtype=np.float32)
    scores, ids = vectors.search(qv, SENTENCE_DEPTH * depth, allowed=wanted)
    return [
        _by_clause(row_ids, index.clauses_of_vectors(row_ids), row_scores, depth)
        for row_ids, row_scores in zip(ids, scores, strict=True)
    ]


def _by_clause(
    vector_ids: np.ndarray, clause_ids: np.ndarray, scores: np.ndarray, depth: int
) -> tuple[list[tuple[int, float]], dict[int, int]]:
    """A dense ranking of clauses from a ranking of vectors (a clause's own and its sentences'): each clause
    scores its best vector, and keeps the place of its first. Also, for the clauses whose best vector was one of
    their sentences', that sentence's requirement id."""
    out: dict[int, float] = {}
    sentences: dict[int, int] = {}
    for vid, cid, score in zip(vector_ids.tolist(), clause_ids.tolist(), scores.tolist(), strict=True):
        if cid >= 0 and cid not in out:
            out[cid] = float(score)
            if vid >= SENTENCE_ID_BASE:
                sentences[cid] = vid - SENTENCE_ID_BASE
            if len(out) == depth:
                break
    return list(out.items()), sentences


def _words(query: str) -> set[str]:
    """The question's content words as typed and normalised, two characters or more (for marking), and
    runs of adjacent content words as typed (「再」+「委託」 → 「再委託」, so the whole word is marked)."""
    spans = token_spans(query)
    words = {w for t, s, e in spans for w in (t, query[s:e])}
    start = end = -1
    for _, s, e in spans:
        if s == end:
            end = e
            words.add(query[start:end])
        else:
            start, end = s, e
    return {w for w in words if len(w) >= 2}


@cache
def _term_tokens(term: str) -> tuple[str, ...]:
    """A synonym term's BM25 tokens (the table is fixed, so each term is tokenised once)."""
    return tuple(tokenize(term))


def fiscal_years_named(query: str) -> set[int]:
    """The fiscal years a question names (「令和8年度」「R8年度」「2026年度」「平成30年度」), as Gregorian start years.

    Example:
        >>> sorted(fiscal_years_named("伴走支援の委託費の上限は令和7年度と2026年度でどう違う？"))
        [2025, 2026]
    """
    out = set()
    for m in _FISCAL_YEAR.finditer(unicodedata.normalize("NFKC", query)):
        era, n, western = m.group("era"), m.group("n"), m.group("western")
        if western:
            out.add(int(western))
        else:
            out.add(ERA_BASE[_ERA_ABBREVIATIONS.get(era, era)] + (1 if n == "元" else int(n)))
    return out


_ERA_ABBREVIATIONS = {"R": "令和"}  # 「R8年度」
_ERAS = "|".join([*ERA_BASE, *_ERA_ABBREVIATIONS])
_FISCAL_YEAR = re.compile(rf"(?:(?P<era>{_ERAS})\s*(?P<n>\d{{1,2}}|元)|(?P<western>(?:19|20)\d\d))\s*年度")


def _named_calls(index: ClauseIndex, queries: Sequence[str], query_tokens: list[list[str]]) -> list[set[str]]:
    """For each question, the ids of the calls it names (empty if it names none or all).

    Its words are matched with BM25 against each call's label (title, years, secretariat, issuer); a fiscal year
    it states (「令和8年度の…」) decides among those, or names that year's calls by itself; the one kind of reader it
    speaks of (:func:`reader_spoken_of`) decides among those when some of them address it, and local governments
    name the calls addressed to them by themselves.
    """
    docs, labels = index.call_labels
    if len(docs) < 2:
        return [set() for _ in query_tokens]
    out = []
    for query, toks in zip(queries, query_tokens, strict=True):
        scores = labels.scores(toks)
        best = float(scores.max())
        chosen = {d.id for d, s in zip(docs, scores, strict=True) if best >= CALL_MIN_SCORE and s >= 0.5 * best}
        if years := fiscal_years_named(query):
            of_year = {d.id for d in docs if d.fiscal_year in years}
            chosen = (chosen & of_year) or of_year
        if AUDIENCE_LIFT and (reader := reader_spoken_of(query)):
            addressed = _addressed_to(docs, reader)
            chosen = (chosen & addressed) or chosen or (addressed if reader in NAMING_READERS else set())
        out.append(chosen if len(chosen) < len(docs) else set())
    return out


# A question that speaks of one kind of reader only (local governments: 「県だけで申し込める？」) names the calls
# whose titles address that reader (「公募要領（地方公共団体向け）」) when it names no call itself, and decides among
# the calls it names when some of them address that reader (「令和8年度の…企業として」). Hybrid recall@5 over the
# query sets up to heldout8 (463 questions) 0.851 → 0.862; on heldout9, written blind and scored once, 0.840 → 0.860.
AUDIENCE_LIFT = True
# The words (Sudachi normalised forms, coarsest split: 「宮城県」 is not 「県」, 「株式会社」 not 「会社」) by which
# a question speaks of each kind of reader a title may address (「（伴走支援事業者向け）」: 事業者).
_LOCAL_GOVERNMENT_WORDS = (
    "地方公共団体", "自治体", "地方自治体", "都道府県", "市町村", "市区町村", "町村", "県", "府", "市", "町", "村",
    "役所", "市役所", "県庁", "役場", "町役場", "村役場",
)  # fmt: skip
AUDIENCES = {
    "地方公共団体": frozenset(_LOCAL_GOVERNMENT_WORDS),
    "事業者": frozenset(
        {"事業者", "会社", "企業", "中小企業", "民間企業", "法人", "受託者", "他社", "自社", "弊社", "当社", "委託先"}
    ),
}
# The readers whose words name calls by themselves; the others only decide among the calls a question names. A
# question speaking of 企業 is most often about the companies a programme supports (よろず支援拠点's 相談企業), not
# about the reader of a call 「（事業者向け）」: naming by business words lost four questions for one gained.
NAMING_READERS = frozenset({"地方公共団体"})
_ADDRESSED = re.compile(r"[（(](?P<who>[^（）()]{1,30}?)向け[）)]")


def reader_spoken_of(query: str) -> str | None:
    """The one kind of reader (a key of :data:`AUDIENCES`) a question speaks of, or None if it speaks of none or of
    more than one (「県の案件に会社として提案できる？」).

    Example:
        >>> reader_spoken_of("県だけで申し込める？"), reader_spoken_of("宮城県の予算の上限は？")
        ('地方公共団体', None)
    """
    said = {w.removesuffix("向け") for w in sudachi_words(unicodedata.normalize("NFKC", query))}
    kinds = [kind for kind, vocabulary in AUDIENCES.items() if said & vocabulary]
    return kinds[0] if len(kinds) == 1 else None


def _addressed_to(docs: Sequence[IndexedDocument], reader: str) -> set[str]:
    """The calls whose titles address ``reader`` (「（伴走支援事業者向け）」 addresses 事業者, 「（自治体向け）」
    地方公共団体)."""
    out = set()
    for d in docs:
        m = _ADDRESSED.search(unicodedata.normalize("NFKC", d.title or ""))
        if m and reader_words(m["who"]) & AUDIENCES[reader]:
            out.add(d.id)
    return out


@cache
def reader_words(phrase: str) -> frozenset[str]:
    """The words of a title's 「…向け」 phrase, the phrase itself among them (「伴走支援事業者」 → 伴走, 支援,
    事業者, …)."""
    return frozenset({phrase, *(w.removesuffix("向け") for w in sudachi_words(phrase)), *tokenize(phrase)})


def values_asked(query: str) -> set[str]:
    """The kinds of value a question asks for: 「いつまでに送ればいい？」 a date, 「いくらまで出る？」 an amount,
    「何件採択される？」 a count, 「問い合わせ先は？」 an e-mail address, phone number or web address.

    Example:
        >>> sorted(values_asked("質問はいつまでに、どこに送ればいい？"))
        ['date']
    """
    text = unicodedata.normalize("NFKC", query).casefold()
    return {kind for asked, pattern in _VALUE_QUESTIONS if pattern.search(text) for kind in _VALUE_KINDS[asked]}


# What a question asking for a value says, and the kinds of value (pipeline.nlp.values) that answer it.
_VALUE_QUESTIONS = [
    # not 「いつも」「いつでも」, nor a duration (「何時間以内」「何日間」), nor 「期限付き」
    ("date", re.compile(r"いつ(?!も|でも)|何日(?!間)|何時(?!間)|何月|期限(?!付)|締め?切|〆切|期日|日時|日程")),
    ("amount", re.compile(r"いくら|金額|何円|何万円|上限額|限度額|予算額|単価")),
    ("count", re.compile(r"何件|何人|何名|何社|何回|何か所|何カ所|何箇所")),
    ("contact", re.compile(r"問い?合わ?せ先|連絡先|メールアドレス|電話番号|url")),
]
_VALUE_KINDS = {"date": ("date",), "amount": ("amount",), "count": ("count",), "contact": ("email", "phone", "url")}


def _fuse(
    dense: list[tuple[int, float]],
    sparse: list[tuple[int, float]],
    mode: SearchMode,
    doc_of: Mapping[int, str],
    named: set[str],
    value_types: Mapping[int, frozenset[str]],
    asked: set[str],
    case_of: Mapping[int, str],
    named_cases: frozenset[str],
    companion: list[tuple[int, float]] | None = None,
) -> list[tuple[int, float]]:
    if mode == "dense":
        return dense
    if mode == "sparse":
        return sparse
    fused: dict[int, float] = {}
    lists = (
        ((dense, DENSE_WEIGHT), (sparse, SPARSE_WEIGHT))
        if companion is None
        else ((dense, DENSE_WEIGHT_WITH_COMPANION), (companion, COMPANION_WEIGHT), (sparse, SPARSE_WEIGHT))
    )
    for ranking, weight in lists:
        for rank, (cid, _) in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank)
    if named or asked:  # lifts, as shares of a first place: the call the question names, the value it asks for
        for cid in fused:
            if named and doc_of.get(cid) in named:
                fused[cid] += CALL_BOOST / (RRF_K + 1)
            if asked and asked & value_types.get(cid, frozenset()):
                fused[cid] += VALUE_BOOST / (RRF_K + 1)
    if case_of:  # one case's clauses, unless the question names that case
        for cid in fused:
            case = case_of.get(cid)
            if case is not None and case not in named_cases:
                fused[cid] *= CASE_WEIGHT
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def hit_record(h: Hit) -> dict[str, object]:
    """A hit as JSON data (``koubo search --format json`` and the server's ``/api/search``)."""
    return {
        "doc": h.doc,
        "title": h.title,
        "fiscal_year": h.fiscal_year,
        "clause_path": h.clause_path,
        "heading": h.heading,
        "text": h.text,
        "score": round(h.score, 6),
        "pages": h.pages,
        "lines": list(h.lines) if h.lines else None,
        "marks": [list(m) for m in h.marks],
        "sentence": list(h.sentence) if h.sentence else None,
        "programme": h.programme,
        "modalities": [m.value for m in h.modalities],
        "clause_id": h.clause_id,
    }


def _hits(
    index: ClauseIndex,
    ranked: list[list[tuple[int, float]]],
    dense_lists: list[list[tuple[int, float]]],
    sparse_lists: list[list[tuple[int, float]]],
    query_words: list[set[str]],
    best_sentences: list[dict[int, int]],
    companion_lists: list[list[tuple[int, float]]] | None = None,
) -> list[list[Hit]]:
    rows = index.clauses(sorted({cid for r in ranked for cid, _ in r}))
    wanted = {best[cid] for r, best in zip(ranked, best_sentences, strict=True) for cid, _ in r if cid in best}
    sentences = index.store.sentences(sorted(wanted))
    docs = {d.id: d for d in index.documents()}
    out: list[list[Hit]] = []
    for q, (r, d_list, s_list, words, best) in enumerate(
        zip(ranked, dense_lists, sparse_lists, query_words, best_sentences, strict=True)
    ):
        d_rank = {cid: i for i, (cid, _) in enumerate(d_list, start=1)}
        s_rank = {cid: i for i, (cid, _) in enumerate(s_list, start=1)}
        c_rank = {cid: i for i, (cid, _) in enumerate(companion_lists[q] if companion_lists else [], start=1)}
        hits = []
        for cid, score in r:
            row = rows[cid]
            doc = docs[row.doc_id]
            hits.append(
                Hit(
                    doc=row.doc_id,
                    title=doc.title,
                    programme=doc.programme,
                    fiscal_year=doc.fiscal_year,
                    clause_path=row.path,
                    heading=row.heading,
                    text=row.text,
                    marks=_marks(row.text, words),
                    sentence=_span(row.text, sentences.get(best[cid])) if cid in best else None,
                    score=score,
                    pages=row.pages,
                    lines=(row.line_start, row.line_end or row.line_start) if row.line_start is not None else None,
                    modalities=[Modality(m) for m in row.modalities],
                    dense_rank=d_rank.get(cid),
                    sparse_rank=s_rank.get(cid),
                    companion_rank=c_rank.get(cid),
                    clause_id=cid,
                )
            )
        out.append(hits)
    return out


def snippet_start(hit: Hit, margin: int) -> int:
    """Where a hit's snippet starts: at the sentence that matched the question best, if one did, else ``margin``
    characters before the first matched word (the CLI's table and the search page show the same place)."""
    if hit.sentence:
        return hit.sentence[0]
    return max(0, (hit.marks[0][0] if hit.marks else 0) - margin)


def _span(text: str, sentence: str | None) -> tuple[int, int] | None:
    """Where a sentence (as printed) sits in its clause's normalised text, or None."""
    if not sentence:
        return None
    needle = to_text(sentence)
    start = text.find(needle)
    return (start, start + len(needle)) if start >= 0 and needle else None


def _marks(text: str, words: set[str]) -> list[tuple[int, int]]:
    """Spans of ``text`` where the question's words occur, merged where they touch.

    Plain string search for the question's words (as typed and as normalised, two
    characters or more): re-tokenising every hit's text would cost ten times the search.
    """
    spans = []
    for w in words:
        start = text.find(w)
        while start != -1:
            spans.append((start, start + len(w)))
            start = text.find(w, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged
