"""Questions through the BERT encoder without padding: the same vectors, a quarter less work.

A batch of questions is padded to its longest: a dozen questions of 15 to 34 tokens carry about 30 %
padding, and the linear layers, most of the model's work, multiply the padding too. :class:`PackedEncoder`
runs the model's own modules (embeddings, each layer's projections, layer norms and feed-forward, in the
same precision, bf16 linear layers included) on the real tokens only, packed into one matrix; only
attention, a small share of the work, sees the batch padded, with the padding masked as the model does.
It then mean-pools each question's tokens and normalises, as the sentence-transformers pipeline does.

It applies to a BERT encoder behind mean pooling that includes the prompt and a normalisation (the e5
model ``build_e5`` writes); :meth:`PackedEncoder.of` returns ``None`` for any other model, and the
embedder checks its vectors against the plain pipeline's before using it
(:data:`~pipeline.embed.embedder.PACKED_MIN_COSINE`).

Heavy dependencies: torch, sentence-transformers (passed in, not imported here at module level).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

__all__ = ["PackedEncoder"]

# What a layer must have for the packed forward to run it as the library would.
_LAYER_PARTS = (
    "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
    "attention.output.LayerNorm", "intermediate.dense", "intermediate.intermediate_act_fn", "output.dense",
    "output.LayerNorm",
)  # fmt: skip


def _part(module: Any, dotted: str) -> Any:
    for name in dotted.split("."):
        module = getattr(module, name, None)
        if module is None:
            return None
    return module


def _mean_pooling(config: dict[str, Any]) -> bool:
    """Whether a Pooling module's config is mean pooling alone: ``pooling_mode`` in sentence-transformers 6,
    one ``pooling_mode_*_tokens`` flag per mode before it."""
    if "pooling_mode" in config:
        return bool(config["pooling_mode"] == "mean")
    modes = {k for k, v in config.items() if k.startswith("pooling_mode_") and v}
    return modes == {"pooling_mode_mean_tokens"}


class PackedEncoder:
    """Encodes texts with a sentence-transformers BERT model, skipping the padding in the linear layers.

    Build with :meth:`of`, which returns ``None`` when the model is not one it can run.

    Example:
        >>> packed = PackedEncoder.of(model)                            # doctest: +SKIP
        >>> packed.encode(["再委託の上限は？"], prompt_name="query").shape  # doctest: +SKIP
        (1, 384)
    """

    def __init__(self, model: SentenceTransformer, bert: Any):
        self.model = model
        self.bert = bert

    @classmethod
    def of(cls, model: SentenceTransformer) -> PackedEncoder | None:
        """A packed encoder for ``model``, or ``None`` if ``model`` is not a BERT encoder followed by mean
        pooling (prompt included) and normalisation, the modules this class reproduces."""
        modules = list(model)
        if len(modules) != 3:
            return None
        transformer, pooling, normalize = modules
        bert = getattr(transformer, "model", None) or getattr(transformer, "auto_model", None)
        config: dict[str, Any] = getattr(pooling, "get_config_dict", dict)()
        if (
            bert is None
            or type(normalize).__name__ != "Normalize"
            or not _mean_pooling(config)
            or config.get("include_prompt", True) is not True
            or getattr(bert, "embeddings", None) is None
            or _part(bert, "encoder.layer") is None
            or getattr(bert, "training", True)
        ):
            return None
        for layer in bert.encoder.layer:
            if any(_part(layer, p) is None for p in _LAYER_PARTS) or getattr(layer, "is_decoder", False):
                return None
        return cls(model, bert)

    def encode(self, texts: Sequence[str], *, prompt_name: str, batch_size: int = 64) -> np.ndarray:
        """L2-normalised float32 vectors of ``texts``, each after the model's prompt ``prompt_name``."""
        import numpy as np
        import torch

        prompt = self.model.prompts.get(prompt_name) or ""
        limit = self.model.max_seq_length
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                batch = [prompt + t for t in texts[i : i + batch_size]]
                enc = self.model.tokenizer(batch, padding=True, truncation=True, max_length=limit, return_tensors="pt")
                out.append(self._forward(enc).numpy())
        dim = int(self.bert.config.hidden_size)
        return np.concatenate(out) if out else np.zeros((0, dim), dtype=np.float32)

    def _forward(self, enc: Any) -> torch.Tensor:
        import torch
        from torch.nn.functional import normalize, scaled_dot_product_attention

        ids, mask = enc["input_ids"], enc["attention_mask"]
        n_texts, length = ids.shape
        emb = self.bert.embeddings(input_ids=ids, token_type_ids=enc.get("token_type_ids"))
        real = mask.reshape(-1).nonzero().squeeze(1)  # the real tokens' places in the padded batch
        h = emb.reshape(n_texts * length, -1)[real]  # packed: (tokens, hidden)
        keys = mask.bool()[:, None, None, :]  # attention sees no padding

        def padded_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
            full = x.new_zeros(n_texts * length, x.shape[-1])
            full[real] = x
            return full.view(n_texts, length, heads, -1).transpose(1, 2)

        for layer in self.bert.encoder.layer:
            sa = layer.attention.self
            heads = sa.num_attention_heads
            q, k, v = (padded_heads(proj(h), heads) for proj in (sa.query, sa.key, sa.value))
            scale = getattr(sa, "scaling", None)
            ctx = scaled_dot_product_attention(q, k, v, attn_mask=keys, scale=scale)
            ctx = ctx.transpose(1, 2).reshape(n_texts * length, -1)[real]
            h = layer.attention.output.LayerNorm(layer.attention.output.dense(ctx) + h)
            inner = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(h))
            h = layer.output.LayerNorm(layer.output.dense(inner) + h)
        owner = real // length  # which text each packed token belongs to
        pooled = torch.zeros(n_texts, h.shape[-1], dtype=h.dtype).index_add_(0, owner, h)
        pooled = pooled / mask.sum(dim=1, keepdim=True).clamp(min=1).to(h.dtype)
        return normalize(pooled.float(), dim=-1)
