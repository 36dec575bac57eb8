"""The app factory: pure composition. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from podsearch.errors import EmbedderError, IndexNotReady, StoreUnavailable
from podsearch.ports import Embedder, Reranker, SegmentReader
from podsearch.remote_embedder import RemoteEmbedder, open_embedder
from podsearch.stores import open_reader
from search_api import episodes
from search_api.errors import install_error_handlers
from search_api.llm import ChatClient
from search_api.observability import Metrics, ObservabilityMiddleware
from search_api.ratelimit import RateLimiter
from search_api.routes import limited, router
from search_api.service import SearchService
from search_api.settings import ApiSettings

log = logging.getLogger("podsearch.api")
STATIC = Path(__file__).parent / "static"


def create_app(
    settings: ApiSettings | None = None,
    embedder: Embedder | None = None,
    reader: SegmentReader | None = None,
    reranker: Reranker | None = None,
) -> FastAPI:
    """Build the API; `embedder` and `reader` default to the ones the settings describe, and
    `reranker` (used when `api.rerank_depth` is set) to the embedder when it is remote."""
    settings = settings or ApiSettings()
    options = settings.api
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Clients are created here, inside the server's event loop, and closed with it.
        own_embedder = embedder or open_embedder(settings.embedder)
        own_reader = reader or open_reader(settings.store)
        remote = own_embedder if isinstance(own_embedder, RemoteEmbedder) else None
        service = SearchService(own_embedder, own_reader, options, metrics, reranker or remote)
        await _check_at_startup(service, options.ready_deadline_s)
        app.state.service = service
        app.state.chat = ChatClient(settings.llm) if settings.llm.url else None
        try:
            yield
        finally:
            if app.state.chat is not None:
                await app.state.chat.aclose()
            if embedder is None and isinstance(own_embedder, RemoteEmbedder):
                await own_embedder.aclose()
            if reader is None:
                await own_reader.close()

    app = FastAPI(
        title="podsearch",
        summary="Semantic search over podcast transcripts: ranked moments you can play.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    secret = options.cursor_secret
    app.state.cursor_secret = (
        secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
    )
    app.state.metrics = metrics
    app.state.rate_limiter = (
        RateLimiter(options.rate_limit_per_minute, options.rate_limit_burst)
        if options.rate_limit_per_minute
        else None
    )
    install_error_handlers(app)
    app.include_router(limited)
    app.include_router(router)
    app.include_router(episodes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    if options.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=options.cors_origins, allow_methods=["GET"]
        )
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    return app


async def _check_at_startup(service: SearchService, deadline_s: float) -> None:
    """A mismatched embedder stops start-up; a missing index, an unreachable store or a cold
    embedder only warn (/ready says so, and every request checks again)."""
    try:
        async with asyncio.timeout(deadline_s):
            await service.check_compatible()
    except (IndexNotReady, StoreUnavailable) as exc:
        log.warning("%s", exc)
    except (EmbedderError, TimeoutError) as exc:
        detail = str(exc) or f"no answer within {deadline_s:g} s"
        log.warning("embedder not reachable at start-up (checked again per query): %s", detail)
