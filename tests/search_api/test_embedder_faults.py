"""The API with an embedder that hangs, dies or refuses our token: the real `RemoteEmbedder` and
the real embedder app (hash backend), on loopback or in-process; a hung service is scripted at the
network edge (`httpx.MockTransport`) as one that accepts a request and never answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from embedder.app import create_app as create_embedder
from podsearch.http_transport import HttpTransport
from podsearch.remote_embedder import RemoteEmbedder
from podsearch.settings import EmbedderClientSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiOptions, ApiSettings
from tests.loopback import HashBackend, serve

FAST = ApiOptions(embed_deadline_s=0.2, ready_deadline_s=0.5, rate_limit_per_minute=0)


@asynccontextmanager
async def api_over(embedder: RemoteEmbedder, index_root: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ApiSettings(api=FAST), embedder=embedder, reader=EdgeReader(index_root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client
    await embedder.aclose()


def remote(
    url: str, network: httpx.AsyncBaseTransport | None = None, **options: object
) -> RemoteEmbedder:
    settings = EmbedderClientSettings.model_validate({"url": url, "retries": 0, **options})
    return RemoteEmbedder(settings, HttpTransport(settings, network))


async def test_deadline_timeouts_open_the_circuit_so_a_hung_embedder_costs_nothing(
    index_root: Path,
) -> None:
    async def hung(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        raise AssertionError("never answers")

    embedder = remote("http://embedder", httpx.MockTransport(hung))
    async with api_over(embedder, index_root) as api:
        reasons = []
        for n in range(embedder.circuit.failure_threshold + 1):
            body = (await api.get("/search", params={"q": f"compost {n}"})).json()
            assert body["degraded"] and body["results"]
            reasons.append(body["degraded_reason"])

    assert all("no answer within 0.2 s" in r for r in reasons[:-1])
    assert "circuit open" in reasons[-1]  # not attempted: answered without waiting
    assert embedder.circuit.snapshot().state.value == "open"


async def test_ready_embeds_for_real_and_notices_an_embedder_that_died(index_root: Path) -> None:
    with ExitStack() as running:
        url = running.enter_context(serve(create_embedder(HashBackend(), warm_up=False)))
        async with api_over(remote(url), index_root) as api:
            alive = (await api.get("/ready")).json()["embedder"]
            running.close()  # the embedder stops; the API's client has its recipe cached
            dead = (await api.get("/ready")).json()["embedder"]

    assert alive["ok"] and "test/hash-bow" in alive["detail"]
    assert not dead["ok"] and "searches degrade to keyword" in dead["detail"]


async def test_ready_reports_an_embedder_that_refuses_our_token(index_root: Path) -> None:
    app = create_embedder(HashBackend(), token=SecretStr("right"), warm_up=False)
    network = httpx.ASGITransport(app=app)
    embedder = remote("http://embedder", network, token="marker-token-5e1d")
    async with api_over(embedder, index_root) as api:
        ready = (await api.get("/ready")).json()
        search = (await api.get("/search", params={"q": "compost"})).json()

    assert ready["ready"] and not ready["embedder"]["ok"]
    assert "refused our token" in ready["embedder"]["detail"]
    assert "marker-token-5e1d" not in str(ready) + str(search)
    assert search["degraded"]
