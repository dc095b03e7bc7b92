"""End to end in a real browser: `koubo serve`'s app under uvicorn on loopback, driven by Playwright in
Debian's chromium (``/usr/bin/chromium``; `make test` installs it, nothing is downloaded by Playwright).

The index is built with the real e5 model over three corpus PDFs (the FY2025 and FY2026 calls and the
yorozu call), as `koubo index` builds it. On a failure the page is saved as a screenshot under
``outputs/e2e/`` (the checkout's outputs folder, where CI keeps artefacts).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import CORPORA, ROOT
from pipeline.cli import prepare_document
from pipeline.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket]

CHROMIUM = Path("/usr/bin/chromium")
# As the machine's notes advise: no background traffic on a closed network, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHOTS = ROOT / "outputs" / "e2e"
FY2025 = CORPORA / "chiiki-dx/2025/chiiki-dx_fy2025_bansou-jigyosha_mri.pdf"
FY2026 = CORPORA / "chiiki-dx/2026/chiiki-dx_fy2026_bansou-jigyosha_nttdata-strategy.pdf"
YOROZU = CORPORA / "yorozu/2026/yorozu-shien-kyoten_fy2026_tohoku-meti.pdf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a loopback port over an index of three calls built with e5; yields its base URL."""
    import uvicorn

    from pipeline.embed.embedder import load_embedder
    from pipeline.index import ClauseIndex
    from pipeline.serve import create_app

    settings = Settings(outputs=tmp_path_factory.mktemp("e2e") / "outputs", corpora=CORPORA, models=ROOT / "models")
    embedder = load_embedder(settings.models)
    with ClauseIndex(settings.index_dir, embedder) as ix:
        for src in (FY2025, FY2026, YOROZU):
            ix.add(prepare_document(str(src), settings))
    port = _free_port()
    config = uvicorn.Config(create_app(settings, embedder=embedder), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; `make test` does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


@contextmanager
def screenshot_on_failure(page, name: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    try:
        yield
    except BaseException:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        raise


@pytest.mark.parametrize(
    ("query", "year", "file", "path"),
    [
        ("宮城県のよろず拠点の委託額はいくらが上限？", "", YOROZU, "V.3"),
        ("2026年度の説明会の申込締切と開催日時は？", "2026", FY2026, "IV.4"),
        ("NTTデータ経営研究所の公募でいう「常駐」はどんな支援を指す？", "", FY2026, "IV.1.(1).イ.⑤"),
    ],
)
def test_search_returns_the_expected_clause(server: str, page, query: str, year: str, file: Path, path: str) -> None:  # type: ignore[no-untyped-def]
    """This test ensures that typing a question in the search box lists the clause that answers it in the top 5,
    with its document, a marked snippet and its page, and that the clause link opens it with its PDF page."""
    with screenshot_on_failure(page, f"search-{path}"):
        page.goto(server + "/")
        page.fill("input[name=q]", query)
        if year:
            page.select_option("select[name=year]", year)
        page.click("form.search button[type=submit]")
        page.wait_for_url("**/?q=**")
        page.wait_for_selector("li.hit")
        hits = page.locator("li.hit")
        top = [
            (hits.nth(i).locator(".hit-doc a").get_attribute("href"), hits.nth(i).locator("a.path").inner_text())
            for i in range(min(5, hits.count()))
        ]
        doc_id = _doc_id(page, server, file)
        assert (f"/documents/{doc_id}", path) in top, top
        if year:
            assert all("2026" in hits.nth(i).locator(".hit-doc").inner_text() for i in range(hits.count()))
        i = top.index((f"/documents/{doc_id}", path))
        assert "p. " in hits.nth(i).locator(".hit-doc").inner_text()
        hits.nth(i).locator("a.path").click()
        page.wait_for_url("**/clauses/**")
        page.wait_for_selector("h1 .path")
        assert page.locator("h1 .path").inner_text() == path
        img = page.locator("figure.page img").first
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 500", arg=img.element_handle())


def _doc_id(page, server: str, file: Path) -> str:  # type: ignore[no-untyped-def]
    docs = page.request.get(server + "/api/documents").json()["documents"]
    return next(d["id"] for d in docs if d["file"] == file.name)


def test_outline_expands(server: str, page) -> None:  # type: ignore[no-untyped-def]
    """This test ensures that a call's outline opens from the documents list, folded, and a section unfolds on a
    click to show the clauses under it."""
    with screenshot_on_failure(page, "outline"):
        page.goto(server + "/documents")
        page.get_by_role("link", name=re.compile("伴走支援事業者向け")).first.click()
        page.wait_for_url("**/documents/*")
        page.wait_for_selector("ul.outline")
        section = page.locator("ul.outline > li > details").filter(
            has=page.locator("summary > a.path", has_text=re.compile(r"^IV$"))
        )
        child = section.locator(":scope > ul > li a.path", has_text=re.compile(r"^IV\.1$")).first
        assert not child.is_visible()
        section.locator(":scope > summary").click()
        child.wait_for(state="visible")
        assert child.is_visible()
        assert section.locator(".badge").count() > 0, "requirement badges in the section"
        page.get_by_role("link", name=re.compile("すべて開く")).click()
        page.wait_for_url("**open=1")
        page.wait_for_selector("ul.outline")
        assert page.locator("details:not([open])").count() == 0


def test_diff_page_shows_the_cap_change(server: str, page) -> None:  # type: ignore[no-untyped-def]
    """This test ensures that the comparison of FY2025 and FY2026 shows 1億円 → 7,000万円程度 among the substantive
    changes, marks insertions and deletions side by side, and filters by category."""
    with screenshot_on_failure(page, "diff"):
        page.goto(server + "/documents")
        page.locator("ul.pairs a").first.click()
        page.wait_for_url("**/diff?**")
        page.wait_for_selector("#important")
        important = page.locator("#important")
        assert "1億円 → 7,000万円程度" in important.inner_text()
        assert page.locator("table.sbs ins").count() > 0 and page.locator("table.sbs del").count() > 0
        all_rows = page.locator("table.sbs tbody tr").count()
        page.locator("nav.filters a", has_text="金額").click()
        page.wait_for_url("**category=amount**")
        page.wait_for_selector("table.sbs")
        rows = page.locator("table.sbs tbody tr")
        assert 0 < rows.count() < all_rows
        assert all("金額" in rows.nth(i).locator("td.meta .badge").inner_text() for i in range(rows.count()))
        assert "1億円 → 7,000万円程度" in page.locator("table.sbs").inner_text()


def test_api_docs_render_offline(server: str, page) -> None:  # type: ignore[no-untyped-def]
    """This test ensures that /docs renders the API in Swagger UI from the app's own files, every endpoint listed."""
    with screenshot_on_failure(page, "docs"):
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
        page.goto(server + "/docs")
        for path in ("/api/search", "/api/documents", "/api/diff", "/api/changes"):
            page.get_by_text(path, exact=True).first.wait_for()
        assert outside == []
