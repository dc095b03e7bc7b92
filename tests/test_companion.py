"""The companion model in hybrid search: its vectors kept by passage beside the index, encoded once, never mixed
with another model's, and its ranking fused with BM25's and e5's.

Most tests use ``FakeCompanion`` (hashed character trigrams, unlike ``FakeEmbedder``'s bigrams) so that they run
in seconds; the last one loads the real USE model from its PyPI package, offline.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPORA, FakeCompanion, FakeEmbedder
from pipeline.document import Document
from pipeline.index import ClauseIndex
from pipeline.index.companion import COMPANION_FILE
from pipeline.index.dense import FEW_QUERIES, VectorIndex
from pipeline.ingest import ingest_path, load_manifest
from pipeline.nlp import find_requirements
from pipeline.search import COMPANION_WEIGHT, DENSE_WEIGHT_WITH_COMPANION, RRF_K, SearchFilters, search, search_many
from pipeline.structure import segment

FY2026 = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
YOROZU = CORPORA / "yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt"


@pytest.fixture(scope="module")
def docs() -> dict[Path, Document]:
    manifest = load_manifest(CORPORA / "MANIFEST.csv")
    out = {}
    for p in (FY2026, YOROZU):
        doc = ingest_path(p, manifest=manifest).document
        assert doc is not None
        out[p] = find_requirements(segment(doc))
    return out


def _build(directory: Path, docs: dict[Path, Document], companion: FakeCompanion | None) -> ClauseIndex:
    """An index of ``docs`` as `koubo index` leaves it (with the companion's vectors stored, if given)."""
    ix = ClauseIndex(directory, FakeEmbedder(), companion=companion)
    for d in docs.values():
        ix.add(d)
    ix.save()
    ix.store_companion()
    return ix


def _edited(doc: Document, addition: str) -> Document:
    """A new version of ``doc``: its first clause's text with ``addition`` at the end, other bytes."""
    first = doc.clauses[0]
    return doc.model_copy(
        update={
            "source": doc.source.model_copy(update={"sha256": "e" * 64}),
            "clauses": [first.model_copy(update={"text": first.text + addition}), *doc.clauses[1:]],
        }
    )


def _kept(directory: Path) -> tuple[str, int]:
    with np.load(directory / COMPANION_FILE) as z:
        return str(z["model"]), len(z["keys"])


def test_companion_vectors_are_kept_by_passage_and_encoded_once(tmp_path: Path, docs: dict[Path, Document]) -> None:
    """This test ensures that indexing stores the companion's vectors of every passage e5 embeds, each distinct
    text encoded once, under e5's faiss ids, and that opening the index again encodes nothing."""
    companion = FakeCompanion()
    ix = _build(tmp_path / "ix", docs, companion)
    ids, passages = ix.store.passages()
    assert len(passages) == ix.store.n_vectors() > 1500
    assert sorted(companion.passages) == sorted(set(passages))
    assert _kept(tmp_path / "ix") == ("fake-trigram@1/128/koubo.companion.v1", len(set(passages)))
    ix.close()
    again = FakeCompanion()
    ix = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=again)
    cv = ix.companion_vectors
    assert again.passages == [] and cv is not None
    assert np.array_equal(np.sort(cv.ids()), np.sort(ix.store.vector_ids()))
    # each passage's kept vector is its own: it finds itself first
    scores, found = cv.search(again._encode(passages[:50]), 1)
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    text_of = dict(zip(ids.tolist(), passages, strict=True))  # a repeated text may find another of its ids
    assert all(text_of[int(f)] == p for f, p in zip(found[:, 0], passages[:50], strict=True))
    ix.close()


def test_a_changed_document_encodes_only_its_new_text(tmp_path: Path, docs: dict[Path, Document]) -> None:
    """This test ensures that a document indexed again in a new version has only its changed passage encoded,
    and that the text it no longer has leaves the companion file."""
    companion = FakeCompanion()
    ix = _build(tmp_path / "ix", docs, companion)
    _, before = _kept(tmp_path / "ix")
    companion.passages.clear()
    assert ix.add(_edited(docs[FY2026], "（令和8年度に改訂）")) == "replaced"
    ix.save()
    assert ix.store_companion() == 1
    assert len(companion.passages) == 1 and companion.passages[0].endswith("（令和8年度に改訂）")
    _, passages = ix.store.passages()
    assert _kept(tmp_path / "ix")[1] == len(set(passages)) == before  # one text in, one out
    ix.close()


