"""The rerank stage of `/search` on a real Edge index, with the real embedder app serving a real
(tiny) cross-encoder through the real `RemoteEmbedder`: the first moments come back in the
cross-encoder's order with its scores, and a missing, refusing or unreachable reranker leaves the
store's order and says why instead of failing the search."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sentence_transformers.cross_encoder import CrossEncoder

from embedder.app import create_app as create_embedder
from embedder.reranking import RerankBackend
from podsearch.http_transport import HttpTransport
from podsearch.ports import Embedder, Reranker
from podsearch.remote_embedder import RemoteEmbedder
from podsearch.settings import EmbedderClientSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiOptions, ApiSettings
from tests.embedder.tiny_cross_encoder import TINY_RERANKER_ID
from tests.fakes import HashEmbedder
from tests.loopback import HashBackend

QUERY = "how do they handle on-call burnout"
DEPTH = 6
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens there


def remote(url: str, network: httpx.AsyncBaseTransport | None = None) -> RemoteEmbedder:
    settings = EmbedderClientSettings(url=url, retries=0)
    return RemoteEmbedder(settings, HttpTransport(settings, network))


def embedder_service(reranker: RerankBackend | None) -> RemoteEmbedder:
    """The embedder app (the index's hash vectors, and `reranker`) over ASGI."""
    app = create_embedder(HashBackend(), warm_up=False, reranker=reranker)
    return remote("http://embedder", httpx.ASGITransport(app=app))


@asynccontextmanager
async def api(
    index_root: Path,
    embedder: Embedder,
    depth: int = DEPTH,
    reranker: Reranker | None = None,
    deadline_s: float = 60.0,  # a loaded machine must not skip the stage; faults set their own
) -> AsyncIterator[httpx.AsyncClient]:
    options = ApiOptions(
        rerank_depth=depth,
        rerank_deadline_s=deadline_s,
        embed_deadline_s=60,
        rate_limit_per_minute=0,
    )
    app = create_app(
        ApiSettings(api=options),
        embedder=embedder,
        reader=EdgeReader(index_root),
        reranker=reranker,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def search(client: httpx.AsyncClient, **params: object) -> dict[str, Any]:
    response = await client.get("/search", params={"q": QUERY, "limit": DEPTH, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def places(body: dict[str, Any]) -> list[tuple[str, float]]:
    return [(m["episode_id"], m["start"]) for m in body["results"]]


async def test_the_first_moments_come_back_in_the_cross_encoders_order(
    index_root: Path, tiny_reranker: RerankBackend, tiny_reranker_dir: Path
) -> None:
    async with api(index_root, embedder_service(None), depth=0) as plain:
        before = await search(plain)
    async with api(index_root, embedder_service(tiny_reranker)) as reranking:
        after = await search(reranking)

    # What the model itself says of each moment: the score of its best segment.
    reader = EdgeReader(index_root)
    model = CrossEncoder(str(tiny_reranker_dir), max_length=128)
    expected = {}
    for moment in before["results"]:
        texts = [p.text for p in (await reader.fetch(moment["segment_ids"])).values()]
        scores = model.predict([[QUERY, text] for text in texts])
        expected[(moment["episode_id"], moment["start"])] = float(max(scores))
    await reader.close()
    assert places(after) == sorted(places(before), key=lambda p: -expected[p])
    assert places(after) != places(before)  # the stage did reorder the page
    for moment in after["results"]:
        assert moment["score"] == pytest.approx(expected[(moment["episode_id"], moment["start"])])
    assert after["rerank"] == {
        "applied": True,
        "moments": DEPTH,
        "model": TINY_RERANKER_ID,
        "reason": None,
    }
    assert after["timings"]["rerank_ms"] > 0
    assert before["rerank"] is None and before["timings"]["rerank_ms"] == 0


async def test_the_next_page_continues_after_the_reranked_moments(
    index_root: Path, tiny_reranker: RerankBackend
) -> None:
    async with api(index_root, embedder_service(tiny_reranker)) as reranking:
        first = await search(reranking, limit=3)
        second = await search(reranking, limit=3, cursor=first["next_cursor"])
        whole = await search(reranking)

    assert places(first) + places(second) == places(whole)


async def test_grouped_results_follow_the_reranked_moments(
    index_root: Path, tiny_reranker: RerankBackend
) -> None:
    async with api(index_root, embedder_service(tiny_reranker)) as reranking:
        flat = await search(reranking)
        grouped = await search(reranking, group_by="episode", per_episode=1)

    first_episodes = list(dict.fromkeys(m["episode_id"] for m in flat["results"]))
    assert [g["episode_id"] for g in grouped["groups"]][:2] == first_episodes[:2]
    assert grouped["rerank"]["applied"]


async def test_an_embedder_without_a_reranker_leaves_the_order_and_says_so(
    index_root: Path,
) -> None:
    async with api(index_root, embedder_service(None), depth=0) as plain:
        before = await search(plain)
    async with api(index_root, embedder_service(None)) as unconfigured:
        after = await search(unconfigured)

    assert places(after) == places(before)
    assert [m["score"] for m in after["results"]] == [m["score"] for m in before["results"]]
    assert after["rerank"] == {
        "applied": False,
        "moments": 0,
        "model": None,
        "reason": "the embedder has no reranker",
    }
    assert not after["degraded"]


async def test_an_unreachable_reranker_costs_the_search_only_its_second_stage(
    index_root: Path,
) -> None:
    async with api(index_root, HashEmbedder(), depth=0) as plain:
        before = await search(plain)
    dead = remote(DEAD)
    async with api(index_root, HashEmbedder(), reranker=dead) as degraded:
        after = await search(degraded)
    await dead.aclose()

    assert places(after) == places(before)
    assert after["rerank"]["applied"] is False
    assert after["rerank"]["reason"] == "reranker unavailable: unreachable"
    assert not after["degraded"] and after["mode"] == "hybrid"
    assert dead.circuit.snapshot().consecutive_failures == 0  # the embedder's circuit: untouched
    assert dead.rerank_circuit.snapshot().consecutive_failures == 1


async def test_a_hung_reranker_costs_its_deadline_until_its_circuit_opens(
    index_root: Path,
) -> None:
    async def hung(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        raise AssertionError("never answers")

    reranker = remote("http://reranker", httpx.MockTransport(hung))
    async with api(index_root, HashEmbedder(), reranker=reranker, deadline_s=0.2) as client:
        reasons = [
            (await search(client, q=f"{QUERY} {n}"))["rerank"]["reason"]
            for n in range(reranker.rerank_circuit.failure_threshold + 1)
        ]

    assert all(r == "reranker unavailable: no answer within 0.2 s" for r in reasons[:-1])
    assert reasons[-1] == "reranker unavailable: circuit open after repeated failures"


async def test_unusable_scores_are_never_used(index_root: Path) -> None:
    def nan_scores(request: httpx.Request) -> httpx.Response:
        documents = json.loads(request.content)["documents"]
        results = [{"index": i, "relevance_score": float("nan")} for i in range(len(documents))]
        body = json.dumps({"model": "m", "results": results})  # Python writes NaN; JSON parses it
        return httpx.Response(200, content=body.encode())

    reranker = remote("http://reranker", httpx.MockTransport(nan_scores))
    async with api(index_root, HashEmbedder(), depth=0) as plain:
        before = await search(plain)
    async with api(index_root, HashEmbedder(), reranker=reranker) as client:
        after = await search(client)

    assert places(after) == places(before)
    assert after["rerank"]["reason"] == "reranker failed: invalid scores"


async def test_with_the_embedder_down_the_search_degrades_and_skips_the_reranker(
    index_root: Path,
) -> None:
    dead = remote(DEAD)
    async with api(index_root, dead) as degraded:
        body = await search(degraded)

    assert body["degraded"] and body["mode"] == "keyword" and body["results"]
    assert body["rerank"]["applied"] is False
    assert body["rerank"]["reason"] == "the embedder is unavailable"


async def test_no_reranker_at_all_is_said_too(index_root: Path) -> None:
    async with api(index_root, HashEmbedder()) as unconfigured:
        body = await search(unconfigured)

    assert body["rerank"]["reason"] == "no reranker configured" and body["results"]
