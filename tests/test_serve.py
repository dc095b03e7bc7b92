"""The web app and API in-process (FastAPI's TestClient): every endpoint, errors, escaping, the pages.

The index is built once per module from two corpus PDFs (the FY2025 and FY2026 calls, so page
images and the headline diff are real), the yorozu call as text, and a small text call whose
headings carry HTML, with the deterministic FakeEmbedder (hybrid search without the e5 model).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import CORPORA, FakeCompanion, FakeEmbedder
from pipeline.cli import app as cli_app
from pipeline.cli import prepare_document
from pipeline.index import ClauseIndex
from pipeline.index.companion import COMPANION_FILE
from pipeline.search import SearchFilters
from pipeline.serve import BatchingEmbedder, Library, create_app
from pipeline.serve.batching import MAX_BATCH, POOL_BATCH
from pipeline.settings import Settings

FY2025 = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.pdf"
FY2026 = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.pdf"
YOROZU = CORPORA / "yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.txt"
INJECTION = "<script>alert('koubo')</script>"
HOSTILE_CALL = f"""令和8年度 テスト事業{INJECTION} 公募要領

1. 事業の目的
本事業は、<img src=x onerror=alert(1)>を含む見出しの扱いを確かめるためのものである。

2. 応募資格
応募者は、日本国内に拠点を有する法人であること。
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An outputs folder with documents and an index, as `koubo index` leaves them."""
    out = tmp_path_factory.mktemp("serve")
    hostile = out / "hostile_call.txt"
    hostile.write_text(HOSTILE_CALL, encoding="utf-8")
    s = Settings(outputs=out / "outputs", corpora=CORPORA)
    with ClauseIndex(s.index_dir, FakeEmbedder()) as ix:
        for src in (FY2025, FY2026, YOROZU, hostile):
            assert ix.add(prepare_document(str(src), s)) == "added"
    return s


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    lib = Library(settings, BatchingEmbedder(FakeEmbedder()))
    with TestClient(create_app(settings, library=lib)) as c:
        yield c


@pytest.fixture(scope="module")
def ids(client: TestClient) -> dict[str, str]:
    """Document ids by file name."""
    docs = client.get("/api/documents").json()["documents"]
    return {d["file"]: d["id"] for d in docs}


def _clause_id(client: TestClient, doc_id: str, path: str) -> int:
    def walk(nodes: list[dict[str, object]]) -> Iterator[dict[str, object]]:
        for n in nodes:
            yield n
            yield from walk(n["children"])  # type: ignore[arg-type]

    outline = client.get(f"/api/documents/{doc_id}/outline", params={"items": True}).json()["outline"]
    found = [n["id"] for n in walk(outline) if n["path"] == path]
    assert found, f"{path} not in the outline"
    return int(found[0])  # type: ignore[call-overload]


def test_the_server_fuses_the_companion_without_writing(settings: Settings, tmp_path: Path) -> None:
    """This test ensures that a server given the companion model (as `koubo serve` is) fuses its ranking, batched
    and read-only: the companion file `koubo index` stored is read, not written."""
    import shutil

    copy = Settings(outputs=tmp_path / "outputs", corpora=CORPORA)
    shutil.copytree(settings.outputs, copy.outputs)
    with ClauseIndex(copy.index_dir, FakeEmbedder(), companion=FakeCompanion()) as ix:
        assert ix.store_companion() > 1000
    stored = (copy.index_dir / COMPANION_FILE).read_bytes()
    lib = Library(copy, BatchingEmbedder(FakeEmbedder()), companion=BatchingEmbedder(FakeCompanion()))
    with TestClient(create_app(copy, library=lib)) as c:
        hits = c.get("/api/search", params={"q": "再委託の上限", "k": 10}).json()["hits"]
        ranked = lib.search(["再委託の上限"], k=10, mode="hybrid", filters=SearchFilters())[0]
    assert hits and "再委託" in hits[0]["text"]
    assert [h.clause_id for h in ranked] == [h["clause_id"] for h in hits]
    assert any(h.companion_rank for h in ranked)
    assert (copy.index_dir / COMPANION_FILE).read_bytes() == stored
    with pytest.raises(ValueError, match="Library"):
        create_app(copy, library=lib, companion=FakeCompanion())


# --- the JSON API ---------------------------------------------------------------------------------


def test_documents(client: TestClient) -> None:
    """This test ensures that /api/documents lists every indexed call with its fiscal year and secretariat."""
    docs = {d["file"]: d for d in client.get("/api/documents").json()["documents"]}
    assert set(docs) == {FY2025.name, FY2026.name, YOROZU.name, "hostile_call.txt"}
    assert docs[FY2025.name]["fiscal_year"] == 2025
    assert docs[FY2026.name]["fiscal_year"] == 2026
    assert "NTT" in (docs[FY2026.name]["secretariat"] or "")
    assert docs[FY2026.name]["n_clauses"] > 100


def test_search_finds_the_clause(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that a search answers with the clause, its document, path, marks and page."""
    r = client.get("/api/search", params={"q": "再委託の上限", "k": 5, "year": 2026})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "hybrid"
    hits = body["hits"]
    assert hits and all(h["fiscal_year"] == 2026 for h in hits)
    top = hits[0]
    assert top["doc"] == ids[FY2026.name]
    assert "再委託" in top["text"]
    assert any("再委託" in top["text"][s:e] for s, e in top["marks"])
    assert top["pages"] and isinstance(top["clause_id"], int)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"year": 2025}, lambda h, ids: h["fiscal_year"] == 2025),
        ({"doc": "DOC:yorozu"}, lambda h, ids: h["doc"] == ids[YOROZU.name]),
        ({"kind": "deadline"}, lambda h, ids: "deadline" in h["modalities"]),
        ({"path": "IV"}, lambda h, ids: h["clause_path"] == "IV" or h["clause_path"].startswith("IV.")),
        ({"programme": "chiiki-dx"}, lambda h, ids: h["programme"] == "chiiki-dx"),
    ],
)
def test_search_filters(client: TestClient, ids: dict[str, str], params: dict[str, object], check) -> None:  # type: ignore[no-untyped-def]
    """This test ensures that each filter keeps only the clauses it names, and still returns hits."""
    if params.get("doc") == "DOC:yorozu":
        params = {"doc": ids[YOROZU.name]}
    hits = client.get("/api/search", params={"q": "提出の期限", "k": 10, **params}).json()["hits"]
    assert hits
    assert all(check(h, ids) for h in hits), [(h["doc"], h["clause_path"], h["modalities"]) for h in hits]


