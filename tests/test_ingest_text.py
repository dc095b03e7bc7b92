"""Text/markdown ingestion of the seed format: the quirks of the converted call documents."""

from __future__ import annotations

import pytest

from conftest import CORPORA
from pipeline.document import BlockKind
from pipeline.ingest.normalize import join_lines, repair, to_text
from pipeline.ingest.text import html_pieces, parse_text

FY2026 = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
FY2025 = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt"
DIGITAL = CORPORA / "digital-jinzai/2026/digital-jinzai-platform_fy2026_meti.txt"


def _find(doc, needle):
    hits = [b for b in doc.blocks if needle in b.orig]
    assert hits, f"no block contains {needle!r}"
    return hits[0]


# fmt: off
JOIN_CASES = [
    ("地域の状況・ニ", "ーズを踏まえ", "地域の状況・ニーズを踏まえ"),
    ("１，０", "００万円", "１，０００万円"),
    ("1,0", "00万円", "1,000万円"),
    ("for the", "applicant", "for the applicant"),
    ("DX", "推進", "DX推進"),
    ("https://www.soumu.go.jp/", "menu_seisaku/", "https://www.soumu.go.jp/menu_seisaku/"),
]
# fmt: on


@pytest.mark.parametrize(("a", "b", "want"), JOIN_CASES)
def test_join_lines_is_cjk_aware(a, b, want):
    """This test ensures that wrapped lines rejoin with no space in Japanese or inside numbers."""
    assert join_lines(a, b) == want


def test_orig_keeps_numbering_text_normalises():
    """This test ensures that orig keeps markers as printed and text applies NFKC and folds spaces."""
    assert repair("（１）⽉末まで") == "（１）月末まで"  # Kangxi radical ⽉ U+2F49 → 月
    assert repair("\uf0b7 項目") == "• 項目"  # Symbol-font private-use bullet
    assert to_text("（１）　応募者の 資格  要件") == "(1) 応募者の資格要件"
    assert to_text("ｱ．地域 DX 推進") == "ア.地域 DX 推進"
    assert to_text("地域　 推進") == "地域推進"


def test_markdown_heading_marks_become_hints(ingested):
    """This test ensures that markdown '#' marks are dropped from the text and kept only as a level hint."""
    doc = ingested(FY2026)
    b = _find(doc, "業務委託費限度額")
    assert b.kind is BlockKind.HEADING
    assert b.orig == "2. 業務委託費限度額"
    assert b.hint_level == 3
    assert not any(x.orig.startswith("#") for x in doc.blocks)


def test_bold_marks_and_hard_breaks(ingested):
    """This test ensures that a bold title over several hard-broken lines loses its ** but keeps its line breaks."""
    doc = ingested(FY2026)
    title = doc.blocks[0]
    assert title.bold
    assert title.orig.startswith("令和8年度（令和7年度補正予算）\n総務省 地域社会 DX 推進パッケージ事業")
    assert "**" not in title.orig
    assert title.prov[0].line_start == 3 and title.prov[0].line_end == 7


def test_html_fragments_become_clean_blocks(ingested):
    """This test ensures that <p>/<ul>/<li> fragments and &lt; entities become plain blocks, and
    Japanese text in angle brackets is not mistaken for a tag."""
    doc = ingested(FY2026)
    assert not any("<p>" in b.orig or "<li>" in b.orig or "&lt;" in b.orig for b in doc.blocks)
    label = [b for b in doc.blocks if b.orig == "<事業開発・企画>"]
    assert len(label) == 1
    i = doc.blocks.index(label[0])
    assert doc.blocks[i + 1].kind is BlockKind.LIST_ITEM
    assert doc.blocks[i + 1].orig == "共創型事業開発等のビジネスアーキテクト、ビジネスデザインの経験・実績"

    doc25 = ingested(FY2025)
    se = [b for b in doc25.blocks if b.orig == "<SE>"]
    assert se, "the <SE> label of the FY2025 call (no <li> tags, items split at ' - ')"
    j = doc25.blocks.index(se[0])
    assert [b.orig for b in doc25.blocks[j + 1 : j + 4]] == [
        "ネットワーク・セキュリティ・SaaS 系システムエンジニアの経験・実績",
        "業務アプリケーションスペシャリストの経験・実績",
        "インフラエンジニアの経験・実績",
    ]


def test_html_pieces_inline_tags_and_entities():
    """This test ensures that inline tags are unwrapped and block tags split, entities decoded."""
    assert html_pieces("<p>&lt;SE&gt;</p> <ul><li>- インフラ</li></ul>") == [("<SE>", False), ("インフラ", True)]
    assert html_pieces("率とします<sup>1</sup>。<br>次に") == [("率とします<sup>1</sup>。", False), ("次に", False)]


def test_tab_table_with_blank_line_inside(ingested):
    """This test ensures that the FY2025 評価項目 table, whose rows are parted by a blank line, is one table
    with its cells, and that its text is not also in the body."""
    doc = ingested(FY2025)
    tables = [b for b in doc.blocks if b.kind is BlockKind.TABLE and "評価項目" in b.orig]
    assert len(tables) == 1
    t = tables[0].table
    assert t is not None
    header = [c.orig for c in t.rows()[0]]
    assert header[0] == "評価項目 (提案書該当箇所)"
    assert header[-1] == "評価・採点の視点"
    row = next(r for r in t.rows() if r[0].orig.startswith("(1)類似業務の実績"))
    assert [c.orig for c in row[1:6]] == ["10", "8", "6", "3", "0"]
    assert "<類似業務の実績>" in row[6].orig and "<p>" not in row[6].orig
    # the row after the blank line (six empty cells, then the text) belongs to the same table
    assert any(c.orig.startswith("効果的に実施するための追加の取組") for c in t.cells)
    assert not any(b.kind is not BlockKind.TABLE and b.orig.startswith("(1)類似業務の実績") for b in doc.blocks)


