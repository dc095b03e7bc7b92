"""The e5 encoder in a process of its own, so that encoding does not fight the server's threads for the GIL.

Under load, the server's request threads (HTTP parsing, search, JSON) hold the GIL most of the time, and
the encoder, which needs it between every torch operation of its twelve layers, waits for it each time:
measured on two cores with 20 clients, a batch of 14 questions that takes 130 ms alone took 200 ms, and a
single question 190 ms. In a child process the model keeps its own interpreter: the parent only sends the
texts and receives the vectors (384 floats each) through a pipe.

:class:`EncoderProcess` has the :class:`~pipeline.index.Embedder` interface; :class:`EncoderPool` runs
several, and ``koubo serve`` wraps the pool in the :class:`~pipeline.serve.batching.BatchingEmbedder`, which
makes one call per child at a time. A child that died between calls is started again on the next call; a
call in flight when its child dies, or that gets no answer within :data:`CALL_TIMEOUT`, fails with a clear
error and the child is stopped. Children ignore Ctrl-C (the server stops them when it shuts down).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embed.embedder import QueryPrecision, load_embedder
from pipeline.errors import ModelUnavailableError

__all__ = ["EncoderPool", "EncoderProcess"]

START_TIMEOUT = 300.0  # seconds for the child to load torch and the model
CALL_TIMEOUT = 120.0  # seconds for one batch: far above the ~0.3 s a batch takes


def _child(conn: Connection, models_dir: str, query_precision: QueryPrecision, threads: int) -> None:
    """The child's loop: load the model, then answer ("queries"|"passages", texts) until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it stops the children
    try:
        import torch
        from tqdm import tqdm

        # sentence-transformers makes a (hidden) tqdm bar on every call, and tqdm's default lock is a
        # multiprocessing semaphore, which the child's quick exit below would leave behind
        tqdm.set_lock(threading.RLock())
        torch.set_num_threads(threads)
        embedder = load_embedder(Path(models_dir), query_precision=query_precision)
        embedder.encode_queries(["ウォームアップ"])  # load the weights and settle the precision now
        conn.send(("ready", embedder.query_precision))
    except BaseException as e:  # reported to the parent, which raises it
        conn.send(("error", (type(e).__name__, str(e))))
        return
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent has gone
            message = None
        if message is None:
            # End at once: the child holds no file or state to save, and an orderly interpreter exit
            # tearing torch down took 2.8 s, which Ctrl-C on the server waited for, child by child.
            conn.close()
            os._exit(0)
        kind, texts = message
        try:
            if kind == "queries":
                out: Any = embedder.encode_queries(texts)
            else:
                out = embedder.encode_passages(texts)
            conn.send(("ok", np.asarray(out, dtype=np.float32)))
        except Exception as e:
            conn.send(("error", (type(e).__name__, str(e))))


def _raise_child_error(what: str, detail: tuple[str, str]) -> None:
    kind, message = detail
    if kind == "ModelUnavailableError":  # the model is not built: the server can still serve keyword search
        raise ModelUnavailableError(message)
    raise RuntimeError(f"{what}: {kind}: {message}")


