"""`podsearch-api`: serve the search API with uvicorn."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn
from fastapi import FastAPI

from podsearch.errors import EmbedderError, IndexMismatch, IndexNotReady, StoreUnavailable
from podsearch.remote_embedder import open_embedder
from podsearch.settings import settings_or_exit
from podsearch.stores import open_reader
from search_api.app import create_app
from search_api.observability import configure_logging
from search_api.settings import ApiOptions, ApiSettings


def main() -> None:
    settings = settings_or_exit(ApiSettings, "podsearch-api")
    try:
        asyncio.run(check_serving(settings))
    except IndexMismatch as exc:
        sys.exit(f"podsearch-api: {exc}")
    serve(create_app(settings), settings.api)


async def check_serving(settings: ApiSettings) -> None:
    """Refuse what this server cannot serve before it starts (an index of another schema, an
    embedder that embeds with another recipe than the index's): a refusal at start-up would
    reach uvicorn, which logs it as a stack trace. A missing index, an unreachable store or an
    unreachable embedder only warn, at start-up (`app`)."""
    reader = open_reader(settings.store)
    try:
        meta = await reader.meta()
    except (IndexNotReady, StoreUnavailable):
        return
    finally:
        await reader.close()
    embedder = open_embedder(settings.embedder)
    try:
        async with asyncio.timeout(settings.api.ready_deadline_s):
            recipe = await embedder.recipe()
    except (EmbedderError, TimeoutError):
        return
    finally:
        await embedder.aclose()
    meta.check_recipe(recipe)


def serve(app: FastAPI, options: ApiOptions) -> None:
    """Serve `app` as production does (`bench.api_overhead` serves through this too). Each
    request is logged once, by `podsearch.access` (request id, route, status, ms): uvicorn's
    own access log would only repeat it."""
    if options.json_logs:
        configure_logging()
    else:
        logging.basicConfig(level=logging.INFO)
    uvicorn.run(app, host=options.host, port=options.port, log_config=None, access_log=False)
