"""The search API's HTTP contract, over a real Edge index of the sample corpus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from podsearch.contract import ErrorBody
from podsearch.errors import IndexMismatch
from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiSettings
from tests.fakes import HashEmbedder


async def test_search_returns_ranked_moments_with_play_links(client: httpx.AsyncClient) -> None:
    response = await client.get("/search", params={"q": "liquidation preference participating"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "liquidation preference participating" and body["mode"] == "hybrid"
    assert body["took_ms"] >= body["timings"]["search_ms"] > 0
    top = body["results"][0]
    assert top["episode_id"] == "ledger-lines-107"
    assert top["podcast"] == "Ledger Lines" and top["speakers"]
    assert 0 <= top["start"] < top["end"]
    assert top["url"] == f"https://media.podcasts.example/ledger-lines/107.mp3#t={top['start']:.0f}"
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
async def test_every_mode_answers(client: httpx.AsyncClient, mode: str) -> None:
    response = await client.get(
        "/search", params={"q": "83(b) election letter to the IRS", "mode": mode}
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["episode_id"] == "ledger-lines-109"


async def test_keyword_mode_never_calls_the_embedder(
    client: httpx.AsyncClient, embedder: HashEmbedder
) -> None:
    embedder.down = True
    response = await client.get("/search", params={"q": "vesting cliff", "mode": "keyword"})
    assert response.status_code == 200 and response.json()["results"]


async def test_a_query_is_embedded_once_as_a_query(
    client: httpx.AsyncClient, embedder: HashEmbedder
) -> None:
    await client.get("/search", params={"q": "founder burnout"})
    assert embedder.calls == [(1, "query")]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": ""}, "empty_query"),
        ({"q": "   "}, "empty_query"),
        ({}, "invalid_request"),
        ({"q": "x" * 513}, "query_too_long"),
        ({"q": "ok", "limit": 0}, "invalid_request"),
        ({"q": "ok", "limit": 51}, "limit_too_large"),
        ({"q": "ok", "offset": -1}, "invalid_request"),
        ({"q": "ok", "offset": 1001}, "offset_too_large"),
        ({"q": "ok", "mode": "fuzzy"}, "invalid_request"),
        ({"q": "ok", "published_after": "last tuesday"}, "invalid_request"),
        (
            {"q": "ok", "published_after": "2025-02-01", "published_before": "2025-01-01"},
            "invalid_date_range",
        ),
    ],
)
async def test_bad_requests_get_a_422_with_a_stable_code(
    client: httpx.AsyncClient, params: dict[str, object], code: str
) -> None:
    response = await client.get("/search", params=params)
    assert response.status_code == 422
    error = ErrorBody.model_validate_json(response.content).error
    assert error.code == code and error.message


@pytest.mark.parametrize(
    "q",
    [
        "openai",
        "x",
        "😀" * 100,
        "   openai   ",
        "VENTURE CAPITAL",
        "What are VCs saying about AI valuations?",
    ],
)
async def test_odd_but_valid_queries_get_a_sensible_answer(
    client: httpx.AsyncClient, q: str
) -> None:
    response = await client.get("/search", params={"q": q})
    assert response.status_code == 200
    assert response.json()["query"] == " ".join(q.split())


async def test_uppercase_and_padding_do_not_change_the_answer(client: httpx.AsyncClient) -> None:
    a = (await client.get("/search", params={"q": "venture capital"})).json()["results"]
    b = (await client.get("/search", params={"q": "  VENTURE   CAPITAL "})).json()["results"]
    assert [r["segment_ids"] for r in a] == [r["segment_ids"] for r in b]


async def test_filters_restrict_results(client: httpx.AsyncClient) -> None:
    params = {"q": "budget", "podcast": ["The Night Shift"], "limit": 50}
    results = (await client.get("/search", params=params)).json()["results"]
    assert results and {r["podcast"] for r in results} == {"The Night Shift"}
    params = {"q": "budget", "published_before": "2025-05-01", "limit": 50}
    results = (await client.get("/search", params=params)).json()["results"]
    assert results and all(r["published"] < "2025-05-01" for r in results)


async def test_pages_do_not_overlap(client: httpx.AsyncClient) -> None:
    pages = [
        (await client.get("/search", params={"q": "money", "limit": 5, "offset": o})).json()
        for o in (0, 5, 10)
    ]
    ids = [r["segment_ids"][0] for page in pages for r in page["results"]]
    whole = (await client.get("/search", params={"q": "money", "limit": 15})).json()["results"]
    assert ids == [r["segment_ids"][0] for r in whole] and len(set(ids)) == 15


async def test_an_unreachable_embedder_degrades_to_keyword_results(
    client: httpx.AsyncClient, embedder: HashEmbedder
) -> None:
    embedder.down = True
    body = (await client.get("/search", params={"q": "compost worm bin"})).json()
    assert (body["mode"], body["requested_mode"], body["degraded"]) == ("keyword", "hybrid", True)
    assert "embedder unavailable" in body["degraded_reason"] and body["results"]
    embedder.down = False
    body = (await client.get("/search", params={"q": "compost worm bin"})).json()
    assert (body["mode"], body["degraded"]) == ("hybrid", False)


async def test_another_embedding_model_is_refused(index_root: Path) -> None:
    other = HashEmbedder(model_id="test/other-model")
    app = create_app(ApiSettings(), embedder=other, reader=EdgeReader(index_root))
    with pytest.raises(Exception, match="another recipe"):
        async with app.router.lifespan_context(app):
            pass


async def test_an_index_of_an_older_schema_stops_start_up_until_rebuilt(
    older_schema_index: Path,
) -> None:
    app = create_app(ApiSettings(), embedder=HashEmbedder(), reader=EdgeReader(older_schema_index))
    with pytest.raises(IndexMismatch, match=r"schema_version 1.*podsearch-index --rebuild"):
        async with app.router.lifespan_context(app):
            pass


async def test_an_empty_index_answers_index_not_ready(tmp_path: Path) -> None:
    app = create_app(ApiSettings(), embedder=HashEmbedder(), reader=EdgeReader(tmp_path))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        response = await client.get("/search", params={"q": "anything"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "index_not_ready"


async def test_podcasts_health_and_docs(client: httpx.AsyncClient) -> None:
    podcasts = (await client.get("/podcasts")).json()
    assert {p["podcast"] for p in podcasts} >= {"Ledger Lines", "The Night Shift"}
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/docs")).status_code == 200
    assert "/search" in (await client.get("/openapi.json")).json()["paths"]
    missing = await client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "module", ["search_api.app", "search_api.cli", "search_api.mcp_server", "indexer.cli"]
)
def test_the_api_mcp_server_and_indexer_never_import_a_model(module: str) -> None:
    heavy = ("torch", "sentence_transformers", "InstructorEmbedding", "transformers", "modal")
    script = f"import sys, {module}; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_an_unreachable_store_does_not_stop_start_up() -> None:
    settings = ApiSettings(store=StoreSettings(backend="qdrant", url="http://127.0.0.1:9"))
    app = create_app(settings, embedder=HashEmbedder())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            ready = await client.get("/ready")
            search = await client.get("/search", params={"q": "anything"})
    assert ready.status_code == 503 and not ready.json()["store"]["ok"]
    assert search.status_code == 503
    assert search.json()["error"]["code"] == "store_unavailable"
