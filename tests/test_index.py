"""Clause index and search: incremental indexing, the model check, filters, sparse/dense/hybrid ranking.

These tests use ``FakeEmbedder`` (hashed character bigrams) so that they run in
seconds; the real e5 model is tested in ``test_embed.py`` and measured in
``bench/search_quality.py``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPORA, FakeEmbedder
from pipeline.document import Document, Hit, Modality
from pipeline.errors import IndexMismatchError, ModelUnavailableError
from pipeline.index import ClauseIndex, indexed_by_current, passage_text
from pipeline.index.cases import find_cases
from pipeline.index.dense import VectorIndex
from pipeline.index.sparse import BM25, tokenize
from pipeline.index.store import SENTENCE_ID_BASE, STORE_SCHEMA_VERSION, iter_clause_rows, sentence_passages
from pipeline.ingest import ingest_path, load_manifest
from pipeline.nlp import find_requirements
from pipeline.search import (
    CALL_BOOST,
    CASE_WEIGHT,
    RRF_K,
    VALUE_BOOST,
    SearchFilters,
    fiscal_years_named,
    search,
    search_many,
    values_asked,
)
from pipeline.structure import segment

FY2025 = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt"
FY2026 = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
YOROZU = CORPORA / "yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt"
JINZAI = CORPORA / "digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt"
SOURCES = (FY2025, FY2026, YOROZU, JINZAI)


@pytest.fixture(scope="module")
def docs() -> dict[Path, Document]:
    """The text sources with their manifest metadata (programme, fiscal year, secretariat)."""
    manifest = load_manifest(CORPORA / "MANIFEST.csv")
    out = {}
    for p in SOURCES:
        doc = ingest_path(p, manifest=manifest).document
        assert doc is not None
        out[p] = find_requirements(segment(doc))
    return out


@pytest.fixture
def index(tmp_path: Path, docs: dict[Path, Document]) -> ClauseIndex:
    ix = ClauseIndex(tmp_path / "ix", FakeEmbedder())
    for d in docs.values():
        assert ix.add(d) == "added"
    ix.save()
    return ix


def fused_score(index: ClauseIndex, h: Hit, lift: float = 0.0) -> float:
    """What hybrid search scores a hit: its reciprocal ranks summed, plus ``lift``, times CASE_WEIGHT for a clause
    of a case annex (none of the questions using this helper names a case)."""
    rrf = sum(1 / (RRF_K + r) for r in (h.dense_rank, h.sparse_rank) if r is not None)
    return (rrf + lift) * (CASE_WEIGHT if h.clause_id in index.cases.of_clause else 1.0)


def _ids(ix: ClauseIndex) -> dict[str, list[int]]:
    rows = ix.store.db.execute("SELECT doc_id, id FROM clauses ORDER BY id").fetchall()
    out: dict[str, list[int]] = {}
    for doc_id, cid in rows:
        out.setdefault(doc_id, []).append(cid)
    return out


def test_index_holds_every_clause_and_requirement(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that every clause of every document is stored, with a vector and its requirements."""
    for d in docs.values():
        n = sum(1 for _ in d.iter_clauses())
        assert next(x for x in index.documents() if x.id == d.id).n_clauses == n
        stored = index.store.db.execute(
            "SELECT count(*) FROM requirements r JOIN clauses c ON c.id = r.clause_id WHERE c.doc_id = ?", (d.id,)
        ).fetchone()[0]
        assert stored == len(d.requirements)
    assert index.vectors is not None and index.vectors.ntotal == index.store.n_vectors() > 1500