def test_search_sparse_and_dense_modes(client: TestClient) -> None:
    """This test ensures that the three modes answer, and that they rank differently."""
    tops = {}
    for mode in ("sparse", "dense", "hybrid"):
        body = client.get("/api/search", params={"q": "情報セキュリティの要件", "mode": mode}).json()
        assert body["mode"] == mode and body["hits"]
        tops[mode] = [(h["doc"], h["clause_path"]) for h in body["hits"]]
    assert tops["sparse"] != tops["dense"]


def test_outline_and_clause(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that the outline nests the numbering and a clause id from it opens that clause."""
    body = client.get(f"/api/documents/{ids[FY2026.name]}/outline").json()
    top = [n["path"] for n in body["outline"]]
    assert {"I", "II", "III", "IV"} <= set(top)

    def paths(nodes: list[dict]) -> set[str]:
        return {n["path"] for n in nodes} | {p for n in nodes for p in paths(n["children"])}

    # items are nodes by default, as in `koubo outline --format json`; items=false leaves them out
    assert "IV.1.(1).ロ.b.・1" in paths(body["outline"])
    bare = client.get(f"/api/documents/{ids[FY2026.name]}/outline", params={"items": False}).json()["outline"]
    assert "IV.1.(1).ロ.b.・1" not in paths(bare) and "IV.1.(1).ロ.b" in paths(bare)
    cid = _clause_id(client, ids[FY2026.name], "IV.1.(1)")
    clause = client.get(f"/api/clauses/{cid}").json()
    assert clause["clause_path"] == "IV.1.(1)"
    assert clause["doc"] == ids[FY2026.name]
    assert clause["pages"] and clause["boxes"]
    assert all(b["page"] in clause["pages"] and b["x1"] > b["x0"] for b in clause["boxes"])
    assert clause["children"] and all(c["path"].startswith("IV.1.(1).") for c in clause["children"])
    assert clause["requirements"], "IV.1.(1) states who may apply"
    assert {"eligibility", "obligation"} & {r["modality"] for r in clause["requirements"]}


def test_clause_values(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that a clause's requirements carry their normalised values (the 7,000万円 cap)."""
    hits = client.get(
        "/api/search", params={"q": "業務委託費の上限額 7,000万円", "doc": ids[FY2026.name], "k": 5}
    ).json()["hits"]
    found = []
    for h in hits:
        for r in client.get(f"/api/clauses/{h['clause_id']}").json()["requirements"]:
            found += [v for v in r["values"] if v["type"] == "amount"]
    assert any(v["normalized"] == 70_000_000 for v in found), found


def test_page_image(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that a clause's PDF page comes back as a PNG, and a page it is not on is a 404."""
    cid = _clause_id(client, ids[FY2026.name], "IV.1.(1)")
    clause = client.get(f"/api/clauses/{cid}").json()
    page = clause["pages"][0]
    r = client.get(f"/clauses/{cid}/pages/{page}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG") and len(r.content) > 10_000
    other = max(clause["pages"]) + 5
    r = client.get(f"/clauses/{cid}/pages/{other}.png")
    assert r.status_code == 404
    assert "not on page" in r.text


def test_diff_shows_the_headline_change(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that /api/diff reports the cap per region going from 1億円 to 7,000万円程度."""
    body = client.get("/api/diff", params={"old": ids[FY2025.name], "new": ids[FY2026.name]}).json()
    assert body["old"]["fiscal_year"] == 2025 and body["new"]["fiscal_year"] == 2026
    assert body["summary"]["substantive"] > 20
    amounts = [(v["old"], v["new"]) for c in body["changes"] for v in c["values"] if v["type"] == "amount"]
    assert ("1億円", "7,000万円程度") in amounts
    flags = [c["substantive"] for c in body["changes"]]
    assert flags == sorted(flags, reverse=True), "substantive changes come first"
    only = client.get(
        "/api/diff", params={"old": ids[FY2025.name], "new": ids[FY2026.name], "substantive_only": True}
    ).json()
    assert only["changes"] and all(c["substantive"] for c in only["changes"])
    cat = client.get(
        "/api/diff", params={"old": ids[FY2025.name], "new": ids[FY2026.name], "category": "amount"}
    ).json()
    assert cat["changes"] and all(c["category"] == "amount" for c in cat["changes"])


def test_changes_answers_the_question(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that /api/changes puts a change to the 常駐支援者 requirements first."""
    body = client.get(
        "/api/changes",
        params={"q": "常駐支援者の要件はどう変わった？", "old": ids[FY2025.name], "new": ids[FY2026.name], "k": 3},
    ).json()
    assert len(body["changes"]) == 3
    first = body["changes"][0]
    assert "常駐" in (first["new_heading"] or "") + (first["new_text"] or "") + (first["old_text"] or "")


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/api/search", "q: 指定してください (Field required)"),
        ("/api/search?q=a&k=1000", "k: 50以下を指定してください"),
        ("/api/search?q=a&k=0", "k: 1以上を指定してください"),
        ("/api/search?q=a&k=x", "k: 整数で指定してください"),
        ("/api/search?q=" + "あ" * 501, "q: 500文字以内で指定してください"),
        ("/api/diff?old=x&new=0123456789ab", "old: 形式が違います"),
    ],
)
def test_a_bad_parameter_is_told_in_japanese(client: TestClient, url: str, says: str) -> None:
    """This test ensures that a 422 names the parameter and says what is wrong in Japanese, then pydantic's English."""
    body = client.get(url).json()
    assert body["status"] == 422 and says in body["error"]


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/clauses/987654321", 404, "clause 987654321: not in the index"),
        ("/api/documents/0123456789ab/outline", 404, "document 0123456789ab: not in the index"),
        ("/api/documents/..%2F..%2Fetc%2Fpasswd/outline", 404, "no such page"),
        ("/api/documents/ZZZ/outline", 422, "doc_id"),
        ("/api/clauses/abc", 422, "clause_id"),
        ("/api/search", 422, "(Field required)"),
        ("/api/search?q=", 422, "q"),
        ("/api/search?q=a&k=0", 422, "k"),
        ("/api/search?q=a&k=1000", 422, "k"),
        ("/api/search?q=" + "あ" * 501, 422, "q"),
        ("/api/search?q=a&kind=maybe", 422, "kind"),
        ("/api/search?q=a&doc=../../etc", 422, "doc"),
        ("/api/search?q=a&mode=magic", 422, "mode"),
        ("/api/diff?old=0123456789ab&new=0123456789ac", 404, "not in the index"),
        ("/api/diff?old=x&new=y", 422, "old"),
        ("/api/changes?old=0123456789ab&new=0123456789ac", 422, "q"),
        ("/api/nothing-here", 404, "no such page"),
    ],
)
def test_error_shape(client: TestClient, url: str, status: int, says: str) -> None:
    """This test ensures that every API error is {"error": message, "status": code} with the right code."""
    r = client.get(url)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"error", "status"}
    assert body["status"] == status
    assert says in body["error"]


