"""The embedding service's HTTP contract: the real MiniLM model, and backends that misbehave."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import SecretStr

from embedder.app import create_app
from embedder.backends import Backend
from podsearch.contract import (
    EmbedderHealth,
    EmbeddingRecipe,
    EmbeddingResponse,
    ErrorBody,
    InputType,
)
from podsearch.http_transport import HttpTransport
from podsearch.remote_embedder import RemoteEmbedder
from podsearch.settings import EmbedderClientSettings
from tests.fakes import FakeBackend

TEXTS = [
    "how do I water tomatoes",
    "drip irrigation for tomato plants",
    "raising a seed round",
    "on-call burnout in small teams",
    "VENTURE CAPITAL 🚀🚀🚀",
]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def embed(client: httpx.AsyncClient, texts: list[str], **extra: object) -> httpx.Response:
    return await client.post("/v1/embeddings", json={"input": texts, **extra})


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The contract's error body, nothing more (`details` only where there are some)."""
    assert response.status_code == status, response.text
    error = ErrorBody.model_validate_json(response.content, strict=True).error
    assert error.code == code and error.message
    assert set(response.json()["error"]) == {"code", "message"}


# ## With the real model


async def test_one_normalised_384_d_vector_per_input_in_input_order(
    minilm_http: httpx.AsyncClient, minilm: Backend
) -> None:
    response = await embed(minilm_http, TEXTS)

    assert response.status_code == 200
    body = EmbeddingResponse.model_validate_json(response.content)
    assert body.model == "sentence-transformers/all-MiniLM-L6-v2"
    assert [d.index for d in body.data] == list(range(len(TEXTS)))
    for text, data in zip(TEXTS, body.data, strict=True):
        assert len(data.embedding) == 384
        assert math.isclose(cosine(data.embedding, data.embedding), 1.0, abs_tol=1e-5)
        alone = minilm.encode([text], "document").vectors[0]
        assert cosine(alone, data.embedding) > 0.9999


async def test_query_and_document_input_types_are_both_accepted(
    minilm_http: httpx.AsyncClient,
) -> None:
    query = await embed(minilm_http, TEXTS[:1], input_type="query")
    document = await embed(minilm_http, TEXTS[:1], input_type="document")

    assert query.status_code == document.status_code == 200
    # MiniLM has no instructions: both sides of the index embed alike.
    q, d = query.json()["data"][0]["embedding"], document.json()["data"][0]["embedding"]
    assert cosine(q, d) > 0.9999


async def test_vectors_carry_meaning(minilm_http: httpx.AsyncClient) -> None:
    response = await embed(minilm_http, TEXTS[:3], input_type="query")
    water, irrigation, funding = (d["embedding"] for d in response.json()["data"])

    assert cosine(water, irrigation) > cosine(water, funding) + 0.2


async def test_usage_counts_tokens_and_truncated_inputs(minilm_http: httpx.AsyncClient) -> None:
    response = await embed(minilm_http, ["short one", "word " * 400])

    usage = response.json()["usage"]
    assert usage["truncated_inputs"] == 1
    assert 256 + 4 <= usage["prompt_tokens"] == usage["total_tokens"] <= 256 + 10


async def test_health_reports_recipe_versions_and_warmth(
    minilm_http: httpx.AsyncClient, minilm: Backend
) -> None:
    cold = EmbedderHealth.model_validate_json((await minilm_http.get("/health")).content)
    await embed(minilm_http, TEXTS[:1])
    warm = EmbedderHealth.model_validate_json((await minilm_http.get("/health")).content)

    assert cold.recipe == minilm.recipe
    assert cold.recipe.dimension == 384 and cold.recipe.max_seq_length == 256
    assert cold.recipe.revision == "sha256:53aa51172d142c89"
    assert (cold.device, cold.dtype, cold.backend) == ("cpu", "float32", "sentence-transformers")
    assert {"torch", "transformers", "sentence-transformers", "podsearch"} <= cold.versions.keys()
    assert cold.load_seconds is not None and cold.load_seconds > 0
    assert (cold.warm, warm.warm) == (False, True)


async def test_start_up_waits_for_a_real_warm_up_encode(minilm: Backend) -> None:
    app = create_app(minilm)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://e") as client,
    ):
        assert (await client.get("/health")).json()["warm"] is True


async def test_the_client_reads_the_recipe_and_vectors_of_the_real_server(
    minilm: Backend,
) -> None:
    transport = httpx.ASGITransport(app=create_app(minilm, warm_up=False))
    settings = EmbedderClientSettings(url="http://embedder")
    async with RemoteEmbedder(settings, HttpTransport(settings, transport)) as embedder:
        assert await embedder.recipe() == minilm.recipe
        vectors = await embedder.embed(TEXTS, "query")

    direct = minilm.encode(TEXTS, "query").vectors
    assert all(cosine(a, b) > 0.9999 for a, b in zip(vectors, direct, strict=True))


# ## Refusals


