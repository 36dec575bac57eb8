"""`RemoteEmbedder.rerank` over HTTP: against the real embedder app with a tiny cross-encoder,
then against a scripted misbehaving service (`httpx.MockTransport`, the network edge only):
answers are validated, refusals are not retried, and the reranker's circuit is its own."""

from __future__ import annotations

import json

import httpx
import pytest

from embedder.app import create_app
from embedder.reranking import RerankBackend
from podsearch.circuit import CircuitBreaker
from podsearch.contract import ErrorBody, ErrorCode
from podsearch.errors import EmbedderResponseInvalid, EmbedderUnavailable, RerankUnavailable
from podsearch.http_transport import HttpTransport
from podsearch.remote_embedder import RemoteEmbedder
from podsearch.settings import EmbedderClientSettings
from tests.loopback import HashBackend

QUERY = "how do they handle on-call burnout"
DOCUMENTS = [f"passage {i} about the pager and sleep" for i in range(7)] + ["tomatoes"]


def client(network: httpx.AsyncBaseTransport, **options: object) -> RemoteEmbedder:
    settings = EmbedderClientSettings.model_validate({"url": "http://e", **options})
    return RemoteEmbedder(settings, HttpTransport(settings, network), backoff_s=0.001)


def service(reranker: RerankBackend | None) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(HashBackend(), warm_up=False, reranker=reranker))


async def test_batches_are_merged_into_the_same_ranking_as_one_call(
    tiny_reranker: RerankBackend,
) -> None:
    whole = await client(service(tiny_reranker)).rerank(QUERY, DOCUMENTS, top_n=5)
    batched = await client(service(tiny_reranker), batch_size=3).rerank(QUERY, DOCUMENTS, top_n=5)

    assert [r.index for r in batched.results] == [r.index for r in whole.results]
    scores = tiny_reranker.score(QUERY, DOCUMENTS).scores
    assert [r.index for r in whole.results] == sorted(range(8), key=lambda i: -scores[i])[:5]
    assert batched.usage.total_tokens == whole.usage.total_tokens > 0


async def test_a_service_without_a_reranker_is_a_refusal_not_an_outage() -> None:
    embedder = client(service(None))

    with pytest.raises(RerankUnavailable, match="rerank_unavailable"):
        await embedder.rerank(QUERY, DOCUMENTS)

    assert embedder.rerank_circuit.snapshot().consecutive_failures == 0


def scripted(answer: dict[str, object], status: int = 200) -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, content=json.dumps(answer).encode())

    return httpx.MockTransport(respond), calls


def result(index: int, score: float) -> dict[str, object]:
    return {"index": index, "relevance_score": score}


@pytest.mark.parametrize(
    "results",
    [
        [result(0, 0.9)],  # one result for two documents
        [result(0, 0.9), result(0, 0.8)],  # the same document twice
        [result(0, 0.9), result(2, 0.8)],  # a document that was not sent
        [result(0, float("nan")), result(1, 0.8)],
        [result(0, 0.1), result(1, 0.8)],  # not best first
    ],
    ids=["missing", "duplicate", "unknown", "nan", "unsorted"],
)
async def test_an_unusable_ranking_is_refused_and_not_retried(
    results: list[dict[str, object]],
) -> None:
    network, calls = scripted({"model": "m", "results": results})

    with pytest.raises(EmbedderResponseInvalid):
        await client(network, retries=2).rerank(QUERY, ["a", "b"])

    assert len(calls) == 1


async def test_outages_are_retried_and_open_the_rerank_circuit_only() -> None:
    down = ErrorBody.of(ErrorCode.internal_error, "overloaded")
    network, calls = scripted(down, status=503)
    embedder = client(network, retries=1)
    embedder.rerank_circuit = CircuitBreaker(failure_threshold=2, cooldown_s=60)

    for _ in range(2):
        with pytest.raises(EmbedderUnavailable, match="after 2 attempts"):
            await embedder.rerank(QUERY, ["a"], deadline_s=5)
    with pytest.raises(EmbedderUnavailable, match="circuit open"):
        await embedder.rerank(QUERY, ["a"])

    assert len(calls) == 4
    assert embedder.circuit.snapshot().state.value == "closed"