def test_long_clauses_have_a_vector_for_each_sentence(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that every sentence of a clause of two or more sentences is stored with a vector of its
    own (its heading chain and the sentence, as a passage), that a clause of one sentence has none, and that faiss
    holds the clause vectors and the sentence vectors together, each sentence id leading to its clause."""
    doc = docs[FY2026]
    per_clause: dict[str, int] = {}
    for r in doc.requirements:
        per_clause[r.clause_path] = per_clause.get(r.clause_path, 0) + 1
    rows = index.store.db.execute(
        "SELECT c.id, c.path, c.context, r.sentence, r.vector IS NOT NULL FROM requirements r"
        " JOIN clauses c ON c.id = r.clause_id WHERE c.doc_id = ?",
        (doc.id,),
    ).fetchall()
    assert rows and all(has == (per_clause[path] >= 2) for _, path, _, _, has in rows)
    n_sentences = sum(has for *_, has in rows)
    assert n_sentences > sum(1 for _ in doc.iter_clauses())  # most of what the call says is in long clauses
    # the stored vector is the embedder's for 「heading chain + sentence」
    cid, _, context, sentence, _ = next(r for r in rows if r[4] and "常駐" in r[3])
    (vec,) = index.store.db.execute(
        "SELECT vector FROM requirements WHERE clause_id = ? AND sentence = ?", (cid, sentence)
    ).fetchone()
    want = FakeEmbedder().encode_passages([f"{context}\n{sentence}"])[0]
    np.testing.assert_allclose(np.frombuffer(vec, dtype=np.float32), want, atol=1e-6)
    owner_ids, owners = index.sentence_owners
    assert index.vectors is not None
    assert len(owner_ids) == index.vectors.ntotal - sum(d.n_clauses for d in index.documents())
    assert np.isin(owner_ids, index.vectors.ids()).all()
    assert index.clauses_of_vectors(owner_ids).tolist() == owners.tolist()
    assert set(owners.tolist()) <= {c for ids in _ids(index).values() for c in ids}
    assert index.clauses_of_vectors(np.array([cid, -1])).tolist() == [cid, -1]


def test_dense_search_finds_a_long_clause_by_one_of_its_sentences(index: ClauseIndex) -> None:
    """This test ensures that dense search ranks a clause by its best vector, its own or one of its sentences':
    a question worded as one sentence of a long clause finds that clause first, once, with the sentence's
    cosine as its score."""
    cid, context, sentence = index.store.db.execute(
        "SELECT c.id, c.context, r.sentence FROM requirements r JOIN clauses c ON c.id = r.clause_id"
        " WHERE r.vector IS NOT NULL AND length(c.text) > 4 * length(r.sentence) AND length(r.sentence) > 30"
        " ORDER BY r.id LIMIT 1"
    ).fetchone()
    hits = search(index, f"{context}\n{sentence}", k=10, mode="dense")
    assert hits[0].clause_id == cid and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.clause_id for h in hits].count(cid) == 1  # its other sentences do not repeat it
    # the clause's own vector alone would not have put it first: the sentence did
    (own,) = index.store.db.execute("SELECT vector FROM clauses WHERE id = ?", (cid,)).fetchone()
    q = FakeEmbedder().encode_queries([f"{context}\n{sentence}"])[0]
    assert float(np.frombuffer(own, dtype=np.float32) @ q) < 0.99


def test_reindex_skips_unchanged_documents(tmp_path: Path, index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that re-indexing the same documents changes nothing: same status, same clause ids."""
    before = _ids(index)
    index.close()
    again = ClauseIndex(tmp_path / "ix", FakeEmbedder())
    assert [again.add(d) for d in docs.values()] == ["unchanged"] * len(docs)
    assert _ids(again) == before


def test_changed_document_replaces_only_its_clauses(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that a new version of a source path replaces that document's clauses and nothing else."""
    old = docs[FY2026]
    before = _ids(index)
    new = old.model_copy(
        update={"source": old.source.model_copy(update={"sha256": "f" * 64}), "clauses": old.clauses[:-1]}
    )
    assert index.add(new) == "replaced"
    after = _ids(index)
    assert old.id not in after and new.id in after
    assert len(after[new.id]) == sum(1 for _ in new.iter_clauses()) < len(before[old.id])
    for doc_id, ids in before.items():
        if doc_id != old.id:
            assert after[doc_id] == ids  # other documents' ids are stable
    assert not set(before[old.id]) & set(after[new.id])  # ids are never reused
    vi = index.vectors
    assert vi is not None and vi.ntotal == index.store.n_vectors()
    gone = vi.search(np.zeros((1, vi.dim), dtype=np.float32) + 1, 5, allowed=np.array(before[old.id]))[1]
    assert (gone == -1).all()
    # every vector faiss holds, clause or sentence, leads to a clause that is still indexed
    _, every = vi.search(np.zeros((1, vi.dim), dtype=np.float32) + 1, vi.ntotal)
    assert set(index.clauses_of_vectors(every[0]).tolist()) == {c for ids in after.values() for c in ids}


class _CountingEmbedder(FakeEmbedder):
    """FakeEmbedder that remembers which passages it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passages.extend(texts)
        return super().encode_passages(texts)


@pytest.mark.parametrize("faiss_file", ["kept", "lost"])
def test_an_index_from_before_sentence_vectors_still_searches_and_is_brought_up_to_date(
    tmp_path: Path, docs: dict[Path, Document], faiss_file: str
) -> None:
    """This test ensures that an index written before sentence vectors (schema 1.0: no requirements.vector, no
    "vectors" in the documents' records) is searched read-only as it is, and that indexing its documents again
    adds the sentence vectors while reusing every clause vector."""
    emb = _CountingEmbedder()
    doc = docs[YOROZU]
    with ClauseIndex(tmp_path / "ix", emb) as ix:
        ix.add(doc)
    db = sqlite3.connect(tmp_path / "ix" / "index.sqlite")  # make it what koubo 1.0 wrote
    with db:
        db.execute("ALTER TABLE requirements DROP COLUMN vector")
        db.execute("UPDATE meta SET value = '1.0' WHERE key = 'schema_version'")
        db.execute("UPDATE documents SET produced_by = ?", (json.dumps(doc.produced_by),))
    db.close()
    if faiss_file == "kept":  # as 1.0 wrote it: the clause vectors only
        clause_ids = np.array(_ids_of(tmp_path / "ix"), dtype=np.int64)
        vectors = FakeEmbedder().encode_passages([passage_text(ctx, c) for ctx, c in iter_clause_rows(doc)])
        VectorIndex.build(clause_ids, vectors).to_disk(tmp_path / "ix" / "index.faiss")
    else:
        (tmp_path / "ix" / "index.faiss").unlink()
    old = ClauseIndex(tmp_path / "ix", emb, read_only=True)
    assert not old.store.has_sentence_vectors and old.store.n_vectors() == doc_clauses(doc)
    assert search(old, "相談員の謝金", k=3, mode="dense")  # dense search works on the clause vectors alone
    assert not indexed_by_current(old.store.produced_by_all()[0])  # so `koubo index` takes it again
    old.close()
    emb.passages.clear()
    with ClauseIndex(tmp_path / "ix", emb) as ix:
        assert ix.store.has_sentence_vectors  # the column is added on opening for writing
        assert ix.store.meta()["schema_version"] == STORE_SCHEMA_VERSION
        assert ix.add(doc) == "replaced"
        assert len(emb.passages) == len(set(sentence_passages(doc).values()))  # the sentences only
        assert ix.vectors is not None and ix.vectors.ntotal == doc_clauses(doc) + len(sentence_passages(doc))
        assert indexed_by_current(ix.store.produced_by_all()[0])


def _ids_of(directory: Path) -> list[int]:
    db = sqlite3.connect(directory / "index.sqlite")
    try:
        return [r[0] for r in db.execute("SELECT id FROM clauses ORDER BY ord")]
    finally:
        db.close()


def doc_clauses(doc: Document) -> int:
    return sum(1 for _ in doc.iter_clauses())


def test_reindexing_reuses_the_vectors_of_unchanged_passages(tmp_path: Path, docs: dict[Path, Document]) -> None:
    """This test ensures that a document indexed again because newer rules classified it (same bytes, same clause
    tree) is not embedded again, and that an edited version embeds only the clauses whose passage changed, with
    the vectors the embedder would give them."""
    emb = _CountingEmbedder()
    ix = ClauseIndex(tmp_path / "ix", emb)
    doc = docs[FY2026]
    assert ix.add(doc) == "added"
    texts = [passage_text(ctx, c) for ctx, c in iter_clause_rows(doc)] + list(sentence_passages(doc).values())
    assert len(sentence_passages(doc)) > 500
    assert sorted(emb.passages) == sorted(set(texts))  # each passage text once, though a call repeats some
    emb.passages.clear()
    reclassified = doc.model_copy(update={"produced_by": {**doc.produced_by, "modality": "modality_rules.v0"}})
    assert ix.add(reclassified) == "replaced"
    assert emb.passages == []  # nothing embedded again
    first = doc.clauses[0]
    edited_first = first.model_copy(update={"text": first.text + "（令和8年度に改訂）"})
    edited = doc.model_copy(
        update={
            "source": doc.source.model_copy(update={"sha256": "e" * 64}),
            "clauses": [edited_first, *doc.clauses[1:]],
        }
    )
    assert ix.add(edited) == "replaced"
    assert len(emb.passages) == 1 and emb.passages[0].endswith("（令和8年度に改訂）")
    ids, vectors = ix.store.all_vectors(emb.dim)  # the edited document's clauses in tree order, then sentences
    passages = [passage_text(ctx, c) for ctx, c in iter_clause_rows(edited)] + list(sentence_passages(edited).values())
    fresh = FakeEmbedder().encode_passages(passages)
    np.testing.assert_allclose(vectors, fresh, atol=1e-6)  # every stored vector is the passage's own
    assert (ids >= SENTENCE_ID_BASE).sum() == len(sentence_passages(edited))
    vi = ix.vectors  # and faiss holds the same: each passage finds its own vector, and only the edited document's
    assert vi is not None and vi.ntotal == len(fresh)
    scores, _ = vi.search(fresh, 1)
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    ix.close()


def test_index_refuses_another_model(tmp_path: Path, index: ClauseIndex) -> None:
    """This test ensures that an index built with one embedder refuses another, naming both."""
    index.close()
    with pytest.raises(IndexMismatchError) as e:
        ClauseIndex(tmp_path / "ix", FakeEmbedder(name="other-model", dim=128))
    assert "fake-bigram@1 (256-d)" in e.value.message and "other-model@1 (128-d)" in e.value.message
    assert "--rebuild" in e.value.message
    with pytest.raises(IndexMismatchError):
        ClauseIndex(tmp_path / "ix", FakeEmbedder(revision="2"))


def test_faiss_file_is_rebuilt_from_the_record(tmp_path: Path, index: ClauseIndex) -> None:
    """This test ensures that a missing or stale index.faiss is rebuilt from the vectors in SQLite."""
    q = "常駐支援者の経験"
    want = [h.clause_path for h in search(index, q, k=5, mode="dense")]
    index.close()
    (tmp_path / "ix" / "index.faiss").unlink()
    again = ClauseIndex(tmp_path / "ix", FakeEmbedder())
    assert [h.clause_path for h in search(again, q, k=5, mode="dense")] == want


def test_sparse_search_finds_the_clause(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that BM25 over Sudachi tokens puts the amount clause first, with its words marked."""
    hits = search(
        index, "業務委託費の限度額はいくら", k=3, mode="sparse", filters=SearchFilters(docs=(docs[FY2026].id,))
    )
    assert hits[0].clause_path == "II.2" and hits[0].heading == "業務委託費限度額"
    marked = {hits[0].text[s:e] for s, e in hits[0].marks}
    assert "業務委託費" in "".join(marked) or {"業務", "委託", "費"} <= marked
    assert hits[0].lines is not None and hits[0].pages == []
    assert hits[0].sparse_rank == 1 and hits[0].dense_rank is None


def test_hybrid_fuses_both_lists(index: ClauseIndex) -> None:
    """This test ensures that hybrid scores are reciprocal-rank sums over the dense and sparse lists."""
    hits = search(index, "再委託の上限", k=10, mode="hybrid")
    assert hits == sorted(hits, key=lambda h: -h.score)
    for h in hits:
        assert h.score == pytest.approx(fused_score(index, h))
    assert any(h.dense_rank and h.sparse_rank for h in hits)


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("質問はいつまでに送ればいい？", {"date"}),
        ("応募の〆切は何日の何時？", {"date"}),
        ("令和8年度の説明会の日時", {"date"}),
        ("1地域あたりいくらまで出る？", {"amount"}),
        ("よろず支援拠点の宮城県の上限額", {"amount"}),
        ("何件くらい採択される予定？", {"count"}),
        ("常駐支援者は最低何人必要？", {"count"}),
        ("問い合わせ先のメールアドレスは？", {"email", "phone", "url"}),
        ("提出期限と委託費の限度額", {"date", "amount"}),
        ("問い合わせのurlは？", {"email", "phone", "url"}),
        ("再委託の上限は？", set()),  # a share, not an amount of yen
        ("支援した件数の報告の頻度は？", set()),  # asks how often, not how many
        ("情報セキュリティの要件", set()),
        ("いつもの販売価格より高い場合は？", set()),  # いつも is not いつ
        ("事故の第1報は何時間以内？", set()),  # a duration, not a date
        ("期限付きの雇用でもいい？", set()),
    ],
)
def test_values_asked(question: str, kinds: set[str]) -> None:
    """This test ensures that a question asking when, how much, how many or whom to contact is recognised as asking
    for a date, an amount, a count or an address, and that other questions ask for none."""
    assert values_asked(question) == kinds


def test_a_question_asking_when_lifts_the_clauses_that_state_a_date(
    index: ClauseIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This test ensures that in hybrid search a question asking 「いつまで」 adds VALUE_BOOST / (RRF_K + 1) to the
    clauses that state a date, and to no others, which brings the deadline for questions up among the clauses on
    the question form; a question asking for no value lifts nothing."""
    import pipeline.search

    question = "質問票はいつまでに出せばいい？"
    hits = search(index, question, k=10, mode="hybrid")
    lifted = []
    for h in hits:
        has_date = "date" in index.value_types.get(h.clause_id, frozenset())
        assert h.score == pytest.approx(fused_score(index, h, VALUE_BOOST / (RRF_K + 1) if has_date else 0.0))
        if has_date:
            lifted.append(h)
    deadline = next(h for h in lifted if h.clause_path == "IV.5.【質問票提出要領】.(2)")
    assert re.search(r"令和[78]年[34]月\d+日", deadline.text)
    monkeypatch.setattr(pipeline.search, "VALUE_BOOST", 0.0)
    unlifted = [h.clause_id for h in search(index, question, k=50, mode="hybrid")]
    assert hits.index(deadline) < unlifted.index(deadline.clause_id)
    monkeypatch.undo()
    for h in search(index, "質問票を出せばいい？", k=10, mode="hybrid"):  # asks for no value: nothing lifted
        assert h.score == pytest.approx(fused_score(index, h))


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        (SearchFilters(fiscal_years=(2025,)), lambda h: h.fiscal_year == 2025),
        (SearchFilters(programmes=("yorozu",)), lambda h: h.programme == "yorozu"),
        (SearchFilters(path_prefix="IV.1"), lambda h: h.clause_path == "IV.1" or h.clause_path.startswith("IV.1.")),
        (SearchFilters(kinds=(Modality.ELIGIBILITY,)), lambda h: Modality.ELIGIBILITY in h.modalities),
    ],
)
def test_filters(index: ClauseIndex, filters: SearchFilters, check: Callable[..., bool]) -> None:
    """This test ensures that each filter restricts every mode's hits, and still returns k of them."""
    for mode in ("sparse", "dense", "hybrid"):
        hits = search(index, "応募者の要件", k=5, mode=mode, filters=filters)  # type: ignore[arg-type]
        assert len(hits) == 5, mode
        assert all(check(h) for h in hits), (mode, [h.clause_path for h in hits])


def test_doc_and_secretariat_filters(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that the document and secretariat filters keep to that call."""
    d = docs[FY2025]
    for filters in (SearchFilters(docs=(d.id,)), SearchFilters(secretariats=(d.source.secretariat or "",))):
        hits = search(index, "説明会", k=5, filters=filters)
        assert hits and all(h.doc == d.id for h in hits)
    assert search(index, "説明会", filters=SearchFilters(docs=("000000000000",))) == []


def test_search_many_answers_in_order(index: ClauseIndex) -> None:
    """This test ensures that a batch of queries gives one list per query, in order, equal to single searches."""
    qs = ["情報セキュリティの要件", "説明会の日時", "再委託"]
    batch = search_many(index, qs, k=3)
    assert [[h.clause_path for h in hits] for hits in batch] == [
        [h.clause_path for h in search(index, q, k=3)] for q in qs
    ]


def test_dense_needs_a_model(tmp_path: Path, index: ClauseIndex) -> None:
    """This test ensures that an index opened without an embedder searches sparse only, and says so otherwise."""
    index.close()
    bare = ClauseIndex(tmp_path / "ix", None)
    assert search(bare, "説明会", k=3, mode="sparse")
    with pytest.raises(ModelUnavailableError, match="--mode sparse"):
        search(bare, "説明会", mode="hybrid")


def test_bm25_ranks_and_masks() -> None:
    """This test ensures that BM25 prefers the document with the rarer query term and obeys the row mask."""
    bm = BM25([tokenize(t) for t in ("再委託の上限は50%", "委託費の支払", "説明会の開催", "再委託と外注")])
    top = bm.top(tokenize("再委託の上限"), 4)
    assert top[0][0] == 0 and {r for r, _ in top} == {0, 1, 3}
    assert bm.top(tokenize("再委託の上限"), 4, np.array([False, True, True, True]))[0][0] == 3


def test_ivf_recall_against_exact() -> None:
    """This test ensures that the IVF index finds ≥ 90 % of the exact top 10 on clustered data, and removes ids."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(50, 32))
    x = (centres[rng.integers(0, 50, 20_000)] + 0.3 * rng.normal(size=(20_000, 32))).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.arange(1000, 21_000)
    flat, ivf = VectorIndex.build(ids, x), VectorIndex.build(ids, x, "ivf", nprobe=16)
    q = x[:200] + 0.05 * rng.normal(size=(200, 32)).astype(np.float32)
    exact, approx = flat.search(q, 10)[1], ivf.search(q, 10)[1]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx, strict=True)])
    assert recall >= 0.9
    assert ivf.remove(ids[:10]) == 10 and ivf.ntotal == 19_990


