"""The app factory: pure composition. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from podsearch.embedder_client import HttpEmbedder
from podsearch.errors import EmbedderError, IndexNotReady
from podsearch.ports import Embedder, SegmentReader
from podsearch.stores import open_reader
from search_api.errors import install_error_handlers
from search_api.routes import router
from search_api.service import SearchService
from search_api.settings import ApiSettings

log = logging.getLogger("podsearch.api")


def create_app(
    settings: ApiSettings | None = None,
    embedder: Embedder | None = None,
    reader: SegmentReader | None = None,
) -> FastAPI:
    """Build the API; `embedder` and `reader` default to the ones the settings describe."""
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Clients are created here, inside the server's event loop, and closed with it.
        own_embedder = embedder or HttpEmbedder(settings.embedder)
        own_reader = reader or open_reader(settings.store)
        service = SearchService(own_embedder, own_reader, rrf_k=settings.api.rrf_k)
        await _check_at_startup(service)
        app.state.service = service
        try:
            yield
        finally:
            if embedder is None and isinstance(own_embedder, HttpEmbedder):
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
    install_error_handlers(app)
    app.include_router(router)
    return app


async def _check_at_startup(service: SearchService) -> None:
    """A mismatched embedder stops start-up; a missing index or cold embedder only warns."""
    try:
        await service.check_compatible()
    except IndexNotReady as exc:
        log.warning("%s", exc)
    except EmbedderError as exc:
        log.warning("embedder not reachable at start-up (checked again per query): %s", exc)