class EncoderProcess:
    """An embedder whose model runs in a child process (spawned, so it shares nothing with the server).

    Args:
        models_dir: where ``make models`` built the e5 model.
        query_precision: as :func:`~pipeline.embed.embedder.load_embedder`.
        threads: torch threads in the child.

    Raises:
        ModelUnavailableError: at construction, when the model is not built (checked in this process), or
            when the child finds it so.
    """

    def __init__(
        self,
        models_dir: Path,
        *,
        query_precision: QueryPrecision = "auto",
        threads: int = 1,
        _target: Callable[..., None] = _child,
    ):
        meta = load_embedder(models_dir, query_precision=query_precision)  # reads the manifest only
        self.name, self.revision, self.dim = meta.name, meta.revision, meta.dim
        self.models_dir = models_dir
        self._query_precision: QueryPrecision = query_precision
        self.threads = threads
        self.precision: str | None = None  # what the child settled on: "int8", "bf16" or "fp32"
        self._target = _target  # tests start a stand-in child
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._proc: Any = None
        self._closed = False

    def _stop(self) -> None:
        """Close the pipe and end the child (called with the lock held)."""
        conn, proc, self._conn, self._proc = self._conn, self._proc, None, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        if proc is not None:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def _start(self) -> Connection:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=self._target,
            args=(child, str(self.models_dir), self._query_precision, self.threads),
            name="koubo-encoder",
            daemon=True,
        )
        try:
            proc.start()
            child.close()
            if not parent.poll(START_TIMEOUT):
                raise RuntimeError(f"the encoder process did not load the model within {START_TIMEOUT:.0f} s")
            try:
                status, detail = parent.recv()
            except (EOFError, OSError) as e:
                proc.join(timeout=5)
                raise RuntimeError(
                    f"the encoder process exited while loading the model (exit code {proc.exitcode})"
                ) from e
            if status != "ready":
                _raise_child_error("the encoder process could not load the model", detail)
        except BaseException:
            for end in (parent, child):
                end.close()
            if proc.is_alive():
                proc.kill()
            if proc.pid is not None:
                proc.join(timeout=5)
            raise
        self.precision = detail
        self._conn, self._proc = parent, proc
        return parent

    def _call(self, kind: str, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._closed:
                raise RuntimeError("the encoder process was shut down")
            if self._conn is None or not self._proc.is_alive():
                self._stop()
                self._start()
            conn = self._conn
            assert conn is not None
            try:
                conn.send((kind, texts))
                if not conn.poll(CALL_TIMEOUT):
                    raise TimeoutError(f"no answer within {CALL_TIMEOUT:.0f} s")
                status, out = conn.recv()
            except (EOFError, OSError) as e:  # TimeoutError is an OSError
                self._stop()
                raise RuntimeError("the encoder process stopped; it is started again on the next question") from e
        if status != "ok":
            _raise_child_error("the encoder process failed", out)
        return np.asarray(out, dtype=np.float32)

    def start(self) -> None:
        """Start the child and load the model now (else on the first question)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the encoder process was shut down")
            if self._conn is None:
                self._start()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._call("queries", texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._call("passages", texts)

    def close(self) -> None:
        """Stop the child for good (it is a daemon, so it also ends with the server); later calls fail."""
        got = self._lock.acquire(timeout=CALL_TIMEOUT + 10)
        try:
            self._closed = True
            self._stop()
        finally:
            if got:
                self._lock.release()


class EncoderPool:
    """Several :class:`EncoderProcess` children, one thread each, encoding different batches at once.

    Twenty clients searching in a loop fall into groups that arrive while the model is busy; with two
    children, one group is encoded while the other is, instead of after it. ``concurrency`` tells the
    :class:`~pipeline.serve.batching.BatchingEmbedder` how many batches it may run at once.

    Args:
        models_dir: where ``make models`` built the e5 model.
        processes: children, sharing the cores as torch threads (each loads the model: about 0.5 GB).
        query_precision: as :func:`~pipeline.embed.embedder.load_embedder`.
    """

    def __init__(
        self,
        models_dir: Path,
        *,
        processes: int = 2,
        query_precision: QueryPrecision = "auto",
        _target: Callable[..., None] = _child,
    ):
        threads = max(1, (os.cpu_count() or 1) // processes)  # the cores shared out among the children
        self.members = [
            EncoderProcess(models_dir, query_precision=query_precision, threads=threads, _target=_target)
            for _ in range(processes)
        ]
        first = self.members[0]
        self.name, self.revision, self.dim = first.name, first.revision, first.dim
        self.concurrency = processes
        self._free: queue.Queue[EncoderProcess] = queue.Queue()
        for m in self.members:
            self._free.put(m)

    def start(self) -> None:
        """Start every child and load the model in each (in parallel); if any fails, stop them all and raise."""
        with ThreadPoolExecutor(len(self.members), thread_name_prefix="koubo-encoder-start") as ex:
            futures = [ex.submit(m.start) for m in self.members]
            errors = [e for f in futures if (e := f.exception()) is not None]
        if errors:
            self.close()
            raise errors[0]

    def _call(self, passages: bool, texts: Sequence[str]) -> np.ndarray:
        member = self._free.get()
        try:
            return member.encode_passages(texts) if passages else member.encode_queries(texts)
        finally:
            self._free.put(member)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._call(False, texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._call(True, texts)

    def close(self) -> None:
        with ThreadPoolExecutor(max_workers=max(1, len(self.members))) as ex:  # side by side, as they start
            list(ex.map(lambda m: m.close(), self.members))