QUERY_SETS = [
    "search_queries.jsonl", "search_queries_heldout.jsonl", "search_queries_heldout2.jsonl",
    "search_queries_heldout3.jsonl", "search_queries_heldout4.jsonl", "search_queries_heldout5.jsonl",
    "search_queries_heldout6.jsonl", "search_queries_heldout7.jsonl", "search_queries_heldout8.jsonl",
    "search_queries_heldout9.jsonl", "search_queries_heldout10.jsonl", "search_queries_heldout11.jsonl",
    "search_queries_heldout12.jsonl", "search_queries_heldout13.jsonl", "search_queries_heldout14.jsonl",
]  # fmt: skip


@pytest.mark.parametrize("queries", QUERY_SETS)
def test_query_sets_name_clauses_that_exist(ingested: Callable[[Path], Document], queries: str) -> None:
    """This test ensures that every relevant clause of the search query sets exists in the corpus PDFs that
    bench/search_quality.py indexes, so that no question is unanswerable by construction."""
    import json

    from conftest import DATA

    paths = {p.stem: {c.path for c in segment(ingested(p)).iter_clauses()} for p in sorted(CORPORA.rglob("*.pdf"))}
    missing = []
    for line in (DATA / queries).read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            missing += [(q["id"], r["doc"], r["path"]) for r in q["relevant"] if r["path"] not in paths[r["doc"]]]
    assert not missing


