"""Case annexes: sibling annexes that each describe one case of the same thing (one region's wishes, one site).

A call often ends with a run of annexes such as 「別添1-1 希望する伴走支援について（宮城県）」, 「別添1-2 …（栃木県）」
… 「別添1-14 …（沖縄県）」: one per applicant region, alike in structure and wording. They are a large share of the
call's clauses (906 of the FY2025 伴走支援 call's 1,240) and speak of 県, 市町村 and 専門家 at every turn, so a general
question (「県だけで申し込める？」) finds a dozen of their clauses before the rule in the call's body that answers it.
Search weighs a case's clauses down unless the question names the case (「長野県の案件では…」); see
:data:`pipeline.search.CASE_WEIGHT`.

A run of annexes is a set of cases when at least :data:`MIN_CASES` top-level annexes of one document share a main
number (別添1-1, 別添1-2, …) and their headings are the same once the bracketed name at the end is taken off, with a
different name in each. Forms (様式1-1 申請書, 様式1-2 誓約書) and annexes on different subjects are not cases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["MIN_CASES", "Cases", "find_cases", "names_of"]

MIN_CASES = 3  # sibling annexes needed to call them cases
# 「別添1-3」「別紙 2－1」「参考1-2」: an annex kind, its main number and its own number (path ids use ASCII hyphens)
_SIBLING = re.compile(r"^(?P<kind>別添|別紙|参考|様式|付録)(?P<main>\d+)-(?P<sub>\d+)$")
_BRACKETED_END = re.compile(r"[（(](?P<name>[^（）()]{1,30})[）)]\s*$")
# what a place name may be asked without: 「長野県」 → 「長野」 (not 「北海道」 → 「北海」)
_PLACE_SUFFIX = re.compile(r"(?<=..)(?:県|府|都)$")


@dataclass(frozen=True)
class Cases:
    """The case clauses of an index: the case each belongs to, and the names each case goes by."""

    of_clause: Mapping[int, str]  # clause id → case key (document id and annex path)
    names: Mapping[str, tuple[str, ...]]  # case key → its names, NFKC, as a question may write them

    def named_in(self, question: str) -> frozenset[str]:
        """The cases whose name the question mentions (「長野県の案件では…」 → the 長野県 annex)."""
        text = unicodedata.normalize("NFKC", question)
        return frozenset(key for key, names in self.names.items() if any(n in text for n in names))


def names_of(bracketed: str) -> tuple[str, ...]:
    """The names a case's bracketed name goes by in a question: itself and, for a prefecture, its bare name.

    Example:
        >>> names_of("長野県")
        ('長野県', '長野')
    """
    name = unicodedata.normalize("NFKC", bracketed).strip()
    bare = _PLACE_SUFFIX.sub("", name)
    return (name, bare) if bare != name else (name,)


def find_cases(rows: Iterable[tuple[int, str, str, str, int]]) -> Cases:
    """The case annexes among an index's clauses.

    Args:
        rows: ``(clause id, document id, path, heading, level)`` of every clause.
    """
    rows = list(rows)
    groups: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}  # (doc, kind, main) → (path, stem, name)
    for _, doc_id, path, heading, level in rows:
        m = _SIBLING.match(path)
        if level != 1 or m is None:
            continue
        b = _BRACKETED_END.search(unicodedata.normalize("NFKC", heading or ""))
        if b is None:
            continue
        stem = heading[: b.start()].strip() if heading else ""
        groups.setdefault((doc_id, m["kind"], m["main"]), []).append((path, stem, b["name"]))
    annexes: dict[tuple[str, str], str] = {}  # (doc, annex path) → bracketed name
    for (doc_id, _, _), members in groups.items():
        stems = {stem for _, stem, _ in members}
        bracketed = [name for _, _, name in members]
        if len(members) >= MIN_CASES and len(stems) == 1 and len(set(bracketed)) == len(bracketed):
            annexes.update(((doc_id, path), name) for path, _, name in members)
    names = {f"{doc_id}:{path}": names_of(name) for (doc_id, path), name in annexes.items()}
    of_clause: dict[int, str] = {}
    for cid, doc_id, path, _, _ in rows:
        top = path.split(".", 1)[0]
        if (doc_id, top) in annexes:
            of_clause[cid] = f"{doc_id}:{top}"
    return Cases(MappingProxyType(of_clause), MappingProxyType(names))
