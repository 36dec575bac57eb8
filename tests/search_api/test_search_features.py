"""What users of search ask for: moments, groups, cursors, cache, degradation, operations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from podsearch.contract import InputType
from podsearch.remote_embedder import open_embedder
from podsearch.settings import EmbedderClientSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiOptions, ApiSettings
from tests.fakes import HashEmbedder


async def get(client: httpx.AsyncClient, **params: object) -> dict:  # type: ignore[type-arg]
    response = await client.get("/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_moments_carry_a_marked_snippet_offsets_and_a_clip(client: httpx.AsyncClient) -> None:
    top = (await get(client, q="worm bin compost"))["results"][0]
    assert "<mark>" in top["snippet"]
    assert all(
        top["text"][a:b].lower().startswith(("worm", "bin", "compost"))
        for a, b in top["highlights"]
    )
    base = top["url"].split("#")[0]
    assert top["clip_url"] == f"{base}#t={top['start']:.0f},{top['end']:.0f}"


async def test_overlapping_hits_are_merged_into_one_moment(client: httpx.AsyncClient) -> None:
    results = (await get(client, q="liquidation preference", limit=20))["results"]
    assert any(len(r["segment_ids"]) > 1 for r in results)
    for r in results:  # merged moments never overlap each other within an episode
        same = [o for o in results if o is not r and o["episode_id"] == r["episode_id"]]
        assert all(o["end"] <= r["start"] or o["start"] >= r["end"] for o in same)


async def test_group_by_episode_caps_moments_per_episode(client: httpx.AsyncClient) -> None:
    body = await get(client, q="money", group_by="episode", per_episode=2, limit=3)
    groups = body["groups"]
    assert len(groups) == 3 and len({g["episode_id"] for g in groups}) == 3
    assert all(1 <= len(g["moments"]) <= 2 for g in groups)
    assert [g["score"] for g in groups] == sorted((g["score"] for g in groups), reverse=True)
    assert len(body["results"]) == sum(len(g["moments"]) for g in groups)
    cursor = body["next_cursor"]
    last = await get(client, q="money", group_by="episode", per_episode=2, limit=5, cursor=cursor)
    assert len(last["groups"]) == 5 and last["next_cursor"] is None  # 8 episodes in all
    assert not {g["episode_id"] for g in groups} & {g["episode_id"] for g in last["groups"]}


async def test_cursor_pages_have_no_duplicates_and_no_gaps(client: httpx.AsyncClient) -> None:
    whole = (await get(client, q="the team", limit=30))["results"]
    seen, cursor = [], None
    for _ in range(3):
        params = {"q": "the team", "limit": 10} | ({"cursor": cursor} if cursor else {})
        page = await get(client, **params)
        seen += page["results"]
        cursor = page["next_cursor"]
    assert [r["segment_ids"] for r in seen] == [r["segment_ids"] for r in whole]
    assert cursor is not None


async def test_a_cursor_from_another_search_is_refused(client: httpx.AsyncClient) -> None:
    cursor = (await get(client, q="compost", limit=2))["next_cursor"]
    for bad in (cursor, "not-a-cursor"):
        response = await client.get("/search", params={"q": "tomato", "cursor": bad})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_cursor"


async def test_context_adds_the_words_around_a_moment(client: httpx.AsyncClient) -> None:
    top = (await get(client, q="blueberries acidic soil", context=True, limit=1))["results"][0]
    assert top["context_before"] and top["context_after"]
    assert top["context_before"].split()[-1] not in top["text"].split()[:1]


async def test_a_score_threshold_drops_weak_hits(client: httpx.AsyncClient) -> None:
    loose = await get(client, q="heirloom tomato seeds", mode="semantic", limit=50)
    threshold = loose["results"][len(loose["results"]) // 2]["score"]
    strict = await get(
        client, q="heirloom tomato seeds", mode="semantic", limit=50, score_threshold=threshold
    )
    assert 0 < len(strict["results"]) < len(loose["results"])
    assert all(r["score"] >= threshold for r in strict["results"])


async def test_repeated_queries_hit_the_cache(
    client: httpx.AsyncClient, embedder: HashEmbedder
) -> None:
    first = await get(client, q="Error budgets")
    second = await get(client, q="  Error   budgets ")
    assert (first["cache"], second["cache"]) == ("miss", "hit")
    assert embedder.calls == [(1, "query")]
    assert (await get(client, q="error budgets", mode="keyword"))["cache"] == "none"


class SlowEmbedder(HashEmbedder):
    """Takes `delay` seconds per call: a cold GPU, a congested network."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def embed(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        await asyncio.sleep(self.delay)
        return await super().embed(texts, input_type)


