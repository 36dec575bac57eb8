"""Our real apps on a real loopback socket (uvicorn in a thread), for what an in-process ASGI
transport cannot show: keep-alive connections, and entry points that talk HTTP to a service.
`HashBackend` serves the HashEmbedder's vectors from the embedder app, without a model."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from podsearch.contract import EmbeddingRecipe, InputType
from tests.fakes import FakeBackend, HashEmbedder


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Run `app` under uvicorn in a thread on a free loopback port; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class HashBackend(FakeBackend):
    """The embedder app's backend with the HashEmbedder's lexical vectors, so an index the
    HashEmbedder built is searched through the real embedder app and HTTP client."""

    recipe: EmbeddingRecipe = field(
        default_factory=lambda: EmbeddingRecipe(model_id="test/hash-bow", dimension=256)
    )
    words: HashEmbedder = field(default_factory=HashEmbedder)

    def vectors(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        return [self.words.vector(text) for text in texts]
