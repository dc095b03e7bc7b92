"""The requirements stage over real clause trees, GiNZA subjects, and the outline/requirements commands."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

from typer.testing import CliRunner

from conftest import CORPORA
from pipeline.cli import app
from pipeline.document import Modality, ValueType
from pipeline.nlp import DocumentActors, find_requirements, sentence_contexts
from pipeline.nlp.ginza import GinzaParser
from pipeline.nlp.modality import MODALITY_RULES, classify, find_subject
from pipeline.structure import segment

FY2026_TXT = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.txt"
FY2025_TXT = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.txt"
runner = CliRunner()


@cache
def _parser() -> GinzaParser:
    return GinzaParser()  # loaded once per session: ~2 s


def test_sentences_are_read_under_the_nearest_title(ingested):
    """This test ensures that each sentence of a real call is read under the title the clause tree puts over it: an
    item under its enclosing title, not under its own text; a heading line under its parent's title; a caption line
    under none; a bracketed title on the cover over the date below it; an annex's region title with its brackets."""
    rows = sentence_contexts(segment(ingested(FY2026_TXT)))

    def under(path: str, start: str) -> str | None:
        (heading,) = {r.heading for r in rows if r.path == path and r.sentence.startswith(start)}
        return heading

    qualification = "イ. 伴走支援事業者の法人としての経験、能力"
    assert under("IV.1.(1).イ.①", "① 受託する伴走支援事業") == qualification  # its own text is not its title
    assert under("IV.1.(1).イ.⑦", "⑦ 業務実施のバックアップ") == qualification
    assert under("IV.1.(1).イ", "イ. 伴走支援事業者の法") == "(1) 応募者の資格要件"  # the heading line itself
    assert under("IV.1.(1).ロ.b", "<コンサルティング>") is None  # a caption, not a condition
    assert under("IV.1.(1).ロ.b", "官公庁・企業等におけるデジタル化") == "b. 常駐支援者の経験・能力"
    assert under("front", "令和8年4月7日～同年4月28日") == "【応募受付期間】"
    # the default subject follows the title: the applicant under one about applying, else the main actor
    defaults = {r.heading: r.default for r in rows}
    assert defaults["【応募受付期間】"] == "応募者" and defaults[qualification] == "伴走支援事業者"
    rows2025 = sentence_contexts(segment(ingested(FY2025_TXT)))
    # a bracket title is its label as printed (「【3 町村の受入体制】」, not the path's 「3町村の受入体制」), once
    towns = {r.sentence: r.heading for r in rows2025 if r.path.startswith("別添1-1.4.(4).【3町村の受入体制】")}
    assert towns["【3 町村の受入体制】"] == "(4) 伴走支援を受け入れる体制"
    assert towns["・各町村とも情報システム担当職員が対応。"] == "【3 町村の受入体制】"
    region = [r for r in rows2025 if r.path.endswith("【新潟県】")]
    body = [r for r in region if r.sentence != "【新潟県】"]  # the title line itself sits under the section above
    assert len(body) > 5 and {r.heading for r in body} == {"【新潟県】"}


def test_a_regions_own_annex_has_that_region_as_author(ingested):
    """This test ensures that the sentences of a case annex a region wrote about itself (「別添1-3 希望する伴走支援に
    ついて（新潟県）」) carry that region as their author, the call's own body none, and that a plan the region states
    there without an actor is not a requirement while the call's plain-form duties still are."""
    doc = segment(ingested(FY2025_TXT))
    rows = sentence_contexts(doc)
    authors = {r.path.split(".", 1)[0]: r.author for r in rows if r.path.startswith("別添")}
    assert authors["別添1-3"] == "新潟県" and authors["別添1-7"] == "京都府" and authors["別添1-14"] == "沖縄県"
    assert authors["別添2"] is None and authors["別添3"] is None  # the call's own annexes
    assert {r.author for r in rows if not r.path.startswith("別添")} == {None}
    assert {r.author for r in sentence_contexts(segment(ingested(FY2026_TXT)))} == {None}  # no case annexes
    said = {r.sentence: (r.modality, r.clause_path) for r in find_requirements(doc).requirements}
    plan = next(s for s in said if "県主催で立ち上げる" in s)
    assert said[plan][0] is Modality.NONE and said[plan][1].startswith("別添1-8")
    stated = next(s for s in said if s.startswith("伴走支援事業者は自らも市町と対話を重ねて"))
    assert said[stated][0] is Modality.OBLIGATION


