"""GiNZA, loaded lean: the only module that imports spaCy.

The full ``ja_ginza`` pipeline spends most of its time in NER, which koubo does
not use. ``GinzaParser`` loads it with only the components a dependency parse
needs and runs it in batches, on the few sentences the rules cannot settle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pipeline.errors import ModelUnavailableError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Token

GINZA_MODEL = "ja_ginza"
# What a dependency parse needs; NER, compound splitting and bunsetu spans are left out.
PARSE_DISABLE = ("ner", "compound_splitter", "bunsetu_recognizer")
BATCH_SIZE = 64
# A subject found by the parse counts only if it reads as an actor.
ACTOR_SUFFIXES = (
    "者", "事業者", "団体", "機関", "法人", "局", "省", "庁", "会社", "事務局", "自治体", "都道府県",
    "市区町村", "市町村", "委託先", "受託者", "主", "企業", "員", "体",
)  # fmt: skip


def load_ginza(name: str = GINZA_MODEL, *, disable: Iterable[str] = PARSE_DISABLE) -> Language:
    """Load GiNZA with the components koubo does not need disabled.

    Raises:
        ModelUnavailableError: spaCy or the GiNZA model is not installed.
    """
    try:
        import spacy
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ModelUnavailableError("spaCy is not installed: pip install '.[nlp]'") from e
    try:
        return spacy.load(name, exclude=list(disable))
    except OSError as e:
        raise ModelUnavailableError(
            f"the GiNZA model {name!r} is not installed: pip install ja-ginza (it ships its model; no download)"
        ) from e


def _dep(token: Token) -> str:
    # without the bunsetu component GiNZA leaves its raw labels: nsubj_bunsetu → nsubj
    return str(token.dep_).split("_", 1)[0]


def _phrase(token: Token) -> str:
    """The noun with its compound and nmod-less prefix: 伴走 支援 事業者 → 伴走支援事業者."""
    left = [t for t in token.lefts if _dep(t) == "compound"]
    start = min([token.i, *(t.i for t in left)])
    return str(token.doc[start : token.i + 1].text)


class GinzaParser:
    """Finds the grammatical subject of sentences with GiNZA's dependency parse.

    Example:
        >>> GinzaParser().subjects(["伴走支援事業者は、常駐支援者を配置しなければならない。"])
        ['伴走支援事業者']
    """

    name = GINZA_MODEL

    def __init__(self, nlp: Language | None = None) -> None:
        self.nlp = nlp if nlp is not None else load_ginza()

    @property
    def version(self) -> str:
        meta: dict[str, Any] = self.nlp.meta
        return f"{meta.get('lang', 'ja')}_{meta.get('name', 'ginza')}@{meta.get('version', '?')}"

    def subjects(self, sentences: list[str]) -> list[str | None]:
        """The subject of each sentence's main predicate (nsubj, or a は-topic), if it reads as an actor."""
        out: list[str | None] = []
        for doc in self.nlp.pipe(sentences, batch_size=BATCH_SIZE):
            found: str | None = None
            for sent in doc.sents:
                root = sent.root
                # the subject of the main predicate, or of a predicate it coordinates with
                heads = {root, *(t for t in root.children if _dep(t) in ("conj", "advcl"))}
                for t in sent:
                    if t.head in heads and _dep(t) in ("nsubj", "csubj", "obl") and t.pos_ in ("NOUN", "PROPN"):
                        case = [c.text for c in t.children if _dep(c) == "case"]
                        if _dep(t) == "obl" and not set(case) & {"は", "では", "においては"}:
                            continue
                        phrase = _phrase(t)
                        if phrase.endswith(ACTOR_SUFFIXES):
                            found = phrase
                            break
                if found:
                    break
            out.append(found)
        return out
