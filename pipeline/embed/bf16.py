"""Questions in bfloat16 without autocast's cost: the model's linear layers with their weights cast once.

``torch.autocast`` casts every weight of the twelve layers to bfloat16 again on each call, and oneDNN
then lays each one out again for its AMX kernels: for a batch of a dozen short questions that is as much
work as the multiplications themselves. :func:`bf16_query_model` makes, once, a copy of the model whose
``Linear`` layers hold their weights in bfloat16, already laid out (``torch.ops.mkldnn`` where this build
of torch has it, a plain bfloat16 tensor otherwise), and compute as autocast would: input cast to
bfloat16, output in bfloat16. The other modules are copied but hold the original's tensors and tokenizer
(embeddings, layer norms, pooling, normalisation: shared, not duplicated), so the copy costs the bf16
weights only (about 40 MB).

The vectors are the ones autocast gives (the same operations in the same precision), and the embedder
checks them against fp32 before using them (:data:`~pipeline.embed.embedder.BF16_MIN_COSINE`).

Heavy dependencies: torch, sentence-transformers (passed in, not imported here at module level).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

__all__ = ["bf16_query_model"]

# oneDNN chooses a weight layout for a number of rows; a batch of a dozen questions of ~25 tokens has
# about this many (the layout serves other sizes too, a little less well).
_LAYOUT_ROWS = 256


def _packer() -> tuple[Any, Any] | None:
    """oneDNN's weight pre-packing and the linear that takes packed weights, if this torch has them."""
    import torch

    ops = getattr(torch.ops, "mkldnn", None)
    try:
        reorder = ops._reorder_linear_weight if ops is not None else None
        linear = ops._linear_pointwise if ops is not None else None
    except (AttributeError, RuntimeError):  # torch.ops raises on an op this build lacks
        return None
    if reorder is None or linear is None or not torch.backends.mkldnn.is_available():  # type: ignore[no-untyped-call]
        return None
    return reorder, linear


def _bf16_linear_class() -> type[torch.nn.Module]:
    import torch

    class BF16Linear(torch.nn.Module):
        """A ``Linear`` computing as under bf16 autocast, with its weight cast (and laid out) once."""

        def __init__(self, linear: torch.nn.Linear, packer: tuple[Any, Any] | None):
            super().__init__()
            weight = linear.weight.detach().to(torch.bfloat16).contiguous()
            self.bias = None if linear.bias is None else linear.bias.detach().to(torch.bfloat16)
            self.out_features = linear.out_features
            self._linear = None
            self.weight = weight
            if packer is not None:
                reorder, packed_linear = packer
                try:  # the packed op must give what the plain one gives, on a small probe, or it is not used
                    packed = reorder(weight, _LAYOUT_ROWS)
                    probe = torch.linspace(-1, 1, 3 * weight.shape[1]).reshape(3, -1).to(torch.bfloat16)
                    got = packed_linear(probe, packed, self.bias, "none", [], "")
                    want = torch.nn.functional.linear(probe, weight, self.bias)
                    if torch.allclose(got.float(), want.float(), rtol=1e-2, atol=1e-2):
                        self.weight, self._linear = packed, packed_linear
                except (RuntimeError, TypeError):  # this CPU or build cannot pack: plain bf16 weights
                    pass

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.to(torch.bfloat16)
            if self._linear is None:
                return torch.nn.functional.linear(x, self.weight, self.bias)
            rows = x.reshape(-1, x.shape[-1])
            out: torch.Tensor = self._linear(rows, self.weight, self.bias, "none", [], "")
            return out.reshape(*x.shape[:-1], self.out_features)

    return BF16Linear


def bf16_query_model(model: SentenceTransformer) -> SentenceTransformer:
    """A copy of ``model`` whose linear layers compute in bfloat16; all else is shared with ``model``.

    It is for inference only (``encode``): its bf16 weights are plain attributes, laid out for oneDNN, so
    ``state_dict()`` and ``save()`` do not see them and it cannot be copied again.

    Args:
        model: the loaded e5 model (fp32); left unchanged.

    Returns:
        The copy, in eval mode, sharing ``model``'s other tensors and its tokenizer.

    Example:
        >>> fast = bf16_query_model(embedder.model)             # doctest: +SKIP
        >>> fast.encode(["query: 再委託の上限は？"]).shape         # doctest: +SKIP
        (1, 384)
    """
    from pipeline.embed.swap import copy_with_linears

    bf16_linear = _bf16_linear_class()
    packer = _packer()
    return copy_with_linears(model, lambda linear: bf16_linear(linear, packer))