def test_requirements_over_the_fy2026_call(ingested):
    """This test ensures that the FY2026 call yields typed requirements at their clause paths, with
    values: the budget cap with its qualifier, the application period, the resident-supporter rule."""
    doc = find_requirements(segment(ingested(FY2026_TXT)))
    by_path: dict[str, list] = {}
    for r in doc.requirements:
        by_path.setdefault(r.clause_path, []).append(r)
    cap = [v for r in by_path["II.2"] for v in r.values if v.type is ValueType.AMOUNT]
    assert [(v.normalized, v.qualifier) for v in cap] == [(70000000, "上限,程度,税込")]
    period = [r for r in by_path["IV.3.(3)"] if r.modality is Modality.DEADLINE]
    assert [v.normalized for v in period[0].values] == ["2026-04-07", "2026-04-28T15:00"]
    resident = by_path["IV.1.(1).ロ.b.・2"][0]
    assert "常駐支援者 1 名以上" in resident.sentence
    assert resident.modality in (Modality.OBLIGATION, Modality.ELIGIBILITY)
    assert doc.produced_by["modality"] == MODALITY_RULES  # the rule version is recorded
    kinds = {r.modality for r in doc.requirements}
    assert kinds >= {Modality.OBLIGATION, Modality.PROHIBITION, Modality.ELIGIBILITY, Modality.DEADLINE}


def test_document_actors():
    """This test ensures that a call's applicant term and main actor are counted from its text, and the
    applicant is the default subject under headings about applying."""
    actors = DocumentActors.of("応募者は… 伴走支援事業者は… 伴走支援事業者が… 応募者の… 申請者")
    assert actors == DocumentActors(applicant="応募者", main="伴走支援事業者")
    assert actors.default_subject("応募書類の提出方法") == "応募者"
    assert actors.default_subject("再委託の制限") == "伴走支援事業者"


def test_a_section_where_another_party_acts_binds_that_party(ingested):
    """This test ensures that a section whose sentences keep naming another party as their topic (the よろず call's
    information-security part speaks of 受注者, the call of 実施機関) gives its unstated subjects to that party
    (modality_rules.v20), while the rest of the call keeps its main actor, and a few mentions do not move it."""
    actors = DocumentActors(applicant="申請者", main="実施機関")
    assert actors.within(Counter({"受注者": 3})).main == "受注者"
    assert actors.within(Counter({"受注者": 2})).main == "実施機関"  # too few to be the section's own party
    assert actors.within(Counter({"受注者": 5, "実施機関": 3})).main == "実施機関"  # the main actor still acts there
    assert actors.within(Counter()).main == "実施機関"

    doc = find_requirements(segment(ingested(CORPORA / "yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt")))
    bound = Counter(
        (r.clause_path.split(".")[0], r.subject) for r in doc.requirements if r.modality is not Modality.NONE
    )
    security = "情報セキュリティに関する事項"
    assert bound[(security, "受注者")] > 100
    assert bound[(security, "実施機関")] < 5
    assert bound[("II", "実施機関")] > 50  # 「II. 実施機関の業務」 keeps the call's main actor
    edr = [r for r in doc.requirements if r.sentence.startswith("⑤EDR ソフトウェア等を利用し")]
    assert [(r.modality, r.subject) for r in edr] == [(Modality.OBLIGATION, "受注者")]


def test_a_subordinate_ga_clause_does_not_name_the_subject() -> None:
    """This test ensures that a が-subject inside a relative or subordinate clause
    (「事務局が指定する期日までに」「利用者が確認できるように」「労働者が同意した場合は」) is not taken for the
    sentence's subject, while a が-subject of the main clause still is (modality_rules.v21)."""
    assert find_subject("事務局が指定する期日までに、報告書を提出すること。") is None
    assert find_subject("発注者が定める「様式」に従い、報告すること。") is None
    assert find_subject("利用者が確認できるように、手順書を整備すること。") is None
    assert find_subject("労働者が同意した場合は、口座へ振り込むこと。") is None
    assert find_subject("補助事業者が発行するため、情報を整理すること。") is None
    assert find_subject("幹事法人が提案書を取りまとめて提出すること。") == "幹事法人"
    assert find_subject("実施機関が、報告書を作成すること。") == "実施機関"
    assert find_subject("受注者が国際規格を満たすこと。") == "受注者"  # 国際 is a word, not 〜の際
    # the next が is the main clause's
    assert find_subject("事務局が指定する様式を用いて、受託者が報告すること。") == "受託者"
    c = classify("事務局が指定する期日までに、報告書を提出すること。", default_subject="伴走支援事業者")
    assert (c.modality, c.subject) == (Modality.OBLIGATION, "伴走支援事業者")


