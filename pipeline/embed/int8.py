"""Questions in int8 arithmetic: each linear layer's product in integers, scaled per token and per channel.

Nearly all of a question's cost is the twelve layers' matrix products, and on a CPU they are bound by
arithmetic, not by reading the weights: fp32 runs at the speed of the CPU's float multiply-adds. Integer
products run two to four times faster (``vpmaddubsw`` on AVX2, VNNI where the CPU has it), and
:func:`int8_query_model` makes a copy of the model whose ``Linear`` layers compute that way:

- each weight row (output channel) is scaled to the integers -63…63, once;
- each input row (token) is scaled to -127…127 on each call, by its own largest value; a scale per token,
  not per batch, is what keeps the vectors: one token's outlier no longer coarsens every other token's
  steps (PyTorch's dynamic quantisation, one scale for the whole input, cost 3 points of dense recall@5);
- the integer product (``torch._int_mm``, oneDNN) is exact in int32, then scaled back to float and the bias
  added.

Why 7-bit weights: without VNNI, oneDNN multiplies unsigned by signed bytes and adds pairs of products in
16 bits (``vpmaddubsw``), which saturates when both factors use the full byte; with weights within ±63
every pair fits, so the product is exact on every CPU (``tests/test_embed.py`` runs it with oneDNN held to
AVX2). Measured over the 763 pooled benchmark questions: cosine to fp32 0.9988 (lowest 0.9978), dense
recall@5 0.666 against 0.663, hybrid 0.894 against 0.894, at 6.5–7.3 ms of one core a question against
13.8–14.8 ms (batches of ten, this project's AVX-512 VNNI machine; 8.8–9.0 against 14.0–14.5 with oneDNN
and MKL held to AVX2).

Embeddings, attention, layer norms, GELU, pooling and normalisation stay fp32 and shared with the original
model; the copy costs the int8 weights (about 21 MB). The embedder checks the copy's vectors against fp32
before using it (:data:`~pipeline.embed.embedder.INT8_MIN_COSINE`).

Heavy dependencies: torch, sentence-transformers (passed in, not imported here at module level).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

__all__ = ["ACTIVATION_LEVELS", "WEIGHT_LEVELS", "int8_available", "int8_query_model"]

WEIGHT_LEVELS = 63  # weights in -63…63: a pair of products of a byte (0…255) and a weight fits in int16
ACTIVATION_LEVELS = 127  # each token's values in -127…127


def int8_available() -> bool:
    """Whether this torch has the integer matrix product the int8 layers use (``torch._int_mm`` on CPU)."""
    import torch

    if not hasattr(torch, "_int_mm"):
        return False
    try:
        a = torch.ones(2, 32, dtype=torch.int8)
        return bool(torch._int_mm(a, a.t()).eq(32).all())
    except (RuntimeError, TypeError, NotImplementedError):
        return False


def _int8_linear_class() -> type[torch.nn.Module]:
    import torch

    class Int8Linear(torch.nn.Module):
        """A ``Linear`` computing its product in integers: weights scaled per output channel (once), inputs
        per token (each call); float in, float out."""

        def __init__(self, linear: torch.nn.Linear):
            super().__init__()
            weight = linear.weight.detach().float()
            scale = weight.abs().amax(dim=1).clamp(min=1e-12) / WEIGHT_LEVELS
            self.weight_int8 = torch.round(weight / scale[:, None]).to(torch.int8).contiguous()  # (out, in)
            self.weight_scale = scale
            self.bias = None if linear.bias is None else linear.bias.detach().float()
            self.out_features = linear.out_features

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            rows = x.reshape(-1, x.shape[-1]).float()
            scale = rows.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / ACTIVATION_LEVELS
            quantised = torch.round(rows / scale).to(torch.int8)
            out = torch._int_mm(quantised, self.weight_int8.t()).float() * (scale * self.weight_scale)
            if self.bias is not None:
                out = out + self.bias
            return out.reshape(*x.shape[:-1], self.out_features)

    return Int8Linear


def int8_query_model(model: SentenceTransformer) -> SentenceTransformer:
    """A copy of ``model`` whose linear layers compute in int8; all else is shared with ``model``.

    For inference only (``encode``): the int8 weights are plain attributes, so ``state_dict()`` and
    ``save()`` do not see them.

    Args:
        model: the loaded e5 model (fp32); left unchanged.

    Returns:
        The copy, in eval mode, sharing ``model``'s other tensors and its tokenizer.

    Example:
        >>> fast = int8_query_model(embedder.model)             # doctest: +SKIP
        >>> fast.encode(["query: 再委託の上限は？"]).shape         # doctest: +SKIP
        (1, 384)
    """
    from pipeline.embed.swap import copy_with_linears

    return copy_with_linears(model, _int8_linear_class())