@pytest.mark.parametrize(
    ("question", "year"),
    [
        ("令和7年度の公募、質問はいつまでに送ればいい？", 2025),
        ("2026年度公募の質問はいつまでに送ればいい？", 2026),
        ("R8年度の公募で質問の締切は？", 2026),
    ],
)
def test_a_question_that_names_a_fiscal_year_finds_that_years_call_first(
    index: ClauseIndex, question: str, year: int
) -> None:
    """This test ensures that a fiscal year stated in a question (令和, R or 西暦) lifts that year's calls in hybrid
    search: the FY2025 and FY2026 calls have the same 質問 clauses, and the year decides which come first."""
    assert fiscal_years_named(question) == {year}
    assert {h.fiscal_year for h in search(index, question, k=3)} == {year}
    # the same question without its year: both calls answer it
    unnamed = re.sub(r"^(令和7年度の|2026年度|R8年度の)", "", question)
    assert {h.fiscal_year for h in search(index, unnamed, k=5)} == {2025, 2026}


def test_dates_and_several_years_name_no_single_call() -> None:
    """This test ensures that a date is not a fiscal year and that a question naming two years names both."""
    assert fiscal_years_named("説明会 令和7年2月17日 Teams") == set()
    assert fiscal_years_named("上限は2025年度と令和８年度でどう違う？") == {2025, 2026}
    assert fiscal_years_named("平成元年度の要領") == {1989}


