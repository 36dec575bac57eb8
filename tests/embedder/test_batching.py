"""Dynamic batching: concurrent requests share encode calls, and nobody gets anyone else's
vectors, errors or waits."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import pytest

from embedder.app import create_app
from embedder.backends import Backend, EncodeResult
from embedder.batching import BATCH_HISTORY, MicroBatcher
from podsearch.contract import InputType
from tests.fakes import FakeBackend, digest_vector


def vector_of(text: str, input_type: str) -> list[float]:
    return digest_vector(f"{input_type}:{text}")


@dataclass
class CountingBackend(FakeBackend):
    """Takes `seconds` per call, as a model would; answers NaN for texts containing 'poison'."""

    seconds: float = 0.02
    fail: bool = False

    def vectors(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("CUDA error: out of memory")
        return [[math.nan] * 8 if "poison" in t else vector_of(t, input_type) for t in texts]


def client_for(backend: Backend, **options: float) -> httpx.AsyncClient:
    app = create_app(backend, warm_up=False, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e")


async def post(client: httpx.AsyncClient, texts: list[str], input_type: str) -> httpx.Response:
    return await client.post("/v1/embeddings", json={"input": texts, "input_type": input_type})


async def test_32_concurrent_single_text_requests_share_a_few_encode_calls() -> None:
    backend = CountingBackend()
    texts = [f"question {i}" for i in range(32)]

    async with client_for(backend) as client:
        responses = await asyncio.gather(*(post(client, [t], "query") for t in texts))

    assert [r.status_code for r in responses] == [200] * 32
    for text, response in zip(texts, responses, strict=True):
        (data,) = response.json()["data"]
        assert data["index"] == 0 and data["embedding"] == vector_of(text, "query")
        assert response.json()["usage"]["prompt_tokens"] == len(text)
    assert len(backend.calls) <= 3, backend.calls
    assert sum(n for _, n in backend.calls) == 32
    assert backend.most_running == 1


async def test_input_types_never_share_an_encode_call() -> None:
    backend = CountingBackend()

    async with client_for(backend) as client:
        responses = await asyncio.gather(
            *(post(client, [f"t{i}"], ("query", "document")[i % 2]) for i in range(20))
        )

    for i, response in enumerate(responses):
        kind = ("query", "document")[i % 2]
        assert response.json()["data"][0]["embedding"] == vector_of(f"t{i}", kind)
    assert {kind for kind, _ in backend.calls} == {"query", "document"}
    assert len(backend.calls) <= 4, backend.calls


async def test_a_batch_never_grows_past_max_texts_and_big_requests_run_alone() -> None:
    backend = CountingBackend(seconds=0.005)

    async with client_for(backend, coalesce_max_texts=8) as client:
        singles = [post(client, [f"q{i}"], "query") for i in range(30)]
        big = post(client, [f"d{i}" for i in range(20)], "query")
        responses = await asyncio.gather(*singles, big)

    assert all(r.status_code == 200 for r in responses)
    assert len(responses[-1].json()["data"]) == 20
    assert sorted(n for _, n in backend.calls if n > 8) == [20]


async def test_one_bad_vector_fails_only_its_own_request() -> None:
    backend = CountingBackend()

    async with client_for(backend) as client:
        responses = await asyncio.gather(
            *(post(client, ["poison" if i == 3 else f"ok {i}"], "query") for i in range(8))
        )

    assert len(backend.calls) <= 2
    assert responses[3].status_code == 500
    assert responses[3].json()["error"]["code"] == "invalid_embedding"
    assert [r.status_code for i, r in enumerate(responses) if i != 3] == [200] * 7


async def test_a_failing_model_fails_every_request_of_its_batch_with_a_500() -> None:
    backend = CountingBackend(fail=True)

    async with client_for(backend) as client:
        responses = await asyncio.gather(*(post(client, [f"q{i}"], "query") for i in range(5)))

    assert {r.json()["error"]["code"] for r in responses} == {"embedding_failed"}
    assert {r.status_code for r in responses} == {500}


async def test_a_lone_request_waits_for_company_no_longer_than_max_wait() -> None:
    backend = CountingBackend(seconds=0.0)

    async with client_for(backend, coalesce_wait_ms=50) as client:
        await post(client, ["warm"], "query")
        started = time.perf_counter()
        await post(client, ["alone"], "query")
        waited = time.perf_counter() - started

    assert 0.04 <= waited < 0.5


async def test_a_caller_that_gives_up_does_not_disturb_the_others() -> None:
    gate = asyncio.Event()

    async def run_batch(texts: list[str], input_type: InputType) -> EncodeResult:
        await gate.wait()
        return EncodeResult(
            [vector_of(t, input_type) for t in texts], [1] * len(texts), [False] * len(texts)
        )

    batcher = MicroBatcher(run_batch, max_wait_ms=1)
    impatient = asyncio.create_task(batcher.submit(["a"], "query"))
    patient = asyncio.create_task(batcher.submit(["b"], "query"))
    await asyncio.sleep(0.02)
    impatient.cancel()
    gate.set()

    assert (await patient).vectors == [vector_of("b", "query")]
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_the_batch_history_keeps_only_recent_batches() -> None:
    async def run_batch(texts: list[str], input_type: InputType) -> EncodeResult:
        return EncodeResult([[1.0]] * len(texts), [1] * len(texts), [False] * len(texts))

    batcher = MicroBatcher(run_batch, max_wait_ms=0)
    for i in range(BATCH_HISTORY + 5):
        await batcher.submit(["x"] * (1 + i % 2), "query")
    assert len(batcher.batches) == BATCH_HISTORY
    assert list(batcher.batches)[-2:] == [1 + (BATCH_HISTORY + 3) % 2, 1 + (BATCH_HISTORY + 4) % 2]


async def test_the_real_model_gives_the_same_vectors_batched_as_alone(minilm: Backend) -> None:
    texts = [f"episode {i} talks about on-call rotations and burnout" for i in range(32)]
    app = create_app(minilm, warm_up=False)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as c:
        responses = await asyncio.gather(*(post(c, [t], "query") for t in texts))

    batches = app.state.encoder.batcher.batches
    assert len(batches) < 8 and sum(batches) == 32
    for text, response in zip(texts, responses, strict=True):
        alone = minilm.encode([text], "query").vectors[0]
        batched = response.json()["data"][0]["embedding"]
        assert sum(a * b for a, b in zip(alone, batched, strict=True)) > 0.9999
