"""`podsearch-api`: serve the search API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from search_api.app import create_app
from search_api.settings import ApiSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per embedder call is noise
    settings = ApiSettings()
    uvicorn.run(create_app(settings), host=settings.api.host, port=settings.api.port)