def test_no_write_endpoints(client: TestClient) -> None:
    """This test ensures that the API is read-only: a write is refused with the error shape and the Allow header."""
    for method in ("post", "put", "delete"):
        r = getattr(client, method)("/api/search?q=a")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET"
        assert r.json() == {"error": f"{method.upper()} /api/search: method not allowed (the API is read-only)",
                            "status": 405}  # fmt: skip


def test_static_files_stay_in_their_folder(client: TestClient) -> None:
    """This test ensures that no path from a request reads a file outside the app's static folder."""
    assert client.get("/static/koubo.css").status_code == 200
    for url in ("/static/..%2F..%2F..%2Fpyproject.toml", "/static/%2e%2e%2F%2e%2e%2F%2e%2e%2Fpyproject.toml",
                "/static/..%2F__init__.py", "/vendor/swagger/..%2F__init__.py"):  # fmt: skip
        r = client.get(url)
        assert r.status_code == 404, url
        assert "[build-system]" not in r.text and "import" not in r.text, url


def test_dense_without_the_model(settings: Settings) -> None:
    """This test ensures that a server without the embedder answers sparse search and refuses dense clearly."""
    lib = Library(settings, None)
    with TestClient(create_app(settings, library=lib)) as c:
        body = c.get("/api/search", params={"q": "再委託"}).json()
        assert body["mode"] == "sparse" and body["hits"]
        r = c.get("/api/search", params={"q": "再委託", "mode": "dense"})
        assert r.status_code == 422
        assert r.json()["error"] == (
            "dense search needs the embedding model; this server runs without it: use mode=sparse"
        )