def test_only_the_words_that_set_a_call_apart_name_it(index: ClauseIndex) -> None:
    """This test ensures that a word of a call's label names the call only if the other calls do not use it:
    secretariats, years and programme words do; 「伴走」 (in the FY2026 title, all through the FY2025 call) does
    not, so a question about 伴走支援 lifts neither year's call (its hits score plain fusion, no call boost)."""
    docs, labels = index.call_labels
    assert {"三菱総研", "2025", "2026", "NTT", "拠点", "経産省"} <= set(labels.vocab)
    fy2026 = next(d for d in docs if d.fiscal_year == 2026 and d.programme == "chiiki-dx")
    assert "伴走" in tokenize(fy2026.title or "") and "伴走" not in labels.vocab
    for h in search(index, "伴走支援の常駐支援者の要件は？", k=10):  # no call lifted: plain fusion scores
        assert h.score == pytest.approx(fused_score(index, h))


def test_a_document_indexed_without_a_model_is_not_counted_as_embedded(
    tmp_path: Path, docs: dict[Path, Document]
) -> None:
    """This test ensures that a document indexed without an embedder (sparse only) is not recorded as embedded, so
    indexing it with the model later embeds it instead of skipping it."""
    with ClauseIndex(tmp_path / "ix") as ix:
        ix.add(docs[YOROZU])
        assert not indexed_by_current(ix.store.produced_by_all()[0])
    with ClauseIndex(tmp_path / "with-model", FakeEmbedder()) as ix:
        ix.add(docs[YOROZU])
        assert indexed_by_current(ix.store.produced_by_all()[0])


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_vector_index_lists_the_ids_it_holds(kind: str) -> None:
    """This test ensures that a faiss index reports exactly the ids it holds, sorted, after adds and removes, for
    both kinds (what the index compares with SQLite before trusting a saved file), sentence ids included."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.concatenate([rng.choice(10_000, 500, replace=False), (1 << 40) + np.arange(100)]).astype(np.int64)
    vi = VectorIndex.build(ids, x, kind, nlist=8)  # type: ignore[arg-type]
    assert vi.ids().tolist() == sorted(ids.tolist())
    vi.remove(ids[:50])
    assert vi.ids().tolist() == sorted(ids[50:].tolist())


def test_a_saved_faiss_file_with_other_ids_is_not_trusted(tmp_path: Path, docs: dict[Path, Document]) -> None:
    """This test ensures that a faiss file holding as many vectors as the store but under other ids (left by a run
    that stopped between SQLite and faiss) is rebuilt from the store instead of being searched."""
    with ClauseIndex(tmp_path / "ix", FakeEmbedder()) as ix:
        ix.add(docs[YOROZU])
    good = ClauseIndex(tmp_path / "ix", FakeEmbedder()).vectors
    assert good is not None
    stale = good.ids() + 7  # the same count, other ids
    VectorIndex.build(stale, np.eye(len(stale), 256, dtype=np.float32)).to_disk(tmp_path / "ix" / "index.faiss")
    vi = ClauseIndex(tmp_path / "ix", FakeEmbedder()).vectors
    assert vi is not None and vi.ids().tolist() == good.ids().tolist()


def test_every_synonym_stands_for_terms_the_calls_use() -> None:
    """This test ensures that the synonym table is well formed: each everyday expression has one to four terms, and
    every term occurs in the text of the calls in corpora/ (a term no call uses would only add noise to BM25)."""
    from pipeline.search import synonym_table

    table = synonym_table()
    assert len(table) >= 150
    corpus = "".join(p.read_text(encoding="utf-8") for p in sorted(CORPORA.rglob("*.txt")))
    assert not [k for k, terms in table.items() if not k or not 1 <= len(terms) <= 4]
    assert not [t for terms in table.values() for t in terms if t not in corpus]


@pytest.mark.parametrize(
    ("question", "term", "found"),
    [
        ("県だけで申し込める？", "申請", True),  # 申し込む, as the dictionary form of 申し込める
        ("申し込んだ後で内容を変えられる？", "応募", True),
        ("県だけで申し込める？", "都道府県", True),  # a one-character key, as a word
        ("県境をまたぐ提案は？", "都道府県", False),  # …not inside another word
        ("都道府県ごとに1件まで？", "都道府県", False),
        ("市町村と一緒でないとだめ？", "市区町村", True),
    ],
)
def test_a_synonym_key_is_found_as_a_word_in_any_form(question: str, term: str, found: bool) -> None:
    """This test ensures that an everyday expression is found in a question as written or as the dictionary form of
    one of its words (「申し込める」 is a form of 「申し込む」), and that a one-character key (「県」) is found only
    as a word of its own."""
    from pipeline.search import synonyms_in

    assert (term in synonyms_in(question)) is found


def test_an_everyday_word_finds_the_clause_in_the_calls_terms(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that a question in everyday words (「前払い」, no word of which the clause uses) finds by
    BM25 the clause stated in the call's terms (概算払), and that the hit marks those terms."""
    from pipeline.search import synonyms_in

    question = "委託費の前払いはしてもらえる？"
    assert "概算払" in synonyms_in(question) and "概算払" not in question
    hits = search(index, question, k=5, mode="sparse", filters=SearchFilters(docs=(docs[YOROZU].id,)))
    top = hits[0]
    assert "概算払" in top.text and top.clause_path.startswith("V.")
    assert "概算払" in {top.text[s:e] for s, e in top.marks}


