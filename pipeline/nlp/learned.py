"""The learned modality classifier: trained on koubo's labelled sentences, it decides where the rules are weak.

The rules in ``modality.py`` are exact on explicit modal forms (〜してはならない, 〜してください,
〜できます, 〜が望ましい …) but were written from the samples they were tuned on, and on each new sample
the rules that read context (a bare item under a heading, a plain-form statement, 〜こと ending a list
item) were wrong most often. This model decides those cases instead: a logistic regression on character
n-grams of three views of the sentence — its last 24 characters (the predicate, with quotes and asides
removed), its first 16 (the item marker and the opening words) and its clause heading — on what the
rules said of it (the rule that fired, its modality, whether it is trusted) and, since ``modality_model.v3``, on
what they said of the sentences around it (:class:`Context`: the sentence before and after, and the rest of its
clause up to :data:`AROUND` sentences away; the items of one list mostly share their force), trained on every labelled
sentence in ``modality_training.jsonl`` (built from ``tests/data/modality_*.jsonl`` by
``tests/data/make_modality_training.py``). :func:`trusted` keeps a rule's answer when the rule fired on an
explicit marker (:data:`TRUSTED_RULES`); ``pipeline.nlp.classify_sentences`` takes the model's otherwise.

**On by default** (``pipeline.nlp.default_model``). Measured with ``bench/modality_eval.py``, the model trained
without the scored file (``--hold-out document``: without any sentence of the scored sentence's document;
``--hold-out family``: without any of its programme's calls or of its manual's editions either),
accuracy / requirements P / R:

    sample                   rules alone            rules + model          document unseen        family unseen
    fresh9 (143, blind; v9)  0.741 / 0.689 / 0.636  0.797 / 0.787 / 0.727  0.741 / 0.707 / 0.621
    all 2,056 (v18)          0.857 / 0.853 / 0.822  0.885 / 0.879 / 0.864  0.870 / 0.864 / 0.844  0.855 / 0.855 / 0.816
    fresh14 (142, blind; v18) 0.824 / 0.785 / 0.761 0.859 / 0.818 / 0.806  0.852 / 0.828 / 0.791
    all 2,198 (v19, v20)     0.856 / 0.850 / 0.819  0.886 / 0.877 / 0.863  0.872 / 0.866 / 0.843  0.854 / 0.857 / 0.808
    fresh15 (144, blind; v21) 0.785 / 0.814 / 0.731 0.847 / 0.863 / 0.808  0.819 / 0.855 / 0.756  0.778 / 0.821 / 0.705
    all 2,342 (v21)          0.852 / 0.848 / 0.814  0.886 / 0.879 / 0.859  0.871 / 0.868 / 0.837  0.851 / 0.858 / 0.801
    all 2,342 (v22, v3)      0.852 / 0.848 / 0.814  0.887 / 0.880 / 0.865  0.876 / 0.877 / 0.845  0.858 / 0.869 / 0.812
    fresh16 (131, blind; v22) 0.779 / 0.688 / 0.710 0.809 / 0.723 / 0.758  0.802 / 0.719 / 0.742  0.771 / 0.683 / 0.694
    all 2,473 (v22, v3)      0.848 / 0.840 / 0.809  0.882 / 0.876 / 0.857  0.869 / 0.870 / 0.833  0.850 / 0.861 / 0.800

The gain comes from other sentences of the same documents and from other editions of them: on a family of
documents it has never seen, the model is no better than the rules. Keeping the trusted rules' answers was chosen
after fresh9 was scored (without it, 0.790 / 0.770 / 0.712 there), because it keeps the gold figures.

The model trains in a few seconds; ``load_model`` reads it from ``models/modality.npz`` (``make models``),
or trains it and writes it there when it is missing, unreadable or trained on other data, rules or
settings. It is one ``.npz`` file of arrays and a JSON string (no pickle), and predicts without
scikit-learn (the same features, checked against it in tests).

Example:
    >>> model = load_model(Path("models"))
    >>> item, heading = "- ・ 事故対応に要する一切の費用", "(3) 委託経費の対象とならない経費"
    >>> model.predict([item], [heading], [classify(item, heading=heading)])
    [<Modality.NONE: 'none'>]
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from pipeline.document import Modality
from pipeline.nlp import modality as _rules_module
from pipeline.nlp.modality import MODALITY_RULES, Classification, classify

__all__ = [
    "MODEL_VERSION", "OFFSETS", "TRUSTED_RULES", "Context", "ModalityModel", "Neighbour", "contexts", "load_model",
    "training_examples", "trusted",
]  # fmt: skip

log = logging.getLogger(__name__)

MODEL_VERSION = "modality_model.v3"
TRAINING_FILE = "modality_training.jsonl"
MODEL_FILE = "modality.npz"

# Rules that fire on an explicit modal marker and that held their precision on samples they had not
# seen: their answer stands. Every other rule (an item read by its heading, a plain-form statement,
# 〜こと, 〜ものとする, a date, a definition, no rule at all) is decided by the model. Two context
# rules are kept on purpose: eligibility.grant_condition (a 〜こと act read as a grant condition only in
# a grant manual, which the model cannot tell) and prohibition.plain_negative (「…利用しない。」 binding
# the main actor), both without a miss on the labelled sets.
TRUSTED_RULES = re.compile(
    r"^(?:(?:prohibition|permission|recommendation)\.[a-z_]+"
    r"|obligation\.(?:kudasai|must|necessary|require|duty)"
    r"|obligation\.(?:plain|plain_strong|monotosuru)(?:@[a-z_]+)*@stated"  # its bearer named (modality_rules.v22)
    r"|deadline\.(?:relative|window)"
    r"|eligibility\.(?:cost|cost_borne|borne|cap|excluded|disqualify|not_selected|not_chosen|not_accepted"
    r"|limited|requirements|cost_not_charged|persons_excluded|grant_condition)"
    r"|none\.(?:pointer|courtesy|possibility|issuer_right|assumption|purpose|enactment|own_plan))"
    r"(?:$|@)"  # the whole name, or the name with its @aside / @first_clause / @before_note suffix
)

# The views of a sentence the model reads: (name, n-gram range, weight).
_VIEWS: tuple[tuple[str, tuple[int, int], float], ...] = (
    ("tail", (1, 3), 1.0),
    ("heading", (1, 2), 0.5),
    ("head", (2, 3), 0.5),
)
_RULES_WEIGHT = 1.0  # of the rule block: which rule fired, its modality, whether it is trusted (one-hot)
_CONTEXT_WEIGHT = 0.5  # of the context block: what the rules said of the sentences around it (one-hot)
AROUND = 10  # the other sentences of its clause the model reads, on each side
OFFSETS = (*range(-AROUND, 0), *range(1, AROUND + 1))  # where a Context looks: -1 is the sentence before
_TAIL, _HEAD = 24, 16  # characters of the predicate end and of the opening that the model reads
_QUOTED = re.compile(r"[「『][^」』]*[」』]")
_ASIDE = re.compile(r"[（(][^（()）]*[)）]")
_END = re.compile(r"[。．\s]+$")
_LEAD = re.compile(r"^[-・\s*#]+")


def trusted(rule: str) -> bool:
    """Whether a rule's answer stands over the model's (an explicit modal marker fired)."""
    return TRUSTED_RULES.match(rule) is not None


def _views(sentence: str, heading: str | None) -> dict[str, str]:
    core = _END.sub("", _ASIDE.sub("", _QUOTED.sub("「」", sentence)).strip())
    return {"tail": core[-_TAIL:], "heading": heading or "", "head": _LEAD.sub("", sentence)[:_HEAD]}


def _rule_features(c: Classification) -> list[str]:
    """What the rules said of a sentence, as features: the rule (without its @suffix), its family (the first
    two parts of the name), the modality it gave, and whether it is a trusted rule."""
    name = c.rule.split("@", 1)[0]
    out = [f"modality={c.modality.value}", f"rule={name}", "family=" + ".".join(name.split(".")[:2])]
    if trusted(c.rule):
        out.append("trusted")
    return out


@dataclass(frozen=True)
class Context:
    """What the rules said of the sentences around one, in its document: the modality of the sentence before and
    of the one after (None at either end of the document) with whether each is in the same clause, and the
    modalities of the other sentences of its clause up to :data:`AROUND` sentences away on either side.

    Items of one list mostly share their force (a run of 〜こと items under 「応募要件」 are all eligibility), so
    the model reads this beside the sentence itself.
    """

    before: tuple[Modality, bool] | None
    after: tuple[Modality, bool] | None
    clause: frozenset[Modality]

    @classmethod
    def at(cls, said: Callable[[int], tuple[Modality, bool] | None]) -> Context:
        """The context of a sentence, from ``said(k)``: what the rules said of the sentence ``k`` places away
        (-1 the one before) and whether it is in the same clause, or None where there is none."""
        near = (said(k) for k in OFFSETS)
        return cls(said(-1), said(1), frozenset(got[0] for got in near if got is not None and got[1]))

    @staticmethod
    def reads(offset: int, same_clause: bool) -> bool:
        """Whether a context reads the sentence ``offset`` places away (one of :data:`OFFSETS`): the one before
        and the one after in any clause, the others only in the same clause."""
        return same_clause or abs(offset) == 1

    def features(self) -> list[str]:
        out = []
        for name, got in (("before", self.before), ("after", self.after)):
            out.append(f"{name}=" + (f"{got[0].value}|{'same' if got[1] else 'other'}" if got else "end"))
        out.extend(sorted(f"clause_has={m.value}" for m in self.clause) or ["clause_alone"])
        return out


def contexts(said: Sequence[Classification], clauses: Sequence[str]) -> list[Context]:
    """Each sentence's :class:`Context`, for sentences in document order with the path of each one's clause.

    Example:
        >>> said = [classify(s) for s in ("提出すること。", "押印は不要です。", "期限を守ること。")]
        >>> c = contexts(said, ["1", "1", "2"])[1]
        >>> c.before, c.after, sorted(m.value for m in c.clause)
        ((<Modality.OBLIGATION: 'obligation'>, True), (<Modality.OBLIGATION: 'obligation'>, False), ['obligation'])
    """
    if len(said) != len(clauses):
        raise ValueError(f"{len(said)} sentences and {len(clauses)} clause paths")

    def reader(i: int) -> Callable[[int], tuple[Modality, bool] | None]:
        def at(k: int) -> tuple[Modality, bool] | None:
            j = i + k
            return (said[j].modality, clauses[j] == clauses[i]) if 0 <= j < len(said) else None

        return at

    return [Context.at(reader(i)) for i in range(len(said))]


@dataclass(frozen=True)
class Neighbour:
    """A sentence near a labelled one in its document, as the training file keeps it: ``offset`` places away
    (-1 the one before), in the same clause or not, with the context the pipeline classifies it in."""

    offset: int
    same_clause: bool
    sentence: str
    heading: str | None
    default: str | None
    author: str | None = None

    def row(self) -> list[object]:
        """As stored in the training file."""
        return [self.offset, self.same_clause, self.sentence, self.heading, self.default, self.author]


def _ngrams(text: str, lo: int, hi: int) -> Iterable[str]:
    # the same character n-grams as scikit-learn's analyzer="char" (whitespace runs squashed to one space)
    text = re.sub(r"\s\s+", " ", text)
    for n in range(lo, hi + 1):
        for i in range(len(text) - n + 1):
            yield text[i : i + n]


@dataclass(frozen=True)
class Example:
    """One labelled sentence: what the model is trained on."""

    sentence: str
    heading: str | None
    modality: Modality
    set: str = ""  # the labelled file it came from (modality_fresh7 …); not part of the fingerprint
    default: str | None = None  # the default subject the pipeline passes to the rules for it
    source: str = ""  # the document it was drawn from; not part of the fingerprint
    author: str | None = None  # who wrote its clause when not the issuer (``SentenceContext.author``)
    # the sentences around it (the one before, the one after, its clause's others up to AROUND away), or None
    # where the pipeline does not have the sentence
    around: tuple[Neighbour, ...] | None = None

    def rules(self) -> Classification:
        """What the rules say of it, as in the pipeline."""
        return classify(self.sentence, heading=self.heading, default_subject=self.default, author=self.author)

    def context(self) -> Context | None:
        """What the rules say of the sentences around it, as in the pipeline (:func:`contexts`)."""
        if self.around is None:
            return None
        said = {
            n.offset: (
                classify(n.sentence, heading=n.heading, default_subject=n.default, author=n.author),
                n.same_clause,
            )
            for n in self.around
        }
        return Context.at(lambda k: (said[k][0].modality, said[k][1]) if k in said else None)


def training_examples(path: Path | None = None) -> list[Example]:
    """The labelled sentences shipped with koubo (or those in ``path``)."""
    text = path.read_text(encoding="utf-8") if path else _packaged_training()
    out = []
    for line in text.splitlines():
        if line.strip():
            r = json.loads(line)
            out.append(
                Example(
                    r["sentence"],
                    r["heading"],
                    Modality(r["modality"]),
                    r.get("set", ""),
                    r.get("default"),
                    r.get("source", ""),
                    r.get("author"),
                    tuple(Neighbour(*n) for n in r["around"]) if r.get("around") is not None else None,
                )
            )
    return out


def _packaged_training() -> str:
    return resources.files("pipeline.nlp").joinpath(TRAINING_FILE).read_text(encoding="utf-8")


_C = 10.0  # inverse regularisation strength of the logistic regression


def _fingerprint(examples: Sequence[Example]) -> str:
    """Of the training data, of the rules (their answers are features: their version and their source)
    and of everything that shapes the features, so that a model saved by another setting is retrained rather
    than read with features it was not trained on."""
    h = hashlib.sha256()
    settings = [
        MODEL_VERSION, MODALITY_RULES, _VIEWS, _RULES_WEIGHT, _CONTEXT_WEIGHT, AROUND, _TAIL, _HEAD, _C,
        _QUOTED.pattern, _ASIDE.pattern, _END.pattern, _LEAD.pattern, TRUSTED_RULES.pattern,
    ]  # fmt: skip
    h.update(json.dumps(settings, ensure_ascii=False).encode())
    # the rules' own source too: an edit that forgot to bump MODALITY_RULES still changes their answers (any
    # edit, a comment too, then has every document classified again at the next `koubo index`)
    with contextlib.suppress(OSError, TypeError):  # no source to read (a .pyc-only install): the version alone
        h.update(inspect.getsource(_rules_module).encode())
    for e in examples:
        around = None if e.around is None else [n.row() for n in e.around]
        fields = [e.sentence, e.heading, e.default, e.author, e.modality.value, around]
        h.update(json.dumps(fields, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


class ModalityModel:
    """Character n-gram TF-IDF views of a sentence, the rules' answer, and a multinomial logistic regression.

    Attributes:
        version: ``modality_model.v3:<fingerprint of the training data and rules>``, recorded in ``produced_by``.
        classes: the modalities, in the order of the weights' rows.
    """

    def __init__(
        self,
        vocab: dict[str, dict[str, int]],
        idf: dict[str, np.ndarray],
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: Sequence[Modality],
        fingerprint: str,
    ) -> None:
        self._vocab, self._idf, self._coef, self._intercept = vocab, idf, coef, intercept
        self.classes = tuple(classes)
        self.fingerprint = fingerprint
        self.version = f"{MODEL_VERSION}:{fingerprint}"
        self._offsets: dict[str, int] = {}
        start = 0
        for name in (*(v[0] for v in _VIEWS), "rules", "context"):
            self._offsets[name] = start
            start += len(vocab[name])
        if coef.shape != (len(self.classes), start):
            raise ValueError(f"modality model weights are {coef.shape}, expected {(len(self.classes), start)}")

    @classmethod
    def train(cls, examples: Sequence[Example]) -> ModalityModel:
        """Fit the model (scikit-learn's TfidfVectorizer and LogisticRegression; a few seconds).

        Raises:
            ValueError: fewer than three modalities among the examples (the model is multinomial).
        """
        if len({e.modality for e in examples}) < 3:
            raise ValueError("the modality model needs examples of at least three modalities")
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        views = [_views(e.sentence, e.heading) for e in examples]
        vocab, idf, blocks = {}, {}, []
        for name, ngram, weight in _VIEWS:
            vec = TfidfVectorizer(analyzer="char", ngram_range=ngram, sublinear_tf=True, min_df=2, lowercase=False)
            blocks.append(vec.fit_transform([v[name] for v in views]) * weight)
            vocab[name] = {k: int(i) for k, i in vec.vocabulary_.items()}
            idf[name] = np.asarray(vec.idf_, dtype=np.float64)
        for name, weight, said in (
            ("rules", _RULES_WEIGHT, [_rule_features(e.rules()) for e in examples]),
            ("context", _CONTEXT_WEIGHT, [c.features() if (c := e.context()) else [] for e in examples]),
        ):
            vocab[name] = {f: i for i, f in enumerate(sorted({f for fs in said for f in fs}))}
            rows = [i for i, fs in enumerate(said) for _ in fs]
            cols = [vocab[name][f] for fs in said for f in fs]
            shape = (len(examples), len(vocab[name]))
            blocks.append(csr_matrix((np.full(len(cols), weight), (rows, cols)), shape=shape))
        labels = [e.modality.value for e in examples]
        fit = LogisticRegression(C=_C, max_iter=5000).fit(hstack(blocks).tocsr(), labels)
        classes = [Modality(v) for v in fit.classes_]
        return cls(vocab, idf, np.asarray(fit.coef_), np.asarray(fit.intercept_), classes, _fingerprint(examples))

    def _features(
        self, sentence: str, heading: str | None, said: Classification, context: Context | None
    ) -> tuple[list[int], list[float]]:
        cols: list[int] = []
        vals: list[float] = []
        views = _views(sentence, heading)
        for name, (lo, hi), weight in _VIEWS:
            counts: dict[int, int] = {}
            vocab = self._vocab[name]
            for gram in _ngrams(views[name], lo, hi):
                if (j := vocab.get(gram)) is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64)
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))
            v = tf * self._idf[name][idx]
            v *= weight / np.linalg.norm(v)
            cols.extend((idx + self._offsets[name]).tolist())
            vals.extend(v.tolist())
        for name, weight, names in (
            ("rules", _RULES_WEIGHT, _rule_features(said)),
            ("context", _CONTEXT_WEIGHT, context.features() if context else []),
        ):
            for f in names:
                if (j := self._vocab[name].get(f)) is not None:
                    cols.append(j + self._offsets[name])
                    vals.append(weight)
        return cols, vals

    def probabilities(
        self,
        sentences: Sequence[str],
        headings: Sequence[str | None],
        said: Sequence[Classification],
        context: Sequence[Context | None] | None = None,
    ) -> np.ndarray:
        """Class probabilities, one row per sentence, columns in :attr:`classes` order.

        Args:
            sentences: the sentences, as printed.
            headings: each sentence's clause heading.
            said: what the rules said of each (``classify`` with its heading and default subject).
            context: what the rules said of the sentences around each (:func:`contexts`); where it is None, or
                not given, the model reads the sentence alone.
        """
        context = context if context is not None else [None] * len(sentences)
        scores = np.empty((len(sentences), len(self.classes)))
        for i, (s, h, c, around) in enumerate(zip(sentences, headings, said, context, strict=True)):
            cols, vals = self._features(s, h, c, around)
            scores[i] = self._coef[:, cols] @ np.asarray(vals) + self._intercept
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def predict(
        self,
        sentences: Sequence[str],
        headings: Sequence[str | None],
        said: Sequence[Classification],
        context: Sequence[Context | None] | None = None,
    ) -> list[Modality]:
        """The most probable modality of each sentence under its heading, given what the rules said of it and of
        the sentences around it."""
        if not sentences:
            return []
        return [self.classes[j] for j in self.probabilities(sentences, headings, said, context).argmax(axis=1)]

    def save(self, path: Path) -> None:
        """Write the model to one ``.npz`` file (weights, and its metadata as a JSON string), atomically: it is
        written beside ``path`` and renamed over it, so a reader sees the old model or the new one, never a
        part, and the last of two writers wins."""
        meta = {
            "version": MODEL_VERSION,
            "fingerprint": self.fingerprint,
            "classes": [c.value for c in self.classes],
            "vocab": self._vocab,
        }
        arrays = {
            "meta": np.array(json.dumps(meta, ensure_ascii=False)),
            "coef": self._coef,
            "intercept": self._intercept,
            **{f"idf_{k}": v for k, v in self._idf.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> ModalityModel:
        """Read a model written by :meth:`save`.

        Raises:
            FileNotFoundError: no model there.
            ValueError: not a model file of this version, or inconsistent.
        """
        try:
            with path.open("rb") as f:  # opened here: np.load leaves a file it opened itself open when it fails
                w = np.load(f, allow_pickle=False)
                if not isinstance(w, np.lib.npyio.NpzFile):
                    raise ValueError("not an .npz archive")
                with w:
                    meta = json.loads(str(w["meta"]))
                    idf = {name: np.asarray(w[f"idf_{name}"]) for name, _, _ in _VIEWS}
                    coef, intercept = np.asarray(w["coef"]), np.asarray(w["intercept"])
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path}: not a readable modality model ({type(e).__name__}: {e})") from e
        if not isinstance(meta, dict) or meta.get("version") != MODEL_VERSION:
            found = meta.get("version") if isinstance(meta, dict) else None
            raise ValueError(f"{path}: a {found} model, this koubo reads {MODEL_VERSION}")
        try:
            vocab = meta["vocab"]
            if not isinstance(vocab, dict) or "rules" not in vocab or "context" not in vocab:
                raise ValueError("the model has no rule or context features")
            for name, _, _ in _VIEWS:
                if len(idf[name]) != len(vocab[name]):
                    raise ValueError(f"the {name} vocabulary and its weights differ in length")
            classes = [Modality(c) for c in meta["classes"]]
            if intercept.shape != (len(classes),):
                raise ValueError(f"{intercept.shape[0]} intercepts for {len(classes)} classes")
            return cls(vocab, idf, coef, intercept, classes, str(meta["fingerprint"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: not a readable modality model ({type(e).__name__}: {e})") from e


def load_model(models_dir: Path = Path("models"), examples: Sequence[Example] | None = None) -> ModalityModel:
    """The modality model in ``models_dir/modality.npz``, trained (and written there) if missing or stale.

    A model trained on other data than ``examples`` (default: the shipped training file), or with other
    settings, is retrained; so is an unreadable file. If the file cannot be written the model is still
    returned, trained in memory.
    """
    examples = list(examples) if examples is not None else training_examples()
    path = models_dir / MODEL_FILE
    want = _fingerprint(examples)
    try:
        model = ModalityModel.load(path)
        if model.fingerprint == want:
            return model
        log.info("the modality model %s was trained on other data or settings; retraining", path)
    except FileNotFoundError:
        log.warning("no modality model at %s; training one (a few seconds; `make models` builds it once)", path)
    except ValueError as e:
        log.warning("%s; retraining", e)
    model = ModalityModel.train(examples)
    try:
        model.save(path)
    except OSError as e:
        log.warning("could not write the modality model to %s (%s); using it from memory", path, e)
    return model


if __name__ == "__main__":  # python -m pipeline.nlp.learned [MODELS_DIR]: train and write the model
    import sys

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    built = load_model(Path(sys.argv[1] if len(sys.argv) > 1 else "models"))
    print(f"modality model {built.version}: {len(built.classes)} classes")
