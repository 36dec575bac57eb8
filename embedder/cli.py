"""`podsearch-embedder`: load the configured model, then serve it (warm before it listens)."""

from __future__ import annotations

import logging

import uvicorn

from embedder.app import create_app
from embedder.loading import load_backend, load_reranker
from embedder.settings import EmbedderServiceSettings
from podsearch.settings import settings_or_exit


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_or_exit(EmbedderServiceSettings, "podsearch-embedder").embedder_server
    backend = load_backend(settings)
    app = create_app(
        backend,
        token=settings.token,
        max_batch=settings.max_batch,
        coalesce_max_texts=settings.coalesce_max_texts,
        coalesce_wait_ms=settings.coalesce_wait_ms,
        max_body_bytes=settings.max_body_bytes,
        max_input_chars=settings.max_input_chars,
        reranker=load_reranker(settings),
        max_rerank_documents=settings.rerank.max_documents,
    )
    # uvicorn runs the app's lifespan (the warm-up encode) before it accepts connections.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