@pytest.mark.parametrize(
    "question",
    ["代表機関だけが署名する？", "データを移すときヘルプデスクに連絡する？", "10メガバイトまで送れる？",
     "下請けに提出できる？"],
)
def test_a_synonym_key_inside_another_word_adds_nothing(question: str) -> None:
    """This test ensures that no everyday key matches inside an unrelated word (けが in だけが, デスク in ヘルプデスク,
    バイト in メガバイト), and that a generic verb form (出せる) is no key: such questions are searched as typed, apart
    from the keys they really contain (下請け)."""
    from pipeline.search import synonyms_in

    assert set(synonyms_in(question)) <= {"再委託", "外注", "下請負"}
    assert ("下請け" in question) == bool(synonyms_in(question))


def test_synonym_keys_are_case_folded() -> None:
    """This test ensures that a key in Latin letters matches whatever the case the question types it in."""
    from pipeline.search import synonyms_in

    assert synonyms_in("NDAは結ぶ？") == synonyms_in("ndaは結ぶ？") != []


def test_synonym_terms_do_not_name_a_call(index: ClauseIndex) -> None:
    """This test ensures that the call a question names comes from its own words only: 「いつまで」 widens the BM25
    query with 募集期間, but 募集 (in the titles of the calls with a 募集要領) must not lift those calls, so a deadline
    question that names no call scores plain fusion plus the value lift, with no call boost."""
    from pipeline.search import synonyms_in

    question = "提案書はいつまでに出す？"
    assert any("募集" in t for t in synonyms_in(question))
    for h in search(index, question, k=10, mode="hybrid"):
        lift = VALUE_BOOST / (RRF_K + 1) if "date" in index.value_types.get(h.clause_id, frozenset()) else 0.0
        assert h.score == pytest.approx(fused_score(index, h, lift))