def test_a_new_index_write_is_served(tmp_path: Path) -> None:
    """This test ensures that a running server sees what `koubo index` adds after it started, and not before."""
    s = Settings(outputs=tmp_path / "outputs", corpora=CORPORA)
    with ClauseIndex(s.index_dir, FakeEmbedder()) as ix:
        ix.add(prepare_document(str(YOROZU), s))
    lib = Library(s, FakeEmbedder())
    assert [d.path for d in lib.documents()] == [str(YOROZU)]
    with ClauseIndex(s.index_dir, FakeEmbedder()) as ix:  # another connection, as `koubo index` would be
        ix.add(prepare_document(str(FY2026), s))
    assert sorted(d.path for d in lib.documents()) == sorted([str(YOROZU), str(FY2026)])
    hits = lib.search(["常駐支援者"], k=3, mode="hybrid", filters=SearchFilters())[0]
    assert hits and hits[0].doc == next(d.id for d in lib.documents() if d.path == str(FY2026))
    lib.close()


def test_an_index_made_by_other_modality_rules_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """This test ensures that a server over an index whose documents were classified by other modality rules or
    model than its own, or read with other value rules, says so when it starts (the kind filter, the document pages
    and the value questions of search would disagree), and that an index made by this koubo raises no such warning."""
    import sqlite3

    s = Settings(outputs=tmp_path / "outputs", corpora=CORPORA)
    with ClauseIndex(s.index_dir, FakeEmbedder()) as ix:
        ix.add(prepare_document(str(YOROZU), s))
    with caplog.at_level("WARNING", logger="pipeline.serve.library"):
        Library(s, None).close()
    assert "run `koubo index`" not in caplog.text
    with sqlite3.connect(s.index_dir / "index.sqlite") as db:
        db.execute("UPDATE documents SET produced_by = json_set(produced_by, '$.modality', 'modality_rules.v1')")
    db.close()
    with caplog.at_level("WARNING", logger="pipeline.serve.library"):
        Library(s, None).close()
    assert "1 indexed documents were classified by other modality rules" in caplog.text
    assert "run `koubo index`" in caplog.text
    assert "other value rules" not in caplog.text
    with sqlite3.connect(s.index_dir / "index.sqlite") as db:
        db.execute("UPDATE documents SET produced_by = json_set(produced_by, '$.values', 'value_rules.v1')")
    db.close()
    caplog.clear()
    with caplog.at_level("WARNING", logger="pipeline.serve.library"):
        Library(s, None).close()
    assert "1 indexed documents were read with other value rules than this koubo's (value_rules.v2)" in caplog.text


