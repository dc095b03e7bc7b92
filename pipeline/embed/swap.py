"""A copy of a model with its ``Linear`` layers replaced, sharing everything else with the original.

The faster question models (:mod:`pipeline.embed.bf16`, :mod:`pipeline.embed.int8`) differ from the fp32
model only in their linear layers. :func:`copy_with_linears` deep-copies the modules but not their tensors
nor the tokenizer (a 250k-word vocabulary, 280 MB if copied), so a copy costs only its new weights.

Heavy dependencies: torch (passed in through the model, not imported here at module level).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

__all__ = ["copy_with_linears"]


def copy_with_linears(
    model: SentenceTransformer, make: Callable[[torch.nn.Linear], torch.nn.Module]
) -> SentenceTransformer:
    """A copy of ``model`` in eval mode where each ``Linear`` is replaced by ``make(linear)``.

    The copy shares ``model``'s parameters, buffers and tokenizer; ``model`` is left unchanged.
    """
    import torch

    memo: dict[int, Any] = {id(t): t for t in (*model.parameters(), *model.buffers())}
    for module in model.modules():
        tokenizer = getattr(module, "tokenizer", None)
        if tokenizer is not None:
            memo[id(tokenizer)] = tokenizer
    fast = copy.deepcopy(model, memo)

    def swap(module: torch.nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, make(child))
            else:
                swap(child)

    swap(fast)
    fast.eval()
    return fast
