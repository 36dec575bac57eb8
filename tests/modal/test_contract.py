"""One contract, two services: every test runs against the local server (`podsearch-embedder`
with the instructor backend) and against the Modal web endpoint (forwarding to the Modal
classes, run with `.local()`), both on the same tiny INSTRUCTOR model."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from podsearch.contract import EmbedderHealth, EmbeddingResponse
from podsearch.http_transport import HttpTransport
from podsearch.remote_embedder import RemoteEmbedder
from podsearch.settings import EmbedderClientSettings
from tests.embedder.tiny_instructor import POISON, TINY_DIMENSION, TINY_MODEL_ID
from tests.modal.conftest import REVISION, TOKEN

pytestmark = pytest.mark.filterwarnings("ignore:The .* function is executing locally:UserWarning")

AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXTS = ["how do they handle on-call burnout", "raising a seed round", "tomato plants"]
Factory = Callable[[Path], FastAPI]


@pytest.fixture(params=["local", "modal"])
def service(request: pytest.FixtureRequest) -> Factory:
    factory: Factory = request.getfixturevalue(
        f"{request.param}_{'app' if request.param == 'local' else 'web_app'}"
    )
    return factory


@asynccontextmanager
async def client(
    app: FastAPI, headers: dict[str, str] | None = AUTH
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=headers) as c:
        yield c


async def embed(c: httpx.AsyncClient, texts: list[str], **extra: object) -> httpx.Response:
    return await c.post("/v1/embeddings", json={"input": texts, **extra})


def error_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_one_normalised_vector_per_input_in_order(service: Factory, volume: Path) -> None:
    async with client(service(volume)) as c:
        response = await embed(c, TEXTS, input_type="document")

    body = EmbeddingResponse.model_validate_json(response.content)
    assert response.status_code == 200 and body.model == TINY_MODEL_ID
    assert [d.index for d in body.data] == [0, 1, 2]
    for data in body.data:
        assert len(data.embedding) == TINY_DIMENSION
        assert math.isclose(sum(x * x for x in data.embedding), 1.0, abs_tol=1e-5)


async def test_the_two_services_give_the_same_vectors_and_recipe(
    local_app: Factory, modal_web_app: Factory, volume: Path
) -> None:
    results = []
    for app in (local_app(volume), modal_web_app(volume)):
        settings = EmbedderClientSettings(url="http://e", token=TOKEN)
        transport = httpx.ASGITransport(app=app)
        async with RemoteEmbedder(settings, HttpTransport(settings, transport)) as embedder:
            recipe = await embedder.recipe()
            results.append((recipe, await embedder.embed(TEXTS, "query")))

    (local_recipe, local_vectors), (modal_recipe, modal_vectors) = results
    assert local_recipe == modal_recipe and local_recipe.revision == REVISION
    for a, b in zip(local_vectors, modal_vectors, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5


async def test_query_and_document_instructions_differ(service: Factory, volume: Path) -> None:
    async with client(service(volume)) as c:
        query = (await embed(c, TEXTS[:1], input_type="query")).json()["data"][0]["embedding"]
        document = (await embed(c, TEXTS[:1], input_type="document")).json()["data"][0]
    assert query != document["embedding"]


async def test_usage_counts_tokens_and_truncation(service: Factory, volume: Path) -> None:
    async with client(service(volume)) as c:
        usage = (await embed(c, ["short", "word " * 600], input_type="query")).json()["usage"]

    assert usage["truncated_inputs"] == 1
    assert 512 < usage["prompt_tokens"] == usage["total_tokens"] < 600


async def test_concurrent_queries_are_all_answered_with_their_own_vector(
    service: Factory, volume: Path
) -> None:
    texts = [f"question number {i}" for i in range(32)]
    async with client(service(volume)) as c:
        responses = await asyncio.gather(*(embed(c, [t], input_type="query") for t in texts))
        alone = await embed(c, texts[7:8], input_type="query")

    assert {r.status_code for r in responses} == {200}
    seventh = responses[7].json()["data"][0]["embedding"]
    assert (
        max(abs(a - b) for a, b in zip(seventh, alone.json()["data"][0]["embedding"], strict=True))
        < 1e-5
    )


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer "])
async def test_a_missing_or_wrong_token_is_refused(
    service: Factory, volume: Path, header: str | None
) -> None:
    async with client(service(volume), {"Authorization": header} if header else {}) as c:
        response = await embed(c, TEXTS[:1])
        health = await c.get("/health")

    assert error_code(response) == (401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert health.status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"input": []}, (422, "invalid_request")),
        ({"input": ["ok", "  "]}, (422, "invalid_request")),
        ({"input": ["ok"], "input_type": "passage"}, (422, "invalid_request")),
        ({"input": ["x"] * 257}, (413, "batch_too_large")),
        ({"input": ["x"] * 3000}, (413, "batch_too_large")),
        ({"input": ["ok"], "model": "hkunlp/instructor-large"}, (404, "model_not_found")),
    ],
)
async def test_bad_requests_are_refused_alike(
    service: Factory, volume: Path, body: dict[str, object], expected: tuple[int, str]
) -> None:
    async with client(service(volume)) as c:
        assert error_code(await c.post("/v1/embeddings", json=body)) == expected


async def test_a_nan_is_a_500_never_a_vector(service: Factory, poisoned_volume: Path) -> None:
    async with client(service(poisoned_volume)) as c:
        poisoned = await embed(c, [f"why {POISON}"], input_type="query")
        health = EmbedderHealth.model_validate_json((await c.get("/health")).content)
        clean = await embed(c, ["why not"], input_type="query")

    assert error_code(poisoned) == (500, "invalid_embedding")
    assert "non-finite" in poisoned.json()["error"]["message"]
    assert health.warm is False
    assert clean.status_code == 200


async def test_a_nan_fails_only_its_own_request_among_concurrent_ones(
    service: Factory, poisoned_volume: Path
) -> None:
    texts = [f"question {i}" for i in range(12)]
    texts[5] = f"question {POISON}"

    async with client(service(poisoned_volume)) as c:
        responses = await asyncio.gather(*(embed(c, [t], input_type="query") for t in texts))

    assert error_code(responses[5]) == (500, "invalid_embedding")
    assert [r.status_code for i, r in enumerate(responses) if i != 5] == [200] * 11


async def test_health_tells_recipe_device_versions_and_warmth(
    service: Factory, volume: Path
) -> None:
    async with client(service(volume)) as c:
        cold = EmbedderHealth.model_validate_json((await c.get("/health")).content)
        await embed(c, TEXTS[:1], input_type="query")
        warm = EmbedderHealth.model_validate_json((await c.get("/health")).content)

    assert cold.recipe.model_id == TINY_MODEL_ID and cold.recipe.dimension == TINY_DIMENSION
    assert (cold.warm, warm.warm) == (False, True)
    assert warm.device.startswith("cpu") and warm.dtype == "float32"
    assert {"torch", "cuda", "transformers", "InstructorEmbedding"} <= warm.versions.keys()
    assert warm.load_seconds is not None and warm.load_seconds > 0
