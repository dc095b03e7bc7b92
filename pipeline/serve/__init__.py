"""Serve: the index and documents in ``outputs/`` as a JSON API and as pages, read only.

Consumes what ``koubo index`` built (``outputs/indexes/<name>/``) and the documents in
``outputs/documents/``; produces an ASGI app (FastAPI): ``/api/…`` answers JSON, the other paths
are server-rendered pages (search, documents and their outlines, clauses with their PDF page,
comparisons). Nothing is built at import time; ``koubo serve`` runs the app under uvicorn.

Heavy dependencies: FastAPI, Jinja2 (here), the embedder (passed in), pdfplumber for page images.

Every error, from the API or a page, has one shape: ``{"error": message, "status": code}`` in JSON
(a page shows the same message in HTML). There are no write endpoints; ids in paths are validated
before anything is looked up; every string from a document is escaped by the templates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.serve.batching import BatchingEmbedder
from pipeline.serve.library import Library, NotFoundError
from pipeline.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from pipeline.index import Embedder

__all__ = ["BatchingEmbedder", "Library", "NotFoundError", "create_app"]

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
# Pages load only their own stylesheet and page images; no script runs on them.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# /docs (Swagger UI, served from the fastapi-offline package's files, not a CDN) needs its script.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
)


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    companion: Embedder | None = None,
    library: Library | None = None,
    batch: bool = True,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """The koubo web app over an index built by ``koubo index``.

    Args:
        settings: where the outputs are (default: from the environment, ``KOUBO_…``).
        embedder: the e5 embedder for hybrid search; None serves sparse (BM25) search only.
        companion: the second model hybrid search fuses (:func:`pipeline.embed.use.load_companion`), or None;
            with ``library``, give it to the library instead.
        library: an open :class:`Library` to serve (tests share one); built from ``settings`` if None.
        batch: encode concurrent questions together (see :mod:`pipeline.serve.batching`).
        allowed_hosts: the Host names to answer (``koubo serve`` on loopback passes its loopback names, so
            that a web page the user visits cannot reach the server through DNS rebinding); None: any.

    Raises:
        PipelineError: there is no index under ``settings.outputs``.

    Example:
        >>> uvicorn.run(create_app(Settings(), embedder=load_embedder()), port=8000)   # doctest: +SKIP
    """
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from pipeline import __version__
    from pipeline.serve import api, pages

    settings = settings or Settings()
    if library is None:
        library = Library(
            settings,
            BatchingEmbedder(embedder, batch=batch) if embedder is not None else None,
            companion=BatchingEmbedder(companion, batch=batch) if companion is not None else None,
        )
    elif companion is not None:
        raise ValueError("give the companion to the Library, which carries it")
    lib = library

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        lib.close()
        for model in (lib.embedder, lib.companion):
            if isinstance(model, BatchingEmbedder):
                model.close()

    app = FastAPI(
        title="koubo",
        version=__version__,
        summary="Search, outline and compare Japanese calls for proposals (公募要領).",
        docs_url=None,  # served below from local files, not a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.library = lib
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _mount_docs(app)
    api.install_errors(app)
    app.include_router(api.router)
    app.include_router(pages.router)

    app.add_middleware(SecurityHeaders)
    if allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    return app


class SecurityHeaders:
    """Adds the Content-Security-Policy and two hardening headers to every response (plain ASGI: Starlette's
    BaseHTTPMiddleware costs a task and a stream per request, a tenth of a cached search's time)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if str(scope.get("path", "")).startswith(("/docs", "/vendor/swagger")) else PAGE_CSP
        extra = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in have)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _mount_docs(app: FastAPI) -> None:
    """OpenAPI at /docs with Swagger UI 5 from the fastapi-offline package's files (no CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    try:
        import fastapi_offline
    except ImportError:  # the JSON schema stays at /openapi.json
        return
    files = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/vendor/swagger", StaticFiles(directory=files), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="koubo API",
            swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
