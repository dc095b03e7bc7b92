"""Cross-year diff: the FY2025 call (三菱総合研究所) against the FY2026 call (NTTデータ経営研究所).

The expected changes come from reading both calls (tests/data/changes_gold_fy2025_fy2026.jsonl);
these tests pin the ones an applicant must not miss and the edits that must not be flagged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CORPORA, DATA
from pipeline.diff import diff_documents
from pipeline.document import Change, ChangeCategory, ChangeKind, DocumentDiff, ValueType
from pipeline.ingest import ingest_path, load_manifest
from pipeline.structure import segment

OLD = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt"
NEW = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"


@pytest.fixture(scope="module")
def diff() -> DocumentDiff:
    manifest = load_manifest(CORPORA / "MANIFEST.csv")
    docs = []
    for p in (OLD, NEW):
        d = ingest_path(Path(p), manifest=manifest).document
        assert d is not None
        docs.append(segment(d))
    return diff_documents(docs[0], docs[1])


def test_amount_change_with_its_delta(diff: DocumentDiff) -> None:
    """This test ensures that the headline change, 1億円 → 7,000万円程度 per region, is substantive with −30%."""
    c = next(c for c in diff.changes if c.new_path == "II.2")
    assert c.kind is ChangeKind.MODIFIED and c.substantive and c.category is ChangeCategory.AMOUNT
    amount = next(v for v in c.values if v.type is ValueType.AMOUNT and v.new)
    assert amount.old_normalized == 100_000_000 and amount.new_normalized == 70_000_000 and amount.delta == "−30%"
    assert "1億円 → 7,000万円程度 (−30%)" in c.reason
    assert diff.changes.index(c) < 10  # among the first things an applicant sees


def test_count_and_deadlines(diff: DocumentDiff) -> None:
    """This test ensures that the number of awards and the submission deadline are reported with their values."""
    count = next(c for c in diff.changes if c.new_path == "II.3")
    assert count.substantive and any(v.type is ValueType.COUNT for v in count.values)
    deadline = next(c for c in diff.changes if c.new_path == "IV.3.(2)")
    assert deadline.category is ChangeCategory.DEADLINE
    assert any(v.new and "令和8年4月" in v.new for v in deadline.values)


def test_removed_annexes_are_one_item_each(diff: DocumentDiff) -> None:
    """This test ensures that each of the 14 prefecture annexes missing from FY2026 is one removal, not hundreds."""
    removed = [c for c in diff.changes if c.kind is ChangeKind.REMOVED and (c.old_path or "").startswith("別添1-")]
    assert sorted(c.old_path for c in removed) == sorted(f"別添1-{i}" for i in range(1, 15))
    assert all(c.substantive and c.new_path is None for c in removed)


def test_renumbered_annex_and_new_secretariat_are_editorial(diff: DocumentDiff) -> None:
    """This test ensures that 別添2 pairs with 別添1 and a clause that only names the new secretariat is editorial."""
    c = next(c for c in diff.changes if c.old_path == "別添2" and c.new_path == "別添1")
    assert "別添" not in "".join(op.text for op in c.diff if op.op != "equal")  # the number is not the change
    names_only = [c for c in diff.changes if c.old_path == c.new_path == "III.3"]
    assert names_only and not any(c.substantive for c in names_only)


def test_against_the_gold_list(diff: DocumentDiff) -> None:
    """This test ensures that every gold change is found and that at least 0.8 of the substantive items are
    gold changes (the acceptance bar of bench/diff_quality.py, which prints the same figures)."""
    lines = (DATA / "changes_gold_fy2025_fy2026.jsonl").read_text(encoding="utf-8").splitlines()
    gold = [json.loads(x) for x in lines if x.strip()]

    def at(path: str | None, target: str | None) -> bool:
        return bool(path and target and (path == target or path.startswith(target + ".")))

    def matches(c: Change, g: dict[str, str | None]) -> bool:
        if at(c.old_path, g["old_path"]) or at(c.new_path, g["new_path"]):
            return True
        covered = at(g["old_path"], c.old_path) or at(g["new_path"], c.new_path)
        return c.kind.value in ("removed", "added") and covered  # a removed subtree is one item at its top

    sub = diff.substantive()
    found = [g for g in gold if any(matches(c, g) for c in sub)]
    right = [c for c in sub if any(matches(c, g) for g in gold)]
    assert len(found) / len(gold) >= 0.95
    assert len(right) / len(sub) >= 0.8, [c.new_path or c.old_path for c in sub if c not in right]


def test_diff_round_trips_as_json(diff: DocumentDiff) -> None:
    """This test ensures that a diff written as JSON reads back equal."""
    assert DocumentDiff.from_json(diff.to_json()) == diff


@pytest.mark.parametrize(
    ("old", "new", "noise"),
    [
        (
            "mhlw_careerup_shikyu_yoryo_R7-04.pdf",
            "mhlw_careerup_shikyu_yoryo_R7-07.pdf",
            r"-\s*\d+\s*-|[ＲR]\s*[７7]\s*[.．]",
        ),
        ("mhlw_koyohoken_gyomu_50301_H28-01.pdf", "mhlw_koyohoken_gyomu_50301_R7-10.pdf", r"-\s*\d+\s*-|28\.1|R7\.10"),
    ],
)
def test_real_version_pairs_have_no_layout_noise(ingested, old: str, new: str, noise: str) -> None:
    """This test ensures that page numbers, running footers with revision tags and contents pages of real
    version pairs produce no change items, while real changes are still found."""
    import re

    from conftest import REALPDFS

    d = diff_documents(segment(ingested(REALPDFS / old)), segment(ingested(REALPDFS / new)))
    changed = ["".join(op.text for op in c.diff if op.op != "equal") for c in d.changes]
    assert not [t[:60] for t in changed if re.search(noise, t)]
    top = {(c.old_path or c.new_path or "").split(".")[0] for c in d.changes}
    assert not any("#" in t for t in top)  # no contents page read as a second body
    assert len(d.substantive()) >= 10
