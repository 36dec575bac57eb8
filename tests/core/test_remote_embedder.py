"""`RemoteEmbedder` over HTTP against the real embedding app in-process, and against scripted
bad remotes (`httpx.MockTransport`: only the network is faked)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from embedder.app import create_app
from embedder.backends import EncodeResult
from podsearch.circuit import CircuitBreaker, CircuitState
from podsearch.contract import EmbedderHealth, InputType
from podsearch.errors import EmbedderError, EmbedderResponseInvalid, EmbedderUnavailable
from podsearch.http_transport import HttpTransport
from podsearch.remote_embedder import RemoteEmbedder, embed_in_batches, open_embedder
from podsearch.settings import EmbedderClientSettings
from tests.fakes import FAKE_RECIPE, FakeBackend
from tests.support import Clock

RECIPE = FAKE_RECIPE
HEALTH = EmbedderHealth(recipe=RECIPE, backend="fake", device="cpu").model_dump_json()


def settings(**overrides: object) -> EmbedderClientSettings:
    return EmbedderClientSettings.model_validate({"url": "http://embedder", **overrides})


def http_embedder(
    settings: EmbedderClientSettings, transport: httpx.AsyncBaseTransport, **options: Any
) -> RemoteEmbedder:
    return RemoteEmbedder(settings, HttpTransport(settings, transport), **options)


def remote(
    answer: Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response],
) -> tuple[httpx.MockTransport, list[str]]:
    """A scripted remote: /health answers HEALTH, everything else `answer`; paths are logged."""
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/health":
            return httpx.Response(200, content=HEALTH)
        response = answer(request)
        return await response if isinstance(response, Awaitable) else response

    return httpx.MockTransport(handler), seen


def vectors_json(vectors: list[object], model: str = RECIPE.model_id) -> httpx.Response:
    data = [{"index": i, "embedding": v} for i, v in enumerate(vectors)]
    return httpx.Response(200, content=json.dumps({"object": "list", "data": data, "model": model}))


GOOD = [1.0] + [0.0] * 7


# ## Against the real app


async def test_texts_are_sent_in_batches_of_the_configured_size() -> None:
    backend = FakeBackend()
    texts = [f"segment {i}" for i in range(150)]
    transport = httpx.ASGITransport(app=create_app(backend, warm_up=False))

    async with http_embedder(settings(batch_size=64), transport=transport) as embedder:
        vectors = await embedder.embed(texts, "document")

    assert [size for _, size in backend.calls] == [64, 64, 22]
    assert vectors == FakeBackend().vectors(texts, "document")


class CutsLongTexts(FakeBackend):
    """Reads at most ten characters of a text, and says so in its usage, as real models do."""

    def encode(self, texts: Sequence[str], input_type: InputType) -> EncodeResult:
        read = super().encode(texts, input_type)
        return EncodeResult(read.vectors, read.tokens, [len(t) > 10 for t in texts])


async def test_texts_the_model_read_only_in_part_are_counted_across_batches() -> None:
    transport = httpx.ASGITransport(app=create_app(CutsLongTexts(), warm_up=False))
    texts = ["short", "a good deal longer", "tiny", "longer than ten", "also long text"]
    async with http_embedder(settings(batch_size=2), transport=transport) as embedder:
        await embedder.embed(texts[:4], "document")
        assert embedder.truncated_inputs == 2
        await embedder.embed(texts[4:], "query")
        assert embedder.truncated_inputs == 3


async def test_the_recipe_is_asked_once() -> None:
    transport, seen = remote(lambda request: vectors_json([GOOD]))

    async with http_embedder(settings(), transport=transport) as embedder:
        assert await embedder.recipe() == RECIPE
        await embedder.embed(["a"], "query")
        await embedder.embed(["b"], "query")

    assert seen == ["/health", "/v1/embeddings", "/v1/embeddings"]


async def test_the_token_is_sent_and_a_refusal_is_not_retried() -> None:
    app = create_app(FakeBackend(), token=SecretStr("s3cret"), warm_up=False)
    transport = httpx.ASGITransport(app=app)

    async with http_embedder(settings(token="s3cret"), transport=transport) as embedder:
        assert len(await embedder.embed(["a"], "query")) == 1
    async with http_embedder(settings(token="wrong"), transport=transport) as embedder:
        with pytest.raises(EmbedderError, match="401 unauthorized") as refused:
            await embedder.embed(["a"], "query")

    assert not isinstance(refused.value, EmbedderUnavailable | EmbedderResponseInvalid)


async def test_nothing_to_embed_sends_nothing() -> None:
    transport, seen = remote(lambda request: vectors_json([]))
    async with http_embedder(settings(), transport=transport) as embedder:
        assert await embedder.embed([], "query") == []
    assert seen == []


# ## Retries


async def test_a_503_is_retried_until_the_service_answers() -> None:
    answers = iter([httpx.Response(503), httpx.Response(503), vectors_json([GOOD])])
    transport, seen = remote(lambda request: next(answers))

    async with http_embedder(settings(retries=2), transport=transport, backoff_s=0.01) as embedder:
        assert await embedder.embed(["a"], "query") == [GOOD]

    assert seen.count("/v1/embeddings") == 3


@pytest.mark.parametrize(
    "failure",
    [
        lambda request: httpx.Response(503, json={"error": {"code": "busy", "message": "cold"}}),
        lambda request: httpx.Response(429, headers={"Retry-After": "0"}),
        lambda request: httpx.Response(500, text="<html>gateway</html>"),
    ],
    ids=["503", "429", "500-html"],
)
async def test_exhausted_retries_make_the_embedder_unavailable(
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    transport, seen = remote(failure)

    async with http_embedder(settings(retries=3), transport=transport, backoff_s=0.01) as embedder:
        with pytest.raises(EmbedderUnavailable, match="after 4 attempts"):
            await embedder.embed(["a"], "query")

    assert seen.count("/v1/embeddings") == 4


async def test_connection_errors_are_retried_then_unavailable() -> None:
    attempts = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("connection refused", request=request)

    async with http_embedder(
        settings(retries=2), transport=httpx.MockTransport(refuse), backoff_s=0.01
    ) as embedder:
        with pytest.raises(EmbedderUnavailable, match="ConnectError"):
            await embedder.recipe()

    assert attempts == 3


# ## Responses that must never be used


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (vectors_json([[float("nan")] + [0.0] * 7]), "non-finite"),
        (vectors_json([None]), "malformed"),
        (vectors_json([GOOD, GOOD]), "expected 1 vectors"),
        (vectors_json([]), "expected 1 vectors"),
        (vectors_json([[1.0] * 4]), "dimension 4"),
        (vectors_json([[0.0] * 8]), "all zeros"),
        (vectors_json([GOOD], model="other/model"), "announced"),
        (httpx.Response(200, content=b'{"data": [[0.1, 0.2]]}'), "malformed"),
        (httpx.Response(200, content=b"<html>ok</html>"), "malformed"),
    ],
    ids=["nan", "null", "too-many", "none", "wrong-dim", "zeros", "other-model", "nested", "html"],
)
async def test_bad_vectors_are_invalid_and_not_retried(
    answer: httpx.Response, problem: str
) -> None:
    transport, seen = remote(lambda request: answer)

    async with http_embedder(settings(retries=3), transport=transport) as embedder:
        with pytest.raises(EmbedderResponseInvalid, match=problem):
            await embedder.embed(["a"], "query")

    assert seen.count("/v1/embeddings") == 1


async def test_vectors_are_put_back_in_index_order() -> None:
    other = [0.0, 1.0] + [0.0] * 6
    body = {
        "data": [{"index": 1, "embedding": other}, {"index": 0, "embedding": GOOD}],
        "model": RECIPE.model_id,
    }
    transport, _ = remote(lambda request: httpx.Response(200, json=body))

    async with http_embedder(settings(), transport=transport) as embedder:
        assert await embedder.embed(["a", "b"], "query") == [GOOD, other]


async def test_duplicate_indices_are_invalid() -> None:
    body = {"data": [{"index": 0, "embedding": GOOD}] * 2, "model": RECIPE.model_id}
    transport, _ = remote(lambda request: httpx.Response(200, json=body))

    async with http_embedder(settings(), transport=transport) as embedder:
        with pytest.raises(EmbedderResponseInvalid, match="indices"):
            await embedder.embed(["a", "b"], "query")


# ## Deadline


async def test_a_hanging_service_is_abandoned_at_the_deadline() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return vectors_json([GOOD])

    transport, _ = remote(hang)
    async with http_embedder(settings(retries=5), transport=transport) as embedder:
        started = time.monotonic()
        with pytest.raises(EmbedderUnavailable):
            await embedder.embed(["a"], "query", deadline_s=0.3)

    assert time.monotonic() - started < 0.6


async def test_no_retry_starts_that_the_deadline_cannot_fit() -> None:
    transport, seen = remote(lambda request: httpx.Response(503))

    async with http_embedder(settings(retries=5), transport=transport, backoff_s=1.0) as embedder:
        started = time.monotonic()
        with pytest.raises(EmbedderUnavailable, match="no time left"):
            await embedder.embed(["a"], "query", deadline_s=0.4)

    assert time.monotonic() - started < 0.2
    assert seen.count("/v1/embeddings") == 1


# ## Shape of the client


def test_one_embedder_refuses_a_second_event_loop() -> None:
    transport, _ = remote(lambda request: vectors_json([GOOD]))
    embedder = http_embedder(settings(), transport=transport)

    asyncio.run(embedder.embed(["a"], "query"))
    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(embedder.embed(["a"], "query"))


async def test_embed_in_batches_checks_every_batch_count() -> None:
    async def one_short(batch: Sequence[str]) -> list[list[float]]:
        return [GOOD] * (len(batch) - 1)

    with pytest.raises(EmbedderResponseInvalid, match="asked for 3 vectors, got 2"):
        await embed_in_batches(["a", "b", "c"], 5, one_short)
    with pytest.raises(ValueError, match="batch_size"):
        await embed_in_batches(["a"], 0, one_short)


def test_open_embedder_speaks_http_unless_told_otherwise() -> None:
    embedder = open_embedder(settings())

    assert isinstance(embedder.transport, HttpTransport)
    assert embedder.transport.name == "http://embedder"


# ## Circuit breaker


async def test_an_http_embedder_stops_calling_a_dead_service() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failure_threshold=2, cooldown_s=30, clock=clock)
    answers: list[httpx.Response] = [httpx.Response(503)] * 4 + [vectors_json([GOOD])]
    transport, seen = remote(lambda request: answers.pop(0))

    async with http_embedder(
        settings(retries=1), transport=transport, backoff_s=0.01, circuit=circuit
    ) as embedder:
        await embedder.recipe()
        for _ in range(2):
            with pytest.raises(EmbedderUnavailable, match="after 2 attempts"):
                await embedder.embed(["a"], "query")
        with pytest.raises(EmbedderUnavailable, match="circuit open"):
            await embedder.embed(["a"], "query")
        assert seen.count("/v1/embeddings") == 4
        assert embedder.circuit.state is CircuitState.open

        clock.now += 30
        assert await embedder.embed(["a"], "query") == [GOOD]

    assert embedder.circuit.state is CircuitState.closed
