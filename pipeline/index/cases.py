"""Case annexes: sibling annexes that each describe one case of the same thing (one region's wishes, one site).

A call often carries a run of annexes such as 「別添1-1 希望する伴走支援について（宮城県）」, 「別添1-2 …（栃木県）」
… 「別添1-14 …（沖縄県）」: one per applicant region, alike in structure and wording. They are a large share of the
call's clauses (906 of the FY2025 伴走支援 call's 1,244) and speak of 県, 市町村 and 専門家 at every turn, so a general
question (「県だけで申し込める？」) finds a dozen of their clauses before the rule in the call's body that answers it.
Search weighs a case's clauses down unless the question names the case (「長野県の案件では…」); see
:data:`pipeline.search.CASE_WEIGHT`.

A run of annexes is a set of cases when at least :data:`MIN_CASES` top-level annexes of one document share a kind
and main number (別添1-1, 別添1-2, …) and a heading that is the same once the bracketed name at its end is taken
off, each with a different name. Forms (様式1-1 申請書, 様式1-2 誓約書) and annexes on different subjects are not
cases; a sibling with another heading (別添1-15 記入例（参考）) is left out of the run without breaking it.

A case is named by its bracketed name (「長野県」, or 「長野」 alone) and by the places its own sub-headings
name (【宇都宮市】, 【弥彦村】: 「宇都宮市」 or 「宇都宮」), as whole words: 「京都」 is not named in 「東京都」
nor 「京都市」, nor 「大分」 in 「大分類」.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from pipeline.index.sparse import is_place_name
from pipeline.structure import MIN_CASES, case_annexes

__all__ = ["MIN_CASES", "Cases", "find_cases", "names_of"]

_HEADING_BRACKETS = re.compile(r"^[【\[［〔]\s*|\s*[】\]］〕]$")
# What a place may be called without: 「長野県」 → 「長野」, 「宇都宮市」 → 「宇都宮」 (not 「北海道」: 道 stays)
_PLACE_SUFFIX = re.compile(r"(?<=..)(?:都|府|県|市|区|町|村)$")
_KANJI = "[\u3400-\u9fff\uf900-\ufaff々〆ヶ]"


@dataclass(frozen=True)
class Cases:
    """The case clauses of an index: the case each belongs to, and the names each case goes by."""

    of_clause: Mapping[int, str]  # clause id → case key (``document id:annex path``)
    names: Mapping[str, tuple[str, ...]]  # case key → its names, NFKC, as a question may write them

    def named_in(self, question: str) -> frozenset[str]:
        """The cases whose names the question mentions as whole words (「長野県の案件では…」 → the 長野県 annex;
        「東京都」 names no 京都府 case)."""
        text = unicodedata.normalize("NFKC", question)
        return frozenset(key for key, pattern in self._patterns.items() if pattern.search(text))

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern[str]]:
        """One pattern per case, of all its names (compiled once: every hybrid search asks)."""
        return {key: re.compile("|".join(_mention(n) for n in names)) for key, names in self.names.items()}

    @staticmethod
    def document_of(key: str) -> str:
        """The id of the document a case belongs to."""
        return key.split(":", 1)[0]


def _mention(name: str) -> str:
    """A pattern of ``name`` with no kanji just before it, nor just after it unless it is a prefecture, city or
    town's full name (「長野県庁」 names 長野県; 「京都市」 does not name 「京都」)."""
    after = "" if _PLACE_SUFFIX.search(name) else f"(?!{_KANJI})"
    return f"(?<!{_KANJI}){re.escape(name)}{after}"


def names_of(name: str) -> tuple[str, ...]:
    """The names a case's place goes by in a question: itself and, for a prefecture, city, ward, town or village,
    its bare name.

    Example:
        >>> names_of("長野県"), names_of("北海道")
        (('長野県', '長野'), ('北海道',))
    """
    name = unicodedata.normalize("NFKC", name).strip()
    bare = _PLACE_SUFFIX.sub("", name)
    return (name, bare) if bare != name else (name,)


def find_cases(rows: Iterable[tuple[int, str, str, str, int]]) -> Cases:
    """The case annexes among an index's clauses.

    Args:
        rows: ``(clause id, document id, path, heading, level)`` of every clause.
    """
    rows = list(rows)
    annexes = {
        key: list(names_of(name)) for key, name in case_annexes((d, p, h, lv) for _, d, p, h, lv in rows).items()
    }  # (document, annex path) → its names
    of_clause: dict[int, str] = {}
    for cid, doc_id, path, heading, _ in rows:
        top = path.split(".", 1)[0]
        names = annexes.get((doc_id, top))
        if names is None:
            continue
        of_clause[cid] = f"{doc_id}:{top}"
        place = _HEADING_BRACKETS.sub("", unicodedata.normalize("NFKC", heading).strip())
        if path != top and is_place_name(place):  # a sub-heading 【宇都宮市】: a place of this case
            names.extend(n for n in names_of(place) if n not in names)
    return Cases(
        MappingProxyType(of_clause),
        MappingProxyType({f"{doc_id}:{path}": tuple(names) for (doc_id, path), names in annexes.items()}),
    )
