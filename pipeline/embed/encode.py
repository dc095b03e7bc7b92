"""Embed passages longer than the model's window: overlapping token windows, averaged.

Consumes a loaded ``SentenceTransformer`` (the model ``build_e5`` writes, or any with a ``passage``
prompt) and texts. Produces one L2-normalised float32 vector per text. A text that fits in the
window is embedded as usual; a longer one (a clause with a table pasted into it) is cut into windows
of ``max_tokens`` that overlap by ``overlap`` tokens, each embedded with the prompt, and the window
vectors are averaged and normalised again. Plain ``encode`` would silently drop everything after
token 512. Heavy dependencies: sentence-transformers, numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from sentence_transformers import SentenceTransformer

MAX_TOKENS = 512
OVERLAP_TOKENS = 128
BATCH_SIZE = 32
# Tokenising a window's text again, after its prompt, can take a token or two more than the slice
# it was cut from (the seam with the prompt); the margin keeps the window inside the model's limit.
SEAM_MARGIN = 4


def window_spans(offsets: list[tuple[int, int]], *, window: int, overlap: int) -> list[tuple[int, int]]:
    """Character spans of overlapping windows of ``window`` tokens, given each token's character offsets.

    The last window ends at the last token, so every window is full and the tail is never short.

    Example:
        >>> window_spans([(i, i + 1) for i in range(10)], window=4, overlap=1)
        [(0, 4), (3, 7), (6, 10)]
    """
    n = len(offsets)
    if n <= window:
        return [(0, offsets[-1][1])] if offsets else []
    step = window - overlap
    starts = [*range(0, n - window, step), n - window]
    return [(offsets[s][0], offsets[s + window - 1][1]) for s in starts]


def encode_passages(
    model: SentenceTransformer,
    texts: list[str],
    *,
    max_tokens: int = MAX_TOKENS,
    overlap: int = OVERLAP_TOKENS,
    prompt_name: str = "passage",
    batch_size: int = BATCH_SIZE,
) -> npt.NDArray[np.float32]:
    """Embed passages of any length with ``model``, averaging overlapping windows of long ones.

    Args:
        model: a loaded SentenceTransformer with a fast tokenizer and the prompt ``prompt_name``.
        texts: the passages (clauses).
        max_tokens: the window, special tokens and prompt included; capped at ``model.max_seq_length``.
        overlap: how many tokens consecutive windows share, so no sentence is only ever seen cut.
        prompt_name: the prompt put before every window (``"passage"`` → ``passage: ``).
        batch_size: windows per forward pass.

    Returns:
        An array of shape ``(len(texts), dimension)``, each row L2-normalised.

    Raises:
        ValueError: the model has no prompt ``prompt_name``, or the window is too small for the overlap.

    Example:
        >>> from pathlib import Path
        >>> from pipeline.embed import load_model
        >>> model = load_model(Path("models/multilingual-e5-small"))  # doctest: +SKIP
        >>> vectors = encode_passages(model, ["第3条 再委託の上限は…（長い条文）"])  # doctest: +SKIP
        >>> vectors.shape  # doctest: +SKIP
        (1, 384)
    """
    import numpy as np

    prompt = model.prompts.get(prompt_name)
    if prompt is None:
        raise ValueError(f"the model has no prompt {prompt_name!r}; it has {sorted(model.prompts)}")
    tokenizer = model.tokenizer
    prompt_tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    limit = min(max_tokens, model.max_seq_length or max_tokens)
    window = limit - tokenizer.num_special_tokens_to_add() - prompt_tokens - SEAM_MARGIN
    if window <= overlap:
        raise ValueError(f"a window of {window} content tokens cannot overlap by {overlap}; lower the overlap")

    if not texts:
        # sentence-transformers 6 renamed get_sentence_embedding_dimension; take whichever is there
        dimension = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()
        return np.zeros((0, dimension or 0), dtype=np.float32)
    pieces: list[str] = []
    owners: list[int] = []
    # verbose=False: the "longer than the maximum" warning is the case handled here
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    for i, (text, offsets) in enumerate(zip(texts, encoded["offset_mapping"], strict=True)):
        spans = window_spans([(int(a), int(b)) for a, b in offsets], window=window, overlap=overlap)
        if len(spans) <= 1:
            spans = [(0, len(text))]
        pieces.extend(text[a:b] for a, b in spans)
        owners.extend([i] * len(spans))
    vectors = np.asarray(
        model.encode(
            pieces, prompt_name=prompt_name, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        ),
        dtype=np.float32,
    )
    pooled = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    np.add.at(pooled, np.asarray(owners), vectors)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return pooled