@asynccontextmanager
async def slow_api(
    index_root: Path, delay: float, deadline_s: float
) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings(api=ApiOptions(embed_deadline_s=deadline_s))
    app = create_app(settings, embedder=SlowEmbedder(delay), reader=EdgeReader(index_root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
async def slow_client(index_root: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with slow_api(index_root, delay=0.2, deadline_s=0.3) as client:
        yield client


async def test_concurrent_identical_queries_share_one_embedding(index_root: Path) -> None:
    # A deadline far past the embedder's delay: the test is about sharing, not about time.
    async with slow_api(index_root, delay=0.2, deadline_s=30) as slow_client:
        bodies = await asyncio.gather(*(get(slow_client, q="dns outage") for _ in range(5)))
    app = slow_client._transport.app  # type: ignore[attr-defined]
    embedder = app.state.service.embedder
    assert embedder.calls == [(1, "query")]
    assert sorted(b["cache"] for b in bodies) == ["hit"] * 4 + ["miss"]


async def test_a_slow_embedder_degrades_within_the_deadline(slow_client: httpx.AsyncClient) -> None:
    app = slow_client._transport.app  # type: ignore[attr-defined]
    app.state.service.embedder.delay = 5.0
    started = time.perf_counter()
    body = await get(slow_client, q="feature flags cleanup")
    assert time.perf_counter() - started < 2.0
    assert body["degraded"] and body["mode"] == "keyword" and body["results"]
    assert body["degraded_reason"] == "embedder unavailable: no answer within 0.3 s"


async def test_ready_reports_store_and_embedder_apart(
    client: httpx.AsyncClient, embedder: HashEmbedder
) -> None:
    body = (await client.get("/ready")).json()
    assert body["ready"] and body["store"]["ok"] and body["embedder"]["ok"]
    embedder.down = True
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["store"]["ok"] and not response.json()["embedder"]["ok"]


async def test_ready_is_503_without_an_index(tmp_path: Path) -> None:
    app = create_app(ApiSettings(), embedder=HashEmbedder(), reader=EdgeReader(tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.get("/ready")
    assert response.status_code == 503 and not response.json()["store"]["ok"]


async def test_metrics_count_requests_stages_and_cache(client: httpx.AsyncClient) -> None:
    await get(client, q="observability traces")
    await get(client, q="observability traces")
    text = (await client.get("/metrics")).text
    assert 'podsearch_http_requests_total{route="/search",status="200"} 2.0' in text
    assert 'podsearch_query_embedding_cache_total{result="hit"} 1.0' in text
    assert "podsearch_search_stage_seconds_bucket" in text
    assert "podsearch_query_embedding_cache_hit_ratio 0.5" in text


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/search", params={"q": ""}, headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"


async def test_a_flooding_client_gets_429_with_retry_after(index_root: Path) -> None:
    settings = ApiSettings(api=ApiOptions(rate_limit_per_minute=60, rate_limit_burst=3))
    app = create_app(settings, embedder=HashEmbedder(), reader=EdgeReader(index_root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            codes = [
                (await client.get("/search", params={"q": "dns"})).status_code for _ in range(4)
            ]
            refused = await client.get("/podcasts")
            health = await client.get("/health")
    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert health.status_code == 200  # probes are never rate limited


async def test_cors_allows_only_configured_origins(index_root: Path) -> None:
    settings = ApiSettings(api=ApiOptions(cors_origins=["https://listen.example"]))
    app = create_app(settings, embedder=HashEmbedder(), reader=EdgeReader(index_root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            allowed = await client.get("/health", headers={"Origin": "https://listen.example"})
            other = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://listen.example"
    assert "access-control-allow-origin" not in other.headers


async def test_podcasts_list_episode_and_segment_counts(client: httpx.AsyncClient) -> None:
    podcasts = {p["podcast"]: p for p in (await client.get("/podcasts")).json()}
    assert podcasts["Ledger Lines"]["episodes"] == 3
    assert podcasts["Seed & Soil"]["episodes"] == 2
    assert all(p["segments"] > p["episodes"] for p in podcasts.values())


async def test_a_dead_embedder_opens_the_circuit_and_searches_stay_answered(
    index_root: Path,
) -> None:
    dead = open_embedder(EmbedderClientSettings(url="http://127.0.0.1:9", retries=0))
    app = create_app(ApiSettings(), embedder=dead, reader=EdgeReader(index_root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            bodies = [await get(client, q="dns outage") for _ in range(6)]
            ready = (await client.get("/ready")).json()
        await dead.aclose()
    assert all(b["degraded"] and b["results"] for b in bodies)
    assert (
        "circuit open" in bodies[-1]["degraded_reason"] or "circuit" in ready["embedder"]["detail"]
    )
    assert ready["store"]["ok"] and not ready["embedder"]["ok"]
    assert "circuit open" in ready["embedder"]["detail"]


async def test_a_quoted_phrase_keeps_the_moments_that_say_it_word_for_word(
    client: httpx.AsyncClient,
) -> None:
    for mode in ("hybrid", "semantic", "keyword"):
        body = await get(client, q='what about the "Worm  Bin"', mode=mode, limit=20)
        assert body["results"], mode
        assert all("worm bin" in " ".join(m["text"].lower().split()) for m in body["results"])
    unquoted = await get(client, q="what about the worm bin", limit=20)
    assert any("worm bin" not in m["text"].lower() for m in unquoted["results"])
    assert (await get(client, q='"bin worm"'))["results"] == []


async def test_a_query_of_stop_words_ranks_by_meaning_in_hybrid_and_finds_nothing_by_keyword(
    client: httpx.AsyncClient,
) -> None:
    hybrid = await get(client, q="what is it all about", limit=5, explain="true")
    assert hybrid["results"] and not hybrid["degraded"]
    assert all(m["explain"]["keyword"] is None for m in hybrid["results"])  # no BM25 terms
    assert (await get(client, q="what is it all about", mode="keyword"))["results"] == []
