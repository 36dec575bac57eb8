"""The API's link to the embedder: its own client defaults, and probes that never hang.

The embedder is the real `RemoteEmbedder` over HTTP; only the network is scripted
(`httpx.MockTransport`), as a service that accepts connections and never answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from indexer.settings import IndexerSettings
from podsearch.http_transport import HttpTransport
from podsearch.remote_embedder import RemoteEmbedder
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiOptions, ApiSettings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PODSEARCH_EMBEDDER__URL", "http://embedder.internal:8001")
    return monkeypatch


def test_the_api_keeps_its_short_timeouts_when_the_url_comes_from_the_environment(
    environment: pytest.MonkeyPatch,
) -> None:
    api, indexer = ApiSettings().embedder, IndexerSettings().embedder

    assert api.url == indexer.url == "http://embedder.internal:8001"
    assert (api.retries, api.read_timeout_s) == (1, 8.0)
    assert (indexer.retries, indexer.read_timeout_s) == (2, 30.0)


def test_the_environment_can_still_change_the_api_timeouts(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("PODSEARCH_EMBEDDER__RETRIES", "0")
    environment.setenv("PODSEARCH_EMBEDDER__READ_TIMEOUT_S", "2.5")

    embedder = ApiSettings().embedder

    assert (embedder.retries, embedder.read_timeout_s, embedder.connect_timeout_s) == (0, 2.5, 2.0)


async def test_ready_and_start_up_give_up_on_a_silent_embedder_at_their_deadline(
    index_root: Path,
) -> None:
    async def silent(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        raise AssertionError("never answers")

    settings = ApiSettings(api=ApiOptions(ready_deadline_s=0.3))
    client = settings.embedder
    embedder = RemoteEmbedder(client, HttpTransport(client, httpx.MockTransport(silent)))
    app = create_app(settings, embedder=embedder, reader=EdgeReader(index_root))
    started = time.monotonic()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            ready = await http.get("/ready")
    await embedder.aclose()

    assert time.monotonic() - started < 3  # two deadlines, not two 8 s read timeouts
    assert ready.status_code == 200
    body = ready.json()
    assert body["store"]["ok"] and not body["embedder"]["ok"]
    assert "no answer within 0.3 s" in body["embedder"]["detail"]
