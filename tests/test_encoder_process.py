"""The e5 encoder in child processes (pipeline.serve.encoder_process), with the real model: slow."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import ROOT

pytest.importorskip("sentence_transformers", reason="needs sentence-transformers and torch")

from pipeline.embed.build import MODEL_NAME, build_e5
from pipeline.embed.embedder import load_embedder
from pipeline.errors import ModelUnavailableError
from pipeline.serve.batching import BatchingEmbedder
from pipeline.serve.encoder_process import EncoderPool, EncoderProcess

MODELS = ROOT / "models"
QUESTIONS = [
    "再委託の上限は何パーセント？",
    "令和8年度で常駐支援者の要件はどう変わった？",
    "説明会に出ないと応募できないの？",
    "宮城県のよろず拠点の委託額はいくらが上限？",
]
PASSAGES = [
    "伴走支援事業者は、本業務に係る情報を第三者に漏らしてはならない。",
    "予算規模：182,000千円（税込み）を上限とします。",
]


@pytest.fixture(scope="module")
def models() -> Path:
    build_e5(MODELS / MODEL_NAME)  # built by `make models`; a no-op when up to date
    return MODELS


@pytest.mark.slow
def test_pool_gives_the_in_process_vectors(models: Path) -> None:
    """This test ensures that questions and passages encoded in the child processes, also several batches at once
    through the batching embedder, get the vectors the in-process model gives."""
    reference = load_embedder(models)
    want_q = reference.encode_queries(QUESTIONS)
    want_p = reference.encode_passages(PASSAGES)
    pool = EncoderPool(models, processes=2)
    try:
        pool.start()
        assert all(m.precision == reference.query_precision for m in pool.members)
        assert pool.name == reference.name and pool.dim == want_q.shape[1]
        np.testing.assert_allclose(pool.encode_passages(PASSAGES), want_p, atol=1e-5)
        batching = BatchingEmbedder(pool, cache_size=0)
        assert batching.workers == 2
        got: dict[str, np.ndarray] = {}

        def ask(q: str) -> None:
            got[q] = batching.encode_queries([q])[0]

        threads = [threading.Thread(target=ask, args=(q,)) for q in QUESTIONS * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, q in enumerate(QUESTIONS):
            assert float(got[q] @ want_q[i]) >= 0.9999, q
        children = [m._proc for m in pool.members]
        batching.close()  # closes the pool with it
        assert all(m._proc is None for m in pool.members)
        # each child ended by itself on being told to (exit code 0: not killed, not failed)
        assert all(c is not None and not c.is_alive() and c.exitcode == 0 for c in children)
    finally:
        pool.close()


@pytest.mark.slow
def test_a_dead_encoder_is_started_again(models: Path) -> None:
    """This test ensures that when the child process dies between questions, the next question starts a new one
    and is answered."""
    enc = EncoderProcess(models)
    try:
        first = enc.encode_queries(QUESTIONS[:1])
        old = enc._proc
        old.kill()
        old.join(timeout=10)
        again = enc.encode_queries(QUESTIONS[:1])
        assert enc._proc is not old and enc._proc.is_alive()
        np.testing.assert_allclose(again, first, atol=1e-6)
    finally:
        enc.close()
    assert enc.encode_queries([]).shape == (0, enc.dim)  # nothing to encode starts nothing
    assert enc._proc is None


# Stand-in children (spawned, so module-level functions): they fail the ways a real child can.
def _die_at_once(conn: Any, *args: object) -> None:
    conn.close()


def _no_model(conn: Any, *args: object) -> None:
    conn.send(("error", ("ModelUnavailableError", "the e5 model is not built: run `make models`")))


def _die_on_first_question(conn: Any, *args: object) -> None:
    conn.send(("ready", "fp32"))
    conn.recv()
    os._exit(3)


@pytest.mark.slow
def test_a_child_that_dies_or_finds_no_model_is_reported(models: Path) -> None:
    """This test ensures that a child dying while it loads gives an error naming its exit, that a child finding
    no model gives ModelUnavailableError (so the server can fall back to keyword search), and that a pool whose
    child fails stops all its children."""
    enc = EncoderProcess(models, _target=_die_at_once)
    with pytest.raises(RuntimeError, match="exited while loading the model"):
        enc.start()
    assert enc._proc is None and enc._conn is None
    pool = EncoderPool(models, processes=2, _target=_no_model)
    with pytest.raises(ModelUnavailableError, match="make models"):
        pool.start()
    assert all(m._proc is None for m in pool.members)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.encode_queries(QUESTIONS[:1])


@pytest.mark.slow
def test_a_child_dying_in_a_call_fails_that_call_only(models: Path) -> None:
    """This test ensures that a question whose child dies while answering gets a clear error, that the dead child
    and its pipe are cleared away, and that a closed encoder refuses further questions."""
    enc = EncoderProcess(models, _target=_die_on_first_question)
    enc.start()
    child = enc._proc
    with pytest.raises(RuntimeError, match="stopped; it is started again"):
        enc.encode_queries(QUESTIONS[:1])
    assert enc._proc is None and not child.is_alive() and child.exitcode == 3
    enc.close()
    with pytest.raises(RuntimeError, match="shut down"):
        enc.encode_queries(QUESTIONS[:1])
