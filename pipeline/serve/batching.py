"""Query embedding for a server: concurrent questions encoded together, recent ones remembered.

Encoding one question with e5-small costs about 40 ms on two cores, and almost all of it is fixed
cost: twenty questions in one batch take a little more than one. When twenty people search at once,
encoding each question on its own makes the last one wait for nineteen model calls; here the questions
that arrive while the model is busy wait for the next call and go through it together.

:class:`BatchingEmbedder` wraps an :class:`~pipeline.index.Embedder` and has the same interface, so
search code does not change. Over one in-process model it makes one call at a time; over a pool of
encoder processes (:class:`~pipeline.serve.encoder_process.EncoderPool`, which ``koubo serve`` uses) one
call per process at a time, each of at most :data:`POOL_BATCH` questions, so that two batches are encoded
side by side; while one process is busy, a free one waits a little (:data:`POOL_WAIT`) to gather as
many questions as the running batch, rather than spend a model call on one question. A small LRU cache
keeps the vectors of recent questions (the same search from a results page, its pagination, a reload).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.index import Embedder

__all__ = ["BatchingEmbedder"]

MAX_BATCH = 32  # questions per model call
# Questions per call to one of several single-thread encoders: beyond about a dozen a call gets no cheaper
# per question (measured on one thread: 16 ms/question at 6, 11 at 14, 12 at 20), and leaving the rest
# to the next free encoder starts them sooner.
POOL_BATCH = 12
# While another encoder is busy, a free one waits (up to POOL_WAIT seconds) until it has as many questions
# as the batch being encoded, or that batch is done, before it starts. Taking each question as it comes
# wastes the pool: under 20 clients most calls carried one question, at 58 ms each against 220 ms for
# twelve, and the encoders spent 18 ms per question instead of 10 (measured with ``bench/serve_load.py``).
# Matching the running batch adapts to the load: 20 clients settle into two batches of ten, eight into two
# of four, and a question asked alone never waits, since nothing else is being encoded.
POOL_WAIT = 0.06
_POLL = 0.005  # how often a waiting encoder looks whether the running batch is done
CACHE_SIZE = 2048  # question vectors remembered
PASSAGE_CACHE_SIZE = 8192  # change-item vectors remembered (a comparison has a few hundred)


@dataclass
class _Request:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    error: BaseException | None = None


class BatchingEmbedder:
    """An embedder whose ``encode_queries`` batches concurrent callers through worker threads (one per
    model call that may run at once).

    Args:
        inner: the real embedder (e5).
        batch: False encodes each call on its own in the caller's thread (the cache still applies).
        cache_size: question vectors to remember; 0 turns the cache off.

    Example:
        >>> embedder = BatchingEmbedder(load_embedder(Path("models")))   # doctest: +SKIP
        >>> embedder.encode_queries(["再委託の上限は？"]).shape           # doctest: +SKIP
        (1, 384)
    """

    def __init__(self, inner: Embedder, *, batch: bool = True, cache_size: int = CACHE_SIZE):
        self.inner = inner
        self.name, self.revision, self.dim = inner.name, inner.revision, inner.dim
        self.batch = batch
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._passages: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        # How many model calls may run at once: one for an in-process model (torch already uses both
        # cores), one per child for a pool of encoder processes (``concurrency``).
        self.workers = max(1, int(getattr(inner, "concurrency", 1)))
        self._model_lock = threading.BoundedSemaphore(self.workers)
        self.max_batch = MAX_BATCH if self.workers == 1 else POOL_BATCH
        self.max_wait = POOL_WAIT
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._closed = False
        self._calls_lock = threading.Lock()
        self.calls = 0  # model calls made (for tests and the load benchmark)
        self._running: list[int] = []  # the sizes of the batches being encoded

    # --- the Embedder interface ------------------------------------------------------------------
    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (change items a "what changed" question is matched against), remembered by text: asking a
        second question about the same two calls does not encode them again."""
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._cache_lock:
            found = {t: self._passages[t] for t in texts if t in self._passages}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            with self._model_lock:
                vectors = np.asarray(self.inner.encode_passages(missing), dtype=np.float32)
            found.update(zip(missing, vectors, strict=True))
            with self._cache_lock:
                self._passages.update(zip(missing, vectors, strict=True))
                while len(self._passages) > PASSAGE_CACHE_SIZE:
                    self._passages.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        found = self._cached(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self._encode(missing)
            found.update(zip(missing, vectors, strict=True))
            self._remember(missing, vectors)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def close(self) -> None:
        """Stop the worker threads (daemons, so a process may also just exit) and the inner embedder's
        processes, if it has any; a question still waiting gets an error instead of waiting for ever, and a
        later one is refused."""
        with self._start_lock:
            self._closed = True
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for t in threads:
            t.join(timeout=5)
        closer = getattr(self.inner, "close", None)  # an EncoderProcess stops its child
        if callable(closer):
            closer()
        while True:
            try:
                left = self._queue.get_nowait()
            except queue.Empty:
                break
            if left is not None:
                left.error = RuntimeError("the server is shutting down")
                left.done.set()

    # --- internals -------------------------------------------------------------------------------
    def _cached(self, texts: list[str]) -> dict[str, np.ndarray]:
        if not self.cache_size:
            return {}
        with self._cache_lock:
            out = {}
            for t in texts:
                v = self._cache.get(t)
                if v is not None:
                    self._cache.move_to_end(t)
                    out[t] = v
            return out

    def _remember(self, texts: list[str], vectors: np.ndarray) -> None:
        if not self.cache_size:
            return
        with self._cache_lock:
            for t, v in zip(texts, vectors, strict=True):
                self._cache[t] = v
                self._cache.move_to_end(t)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _model(self, texts: list[str]) -> np.ndarray:
        with self._model_lock:
            with self._calls_lock:
                self.calls += 1
                self._running.append(len(texts))
            try:
                return np.asarray(self.inner.encode_queries(texts), dtype=np.float32)
            finally:
                with self._calls_lock:
                    self._running.remove(len(texts))

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not self.batch:
            return self._model(texts)
        self._ensure_worker()
        req = _Request(texts)
        self._queue.put(req)
        req.done.wait()
        if req.error is not None:
            raise req.error
        assert req.vectors is not None  # set by the worker whenever error is not
        return req.vectors

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._closed:
                raise RuntimeError("the query encoder was shut down")
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < self.workers:
                t = threading.Thread(target=self._run, name=f"koubo-query-batcher-{len(self._threads)}", daemon=True)
                t.start()
                self._threads.append(t)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            n = len(first.texts)
            stop = False
            deadline = time.monotonic() + self.max_wait
            while n < self.max_batch:  # who queued while the model was busy goes in this call
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    wait = deadline - time.monotonic()
                    with self._calls_lock:
                        running = max(self._running, default=0)
                    if wait <= 0 or n >= min(self.max_batch, running):
                        break  # as many as the batch being encoded (or none is), or waited long enough
                    try:
                        nxt = self._queue.get(timeout=min(wait, _POLL))
                    except queue.Empty:
                        continue
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
                n += len(nxt.texts)
            texts = list(dict.fromkeys(t for r in batch for t in r.texts))
            try:
                vectors = self._model(texts)
                row = {t: i for i, t in enumerate(texts)}
                for r in batch:
                    r.vectors = vectors[[row[t] for t in r.texts]]
            except BaseException as e:  # handed to every waiting caller, raised in its own thread
                for r in batch:
                    r.error = e
            for r in batch:
                r.done.set()
            if stop:
                return
