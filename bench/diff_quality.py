"""Diff quality: koubo's substantive changes between the FY2025 and FY2026 calls against a hand-made gold list.

The gold list (``tests/data/changes_gold_fy2025_fy2026.jsonl``, 58 items) was made by reading both calls,
before any diff code existed; ``changes_editorial_fy2025_fy2026.jsonl`` lists 31 editorial-only edits.

A gold item is *found* when a substantive change of koubo's sits at its old or new clause path (or below
it). A koubo change is *right* when it sits at (or below) the path of some gold item. An editorial edit is
*wrongly flagged* when koubo marks its clause substantive and the gold list has no substantive item there.

Run:  .venv/bin/python bench/diff_quality.py [--misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.diff import diff_documents  # noqa: E402
from pipeline.document import Change  # noqa: E402
from pipeline.ingest import ingest_path, load_manifest  # noqa: E402
from pipeline.structure import segment  # noqa: E402

OLD = ROOT / "corpora/chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt"
NEW = ROOT / "corpora/chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
GOLD = ROOT / "tests/data/changes_gold_fy2025_fy2026.jsonl"
EDITORIAL = ROOT / "tests/data/changes_editorial_fy2025_fy2026.jsonl"


def _at(path: str | None, target: str | None) -> bool:
    return bool(path and target and (path == target or path.startswith(target + ".")))


def matches(c: Change, g: dict[str, str | None]) -> bool:
    if _at(c.old_path, g.get("old_path")) or _at(c.new_path, g.get("new_path")):
        return True
    # a removed (added) subtree is one item at its top: it covers gold items below it
    covered = _at(g.get("old_path"), c.old_path) or _at(g.get("new_path"), c.new_path)
    return c.kind.value in ("removed", "added") and covered


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--misses", action="store_true", help="list gold items not found and changes not in the gold")
    args = ap.parse_args(argv)
    manifest = load_manifest(ROOT / "corpora/MANIFEST.csv")
    docs = []
    for p in (OLD, NEW):
        d = ingest_path(p, manifest=manifest).document
        assert d is not None
        docs.append(segment(d))
    diff = diff_documents(docs[0], docs[1])
    gold = [json.loads(x) for x in GOLD.read_text(encoding="utf-8").splitlines() if x.strip()]
    editorial = [json.loads(x) for x in EDITORIAL.read_text(encoding="utf-8").splitlines() if x.strip()]
    sub = diff.substantive()
    found = [g for g in gold if any(matches(c, g) for c in sub)]
    right = [c for c in sub if any(matches(c, g) for g in gold)]
    flagged = [e for e in editorial if any(matches(c, e) for c in sub) and not any(
        (g.get("old_path") == e.get("old_path") or g.get("new_path") == e.get("new_path")) for g in gold)]
    print(f"koubo: {len(diff.changes)} change items, {len(sub)} substantive; gold: {len(gold)} substantive, "
          f"{len(editorial)} editorial")
    print(f"recall    {len(found) / len(gold):.3f}  ({len(found)} of {len(gold)} gold changes found)")
    print(f"precision {len(right) / len(sub) if sub else 0:.3f}  ({len(right)} of {len(sub)} substantive items "
          "are gold changes)")
    print(f"editorial edits wrongly flagged substantive: {len(flagged)} of {len(editorial)}")
    if args.misses:
        for g in gold:
            if g not in found:
                print(f"  missed {g['id']} {g['kind']} {g['old_path']} → {g['new_path']}: {g['summary'][:70]}")
        for c in sub:
            if c not in right:
                print(f"  extra  {c.kind.value} {c.old_path} → {c.new_path}: {c.reason[:70]}")
        for e in flagged:
            print(f"  flagged {e['id']} {e['old_path']} → {e['new_path']}: {e['summary'][:70]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