def test_a_bug_answers_in_the_error_shape(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test ensures that an unexpected exception is a 500 in the error shape, not a bare text page."""
    lib = Library(settings, None)

    def broken() -> list[object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(lib, "documents", broken)
    with TestClient(create_app(settings, library=lib), raise_server_exceptions=False) as c:
        r = c.get("/api/documents")
        assert r.status_code == 500
        assert r.json() == {"error": "internal error (RuntimeError); the server's log has the details", "status": 500}
        page = c.get("/documents")
        assert page.status_code == 500 and "サーバーの内部エラー" in page.text


def test_the_server_writes_nothing(settings: Settings) -> None:
    """This test ensures that serving opens the index read-only: SQLite refuses a write, and no file changes."""
    before = {p.name: p.stat().st_mtime_ns for p in settings.index_dir.iterdir()}
    lib = Library(settings, FakeEmbedder())
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        lib._ensure_index().store.set_meta({"x": "y"})
    lib.close()
    assert {p.name: p.stat().st_mtime_ns for p in settings.index_dir.iterdir()} == before


def test_only_loopback_names_when_serving_on_loopback(settings: Settings) -> None:
    """This test ensures that a server on loopback refuses a request for another host name (DNS rebinding)."""
    lib = Library(settings, None)
    with TestClient(create_app(settings, library=lib, allowed_hosts=["127.0.0.1", "localhost"])) as c:
        assert c.get("/api/documents", headers={"host": "127.0.0.1:8000"}).status_code == 200
        assert c.get("/api/documents", headers={"host": "evil.example:8000"}).status_code == 400


def test_clause_of_a_text_document(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that a clause of a text call has its lines, no PDF page, and a page that still opens."""
    cid = _clause_id(client, ids[YOROZU.name], "V.3")
    clause = client.get(f"/api/clauses/{cid}").json()
    assert clause["pages"] == [] and clause["boxes"] == [] and clause["lines"][0] > 0
    page = client.get(f"/clauses/{cid}")
    assert page.status_code == 200 and "V.3" in page.text and "/pages/" not in page.text
    assert client.get(f"/clauses/{cid}/pages/1.png").status_code == 404


def test_clause_whose_document_json_is_gone(settings: Settings, tmp_path: Path) -> None:
    """This test ensures that a clause still opens from the index when its document's JSON was deleted."""
    import shutil

    s = Settings(outputs=tmp_path / "outputs", corpora=CORPORA)
    shutil.copytree(settings.outputs, s.outputs)
    lib = Library(s, None)
    doc_id = next(d.id for d in lib.documents() if d.path == str(YOROZU))
    for f in s.documents_dir.rglob(f"{doc_id}.json"):
        f.unlink()
    cid = lib.clause_ids(doc_id)["V.3"]
    with TestClient(create_app(s, library=lib)) as c:
        api = c.get(f"/api/clauses/{cid}").json()
        assert api["clause_path"] == "V.3" and api["text"] and api["requirements"] == []
        page = c.get(f"/clauses/{cid}")
        assert page.status_code == 200 and "outputs/documents" in page.text
        outline = c.get(f"/api/documents/{doc_id}/outline")
        assert outline.status_code == 404 and "koubo ingest" in outline.json()["error"]


def test_page_image_when_served_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test ensures that a page image renders when `koubo index` recorded a relative path and the server runs
    in another folder (the path is tried beside the corpus folder)."""
    s = Settings(outputs=tmp_path / "outputs", corpora=CORPORA)
    monkeypatch.chdir(CORPORA.parent)
    relative = FY2026.relative_to(CORPORA.parent)
    with ClauseIndex(s.index_dir, FakeEmbedder()) as ix:
        ix.add(prepare_document(str(relative), s))
    monkeypatch.chdir(tmp_path)
    lib = Library(s, None)
    assert [d.path for d in lib.documents()] == [str(relative)]
    cid = lib.clause_ids(lib.documents()[0].id)["IV.1.(1)"]
    page = lib.clause_row(cid).pages[0]
    assert lib.page_image(cid, page).startswith(b"\x89PNG")
    lib.close()


def test_page_images_at_once(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that many page images asked for at once (a browser loads them together) all render."""
    cid = _clause_id(client, ids[FY2026.name], "IV.1.(1)")
    pages = client.get(f"/api/clauses/{cid}").json()["pages"]
    other = _clause_id(client, ids[FY2025.name], "IV.1.(1)")
    urls = [f"/clauses/{cid}/pages/{p}.png" for p in pages]
    urls += [f"/clauses/{other}/pages/{p}.png" for p in client.get(f"/api/clauses/{other}").json()["pages"]]
    results: list[int] = []

    def fetch(url: str) -> None:
        r = client.get(url)
        results.append(r.status_code if r.content.startswith(b"\x89PNG") else -r.status_code)

    threads = [threading.Thread(target=fetch, args=(u,)) for u in urls * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * len(threads)


# --- escaping and the pages -------------------------------------------------------------------------


def test_injection_comes_back_escaped(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that markup in a question or in a document is shown as text on every page."""
    r = client.get("/", params={"q": INJECTION})
    assert r.status_code == 200
    assert INJECTION not in r.text
    assert "&lt;script&gt;alert(&#39;koubo&#39;)&lt;/script&gt;" in r.text
    hostile = ids["hostile_call.txt"]
    escaped = "&lt;script&gt;alert(&#39;koubo&#39;)&lt;/script&gt;"
    for url in (f"/documents/{hostile}?open=1", f"/clauses/{_clause_id(client, hostile, 'front')}"):
        page = client.get(url).text
        assert INJECTION not in page and "<img src=x" not in page, url
        assert escaped in page, url
    hits = client.get("/", params={"q": "onerror 含む", "doc": hostile}).text
    assert "&lt;img src=x" in hits and "<img src=x" not in hits and "alert(1)&gt;" in hits
    outline = client.get(f"/api/documents/{hostile}/outline").json()["outline"]
    assert INJECTION in outline[0]["text"]  # JSON carries the data as it is


def test_pages_carry_a_strict_policy(client: TestClient) -> None:
    """This test ensures that pages run no script and say so in their Content-Security-Policy."""
    r = client.get("/documents")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in r.text


def test_search_page(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that the search page lists hits with clause path, heading, marked text and page."""
    r = client.get("/", params={"q": "再委託の上限", "year": 2026})
    assert r.status_code == 200
    assert 'class="hit"' in r.text and "<mark>再委託</mark>" in r.text
    assert "p. " in r.text and f'href="/documents/{ids[FY2026.name]}"' in r.text
    assert '<option value="2026" selected>' in r.text


def test_search_form_with_empty_choices(client: TestClient) -> None:
    """This test ensures that the search form's empty choices (`doc=&year=&kind=&mode=`) mean no filter.

    Found by the browser test: the form sends every select, chosen or not."""
    r = client.get("/", params={"q": "再委託", "doc": "", "year": "", "kind": "", "mode": ""})
    assert r.status_code == 200 and 'class="hit"' in r.text
    assert client.get("/", params={"q": "再委託", "year": "令和8"}).status_code == 422


def test_document_page_outline(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that the document page folds its outline with <details> and badges requirements."""
    page = client.get(f"/documents/{ids[FY2026.name]}").text
    assert page.count("<details") > 20
    assert 'class="badge mod-' in page
    expanded = client.get(f"/documents/{ids[FY2026.name]}", params={"open": 1}).text
    assert expanded.count("<details open>") == page.count("<details")


def test_clause_page_shows_its_pdf_page(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that a clause page shows its text, requirements and an image of its PDF page."""
    cid = _clause_id(client, ids[FY2026.name], "IV.1.(1)")
    page = client.get(f"/clauses/{cid}").text
    assert "IV.1.(1)" in page and f'src="/clauses/{cid}/pages/' in page
    assert "要件" in page


def test_diff_page(client: TestClient, ids: dict[str, str]) -> None:
    """This test ensures that the diff page shows 1億円 → 7,000万円程度, marks insertions and deletions, filters."""
    url = f"/diff?old={ids[FY2025.name]}&new={ids[FY2026.name]}"
    page = client.get(url).text
    assert "1億円 → 7,000万円程度" in page
    assert "<ins>" in page and "<del>" in page
    assert page.index('id="important"') < page.index('id="all"')
    amount = client.get(url + "&category=amount").text
    assert amount.count('<tr id="c') < page.count('<tr id="c')
    asked = client.get(
        "/diff", params={"old": ids[FY2025.name], "new": ids[FY2026.name], "q": "常駐支援者の要件はどう変わった？"}
    ).text
    assert 'id="answers"' in asked and "常駐" in asked[asked.index('id="answers"') : asked.index('id="important"')]


def test_error_page_is_html(client: TestClient) -> None:
    """This test ensures that a page error is an HTML page with the same message, not JSON."""
    r = client.get("/clauses/987654321")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "clause 987654321: not in the index" in r.text


def test_openapi_docs_offline(client: TestClient) -> None:
    """This test ensures that /docs loads Swagger UI from the app itself (no CDN) and the schema lists the API."""
    page = client.get("/docs").text
    assert "/vendor/swagger/swagger-ui-bundle.js" in page and "cdn." not in page
    assert client.get("/vendor/swagger/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/documents", "/api/documents/{doc_id}/outline", "/api/clauses/{clause_id}",
            "/api/diff", "/api/changes"} <= set(paths)  # fmt: skip
    schema = client.get("/openapi.json").json()
    err422 = schema["paths"]["/api/search"]["get"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert err422["$ref"].endswith("/ErrorBody")  # the schema tells the error shape the API really answers


# --- the command ------------------------------------------------------------------------------------


def test_serve_get(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test ensures that `koubo serve --get` answers one request in-process and prints its body."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(settings.outputs))
    r = CliRunner().invoke(cli_app, ["serve", "--sparse-only", "--get", "/api/search?q=再委託&k=2"])
    assert r.exit_code == 0, r.output
    assert '"mode":"sparse"' in r.output.replace(" ", "")


def test_serve_names_a_wrong_precision_and_tells_how_questions_are_encoded() -> None:
    """This test ensures that `koubo serve --precision` refuses what is not a precision, naming the choices, and
    that the start-up line says how the server's encoders (or its one embedder) encode questions."""
    from types import SimpleNamespace

    from pipeline.cli_serve import _questions_note

    r = CliRunner().invoke(cli_app, ["serve", "--precision", "fp16", "--get", "/"])
    assert r.exit_code == 2 and "use auto, int8, bf16, fp32" in r.output
    pool = SimpleNamespace(members=[SimpleNamespace(precision="int8"), SimpleNamespace(precision="int8")])
    assert _questions_note(pool) == "questions encoded in int8; "
    assert _questions_note(SimpleNamespace(query_precision="bf16")) == "questions encoded in bf16; "
    assert _questions_note(None) == ""


def test_serve_without_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test ensures that serving before indexing fails with the command that builds the index."""
    monkeypatch.setenv("KOUBO_OUTPUTS", str(tmp_path / "empty"))
    r = CliRunner().invoke(cli_app, ["serve", "--sparse-only", "--get", "/"])
    assert r.exit_code == 1
    assert "no index to serve; build it first with `koubo index`" in r.output
    assert not (tmp_path / "empty").exists(), "serving must not create an index"


# --- batching -----------------------------------------------------------------------------------------


class SlowEmbedder(FakeEmbedder):
    """FakeEmbedder with a fixed cost per model call, as e5's is."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        time.sleep(0.05)
        return super().encode_queries(texts)


@pytest.mark.parametrize("batch", [True, False])
def test_concurrent_questions_share_model_calls(batch: bool) -> None:
    """This test ensures that questions asked at once go through fewer model calls, with the same vectors."""
    inner = SlowEmbedder()
    emb = BatchingEmbedder(inner, batch=batch, cache_size=0)
    questions = [f"質問 {i} 再委託の上限" for i in range(16)]
    out: dict[str, np.ndarray] = {}
    start = threading.Barrier(len(questions))

    def ask(q: str) -> None:
        start.wait()
        out[q] = emb.encode_queries([q])[0]

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    emb.close()
    expected = FakeEmbedder().encode_queries(questions)
    for i, q in enumerate(questions):
        assert np.allclose(out[q], expected[i])
    if batch:
        assert len(inner.batches) < len(questions) / 2, inner.batches
    else:
        assert len(inner.batches) == len(questions)


class PairedEmbedder(FakeEmbedder):
    """A fake pool of two encoders: ``concurrency`` 2, and it records how many calls ran at once."""

    concurrency = 2

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most = 0
        self.batches: list[int] = []
        self.closed = 0
        self.lock = threading.Lock()

    def close(self) -> None:
        self.closed += 1

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.batches.append(len(texts))
        time.sleep(0.1)
        with self.lock:
            self.running -= 1
        return super().encode_queries(texts)


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_pool_of_encoders_runs_batches_side_by_side(concurrency: int) -> None:
    """This test ensures that with a pool of encoders (``concurrency`` 2) two batches are encoded at once, each of
    at most POOL_BATCH questions, with the right vectors for every caller; that a single in-process model still
    gets one call at a time; and that closing stops the workers and the pool and refuses later questions."""
    inner = PairedEmbedder()
    inner.concurrency = concurrency
    emb = BatchingEmbedder(inner, cache_size=0)
    assert emb.workers == concurrency
    questions = [f"質問 {i} 常駐支援者の要件" for i in range(40)]
    out: dict[str, np.ndarray] = {}

    def ask(q: str) -> None:
        out[q] = emb.encode_queries([q])[0]

    threads = []
    for q in questions:  # staggered, so that the first batch is running while the others queue
        threads.append(threading.Thread(target=ask, args=(q,)))
        threads[-1].start()
        time.sleep(0.01)
    for t in threads:
        t.join()
    workers = list(emb._threads)
    assert len(workers) == concurrency
    emb.close()
    expected = FakeEmbedder().encode_queries(questions)
    for i, q in enumerate(questions):
        assert np.allclose(out[q], expected[i])
    assert inner.most == concurrency
    assert max(inner.batches) <= (POOL_BATCH if concurrency > 1 else MAX_BATCH), inner.batches
    assert max(inner.batches) > 1  # batched at all
    assert inner.closed == 1
    assert not [t for t in workers if t.is_alive()]
    with pytest.raises(RuntimeError, match="shut down"):
        emb.encode_queries(["閉じた後の質問"])


class GatedEmbedder(FakeEmbedder):
    """A fake pool of two encoders whose call for the question 「待て」 runs until the test opens the gate."""

    concurrency = 2

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.gate = threading.Event()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        if "待て" in texts:
            assert self.gate.wait(timeout=30)
        return super().encode_queries(texts)


def test_a_free_encoder_gathers_as_many_questions_as_the_running_batch() -> None:
    """This test ensures that, with a pool, a question asked while nothing is being encoded goes at once; that
    questions arriving one by one while another batch runs are gathered into one call as large as that batch,
    instead of each taking a model call of its own; that a waiting encoder goes as soon as the running batch
    is done; and that every caller gets its own vector."""
    inner = GatedEmbedder()
    emb = BatchingEmbedder(inner, cache_size=0)
    emb.max_wait = 30.0  # long: only a batch as large as the running one (or its end) may stop the wait
    t0 = time.monotonic()
    emb.encode_queries(["ひとりの質問"])
    assert time.monotonic() - t0 < 10, "a question asked alone must not wait for others"
    out: dict[str, np.ndarray] = {}

    def ask(qs: list[str]) -> None:
        for q, v in zip(qs, emb.encode_queries(qs), strict=True):
            out[q] = v

    def ask_one_by_one(qs: list[str]) -> list[threading.Thread]:
        threads = [threading.Thread(target=ask, args=([q],)) for q in qs]
        for t in threads:
            t.start()
            time.sleep(0.02)  # one after another, as requests arrive
        return threads

    def running(n: int) -> None:  # wait until the gated call is being encoded
        deadline = time.monotonic() + 10
        while len(inner.batches) < n:
            assert time.monotonic() < deadline, inner.batches
            time.sleep(0.005)

    busy = threading.Thread(target=ask, args=(["待て", "甲", "乙"],))
    busy.start()
    running(2)
    for t in ask_one_by_one([f"質問 {i}" for i in range(3)]):
        t.join(timeout=10)
    assert sorted(inner.batches[2]) == ["質問 0", "質問 1", "質問 2"]  # one call, as large as the running one
    late = ask_one_by_one(["遅れた質問"])  # waits for company ...
    time.sleep(0.2)
    assert len(inner.batches) == 3
    inner.gate.set()  # ... until the running batch is done
    busy.join(timeout=10)
    for t in late:
        t.join(timeout=10)
    assert not late[0].is_alive(), "the waiting question must go once nothing else is encoded"
    emb.close()
    assert [sorted(b) for b in inner.batches] == [
        ["ひとりの質問"], ["乙", "待て", "甲"], ["質問 0", "質問 1", "質問 2"], ["遅れた質問"]
    ]  # fmt: skip
    expected = FakeEmbedder().encode_queries(list(out))
    for i, q in enumerate(out):
        assert np.allclose(out[q], expected[i])


def test_question_cache() -> None:
    """This test ensures that a repeated question is answered from the cache, without a model call."""
    inner = SlowEmbedder()
    emb = BatchingEmbedder(inner, batch=False, cache_size=4)
    a = emb.encode_queries(["再委託の上限"])
    b = emb.encode_queries(["再委託の上限", "応募資格"])
    assert inner.batches == [1, 1]
    assert np.allclose(a[0], b[0])
    assert emb.encode_queries([]).shape == (0, emb.dim)