def test_value_kinds_follow_a_document_indexed_again(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that the value kinds per clause are read again after a document is removed and added again
    in the same process (its clauses get new ids), so the value lift does not go to ids that no longer exist."""
    before = dict(index.value_types)
    doc = docs[YOROZU]
    assert index.remove(doc.id)
    assert not set(index.value_types) & (set(before) - set(index.store.value_types()))
    assert index.value_types == index.store.value_types()
    index.add(doc)
    assert index.value_types == index.store.value_types()
    assert len(index.value_types) == len(before) and set(index.value_types) != set(before)


def test_the_fy2025_calls_regional_annexes_are_cases(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that the fourteen 「希望する伴走支援について（…県）」 annexes of the FY2025 call are found as
    cases, each named by its region with and without 県/府 and by the towns its sub-headings name (【宇都宮市】), with
    every clause under them, and that no other clause of the four calls is: not the FY2025 call's 別添2/別添3, nor any
    annex of the FY2026 call."""
    cases = index.cases
    fy2025 = docs[FY2025].id
    assert sorted(cases.names) == sorted(f"{fy2025}:別添1-{n}" for n in range(1, 15))
    assert cases.names[f"{fy2025}:別添1-6"][:2] == ("長野県", "長野")
    assert cases.names[f"{fy2025}:別添1-7"][:2] == ("京都府", "京都")
    assert {"宇都宮市", "宇都宮"} <= set(cases.names[f"{fy2025}:別添1-2"])
    paths = dict(index.store.db.execute("SELECT id, path FROM clauses").fetchall())
    docs_of = index.clause_docs
    in_cases = {cid for cid, p in paths.items() if docs_of[cid] == fy2025 and p.split(".")[0].startswith("別添1-")}
    assert len(in_cases) > 500 and set(cases.of_clause) == in_cases
    assert all(cases.of_clause[cid] == f"{fy2025}:" + paths[cid].split(".")[0] for cid in in_cases)
    assert cases.named_in("長野県の案件では常駐者に週何日来てほしい？") == {f"{fy2025}:別添1-6"}
    assert cases.named_in("長野県庁に置く席") == {f"{fy2025}:別添1-6"}
    assert cases.named_in("沖縄と宮崎の案件") == {f"{fy2025}:別添1-14", f"{fy2025}:別添1-13"}
    assert cases.named_in("宇都宮 デジタル地域通貨") == {f"{fy2025}:別添1-2"}
    # whole words only: 京都 is not named in 東京都 nor 京都市, 大分 not in 大分類, 山梨 not in 山梨大学
    for question in ("県だけで申し込める？", "東京都の案件", "京都市の場合", "大分類と小分類", "山梨大学との連携"):
        assert cases.named_in(question) == frozenset(), question


def test_case_annexes_follow_a_document_indexed_again(index: ClauseIndex, docs: dict[Path, Document]) -> None:
    """This test ensures that the case clauses are read again after the FY2025 call is removed and added again in
    the same process (its clauses get new ids), so the weight does not go to ids that no longer exist."""
    before = set(index.cases.of_clause)
    assert index.remove(docs[FY2025].id)
    assert index.cases.of_clause == {}
    index.add(docs[FY2025])
    after = set(index.cases.of_clause)
    assert len(after) == len(before) and not after & before


@pytest.mark.parametrize(
    "headings",
    [
        ["申請書", "誓約書", "役員名簿"],  # forms: different subjects
        ["希望する支援（宮城県）", "希望する支援（栃木県）"],  # two are not a run of cases
        ["希望する支援（宮城県）", "希望する支援（宮城県）", "希望する支援（栃木県）"],  # a name twice
        ["希望する支援（宮城県）", "実施体制（栃木県）", "希望する支援（新潟県）"],  # not the same heading
    ],
)
def test_annexes_that_are_not_cases(headings: list[str]) -> None:
    """This test ensures that sibling annexes are cases only when three or more share one heading apart from a
    different bracketed name."""
    rows = [(i, "d", f"様式1-{i}", h, 1) for i, h in enumerate(headings, start=1)]
    assert find_cases(rows).of_clause == {}


def test_a_run_of_cases_with_a_stray_sibling() -> None:
    """This test ensures that a run of cases is found with a repeated label (別紙2-3#2) and with a sibling of
    another heading among them (left out, not breaking the run), headings compared after NFKC (half-width kana),
    the clauses under each case belonging to it and its place sub-headings naming it."""
    rows = [
        (1, "d", "別紙2-1", "ｶﾞｲﾄﾞ（宮城県）", 1),
        (2, "d", "別紙2-2", "ガイド（栃木県）", 1),
        (3, "d", "別紙2-3#2", "ガイド (北海道)", 1),
        (4, "d", "別紙2-4", "記入例（参考）", 1),
        (5, "d", "別紙2-1.4.(1)", "【村田町】", 3),
        (6, "d", "別紙2-1.4.(2)", "【連携市町】", 3),
        (7, "d", "別紙3", "（参考）", 1),
    ]
    found = find_cases(rows)
    assert found.of_clause == {1: "d:別紙2-1", 2: "d:別紙2-2", 3: "d:別紙2-3#2", 5: "d:別紙2-1", 6: "d:別紙2-1"}
    assert found.names == {
        "d:別紙2-1": ("宮城県", "宮城", "村田町", "村田"), "d:別紙2-2": ("栃木県", "栃木"), "d:別紙2-3#2": ("北海道",),
    }  # fmt: skip


def test_hybrid_weighs_case_clauses_down_unless_the_question_names_the_case(index: ClauseIndex) -> None:
    """This test ensures that in hybrid search a case annex's clause scores CASE_WEIGHT of its fused score, so
    that a general question about receiving the experts finds the call's rule before fourteen regions' wishes,
    while a question naming 長野県 keeps the 長野県 annex at its full score (and only that annex)."""
    cases = index.cases

    def rrf(h: Hit) -> float:
        return sum(1 / (RRF_K + r) for r in (h.dense_rank, h.sparse_rank) if r is not None)

    general = search(index, "派遣される専門家の受け入れ体制", k=30, mode="hybrid")
    named = search(index, "長野県 派遣される専門家の受け入れ体制", k=30, mode="hybrid")
    assert any(h.clause_id in cases.of_clause for h in general)
    for h in general:
        weight = CASE_WEIGHT if h.clause_id in cases.of_clause else 1.0
        assert h.score == pytest.approx(weight * rrf(h))
    nagano = [h for h in named if h.clause_path.startswith("別添1-6.")]
    assert nagano and all(h.score == pytest.approx(rrf(h)) for h in nagano)
    others = [h for h in named if h.clause_id in cases.of_clause and not h.clause_path.startswith("別添1-6.")]
    assert all(h.score == pytest.approx(CASE_WEIGHT * rrf(h)) for h in others)


def test_case_weight_puts_the_calls_rules_before_the_regions_wishes(
    index: ClauseIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This test ensures that the weight changes what a general question finds: at CASE_WEIGHT at most two of its
    first ten hits are regions' wishes (more without the weight), a clause of a call's body comes first, and sparse
    search (BM25 alone) is the same with or without it."""
    import pipeline.search

    assert 0 < CASE_WEIGHT < 1
    question = "伴走支援を受ける自治体の体制"  # without the weight, 8 of its first 10 hits are regions' wishes

    def in_cases(hits: list[Hit]) -> int:
        return sum(h.clause_id in index.cases.of_clause for h in hits)

    weighted = search(index, question, k=10, mode="hybrid")
    sparse = [(h.clause_id, h.score) for h in search(index, question, k=10, mode="sparse")]
    monkeypatch.setattr(pipeline.search, "CASE_WEIGHT", 1.0)
    plain = search(index, question, k=10, mode="hybrid")
    assert in_cases(weighted) <= 2 < in_cases(plain)
    assert weighted[0].clause_id not in index.cases.of_clause
    assert [(h.clause_id, h.score) for h in search(index, question, k=10, mode="sparse")] == sparse


CHIHO = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_chiho-kokyo-dantai_mri.txt"


@pytest.mark.parametrize(
    ("question", "reader"),
    [
        ("県だけで申し込める？市町村と一緒でないとだめ？", "地方公共団体"),
        ("自治体からの申請はいつまで受け付けている？", "地方公共団体"),
        ("派遣される専門家のために役所で机を用意する必要はある？", "地方公共団体"),
        ("企業として応募するとき、仕事の一部を他社に任せてもいい？", "事業者"),
        ("県の案件に会社として提案できる？", None),  # speaks of both kinds of reader
        ("伴走支援事業者向け公募で、支援先の県はどう決まる？", None),  # 事業者向け is 事業者: both again
        ("情報セキュリティの要件", None),  # of neither
        ("県境をまたぐ提案", None),  # 県境 is not 県
        ("宮城県の予算の上限は？", None),  # a place, not a reader
        ("株式会社でなくても応募できる？", None),  # 株式会社 is not 会社
        ("一般社団法人は対象？", None),
    ],
)
def test_the_reader_a_question_speaks_of(question: str, reader: str | None) -> None:
    """This test ensures that a question is read as speaking of local governments or of businesses by its whole
    words only (Sudachi's coarsest split: 宮城県 and 株式会社 stay whole), and of neither when it speaks of both."""
    from pipeline.search import reader_spoken_of

    assert reader_spoken_of(question) == reader


def test_the_calls_a_title_addresses() -> None:
    """This test ensures that a call's reader is read from its title's 「（…向け）」 by the words of that phrase:
    the FY2025 calls 「（事業者向け）」 and 「（地方公共団体向け）」, the FY2026 call 「（伴走支援事業者向け）」, and no
    reader for the METI 募集要領, whose titles address nobody; 「（自治体向け）」 or 「（中小企業向け）」 would be read
    too."""
    from pipeline.index import IndexedDocument
    from pipeline.search import _addressed_to

    rows = [r for r in load_manifest(CORPORA / "MANIFEST.csv").values() if r["file"].endswith(".pdf")]
    docs = [
        IndexedDocument(
            Path(r["file"]).stem, r["sha256"], r["file"], r["title"], r["programme"], int(r["fiscal_year"]),
            None, r["secretariat"], 0,
        )
        for r in rows
    ]  # fmt: skip
    assert len(docs) == 5
    assert _addressed_to(docs, "地方公共団体") == {"chiiki-dx_fy2025_chiho-kokyo-dantai_mri"}
    assert _addressed_to(docs, "事業者") == {
        "chiiki-dx_fy2025_bansou-jigyosha_mri", "chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy",
    }  # fmt: skip
    other = [
        IndexedDocument(t, "", t, f"公募要領（{t}向け）", None, 2026, None, None, 0) for t in ("自治体", "中小企業")
    ]
    assert _addressed_to(other, "地方公共団体") == {"自治体"} and _addressed_to(other, "事業者") == {"中小企業"}


def test_a_question_speaking_of_local_governments_lifts_the_call_addressed_to_them(
    tmp_path: Path, docs: dict[Path, Document]
) -> None:
    """This test ensures that in hybrid search a question that speaks of local governments and names no call lifts
    the call 「（地方公共団体向け）」 by CALL_BOOST / (RRF_K + 1), and not its 事業者 sibling nor the よろず call, so
    that the small call's clauses come first."""
    chiho = find_requirements(segment(ingest_path(CHIHO, manifest=load_manifest(CORPORA / "MANIFEST.csv")).document))
    ix = ClauseIndex(tmp_path / "ix", FakeEmbedder())
    ix.add(docs[FY2025])
    ix.add(chiho)
    ix.add(docs[YOROZU])
    hits = search(ix, "県だけで申し込める？市町村と一緒でないとだめ？", k=20, mode="hybrid")
    assert {h.doc for h in hits} >= {chiho.id, docs[FY2025].id}
    for h in hits:
        assert h.score == pytest.approx(fused_score(ix, h, CALL_BOOST / (RRF_K + 1) if h.doc == chiho.id else 0.0))
    assert hits[0].doc == chiho.id


def test_business_words_decide_among_named_calls_but_name_none(
    index: ClauseIndex, docs: dict[Path, Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    """This test ensures that a question speaking of companies names no call by that alone (企業 is most often a
    company a programme supports), but among the calls it names (令和8年度: the FY2026 伴走支援 call and the two METI
    calls) keeps the one addressed to 事業者; without the reader lift, all three of that year's calls are lifted."""
    import pipeline.search

    for h in search(index, "企業として応募するとき、提出する書類は？", k=20, mode="hybrid"):
        assert h.score == pytest.approx(fused_score(index, h))
    question = "令和8年度の公募に企業として応募するとき、提出する書類は？"
    fy2026 = {docs[p].id for p in (FY2026, YOROZU, JINZAI)}
    hits = search(index, question, k=30, mode="hybrid")
    assert {h.doc for h in hits} & (fy2026 - {docs[FY2026].id})
    for h in hits:
        lift = CALL_BOOST / (RRF_K + 1) if h.doc == docs[FY2026].id else 0.0
        assert h.score == pytest.approx(fused_score(index, h, lift))
    monkeypatch.setattr(pipeline.search, "AUDIENCE_LIFT", False)
    for h in search(index, question, k=30, mode="hybrid"):
        assert h.score == pytest.approx(fused_score(index, h, CALL_BOOST / (RRF_K + 1) if h.doc in fy2026 else 0.0))