@pytest.mark.parametrize(
    ("token", "header"),
    [(None, None), ("wrong", "Bearer wrong"), ("scheme", "Basic s3cret"), ("empty", "Bearer ")],
)
async def test_a_missing_or_wrong_token_is_refused_with_401_json(
    minilm: Backend, token: str | None, header: str | None
) -> None:
    app = create_app(minilm, token=SecretStr("s3cret"), warm_up=False)
    headers = {"Authorization": header} if header else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=headers) as c:
        response = await embed(c, TEXTS[:1])
        health = await c.get("/health")

    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert health.status_code == 200  # probes need no secret


async def test_the_right_token_is_accepted(minilm: Backend) -> None:
    app = create_app(minilm, token=SecretStr("s3cret"), warm_up=False)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer s3cret"}
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=headers) as c:
        assert (await embed(c, TEXTS[:1])).status_code == 200


def test_an_empty_token_is_a_configuration_error(minilm: Backend) -> None:
    with pytest.raises(ValueError, match="empty token"):
        create_app(minilm, token=SecretStr(""))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"input": []},
        {"input": "a bare string"},
        {"input": [1, 2]},
        {"input": [None]},
        {"input": ["ok"], "input_type": "passage"},
        {"input": ["ok"], "encoding_format": "base64"},
        {"input": ["ok", "", "fine"]},
        {"input": ["   \n\t"]},
    ],
)
async def test_bad_bodies_are_422_invalid_request(
    minilm_http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    assert_error(await minilm_http.post("/v1/embeddings", json=body), 422, "invalid_request")


async def test_malformed_json_is_422(minilm_http: httpx.AsyncClient) -> None:
    response = await minilm_http.post(
        "/v1/embeddings", content=b'{"input": [', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "invalid_request")


@pytest.mark.parametrize("count", [5, 3000])
async def test_an_oversized_batch_is_413(minilm: Backend, count: int) -> None:
    transport = httpx.ASGITransport(app=create_app(minilm, max_batch=4, warm_up=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        assert_error(await embed(client, ["x"] * count), 413, "batch_too_large")


async def test_another_model_name_is_refused_and_ours_accepted(
    minilm_http: httpx.AsyncClient,
) -> None:
    assert_error(
        await embed(minilm_http, ["x"], model="hkunlp/instructor-xl"), 404, "model_not_found"
    )
    assert (await embed(minilm_http, ["x"], model="all-MiniLM-L6-v2")).status_code == 200


async def test_unknown_paths_answer_json(minilm_http: httpx.AsyncClient) -> None:
    assert_error(await minilm_http.get("/v1/nothing"), 404, "not_found")
    assert_error(await minilm_http.get("/v1/embeddings"), 405, "method_not_allowed")


# ## Backends that misbehave: real implementations of the protocol


SCRIPTED_RECIPE = EmbeddingRecipe(model_id="test/scripted", dimension=3)


@dataclass
class ScriptedBackend(FakeBackend):
    """Returns what `make` builds from the texts, once `gate` opens."""

    recipe: EmbeddingRecipe = SCRIPTED_RECIPE
    make: str = "ok"
    gate: threading.Event = field(default_factory=threading.Event)

    def vectors(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        self.gate.wait(timeout=10)
        if self.make == "raise":
            raise RuntimeError("CUDA error: device-side assert triggered")
        vector = {"nan": [math.nan, 0.0, 1.0], "inf": [math.inf, 0.0, 0.0]}.get(
            self.make, [0.0, 1.0] if self.make == "short" else [0.6, 0.8, 0.0]
        )
        return [list(vector)] * (len(texts) - (self.make == "fewer"))


def scripted_client(backend: ScriptedBackend) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(backend, warm_up=False))
    return httpx.AsyncClient(transport=transport, base_url="http://e")


@pytest.mark.parametrize(
    ("make", "code"),
    [
        ("nan", "invalid_embedding"),
        ("inf", "invalid_embedding"),
        ("short", "invalid_embedding"),
        ("fewer", "invalid_embedding"),
        ("raise", "embedding_failed"),
    ],
)
async def test_bad_vectors_or_a_failing_model_are_a_500_never_a_200(make: str, code: str) -> None:
    backend = ScriptedBackend(make=make)
    backend.gate.set()
    async with scripted_client(backend) as client:
        response = await embed(client, ["a", "b"])
        health = await client.get("/health")

    assert_error(response, 500, code)
    assert health.json()["warm"] is False


async def test_health_answers_while_the_model_is_busy_and_encodes_run_one_at_a_time() -> None:
    backend = ScriptedBackend()
    async with scripted_client(backend) as client:
        first = asyncio.create_task(embed(client, ["a"]))
        second = asyncio.create_task(embed(client, ["b"]))
        while backend.running == 0:
            await asyncio.sleep(0.01)
        health = await asyncio.wait_for(client.get("/health"), timeout=2)
        assert health.status_code == 200 and not first.done()
        backend.gate.set()
        responses = await asyncio.gather(first, second)

    assert [r.status_code for r in responses] == [200, 200]
    assert backend.most_running == 1