def test_a_consultation_desk_is_not_a_heading_about_applying() -> None:
    """This test ensures that 相談 in a heading means applying only where it is not the name of a desk the main actor
    runs (the よろず call's 「ワンストップ相談窓口」, modality_rules.v21)."""
    actors = DocumentActors(applicant="申請者", main="実施機関")
    assert actors.default_subject("2-1. ワンストップ相談窓口の行うべき活動") == "実施機関"
    assert actors.default_subject("(5) 事前相談") == "申請者"
    assert actors.default_subject("6. 質問・相談の受付") == "申請者"


def test_a_lease_specifications_lessor_is_its_main_actor(ingested):
    """This test ensures that the lessor of a lease specification (賃貸人, modality_rules.v14) is found as a stated
    subject and, in the 東京都 仮設校舎 specification that names it far more often than 受注者, as the main actor whose
    duties its plain statements and bare items state."""
    from conftest import REALPDFS

    assert find_subject("賃貸人は、仮設校舎の引渡し前に清掃を行うこと。") == "賃貸人"
    doc = find_requirements(segment(ingested(REALPDFS / "tokyo_shiyousho_yamasaki_kasetsu_kariire.pdf")))
    subjects = Counter(r.subject for r in doc.requirements if r.modality is not Modality.NONE)
    assert subjects.most_common(1)[0][0] == "賃貸人"
    assert subjects["賃貸人"] > 10 * subjects["受注者"]


def test_ginza_finds_subjects_of_main_predicates():
    """This test ensures that GiNZA (loaded offline from the ja-ginza package, NER off) returns the
    subject of the main predicate when it is an actor, and nothing otherwise."""
    subjects = _parser().subjects(
        [
            "伴走支援事業者は、支援地域の地方公共団体に常駐支援者を配置しなければならない。",
            "委託先は、業務履行中に事故が発生した場合は、直ちに当社担当に通報しなければならないものとします。",
            "提出書類に不備がある場合は受理できません。",
        ]
    )
    assert subjects == ["伴走支援事業者", "委託先", None]
    assert "ner" not in _parser().nlp.pipe_names


def test_parser_is_asked_only_where_rules_found_no_subject(ingested):
    """This test ensures that only requirement sentences without a rule-found subject go to the parser."""

    class Recorder:
        name = "recorder"

        def __init__(self) -> None:
            self.seen: list[str] = []

        def subjects(self, sentences: list[str]) -> list[str | None]:
            self.seen.extend(sentences)
            return [None] * len(sentences)

    rec = Recorder()
    doc = find_requirements(segment(ingested(FY2026_TXT)), rec)
    asked = set(rec.seen)
    assert 0 < len(asked) < len(doc.requirements) / 2
    assert not any(r.sentence in asked for r in doc.requirements if r.modality is Modality.NONE)
    assert all(find_subject(s) is None for s in asked)
    # a parser that finds nothing leaves the document's default subject in place
    assert all(r.subject for r in doc.requirements if r.sentence in asked)
    assert doc.produced_by["subject_parser"] == "recorder"


def test_outline_command_text_and_json(tmp_path, monkeypatch):
    """This test ensures that `koubo outline` prints the tree with paths, labels and pages, and that
    --format json gives nested nodes {path, label, heading, level, text, pages, children}."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    pdf = FY2026_TXT.with_suffix(".pdf")
    r = runner.invoke(app, ["outline", str(pdf)])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert any(line.split()[:3] == ["IV.1.(1).ロ.b", "b.", "常駐支援者の経験・能力"] for line in lines)
    assert "refers to 別添3, which this document does not have" in r.stderr
    cached = list((tmp_path / "out/documents").rglob("*.json"))
    assert len(cached) == 1, "the PDF is ingested once and cached by sha256"
    j = runner.invoke(app, ["outline", str(pdf), "--format", "json"])
    nodes = json.loads(j.stdout)
    iv = next(n for n in nodes if n["path"] == "IV")
    assert set(iv) == {"path", "label", "heading", "level", "text", "pages", "children"}
    assert iv["children"][0]["path"] == "IV.1" and iv["children"][0]["pages"]

    def paths(nodes: list[dict]) -> set[str]:
        return {n["path"] for n in nodes} | {p for n in nodes for p in paths(n["children"])}

    # JSON holds the items (①, ・) by default, --no-items leaves them out, and the printed tree leaves them out
    assert "IV.1.(1).ロ.b.・1" in paths(nodes)
    bare = json.loads(runner.invoke(app, ["outline", str(pdf), "--format", "json", "--no-items"]).stdout)
    assert "IV.1.(1).ロ.b.・1" not in paths(bare) and "IV.1.(1).ロ.b" in paths(bare)
    assert not any(line.split()[:1] == ["IV.1.(1).ロ.b.・1"] for line in lines)


def test_requirements_command_formats(tmp_path, monkeypatch):
    """This test ensures that `koubo requirements` filters by --kind and writes json and csv."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    r = runner.invoke(app, ["requirements", str(FY2026_TXT), "--kind", "deadline", "--no-ginza", "-f", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows and {x["modality"] for x in rows} == {"deadline"}
    assert set(rows[0]) == {"clause_path", "sentence", "modality", "subject", "values"}
    assert any(v["normalized"] == "2026-04-10T11:00" for x in rows for v in x["values"])
    c = runner.invoke(app, ["requirements", str(FY2026_TXT), "-k", "prohibition", "--no-ginza", "-f", "csv"])
    assert c.stdout.splitlines()[0] == "clause_path,modality,subject,sentence,values"
    assert len(c.stdout.splitlines()) > 5


