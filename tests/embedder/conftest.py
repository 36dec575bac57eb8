"""The real all-MiniLM-L6-v2 backend, loaded once per session (about 3 s), and an HTTP client
over the real app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from embedder.app import create_app
from embedder.backends import Backend, load_backend
from embedder.settings import EmbedderServerSettings


@pytest.fixture(scope="session")
def minilm() -> Backend:
    return load_backend(EmbedderServerSettings())


@pytest.fixture
async def minilm_http(minilm: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """The app as `podsearch-embedder` serves it, minus the warm-up (tests warm it themselves)."""
    app = create_app(minilm, warm_up=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://embedder") as client:
        yield client
