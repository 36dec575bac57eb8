"""`podsearch-api`: serve the search API with uvicorn."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn
from fastapi import FastAPI

from podsearch.errors import IndexMismatch, IndexNotReady, StoreUnavailable
from podsearch.settings import StoreSettings, settings_or_exit
from podsearch.stores import open_reader
from search_api.app import create_app
from search_api.observability import configure_logging
from search_api.settings import ApiOptions, ApiSettings


def main() -> None:
    settings = settings_or_exit(ApiSettings, "podsearch-api")
    try:
        asyncio.run(check_index(settings.store))
    except IndexMismatch as exc:
        sys.exit(f"podsearch-api: {exc}")
    serve(create_app(settings), settings.api)


async def check_index(store: StoreSettings) -> None:
    """Refuse an index this code cannot serve before the server starts: a refusal at start-up
    would reach uvicorn, which logs it as a stack trace. A missing index or an unreachable
    store only warn, at start-up (`app`)."""
    reader = open_reader(store)
    try:
        await reader.meta()
    except (IndexNotReady, StoreUnavailable):
        pass
    finally:
        await reader.close()


def serve(app: FastAPI, options: ApiOptions) -> None:
    """Serve `app` as production does (`bench.api_overhead` serves through this too). Each
    request is logged once, by `podsearch.access` (request id, route, status, ms): uvicorn's
    own access log would only repeat it."""
    if options.json_logs:
        configure_logging()
    else:
        logging.basicConfig(level=logging.INFO)
    uvicorn.run(app, host=options.host, port=options.port, log_config=None, access_log=False)
