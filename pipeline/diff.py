"""Diff: two versions of a call → a DocumentDiff of aligned clauses and typed change items.

Consumes two segmented :class:`~pipeline.document.Document` objects (the older
call and the newer one); produces a :class:`~pipeline.document.DocumentDiff`:
clauses added, removed, modified, moved or renumbered, each with a
character-level diff, a category, value deltas and a flag *substantive* or
*editorial* with its reason.

Heavy dependencies: rapidfuzz (similarity matrices), SciPy (the assignment).

How it works:

1. Every clause's own text is *normalised for comparison*: whitespace and
   punctuation dropped, the two secretariats' names replaced by 「事務局」, and
   fiscal-year mentions (「令和7年度」「2025年度」 in the old call, 「令和8年度」 in the
   new) replaced by one placeholder, so a roll-over of the year or a new
   secretariat is not a change of content.
2. Old and new clauses are aligned by an assignment (Hungarian) on a score that
   mixes the similarity of their normalised texts, of their headings and of
   their paths, so renumbered (別添2 → 別添1) and moved clauses still pair up.
   Pairs below ``MIN_MATCH`` are left unmatched: removed or added.
3. A pair whose normalised texts are equal is editorial (name, year, spacing)
   if the printed texts differ, renumbered or moved if only its place changed.
   Otherwise it is modified and substantive; its category comes from the
   changed words and the values found in it. A removed or added subtree is one
   item at its top clause.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.document import (
    Change,
    ChangeCategory,
    ChangeKind,
    Clause,
    DiffOp,
    Document,
    DocumentDiff,
    Value,
    ValueChange,
    ValueType,
)
from pipeline.nlp.values import extract_values

__all__ = ["DIFF_RULES", "MIN_MATCH", "change_record", "diff_documents", "value_text"]

DIFF_RULES = "diff_rules.v2"  # v2: values shown compact, shared qualifiers left out
MIN_MATCH = 0.45  # below this alignment score two clauses are not the same clause
MOVE_MIN = 0.8  # text similarity at which a clause pairs with one under another parent (moved)
TEXT_WEIGHT, HEADING_WEIGHT, PATH_WEIGHT = 0.6, 0.25, 0.15

_PUNCT = re.compile(r"[\s、。，．,.・:：;；()（）「」『』【】\[\]<>〈〉《》\"'“”‘’\-－‐―ー~～〜]+")
_ERA_FY = re.compile(r"令和\s*([0-9０-９元]+)\s*年度")
_AD_FY = re.compile(r"(20[0-9]{2})\s*年度")
_FY_MARK = "〈年度〉"
_REPEATED_SECRETARIAT = re.compile(r"(?:事務局){2,}")
# Spellings public documents use interchangeably (公用文の表記ゆれ): one is not a change from the other.
_SPELLINGS = {
    "下さい": "ください", "頂き": "いただき", "頂く": "いただく", "致し": "いたし", "致す": "いたす", "又は": "または",
    "及び": "および", "並びに": "ならびに", "若しくは": "もしくは", "出来": "でき", "取り扱": "取扱", "取扱い": "取扱",
    "申し込": "申込", "問い合わせ": "問合せ", "問合わせ": "問合せ", "お問合せ": "問合せ", "ヘ": "へ", "ニ": "二",
}  # fmt: skip

# Words that put a change in a category, tried in this order on the changed words, then the heading.
# fmt: off
# ruff: noqa: E501  (the rule table is data: one rule per line)
CATEGORY_RULES: tuple[tuple[ChangeCategory, re.Pattern[str]], ...] = (
    (ChangeCategory.CONTACT,     re.compile(r"問い?合わ?せ|E-?mail|メール|電話|TEL|担当|@|_atmark_|〒|所在地|住所")),
    (ChangeCategory.SECURITY,    re.compile(r"セキュリティ|情報管理|機密|個人情報|ISMAP|JC-STAR|インシデント|不正アクセス")),
    (ChangeCategory.EVALUATION,  re.compile(r"評価|審査|配点|採点|加点|点数|[0-9０-９]+\s*点|選定|採択基準|ヒアリング")),
    (ChangeCategory.AMOUNT,      re.compile(r"円|金額|限度額|上限額|委託費|予算|補助率|[0-9０-９]+\s*件|件数|採択件数|%|％")),
    (ChangeCategory.DEADLINE,    re.compile(r"[0-9０-９]+\s*月\s*[0-9０-９]+\s*日|期限|締切|締め切|必着|期間|まで|時\b|正午")),
    (ChangeCategory.ELIGIBILITY, re.compile(r"要件|資格|応募できる|対象|経験|能力|常駐|満たす|欠格|該当")),
    (ChangeCategory.DELIVERABLE, re.compile(r"報告書|成果物|納品|納入|実績報告|中間報告|計画書")),
    (ChangeCategory.PROCESS,     re.compile(r"提出|応募|申請|手続|書類|様式|別紙|説明会|送付|アップロード|承認|変更")),
)
# fmt: on
CATEGORY_WEIGHT = {
    ChangeCategory.AMOUNT: 5, ChangeCategory.DEADLINE: 5, ChangeCategory.ELIGIBILITY: 5,
    ChangeCategory.EVALUATION: 4, ChangeCategory.DELIVERABLE: 3, ChangeCategory.PROCESS: 3,
    ChangeCategory.SECURITY: 3, ChangeCategory.CONTACT: 2, ChangeCategory.OTHER: 1,
}  # fmt: skip


@dataclass(frozen=True)
class _Node:
    clause: Clause
    parent: str | None
    norm: str
    heading_norm: str
    subtree: tuple[str, ...]  # paths of this clause and all below it


def _fiscal_year_marked(text: str, fiscal_year: int | None) -> str:
    if fiscal_year is None:
        return text

    def era(m: re.Match[str]) -> str:
        digits = m.group(1).translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        year = 1 if digits == "元" else int(digits)
        return _FY_MARK if year + 2018 == fiscal_year else m.group(0)

    text = _ERA_FY.sub(era, text)
    return _AD_FY.sub(lambda m: _FY_MARK if int(m.group(1)) == fiscal_year else m.group(0), text)


def _normaliser(doc: Document, names: Sequence[str], renumbered: dict[str, str] | None = None) -> Iterator[_Node]:
    names = sorted({n for n in names if n}, key=len, reverse=True)
    refs = re.compile("|".join(map(re.escape, sorted(renumbered, key=len, reverse=True)))) if renumbered else None

    def norm(text: str) -> str:
        if refs is not None and renumbered is not None:
            # 「別添2」 in the old call is 「別添1」 in the new one: a renumbered reference is not a change
            text = refs.sub(lambda m: renumbered[m.group(0)], text)
        for n in names:
            text = text.replace(n, "事務局").replace(n.removeprefix("株式会社"), "事務局")
        text = text.replace("株式会社事務局", "事務局")
        for variant, standard in _SPELLINGS.items():
            text = text.replace(variant, standard)
        text = _PUNCT.sub("", _fiscal_year_marked(text, doc.source.fiscal_year))
        return _REPEATED_SECRETARIAT.sub("事務局", text)  # 「事務局（事務局）」 once the names are replaced

    def walk(clauses: Sequence[Clause], parent: str | None) -> Iterator[_Node]:
        for c in clauses:
            label = unicodedata.normalize("NFKC", c.label).strip()
            body = c.text.strip()
            body = body[len(label) :] if label and body.startswith(label) else body  # ⑥ → ⑦ is the number, not text
            yield _Node(c, parent, norm(body), norm(c.heading or ""), tuple(x.path for x in c.walk()))
            yield from walk(c.children, c.path)

    return walk(doc.clauses, None)


def _similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    from rapidfuzz import fuzz, process

    if not a or not b:
        return np.zeros((len(a), len(b)))
    return np.asarray(process.cdist(a, b, scorer=fuzz.ratio, workers=-1), dtype=np.float64) / 100.0


def _align(old: list[_Node], new: list[_Node]) -> list[tuple[int, int, float]]:
    from scipy.optimize import linear_sum_assignment

    if not old or not new:
        return []
    text = _similarity([n.norm for n in old], [n.norm for n in new])
    heading = _similarity([n.heading_norm for n in old], [n.heading_norm for n in new])
    heading[np.array([not n.heading_norm for n in old]), :] = 0.0
    heading[:, np.array([not n.heading_norm for n in new])] = 0.0
    # a heading-only clause (「【支援メニューの例】」) has no body to compare: its heading stands for it
    old_empty = np.array([not n.norm for n in old])[:, None]
    new_empty = np.array([not n.norm for n in new])[None, :]
    text = np.where(old_empty | new_empty, heading, text)
    same_path = np.array([[o.clause.path == n.clause.path for n in new] for o in old], dtype=np.float64)
    score = TEXT_WEIGHT * text + HEADING_WEIGHT * heading + PATH_WEIGHT * same_path
    rows, cols = linear_sum_assignment(-score)
    pairs = sorted(
        (int(r), int(c), float(text[r, c])) for r, c in zip(rows, cols, strict=True) if score[r, c] >= MIN_MATCH
    )
    # Keep the tree consistent: a clause pairs with one under its parent's partner, unless its own
    # text is nearly the same (then it moved). A weak match deep in a removed annex is no match.
    partner: dict[str, str] = {}
    kept = []
    for i, j, sim in pairs:  # old document order: parents before children
        o, n = old[i], new[j]
        if o.parent is None or partner.get(o.parent) == n.parent or sim >= MOVE_MIN:
            partner[o.clause.path] = n.clause.path
            kept.append((i, j, sim))
    return kept


_ANNEX = re.compile(r"^(別添|別紙|様式)\s*([0-9０-９]+(?:\s*[-－]\s*[0-9０-９]+)?)$")


def _renumbered_annexes(old: list[_Node], new: list[_Node], pairs: list[tuple[int, int, float]]) -> dict[str, str]:
    """Annex numbers that changed between aligned clauses: {「別添2」: 「別添1」, 「別添3」: 「別添2」}."""
    out: dict[str, str] = {}
    for i, j, _ in pairs:
        a, b = _ANNEX.match(old[i].clause.path), _ANNEX.match(new[j].clause.path)
        if a and b and a.group(0) != b.group(0) and a.group(1) == b.group(1):
            out[a.group(0)] = b.group(0)
    return out


# Changed characters that are only kana, long marks and punctuation: particles and okurigana
# (「について」→「に関して」 is not this; 「を」→「が」, 「取り扱い」→「取扱い」 is).
_MINOR = re.compile(r"^[ぁ-ゖー\s、。，．,.・()（）「」]*$")
MINOR_MAX_CHARS = 6


def _ops(old: str, new: str) -> list[DiffOp]:
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    out: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out.append(DiffOp(op="equal", text=old[i1:i2]))
            continue
        if i2 > i1:
            out.append(DiffOp(op="delete", text=old[i1:i2]))
        if j2 > j1:
            out.append(DiffOp(op="insert", text=new[j1:j2]))
    return out


def _values(text: str, year: int | None) -> list[Value]:
    out: list[Value] = []
    for line in text.split("\n"):
        out.extend(extract_values(line, base_year=year))
    return out


def _value_changes(old: Sequence[Value], new: Sequence[Value]) -> list[ValueChange]:
    out: list[ValueChange] = []
    for vtype in (ValueType.AMOUNT, ValueType.DATE, ValueType.COUNT, ValueType.RATE, ValueType.EMAIL,
                  ValueType.URL, ValueType.PHONE):  # fmt: skip
        a = [v for v in old if v.type is vtype]
        b = [v for v in new if v.type is vtype]
        na = [str(v.normalized) for v in a]
        nb = [str(v.normalized) for v in b]
        if na == nb:
            continue
        gone = [v for v in a if str(v.normalized) not in nb]
        came = [v for v in b if str(v.normalized) not in na]
        for i in range(max(len(gone), len(came))):
            o = gone[i] if i < len(gone) else None
            n = came[i] if i < len(came) else None
            out.append(
                ValueChange(
                    type=vtype,
                    old=_shown(o, n) if o else None,
                    new=_shown(n, o) if n else None,
                    old_normalized=o.normalized if o else None,
                    new_normalized=n.normalized if n else None,
                    delta=_delta(o, n),
                )
            )
    return out


def _shown(v: Value, other: Value | None = None) -> str:
    """The value as printed, for a reader: 「1 億円（上限, 税込）」 beside 「7,000 万円程度（上限, 税込）」 reads
    「1億円 → 7,000万円程度」.

    Spaces inside a number, date or amount are the extraction's, not the author's, and go. A qualifier
    both sides share (上限, 税込) is not news and is left out; one that differs is shown, after the
    value where Japanese writes it so (程度, 以内, まで), otherwise in brackets.
    """
    raw = re.sub(r"\s+", "", v.raw) if v.type in _COMPACT_TYPES else v.raw
    shared = set((other.qualifier or "").split(",")) if other is not None else set()
    quals = [w for w in (v.qualifier or "").split(",") if w and w not in v.raw and w not in shared]
    suffix = "".join(w for w in quals if w in _SUFFIX_QUALIFIERS)
    rest = [w for w in quals if w not in _SUFFIX_QUALIFIERS]
    return raw + suffix + (f"（{', '.join(rest)}）" if rest else "")


_COMPACT_TYPES = {ValueType.AMOUNT, ValueType.COUNT, ValueType.RATE, ValueType.DATE}
_SUFFIX_QUALIFIERS = {"程度", "以内", "以上", "以下", "未満", "まで", "前後", "超"}


def _delta(o: Value | None, n: Value | None) -> str | None:
    if o is None or n is None:
        return None
    if o.type is ValueType.AMOUNT and isinstance(o.normalized, int) and isinstance(n.normalized, int) and o.normalized:
        pct = round(100 * (n.normalized - o.normalized) / o.normalized)
        return f"{'+' if pct > 0 else '−' if pct < 0 else '±'}{abs(pct)}%"
    return None


def _category(changed: str, heading: str, values: Sequence[ValueChange]) -> ChangeCategory:
    if values:
        first = values[0].type
        if first is ValueType.AMOUNT or first is ValueType.COUNT or first is ValueType.RATE:
            return ChangeCategory.AMOUNT
        if first is ValueType.DATE:
            return ChangeCategory.DEADLINE
        if first in (ValueType.EMAIL, ValueType.PHONE):
            return ChangeCategory.CONTACT
    for text in (changed, heading):
        for category, pattern in CATEGORY_RULES:
            if pattern.search(text):
                return category
    return ChangeCategory.OTHER


def _pages(c: Clause) -> list[int]:
    return sorted({p.page_no for p in c.prov if p.page_no is not None})


def _importance(substantive: bool, category: ChangeCategory, ops: Sequence[DiffOp], values: int) -> float:
    changed = _changed_chars(ops)
    return (10.0 if substantive else 0.0) + CATEGORY_WEIGHT[category] + min(changed / 40, 5.0) + 2.0 * min(values, 2)


def diff_documents(old: Document, new: Document) -> DocumentDiff:
    """Compare two versions of a call clause by clause.

    Args:
        old: the earlier call, segmented (:func:`pipeline.structure.segment`).
        new: the later call, segmented.

    Returns:
        The change items, substantive first by importance, then editorial.

    Example:
        >>> d = diff_documents(fy2025, fy2026)                        # doctest: +SKIP
        >>> [c.reason for c in d.changes if c.new_path == "II.2"]     # doctest: +SKIP
        ['amount: 1億円 → 7,000万円程度 (−30%)']
    """
    names = [
        old.source.secretariat or "", new.source.secretariat or "", old.source.issuer or "", new.source.issuer or "",
    ]
    names = [n for n in names if n and n not in ("総務省", "経済産業省")]  # the ministry stays the same party
    old_nodes = list(_normaliser(old, names))
    new_nodes = list(_normaliser(new, names))
    pairs = _align(old_nodes, new_nodes)
    renumbered = _renumbered_annexes(old_nodes, new_nodes, pairs)
    if renumbered:  # compare the old texts with their references renumbered as the new call numbers them
        old_nodes = list(_normaliser(old, names, renumbered))
    matched_old = {i for i, _, _ in pairs}
    matched_new = {j for _, j, _ in pairs}
    old_parent_match = {old_nodes[i].clause.path: new_nodes[j].clause.path for i, j, _ in pairs}
    changes: list[Change] = []
    for i, j, sim in pairs:
        o, n = old_nodes[i], new_nodes[j]
        change = _pair_change(o, n, sim, old_parent_match, old.source.fiscal_year, new.source.fiscal_year)
        if change is not None:
            changes.append(change)
    changes += _unmatched(old_nodes, matched_old, ChangeKind.REMOVED, old.source.fiscal_year)
    changes += _unmatched(new_nodes, matched_new, ChangeKind.ADDED, new.source.fiscal_year)
    changes.sort(key=lambda c: (not c.substantive, -c.importance, c.new_path or c.old_path or ""))
    return DocumentDiff(old=old.source, new=new.source, changes=changes, produced_by={"diff": DIFF_RULES})


def change_record(c: Change) -> dict[str, object]:
    """A change item as JSON data (``koubo diff --format json``, ``koubo changes`` and the server's API)."""
    return {
        "kind": c.kind.value,
        "substantive": c.substantive,
        "category": c.category.value,
        "reason": c.reason,
        "old_path": c.old_path,
        "new_path": c.new_path,
        "old_heading": c.old_heading,
        "new_heading": c.new_heading,
        "old_text": c.old_text,
        "new_text": c.new_text,
        "old_pages": c.old_pages,
        "new_pages": c.new_pages,
        "diff": [op.model_dump() for op in c.diff],
        "values": [{"type": v.type.value, "old": v.old, "new": v.new, "delta": v.delta} for v in c.values],
    }


def _pair_change(
    o: _Node, n: _Node, sim: float, parent_match: dict[str, str], old_year: int | None, new_year: int | None
) -> Change | None:
    oc, nc = o.clause, n.clause
    moved = o.parent is not None and parent_match.get(o.parent) != n.parent
    renumbered = oc.label != nc.label or oc.path.rsplit(".", 1)[-1] != nc.path.rsplit(".", 1)[-1]
    ops = _ops(oc.text, nc.text) if oc.text != nc.text else []
    base = dict(
        old_path=oc.path, new_path=nc.path, old_heading=oc.heading, new_heading=nc.heading,
        old_text=oc.text, new_text=nc.text, old_pages=_pages(oc), new_pages=_pages(nc), diff=ops, similarity=sim,
    )  # fmt: skip
    if o.norm == n.norm:
        if moved or renumbered:
            kind = ChangeKind.MOVED if moved else ChangeKind.RENUMBERED
            reason = f"{'moved' if moved else 'renumbered'}: {oc.path} → {nc.path}, same text"
        elif ops:
            kind, reason = ChangeKind.MODIFIED, "editorial: " + _editorial_reason(ops)
        else:
            return None
        category = ChangeCategory.OTHER
        return Change(kind=kind, substantive=False, category=category, reason=reason,
                      importance=_importance(False, category, ops, 0), **base)  # fmt: skip
    values = _value_changes(_values(oc.text, old_year), _values(nc.text, new_year))
    # what changed once names, years, spellings and punctuation are set aside
    changed = "".join(op.text for op in _ops(o.norm, n.norm) if op.op != "equal")
    reworded = not values and _same_content_words(o.norm, n.norm)
    if (not values and len(changed) <= MINOR_MAX_CHARS and _MINOR.match(changed)) or reworded:
        category = ChangeCategory.OTHER
        why = "the same content words" if reworded else f"wording only ({changed!r}: particles, okurigana)"
        return Change(kind=ChangeKind.MODIFIED, substantive=False, category=category, reason=f"editorial: {why}",
                      importance=_importance(False, category, ops, 0), **base)  # fmt: skip
    category = _category(changed, nc.heading or oc.heading or "", values)
    reason = "; ".join(value_text(v) for v in values) or f"text changed ({_changed_chars(ops)} characters)"
    return Change(kind=ChangeKind.MODIFIED, substantive=True, category=category, reason=reason, values=values,
                  importance=_importance(True, category, ops, len(values)), **base)  # fmt: skip


def _unmatched(nodes: list[_Node], matched: set[int], kind: ChangeKind, year: int | None) -> list[Change]:
    """One change per unmatched subtree top: a removed annex with its 40 clauses is one item."""
    unmatched_paths = {nodes[i].clause.path for i in range(len(nodes)) if i not in matched}
    out: list[Change] = []
    for i, node in enumerate(nodes):
        if i in matched or (node.parent is not None and node.parent in unmatched_paths):
            continue
        c = node.clause
        whole = "\n".join(x.text for x in c.walk())
        values = [
            ValueChange(type=v.type, old=_shown(v) if kind is ChangeKind.REMOVED else None,
                        new=_shown(v) if kind is ChangeKind.ADDED else None)
            for v in _values(whole, year)
            if v.type in (ValueType.AMOUNT, ValueType.DATE, ValueType.COUNT, ValueType.RATE)
        ][:6]  # fmt: skip
        substantive = (bool(node.norm) and len(node.norm) > len(node.heading_norm)) or len(node.subtree) > 1
        category = _category(c.text, c.heading or "", [])  # its own words: an annex's contact lines are not its point
        n_below = len(node.subtree) - 1
        reason = f"{kind.value}: {c.path}" + (f" with {n_below} clauses below it" if n_below else "")
        op = DiffOp(op="delete" if kind is ChangeKind.REMOVED else "insert", text=whole)
        side = "old" if kind is ChangeKind.REMOVED else "new"
        out.append(
            Change(
                kind=kind, substantive=substantive, category=category, reason=reason, values=values, diff=[op],
                importance=_importance(substantive, category, [op], len(values)),
                **{f"{side}_path": c.path, f"{side}_heading": c.heading, f"{side}_text": whole,
                   f"{side}_pages": _pages(c)},
            )
        )  # fmt: skip
    return out


# Words whose coming or going does not change what a clause requires.
_GENERIC_WORDS = frozenset({"場合", "事項", "際", "上", "中", "旨", "方", "点", "よう", "的", "その他", "本", "当該", "各"})


def _same_content_words(old: str, new: str) -> bool:
    """Whether two texts use the same content words (Sudachi normalised forms), generic words aside."""
    from pipeline.index.sparse import tokenize

    a, b = set(tokenize(old)), set(tokenize(new))
    return not (a ^ b) - _GENERIC_WORDS


def _changed_chars(ops: Sequence[DiffOp]) -> int:
    return sum(len(o.text) for o in ops if o.op != "equal")


def _editorial_reason(ops: Sequence[DiffOp]) -> str:
    changed = "".join(o.text for o in ops if o.op != "equal")
    if not _PUNCT.sub("", changed):
        return "spacing or punctuation only"
    if "年度" in changed or re.search(r"令和|20[0-9]{2}", changed):
        return "fiscal year rolled over"
    return "secretariat's name or the same words"


def value_text(v: ValueChange) -> str:
    """A value delta as a reader sees it: 「amount: 1億円 → 7,000万円程度 (−30%)」."""
    delta = f" ({v.delta})" if v.delta else ""
    return f"{v.type.value}: {v.old or '—'} → {v.new or '—'}{delta}"
