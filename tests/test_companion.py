"""The companion model in hybrid search: its vectors kept by passage beside the index, encoded once, never mixed
with another model's, and its ranking fused with BM25's and e5's.

Most tests use ``FakeCompanion`` (hashed character trigrams, unlike ``FakeEmbedder``'s bigrams) so that they run
in seconds; the last ones load the real USE model from its PyPI package, offline.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPORA, FakeCompanion, FakeEmbedder
from pipeline.document import Document
from pipeline.index import ClauseIndex
from pipeline.index.companion import COMPANION_FILE
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


def _build(directory: Path, docs: dict[Path, Document], companion: FakeCompanion) -> ClauseIndex:
    ix = ClauseIndex(directory, FakeEmbedder(), companion=companion)
    for d in docs.values():
        ix.add(d)
    ix.save()
    return ix


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
    doc = docs[FY2026]
    first = doc.clauses[0]
    edited = doc.model_copy(
        update={
            "source": doc.source.model_copy(update={"sha256": "e" * 64}),
            "clauses": [first.model_copy(update={"text": first.text + "（令和8年度に改訂）"}), *doc.clauses[1:]],
        }
    )
    assert ix.add(edited) == "replaced"
    ix.save()
    assert len(companion.passages) == 1 and companion.passages[0].endswith("（令和8年度に改訂）")
    _, passages = ix.store.passages()
    assert _kept(tmp_path / "ix")[1] == len(set(passages)) == before  # one text in, one out
    ix.close()


def test_another_companion_model_is_never_mixed_in(tmp_path: Path, docs: dict[Path, Document]) -> None:
    """This test ensures that vectors kept by one model (or version) are not used for another: the new one
    encodes every passage again and the file then records it."""
    _build(tmp_path / "ix", docs, FakeCompanion()).close()
    newer = FakeCompanion(revision="2")
    ix = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=newer)
    _, passages = ix.store.passages()
    ix.save()
    assert sorted(newer.passages) == sorted(set(passages))
    assert _kept(tmp_path / "ix")[0] == "fake-trigram@2/128/koubo.companion.v1"
    ix.close()


def test_a_read_only_index_writes_no_companion_file(tmp_path: Path, docs: dict[Path, Document], caplog) -> None:
    """This test ensures that the server (a read-only index) with no companion file encodes the passages for
    itself, in memory, says how to store them, and writes nothing."""
    ix = ClauseIndex(tmp_path / "ix", FakeEmbedder())  # built without a companion
    for d in docs.values():
        ix.add(d)
    ix.close()
    assert not (tmp_path / "ix" / COMPANION_FILE).exists()
    companion = FakeCompanion()
    ro = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=companion, read_only=True)
    with caplog.at_level(logging.WARNING):
        cv = ro.companion_vectors
    assert cv is not None and cv.ntotal == ro.store.n_vectors()
    assert "`koubo index` stores them" in caplog.text
    ro.close()
    assert not (tmp_path / "ix" / COMPANION_FILE).exists()


def test_an_unreadable_companion_file_is_encoded_again(tmp_path: Path, docs: dict[Path, Document], caplog) -> None:
    """This test ensures that a damaged index.companion.npz costs an encoding, not the index."""
    _build(tmp_path / "ix", docs, FakeCompanion()).close()
    (tmp_path / "ix" / COMPANION_FILE).write_bytes(b"PK\x03\x04 not really a zip")
    companion = FakeCompanion()
    with caplog.at_level(logging.WARNING):
        ix = ClauseIndex(tmp_path / "ix", FakeEmbedder(), companion=companion)
        assert ix.companion_vectors is not None
    assert "unreadable" in caplog.text and len(companion.passages) > 1500
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
    only_fy2026 = SearchFilters(docs=(docs[FY2026].id,))
    filtered = search_many(ix, [question], k=10, mode="hybrid", filters=only_fy2026)[0]
    assert filtered and all(h.doc == docs[FY2026].id for h in filtered)
    ix.close()


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
