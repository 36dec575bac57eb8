"""`podsearch-api`: serve the search API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from podsearch.settings import settings_or_exit
from search_api.app import create_app
from search_api.observability import configure_logging
from search_api.settings import ApiOptions, ApiSettings


def main() -> None:
    settings = settings_or_exit(ApiSettings, "podsearch-api")
    serve(create_app(settings), settings.api)


def serve(app: FastAPI, options: ApiOptions) -> None:
    """Serve `app` as production does (`bench.api_overhead` serves through this too). Each
    request is logged once, by `podsearch.access` (request id, route, status, ms): uvicorn's
    own access log would only repeat it."""
    if options.json_logs:
        configure_logging()
    else:
        logging.basicConfig(level=logging.INFO)
    uvicorn.run(app, host=options.host, port=options.port, log_config=None, access_log=False)
