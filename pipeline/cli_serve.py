"""``koubo serve``: the web app and JSON API over the index (registered on the app in :mod:`pipeline.cli`)."""

from __future__ import annotations

import sys
from typing import Annotated, cast

import typer

from pipeline.cli import _fail, app, err
from pipeline.errors import ModelUnavailableError, PipelineError
from pipeline.index import Embedder
from pipeline.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")
PRECISIONS = ("auto", "int8", "bf16", "fp32")


def _questions_note(embedder: object | None) -> str:
    """How the server encodes questions (``int8``, ``bf16``, ``fp32``), for its start-up line; empty if unknown."""
    members = getattr(embedder, "members", None)  # an EncoderPool: what its children settled on
    precision = members[0].precision if members else getattr(embedder, "query_precision", None)
    return f"questions encoded in {precision}; " if precision else ""


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; loopback keeps it on this machine.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    sparse_only: Annotated[
        bool, typer.Option("--sparse-only", help="Serve without the embedding model (keyword search only).")
    ] = False,
    no_batch: Annotated[
        bool,
        typer.Option(
            "--no-batch",
            help="Encode each question on its own, in the server's process (for comparison in benchmarks).",
        ),
    ] = False,
    encoders: Annotated[
        int,
        typer.Option(
            "--encoders",
            min=0,
            max=8,
            help="Processes running the embedding model (each ~0.5 GB), encoding batches of questions side by side;"
            " 0 keeps the model in the server's process.",
        ),
    ] = 2,
    precision: Annotated[
        str,
        typer.Option(
            "--precision",
            help="How questions are encoded: auto, int8, bf16 or fp32. auto takes the first that agrees with fp32 on"
            " this CPU: bf16 where the CPU has it natively, else int8, else fp32.",
        ),
    ] = "auto",
    get: Annotated[
        str | None,
        typer.Option("--get", help="Answer one request in-process, print the body and exit: --get '/api/search?q=…'"),
    ] = None,
) -> None:
    """Serve search, outlines and comparisons in the browser, and a JSON API (docs at /docs), read-only."""
    from pipeline.serve import create_app

    if precision not in PRECISIONS:
        raise typer.BadParameter(f"use {', '.join(PRECISIONS)}", param_hint="--precision")
    settings = Settings()
    try:
        embedder: Embedder | None = None
        if not sparse_only:
            from pipeline.embed.embedder import QueryPrecision, load_embedder
            from pipeline.serve.encoder_process import EncoderPool

            try:
                # Batched, the model runs in child processes (no GIL shared with the request threads, and
                # two batches encoded side by side); --no-batch keeps the plain in-process encoder, the
                # obvious alternative, and --get answers one request without starting children.
                chosen = cast("QueryPrecision", precision)
                if no_batch or get is not None or encoders == 0:
                    embedder = load_embedder(settings.models, query_precision=chosen)
                else:
                    pool = EncoderPool(settings.models, processes=encoders, query_precision=chosen)
                    pool.start()  # every child loads the model now, in parallel
                    embedder = pool
            except ModelUnavailableError as e:
                err.print(f"warning: {e.message}; serving keyword search only", markup=False)
            except RuntimeError as e:  # a child could not load the model
                err.print(f"error: {e}", markup=False)
                raise typer.Exit(1) from e
        # On loopback, answer only requests addressed to loopback (no DNS rebinding from a web page).
        hosts = [*LOOPBACK, "[::1]", "testserver"] if host in LOOPBACK and get is None else None
        from pipeline.embed.use import companion_for

        companion = companion_for(embedder)
        application = create_app(
            settings, embedder=embedder, companion=companion, batch=not no_batch, allowed_hosts=hosts
        )
    except PipelineError as e:
        _fail(e)
        return
    if get is not None:
        from fastapi.testclient import TestClient

        with TestClient(application) as client:
            response = client.get(get)
        sys.stdout.write(response.text + ("" if response.text.endswith("\n") else "\n"))
        raise typer.Exit(0 if response.status_code < 400 else 1)
    import uvicorn

    if host not in LOOPBACK:
        err.print(f"warning: listening on {host}: anyone who can reach this machine can read the indexed calls")
    shown = f"[{host}]" if ":" in host else host
    note = _questions_note(embedder)
    err.print(f"koubo serve: http://{shown}:{port}/  (API: /docs; {note}Ctrl-C stops)", markup=False)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
