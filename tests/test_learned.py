"""The learned modality model (pipeline.nlp.learned), how it combines with the rules, and the pipeline's use of it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from pipeline.document import Document, Modality
from pipeline.nlp import classify_sentences, modality_version
from pipeline.nlp.learned import (
    _CONTEXT_WEIGHT,
    _RULES_WEIGHT,
    _VIEWS,
    AROUND,
    OFFSETS,
    Context,
    Example,
    ModalityModel,
    Neighbour,
    _rule_features,
    contexts,
    load_model,
    training_examples,
    trusted,
)
from pipeline.nlp.modality import MODALITY_RULES, classify

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TRAINING = ROOT / "pipeline" / "nlp" / "modality_training.jsonl"

# Sentences from the corpus (chiiki-dx FY2026, yorozu FY2026), with their headings.
CORPUS = [
    ("- ・ 事故対応に要する一切の費用(取材行為への対応、現状復旧、補償を含む。)", "(3) 委託経費の対象とならない経費"),
    ("伴走支援事業者は、本業務に係る情報を第三者に漏らしてはならない。", "ニ 情報の保護"),
    ("提出された企画提案書は返却しません。", "(4) 提出にあたっての注意事項"),
    ("- ⑨ 東北経済産業局が提示した委託契約書に合意すること。", "1. 応募資格"),
    ("  全角　空白  と\t タブ を含む 文。", None),
]


def _bench() -> ModuleType:
    """bench/modality_eval.py as a module."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("modality_eval", ROOT / "bench" / "modality_eval.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["modality_eval"] = bench
    spec.loader.exec_module(bench)
    return bench


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return training_examples()


@pytest.fixture(scope="module")
def model(examples: list[Example]) -> ModalityModel:
    return ModalityModel.train(examples)