def test_markdown_rule_rows_are_not_table_rows(ingested):
    """This test ensures that a '-----<TAB>--' rule line closing a table is not kept as a data row."""
    doc = ingested(DIGITAL)
    for b in doc.blocks:
        if b.table:
            for c in b.table.cells:
                assert set(c.orig) - set("-: ") or not c.orig


def test_word_broken_across_blank_line_is_rejoined(ingested):
    """This test ensures that 「ニ」 + blank line + 「ーズ」 in the FY2026 call is one word in one block."""
    doc = ingested(FY2026)
    b = _find(doc, "地域の状況・ニーズを踏まえつつ")
    assert b.prov[0].line_start == 74 and b.prov[0].line_end == 76
    assert not any(x.orig.startswith("ーズ") for x in doc.blocks)


def test_list_items_keep_printed_bullet(ingested):
    """This test ensures that '- ・ item' keeps the printed ・ and drops the markdown '- '."""
    doc = ingested(FY2025)
    b = _find(doc, "地方公共団体に常駐する間は、本業務に専念すること")
    assert b.kind is BlockKind.LIST_ITEM
    assert b.orig.startswith("・")


def test_marker_lines_in_a_group_are_separate_blocks():
    """This test ensures that consecutive numbered lines become blocks of their own while other
    consecutive lines stay one block with their printed line breaks."""
    blocks = parse_text(
        "応募の流れ\n1. 支援地域の公募\n2. 伴走支援事業者の公募\n\n経 済 産 業 省\n商 務 情 報 政 策 局\n"
    )
    assert [(b.kind.value, b.orig) for b in blocks] == [
        ("paragraph", "応募の流れ"),
        ("list_item", "1. 支援地域の公募"),
        ("list_item", "2. 伴走支援事業者の公募"),
        ("paragraph", "経 済 産 業 省\n商 務 情 報 政 策 局"),
    ]


def test_pipe_table():
    """This test ensures that a markdown pipe table becomes cells, its separator row dropped."""
    (b,) = parse_text("| 区分 | 上限額 |\n|---|---|\n| 人件費 | 1億円 |\n")
    assert b.kind is BlockKind.TABLE and b.table is not None
    assert [[c.orig for c in r] for r in b.table.rows()] == [["区分", "上限額"], ["人件費", "1億円"]]


def test_atmark_address_and_markdown_link_kept_readable(ingested):
    """This test ensures that e-mail addresses written with _atmark_ survive, and markdown links
    keep their URL without the backslash escapes."""
    doc = ingested(FY2026)
    assert any("dx-seis_atmark_nttdata-strategy.com" in b.orig for b in doc.blocks)
    assert any("https://www.soumu.go.jp/menu_seisaku/chiho/koikiri_jonrenkei.html" in b.orig for b in doc.blocks)
    assert not any("\\_" in b.orig for b in doc.blocks)


# fmt: off
PAGE_BREAK_CASES = [
    # (file, text before the break, text after it): one block holds both
    (FY2026, "遅くとも 1 時間以内に行わ", "れるように留意して行うこと。"),  # verb cut inside its ending
    (FY2026, "代表機関に情報", "管理統括責任者を設置することを含む。)を構築すること"),  # bracket closed after
    (FY2026, "かつ、当該知的", "財産権を相当期間活用していないことについて"),  # kanji word cut
    (FY2026, "資機材の保管等に必要", "なスペースを確保するための不動産賃借"),  # footnote in between
    (FY2026, "事務所をいう。))", "の代表者、団体である場合は代表者"),  # particle never opens a sentence
    (FY2025, "借料に計上し", "てください)。"),
]
# fmt: on


@pytest.mark.parametrize(("path", "before", "after"), PAGE_BREAK_CASES)
def test_sentence_broken_by_a_page_break_is_one_block(ingested, path, before, after):
    """This test ensures that a sentence cut where a page ended (a blank line, maybe a footnote) is one block again."""
    doc = ingested(path)
    b = _find(doc, before)
    assert after in b.orig, b.orig[-80:]
    assert not any(x.orig.startswith(after[:8]) for x in doc.blocks)


def test_page_break_joins_leave_real_paragraphs_apart(ingested):
    """This test ensures that a heading, a label and a sentence opening with なお are not glued to the text before."""
    doc = ingested(FY2026)
    heading = _find(doc, "伴走支援事業者の法人としての経験、能力")
    assert "以下の要件を満たす必要があります" not in heading.orig
    footnote = _find(doc, "コンソーシアムの構成員ごとに異なる率を設定します")
    assert footnote.kind is BlockKind.FOOTNOTE and "不動産賃借" not in footnote.orig
    assert [b for b in parse_text("- ・ 調査の実施\n\nなお、詳細は別途通知します。\n") if b.orig.startswith("なお")]
    assert len(parse_text("- ・ 支援の期間：令和8年3月まで\n\n支援メニュー例：研修\n")) == 2
