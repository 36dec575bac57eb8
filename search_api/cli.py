"""`podsearch-api`: serve the search API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from podsearch.settings import settings_or_exit
from search_api.app import create_app
from search_api.observability import configure_logging
from search_api.settings import ApiSettings


def main() -> None:
    settings = settings_or_exit(ApiSettings, "podsearch-api")
    if settings.api.json_logs:
        configure_logging()
    else:
        logging.basicConfig(level=logging.INFO)
    uvicorn.run(
        create_app(settings), host=settings.api.host, port=settings.api.port, log_config=None
    )