def test_another_companion_model_is_never_mixed_in(
    tmp_path: Path, docs: dict[Path, Document], caplog: pytest.LogCaptureFixture
) -> None:
    """This test ensures that vectors kept by one model (or version) are not used for another: search goes
    without the companion until `koubo index` has encoded every passage again, and the file then records it."""
    _build(tmp_path / "ix", docs, FakeCompanion()).close()
    newer = FakeCompanion(revision="2")
    ix = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=newer)
    _, passages = ix.store.passages()
    with caplog.at_level(logging.WARNING):
        assert ix.companion_vectors is None
    assert "until `koubo index` stores them" in caplog.text and newer.passages == []
    assert all(h.companion_rank is None for h in search(ix, "再委託の上限", k=10))
    assert ix.store_companion() == len(set(passages))
    assert sorted(newer.passages) == sorted(set(passages))
    assert _kept(tmp_path / "ix")[0] == "fake-trigram@2/128/koubo.companion.v1"
    ix.close()


def test_a_read_only_index_reads_and_never_writes(
    tmp_path: Path, docs: dict[Path, Document], caplog: pytest.LogCaptureFixture
) -> None:
    """This test ensures that the server (a read-only index) encodes for itself, in memory, the few passages the
    companion file lacks (a clause edited by a run without the companion), goes without the companion when many
    are missing (a whole document), and writes nothing either way; and that `koubo index` then stores them."""
    _build(tmp_path / "ix", {FY2026: docs[FY2026]}, FakeCompanion()).close()
    stored = (tmp_path / "ix" / COMPANION_FILE).read_bytes()
    with ClauseIndex(tmp_path / "ix", FakeEmbedder()) as plain:  # a run without the companion
        plain.add(_edited(docs[FY2026], "（改訂）"))
    companion = FakeCompanion()
    with caplog.at_level(logging.WARNING):
        ro = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=companion, read_only=True)
        assert ro.companion_vectors is not None and ro.companion_vectors.ntotal == ro.store.n_vectors()
    assert len(companion.passages) == 1 and "encoded for this run" in caplog.text
    ro.close()
    with ClauseIndex(tmp_path / "ix", FakeEmbedder()) as plain:
        plain.add(docs[YOROZU])  # hundreds of new passages
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        ro = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=FakeCompanion(), read_only=True)
        assert ro.companion_vectors is None
    assert "until `koubo index` stores them" in caplog.text
    ro.close()
    assert (tmp_path / "ix" / COMPANION_FILE).read_bytes() == stored
    again = FakeCompanion()
    with ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=again) as ix:
        assert ix.add(docs[YOROZU]) == "unchanged"
        _, passages = ix.store.passages()
        assert ix.store_companion() == len(again.passages) > 500  # the stale file brought up to date
        assert _kept(tmp_path / "ix")[1] == len(set(passages))


def test_an_unreadable_companion_file_is_encoded_again(tmp_path: Path, docs: dict[Path, Document], caplog) -> None:
    """This test ensures that a damaged index.companion.npz costs an encoding, not the index."""
    _build(tmp_path / "ix", docs, FakeCompanion()).close()
    (tmp_path / "ix" / COMPANION_FILE).write_bytes(b"PK\x03\x04 not really a zip")
    companion = FakeCompanion()
    with caplog.at_level(logging.WARNING):
        ix = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=companion)
        assert ix.companion_vectors is None
        assert ix.store_companion() == len(companion.passages) > 1500
    assert "unreadable" in caplog.text
    assert _kept(tmp_path / "ix")[0] == "fake-trigram@1/128/koubo.companion.v1"  # written again, whole
    ix.close()


def test_hybrid_fuses_the_companions_ranking(tmp_path: Path, docs: dict[Path, Document]) -> None:
    """This test ensures that a clause only the companion ranks first enters hybrid search's top hits with the
    companion's share of a first place (and e5's share of its place there), that sparse and dense search ignore
    the companion, and that filters hold for its list too."""
    companion = FakeCompanion()
    ix = _build(tmp_path / "ix", docs, companion)
    ids, passages = ix.store.passages()
    question = "ｘｙｚｗ ｘｙｚｗ"  # no word of the calls: BM25 finds nothing, e5's stand-in only noise
    without = [h.clause_id for h in search(ix, question, k=10, mode="hybrid")]
    # the companion "understands" the question as the last clause of the yorozu call, which nothing else ranks
    yorozu = docs[YOROZU].id
    target = max(cid for cid in ids.tolist() if cid < 1 << 40 and ix.clause_docs[cid] == yorozu)
    assert target not in without
    companion.pinned[question] = companion._encode([passages[ids.tolist().index(target)]])[0]
    hits = search(ix, question, k=10, mode="hybrid")
    top = next(h for h in hits if h.clause_id == target)
    assert top.companion_rank == 1 and top.sparse_rank is None
    from_e5 = DENSE_WEIGHT_WITH_COMPANION / (RRF_K + top.dense_rank) if top.dense_rank else 0.0
    assert top.score == pytest.approx(COMPANION_WEIGHT / (RRF_K + 1) + from_e5)
    for mode in ("sparse", "dense"):
        assert target not in [h.clause_id for h in search(ix, question, k=10, mode=mode)]  # type: ignore[arg-type]
    # a search without the companion (bench/search_quality.py's hybrid-e5) leaves nothing cached against a later one
    later = ClauseIndex(tmp_path / "ix", FakeEmbedder())
    assert all(h.companion_rank is None for h in search(later, question, k=10, mode="hybrid"))
    later.companion = companion
    assert any(h.companion_rank for h in search(later, question, k=10, mode="hybrid"))
    later.close()
    only_fy2026 = SearchFilters(docs=(docs[FY2026].id,))
    filtered = search_many(ix, [question], k=10, mode="hybrid", filters=only_fy2026)[0]
    assert filtered and all(h.doc == docs[FY2026].id for h in filtered)
    ix.close()