def test_requirements_use_the_learned_model_unless_rules_only(tmp_path, monkeypatch):
    """This test ensures that `koubo requirements` decides with the rules and the learned model by default, and
    with the rules alone under --rules-only: a sub-title in the qualifications (「⑦ 業務実施のバックアップ体制等」),
    which the rules read as a bare condition under 「イ. 伴走支援事業者の法人としての経験、能力」, is a caption, none,
    to the model (guideline step 1)."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    rows = {}
    for flag in ([], ["--rules-only"]):
        r = runner.invoke(app, ["requirements", str(FY2026_TXT), "--all", "-f", "json", *flag])
        assert r.exit_code == 0, r.output
        rows[bool(flag)] = {(x["clause_path"], x["sentence"]): x["modality"] for x in json.loads(r.stdout)}
    assert rows[False].keys() == rows[True].keys()  # the same sentences, only some modalities differ
    header = ("IV.1.(1).イ.⑦", "⑦ 業務実施のバックアップ体制等")
    assert rows[True][header] == "eligibility"
    assert rows[False][header] == "none"
    changed = [k for k in rows[False] if rows[False][k] != rows[True][k]]
    assert 0 < len(changed) < 0.1 * len(rows[False])  # the model decides only where no trusted rule fired


def test_prepared_documents_record_the_model(tmp_path, monkeypatch):
    """This test ensures that a prepared document records the rules and the model that classified it, and that
    one classified by the rules alone (or another model) counts as stale, so the index prepares it again."""
    from pipeline.cli import prepare_document, prepared_by_current
    from pipeline.settings import Settings

    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    settings = Settings()
    doc = prepare_document(str(FY2026_TXT), settings)
    version = doc.produced_by["modality"]
    assert version.startswith(f"{MODALITY_RULES}+modality_model.v3:")
    assert {r.produced_by for r in doc.requirements} == {version}
    assert prepared_by_current(doc.produced_by, settings)
    assert not prepared_by_current({**doc.produced_by, "modality": MODALITY_RULES}, settings)
    assert not prepared_by_current({**doc.produced_by, "modality": f"{MODALITY_RULES}+modality_model.v3:0"}, settings)


def test_without_the_model_the_rules_decide_with_a_warning(tmp_path, monkeypatch, caplog):
    """This test ensures that where the learned model cannot be had (numpy or scikit-learn missing) the pipeline
    says so and goes on with the rules alone, and records that, instead of failing."""
    import sys

    from pipeline.cli import prepare_document
    from pipeline.nlp import _models
    from pipeline.settings import Settings

    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "out"))
    monkeypatch.setenv("KOUBO_MODELS", str(tmp_path / "models"))
    monkeypatch.setitem(sys.modules, "pipeline.nlp.learned", None)  # its import fails
    try:
        with caplog.at_level("WARNING", logger="pipeline.nlp"):
            doc = prepare_document(str(FY2026_TXT), Settings())
    finally:
        _models.clear()  # forget the None, for the tests after this one
    assert "rules alone decide" in caplog.text
    assert doc.produced_by["modality"] == MODALITY_RULES
    assert sum(r.modality is not Modality.NONE for r in doc.requirements) > 100
    assert not (tmp_path / "models").exists()