def test_training_file_is_the_labelled_sets() -> None:
    """This test ensures that the shipped training file carries every labelled sentence with its current label
    (a relabelled sample must be followed by tests/data/make_modality_training.py)."""
    rows = [json.loads(line) for line in TRAINING.read_text(encoding="utf-8").splitlines()]
    by_set: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        by_set.setdefault(r["set"], []).append((r["sentence"], r["modality"]))
    labelled = sorted(p.stem for p in DATA.glob("modality_*.jsonl"))
    assert sorted(by_set) == labelled
    for name in labelled:
        lines = (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        want = [(r["sentence"], r["modality"]) for r in map(json.loads, filter(str.strip, lines))]
        assert by_set[name] == want, name
        sources = [json.loads(line)["source"] for line in filter(str.strip, lines)]
        assert [r["source"] for r in rows if r["set"] == name] == sources, name
    assert {r["modality"] for r in rows} <= {m.value for m in Modality}


def test_training_rows_carry_the_default_subject_the_pipeline_would_pass() -> None:
    """This test ensures that the default subject each training row was made with, and the sentences around it, are
    those the evaluation (and the pipeline) computes for it now, so that the rules' answers the model was trained on
    are the ones it will be given (checked on the rows from .txt sources; the PDFs would take minutes to read)."""
    bench = _bench()
    now = {}  # (labelled file, source, sentence) -> the default subject and sentences around, as the pipeline has them
    for path in sorted(DATA.glob("modality_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r["source"].endswith(".txt"):
                _, default, _, near = bench.row_context(r["source"], int(r["page_or_line"]), r["sentence"])
                rows_near = None if near is None else [n.row() for n in near]
                now[path.stem, r["source"], r["sentence"]] = default, rows_near
    rows = [json.loads(line) for line in TRAINING.read_text(encoding="utf-8").splitlines()]
    txt = [r for r in rows if r["source"].endswith(".txt")]
    assert len(txt) > 700
    wrong = [
        r["sentence"][:30] for r in txt if now[r["set"], r["source"], r["sentence"]] != (r["default"], r.get("around"))
    ]
    assert not wrong
    assert sum(r.get("around") is not None for r in txt) > 0.98 * len(txt)


def test_predictions_match_scikit_learn(examples: list[Example], model: ModalityModel) -> None:
    """This test ensures that koubo's own feature code gives scikit-learn's probabilities exactly (whitespace runs,
    unseen n-grams, an empty heading and the one-hot block of the rules' answer included)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from pipeline.nlp.learned import _C, _views

    views = [_views(e.sentence, e.heading) for e in examples]
    vecs, blocks = [], []
    for name, ngram, weight in _VIEWS:
        vec = TfidfVectorizer(analyzer="char", ngram_range=ngram, sublinear_tf=True, min_df=2, lowercase=False)
        blocks.append(vec.fit_transform([v[name] for v in views]) * weight)
        vecs.append(vec)
    said, around = DictVectorizer(), DictVectorizer()
    blocks.append(said.fit_transform([dict.fromkeys(_rule_features(e.rules()), 1.0) for e in examples]) * _RULES_WEIGHT)
    near = [dict.fromkeys(c.features() if (c := e.context()) else [], 1.0) for e in examples]
    assert sum(map(bool, near)) > 0.98 * len(examples)
    blocks.append(around.fit_transform(near) * _CONTEXT_WEIGHT)
    ref = LogisticRegression(C=_C, max_iter=5000).fit(hstack(blocks).tocsr(), [e.modality.value for e in examples])
    test = [_views(s, h) for s, h in CORPUS]
    rules = [classify(s, heading=h, default_subject="伴走支援事業者") for s, h in CORPUS]
    # the corpus sentences as one list, the last alone in its clause, and one with no context at all (None)
    context: list[Context | None] = [*contexts(rules[:-1], ["a", "a", "b", "c"]), None]
    x = hstack(
        [v.transform([t[n] for t in test]) * w for v, (n, _, w) in zip(vecs, _VIEWS, strict=True)]
        + [said.transform([dict.fromkeys(_rule_features(c), 1.0) for c in rules]) * _RULES_WEIGHT]
        + [around.transform([dict.fromkeys(c.features() if c else [], 1.0) for c in context]) * _CONTEXT_WEIGHT]
    ).tocsr()
    ours = model.probabilities([s for s, _ in CORPUS], [h for _, h in CORPUS], rules, context)
    assert [m.value for m in model.classes] == list(ref.classes_)
    np.testing.assert_allclose(ours, ref.predict_proba(x), atol=1e-6)


def test_the_model_reads_what_the_rules_said(model: ModalityModel) -> None:
    """This test ensures that the rules' answer is a feature: the same sentence under the same heading gets other
    probabilities when the rules said something else of it."""
    sentence, heading = "・ 事業の成果を報告する。", "(2) 業務の内容"
    plain = classify(sentence, heading=heading, default_subject="伴走支援事業者")
    other = classify("提出すること。", heading=None)
    assert plain.rule != other.rule
    a = model.probabilities([sentence], [heading], [plain])
    b = model.probabilities([sentence], [heading], [other])
    assert not np.allclose(a, b)


def test_the_model_reads_what_the_rules_said_around_it(model: ModalityModel) -> None:
    """This test ensures that the sentences around one are features: a bare item reads otherwise among items the
    rules call eligibility than among duties, and not at all when no context is given."""
    item, heading = "・ 事業の成果を取りまとめた資料", "(2) 業務の内容"
    said = classify(item, heading=heading, default_subject="伴走支援事業者")
    eligible = Context((Modality.ELIGIBILITY, True), (Modality.ELIGIBILITY, True), frozenset({Modality.ELIGIBILITY}))
    duties = Context((Modality.OBLIGATION, True), (Modality.OBLIGATION, True), frozenset({Modality.OBLIGATION}))
    a, b, alone = (model.probabilities([item], [heading], [said], [c]) for c in (eligible, duties, None))
    assert not np.allclose(a, b)
    assert not np.allclose(a, alone)
    np.testing.assert_array_equal(alone, model.probabilities([item], [heading], [said]))
    e = model.classes.index(Modality.ELIGIBILITY)
    assert a[0, e] > b[0, e]


def test_contexts_read_the_sentences_before_and_after_and_the_clause() -> None:
    """This test ensures that a sentence's context is what the rules said of the sentence before it and after it
    (in any clause, marked same or other), and of the other sentences of its own clause up to AROUND away; that a
    training example stored with its neighbours reads the same context as the document does, and stores no more than
    a context reads (Context.reads); and that the
    pipeline's way (clause paths, in document order) gives the model what the evaluation's way (contexts) does."""
    sentences = ["応募者は法人であること。", "提出書類は返却しません。", "期限までに提出すること。", "押印は不要です。"]
    said = [classify(s) for s in sentences]
    ctx = contexts(said, ["1", "1", "1", "2"])
    assert ctx[0].before is None and ctx[-1].after is None
    assert ctx[2].before == (said[1].modality, True) and ctx[2].after == (said[3].modality, False)
    assert ctx[2].clause == frozenset({said[0].modality, said[1].modality})
    assert ctx[3].clause == frozenset() and "clause_alone" in ctx[3].features()
    assert ctx[0].features()[0] == "before=end"
    with pytest.raises(ValueError, match="clause paths"):
        contexts(said, ["1"])
    # a clause longer than AROUND on each side: the far ones are not read
    long = [classify("提出すること。")] * (AROUND + 1) + [classify("押印は不要です。")] * (AROUND + 1)
    far = contexts(long, ["x"] * len(long))
    assert far[0].clause == frozenset({Modality.OBLIGATION}) and far[-1].clause == frozenset({long[-1].modality})
    # stored as a training example keeps its neighbours, with their own headings
    stored = Example(
        sentences[2], None, Modality.OBLIGATION,
        around=tuple(Neighbour(k - 2, c == "1", sentences[k], None, None) for k, c in enumerate("1112") if k != 2),
    )  # fmt: skip
    assert stored.context() == ctx[2]
    # Context.reads says which neighbours the evaluation stores: exactly those a context reads
    assert [k for k in OFFSETS if Context.reads(k, False)] == [-1, 1] and all(Context.reads(k, True) for k in OFFSETS)
    unread = Neighbour(2, False, "提出書類は返却しません。", None, None)
    assert not Context.reads(unread.offset, unread.same_clause)
    assert Example(sentences[2], None, Modality.OBLIGATION, around=(*(stored.around or ()), unread)).context() == ctx[2]
    assert Example(sentences[2], None, Modality.OBLIGATION).context() is None
    with pytest.raises(ValueError, match="not both"):
        classify_sentences(sentences, [None] * 4, [None] * 4, _SaysPermission(), clauses=["1"] * 4, context=ctx)  # type: ignore[arg-type]


def test_saved_model_loads_and_stale_model_is_retrained(tmp_path: Path, examples: list[Example]) -> None:
    """This test ensures that a written model reads back identically, and that one trained on other data, or an
    unreadable file (bad bytes, a truncated write), is retrained and rewritten rather than used."""
    first = load_model(tmp_path, examples[:400])
    saved = tmp_path / "modality.npz"
    stamp = saved.stat().st_mtime_ns
    again = load_model(tmp_path, examples[:400])
    assert saved.stat().st_mtime_ns == stamp  # read, not retrained
    sentences, headings = [s for s, _ in CORPUS], [h for _, h in CORPUS]
    said = [classify(s, heading=h) for s, h in CORPUS]
    np.testing.assert_array_equal(
        again.probabilities(sentences, headings, said), first.probabilities(sentences, headings, said)
    )
    other = load_model(tmp_path, examples[:500])
    assert other.fingerprint != first.fingerprint
    assert ModalityModel.load(saved).fingerprint == other.fingerprint
    whole = saved.read_bytes()
    for broken in (b"not a zip file", whole[: len(whole) // 2], b""):
        saved.write_bytes(broken)
        with pytest.raises(ValueError, match="not a readable modality model"):
            ModalityModel.load(saved)
        assert load_model(tmp_path, examples[:500]).fingerprint == other.fingerprint
        assert ModalityModel.load(saved).fingerprint == other.fingerprint  # rewritten whole
    assert [p.name for p in tmp_path.iterdir()] == ["modality.npz"]  # no temporary file left


def test_save_replaces_the_file_in_one_step(tmp_path: Path, model: ModalityModel) -> None:
    """This test ensures that saving over an existing model never leaves a moment without a whole file: the new
    one is written beside it and renamed over it, and a failed write leaves the old file and no debris."""
    path = tmp_path / "modality.npz"
    model.save(path)
    before = path.read_bytes()
    real_savez = np.savez

    def failing_savez(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    np.savez = failing_savez  # type: ignore[assignment]
    try:
        with pytest.raises(OSError, match="disk full"):
            model.save(path)
    finally:
        np.savez = real_savez
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["modality.npz"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_training_needs_three_modalities() -> None:
    """This test ensures that training on too few kinds fails with a message, not with a shape error later."""
    few = [Example("提出すること。", None, Modality.OBLIGATION), Example("背景である。", None, Modality.NONE)] * 3
    with pytest.raises(ValueError, match="at least three modalities"):
        ModalityModel.train(few)


def test_load_refuses_another_model_version(tmp_path: Path, model: ModalityModel) -> None:
    """This test ensures that a model file of another version is refused with a message naming both versions."""
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as w:
        arrays = {k: w[k] for k in w.files}
    meta = json.loads(str(arrays["meta"]))
    meta["version"] = "modality_model.v0"
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"modality_model\.v0 model, this koubo reads modality_model\.v3"):
        ModalityModel.load(path)


def test_a_model_file_missing_a_part_is_retrained(tmp_path: Path, examples: list[Example]) -> None:
    """This test ensures that a model file of the right version that lacks a part of its metadata is refused with
    a clear message and retrained, rather than failing every command with a KeyError."""
    model = load_model(tmp_path, examples[:300])
    path = tmp_path / "modality.npz"
    with np.load(path, allow_pickle=False) as w:
        arrays = {k: w[k] for k in w.files}
    for part in ("classes", "vocab", "fingerprint"):
        meta = json.loads(str(arrays["meta"]))
        del meta[part]
        np.savez(path, **{**arrays, "meta": np.array(json.dumps(meta))})
        with pytest.raises(ValueError, match="not a readable modality model"):
            ModalityModel.load(path)
        assert load_model(tmp_path, examples[:300]).fingerprint == model.fingerprint
        assert ModalityModel.load(path).fingerprint == model.fingerprint  # rewritten


def test_trusted_rules_stand_and_the_model_decides_the_rest(model: ModalityModel) -> None:
    """This test ensures that an explicit marker's rule is kept, that the model answers for every other sentence
    (its rule marked ``model:``), and that a sentence the model calls none has no subject."""
    sentences, headings = [s for s, _ in CORPUS], [h for _, h in CORPUS]
    defaults = ["伴走支援事業者"] * len(CORPUS)
    rules = classify_sentences(sentences, headings, defaults)
    both = classify_sentences(sentences, headings, defaults, model)
    for r, b in zip(rules, both, strict=True):
        if trusted(r.rule):
            assert b == r
        else:
            assert b.rule == f"model:{r.rule}"
        if b.modality is Modality.NONE:
            assert b.subject is None
    assert both[1].modality is Modality.PROHIBITION and both[1].rule == "prohibition.naranai"
    assert both[0].modality is Modality.NONE  # a cost category item under an exclusion heading (guideline v2.4)
    assert modality_version(model) == f"{MODALITY_RULES}+modality_model.v3:{model.fingerprint}"
    assert modality_version(None) == MODALITY_RULES


def test_held_out_model_leaves_out_the_scored_sample(ingested: Callable[[Path], Document]) -> None:
    """This test ensures that the evaluation trains the model without the sentences it scores, and that on the
    ninth sample (143 sentences, double-labelled blind, never used to write a rule) rules + model stay at what
    they reached when it was scored once (accuracy 0.797 against 0.741 for the rules alone)."""
    from pipeline.nlp.learned import _fingerprint

    bench = _bench()
    rows = [json.loads(line) for line in TRAINING.read_text(encoding="utf-8").splitlines()]
    kept = [
        Example(
            r["sentence"],
            r["heading"],
            Modality(r["modality"]),
            default=r["default"],
            author=r.get("author"),
            around=tuple(Neighbour(*n) for n in r["around"]) if "around" in r else None,
        )
        for r in rows
        if r["set"] != "modality_fresh9"
    ]
    assert len(kept) == len(rows) - 143
    model = bench.held_out_model({"modality_fresh9"})
    assert model.fingerprint == _fingerprint(kept)
    items = bench.load_items(pdf_reader=ingested, gold=DATA / "modality_fresh9.jsonl")
    with_model, _ = bench.score(items, None, model)
    rules_alone, _ = bench.score(items)
    assert with_model.accuracy >= 0.78
    assert with_model.accuracy > rules_alone.accuracy + 0.03
    assert with_model.req_p > rules_alone.req_p and with_model.req_r > rules_alone.req_r


def test_held_out_by_family_leaves_out_the_programme_and_the_other_versions() -> None:
    """This test ensures that ``--hold-out family`` trains the model without a programme's every call (the FY2025
    and FY2026 calls of 地域DX are one family) and without every version of a manual (R7-04 and R7-07), while other
    documents stay apart."""
    from pipeline.nlp.learned import _fingerprint, training_examples

    bench = _bench()
    fy2025 = "corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt"
    fy2026 = "corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
    assert bench.family(fy2025) == bench.family(fy2026) == "corpora/chiiki-dx"
    assert bench.family("corpora/yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt") == "corpora/yorozu"
    r704, r707 = (f"tests/data/realpdfs/mhlw_careerup_shikyu_yoryo_{v}.pdf" for v in ("R7-04", "R7-07"))
    assert bench.family(r704) == bench.family(r707) == "mhlw_careerup_shikyu_yoryo"
    assert bench.family("tests/data/realpdfs/mhlw_tsuchi_H26-11.pdf") == "mhlw_tsuchi"
    policy = "tests/data/realpdfs/chusho_data_rikatsuyo_policy_20250214.pdf"
    assert bench.family(policy) == "chusho_data_rikatsuyo_policy_20250214"  # a date, not a version tag

    shipped = training_examples(TRAINING)
    kept = [e for e in shipped if not e.source.startswith("corpora/chiiki-dx/")]
    assert {e.source for e in shipped} - {e.source for e in kept} >= {fy2025, fy2026}
    assert len(shipped) - len(kept) == 859  # 381 + 380 sentences of the two calls, 98 of the regions' call
    assert bench.held_out_model({"corpora/chiiki-dx"}, "family").fingerprint == _fingerprint(kept)
    with pytest.raises(ValueError, match="family"):
        bench.group_of("programme")


class _SaysPermission:
    """A stand-in model that calls every sentence a permission."""

    def predict(
        self, sentences: list[str], headings: list[str | None], said: list[object], context: object = None
    ) -> list[Modality]:
        return [Modality.PERMISSION] * len(sentences)


def test_a_permission_the_model_gives_the_issuer_binds_no_reader() -> None:
    """This test ensures that when the model reads a sentence as a permission and its subject is the issuer, the
    sentence is none, as the rules would have it (the issuer reserving a right), while a permission of the
    contractor stays one with its subject."""
    sentences = ["事務局は、提出された書類の内容を確認する。", "成果報告会の資料を作成する。"]
    rules = classify_sentences(sentences, [None, None], ["伴走支援事業者"] * 2)
    assert not any(trusted(c.rule) for c in rules), [c.rule for c in rules]
    both = classify_sentences(sentences, [None, None], ["伴走支援事業者"] * 2, _SaysPermission())  # type: ignore[arg-type]
    assert (both[0].modality, both[0].subject) == (Modality.NONE, None)
    assert (both[1].modality, both[1].subject) == (Modality.PERMISSION, "伴走支援事業者")
    assert all(c.rule.startswith("model:") for c in both)