@pytest.mark.slow
def test_the_use_model_loads_offline_and_reads_japanese() -> None:
    """This test ensures that the real companion (USE multilingual v3 from its PyPI package) loads with the network
    off, gives L2-normalised 512-d vectors, and puts a question nearer the clause it paraphrases than another."""
    from pipeline.embed.use import COMPANION_NAME, load_companion

    use = load_companion()
    assert use is not None and use.name == COMPANION_NAME and use.dim == 512
    q = use.encode_queries(["下請けに出せる仕事の範囲は？", "書類はいつまでに出せばいい？"])
    p = use.encode_passages(["再委託できる業務の範囲について", "応募書類の提出期限は令和7年5月9日（金）正午必着"])
    assert q.shape == (2, 512) and q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    sims = q @ p.T
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]
    assert use.encode_queries([]).shape == (0, 512)


@pytest.mark.parametrize("n_questions", [1, FEW_QUERIES, FEW_QUERIES + 1])
def test_a_search_of_few_questions_runs_faiss_on_one_thread(monkeypatch: pytest.MonkeyPatch, n_questions: int) -> None:
    """This test ensures that faiss searches a few questions on one OpenMP thread (its idle threads would take a
    core from the question encoder), more questions on all, and that the thread count is restored after."""
    from pipeline.index.dense import faiss

    before = faiss.omp_get_max_threads()
    if before == 1:
        pytest.skip("one core: nothing to set")
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 16)).astype(np.float32)
    vi = VectorIndex.build(np.arange(50, dtype=np.int64), vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    seen: list[int] = []
    inner = vi._index

    class Spy:
        ntotal = inner.ntotal

        def search(self, *a: object, **kw: object) -> object:
            seen.append(faiss.omp_get_max_threads())
            return inner.search(*a, **kw)

    monkeypatch.setattr(vi, "_index", Spy())
    _, ids = vi.search(vectors[:n_questions], 3)
    assert ids.shape == (n_questions, 3) and ids[:, 0].tolist() == list(range(n_questions))
    assert seen == [1 if n_questions <= FEW_QUERIES else before]
    assert faiss.omp_get_max_threads() == before


def test_koubo_index_stores_the_companion_and_search_fuses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test ensures that `koubo index` stores the companion's vectors and says so, that a second run has
    nothing to encode, and that `koubo search` loads the companion for hybrid search only (the models are
    stand-ins, so that the command runs in seconds)."""
    from typer.testing import CliRunner

    import pipeline.cli_index
    import pipeline.embed.use
    from pipeline.cli import app

    loaded: list[str] = []

    def fake_companion(**_: object) -> FakeCompanion:
        loaded.append("companion")
        return FakeCompanion()

    monkeypatch.setattr(pipeline.cli_index, "_embedder", lambda settings, needed: FakeEmbedder() if needed else None)
    monkeypatch.setattr(pipeline.embed.use, "load_companion", fake_companion)
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    runner = CliRunner()
    r = runner.invoke(app, ["index", str(YOROZU)])
    assert r.exit_code == 0, r.output
    assert "passages encoded into" in r.output and (tmp_path / "out/indexes/default" / COMPANION_FILE).is_file()
    r = runner.invoke(app, ["index", str(YOROZU)])
    assert r.exit_code == 0 and "passages encoded" not in r.output
    loaded.clear()
    r = runner.invoke(app, ["search", "再委託の上限", "--format", "json", "-k", "3"])
    assert r.exit_code == 0, r.output
    assert loaded == ["companion"] and json.loads(r.stdout)[0]["clause_path"]
    loaded.clear()
    for mode in ("dense", "sparse"):
        assert runner.invoke(app, ["search", "再委託の上限", "--mode", mode]).exit_code == 0
    assert loaded == []
