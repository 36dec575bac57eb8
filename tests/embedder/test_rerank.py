"""`POST /v1/rerank` on the real embedder app with a real (tiny) cross-encoder: the scores are
the model's own, best first; the route is guarded and bounded like `/v1/embeddings`; bad input is
a clear 4xx; no reranker configured is a clear 404, never a made-up score."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sentence_transformers.cross_encoder import CrossEncoder

from embedder.app import create_app
from embedder.cross_encoder import CrossEncoderBackend
from embedder.reranking import RerankBackend, ScoreResult
from tests.embedder.tiny_cross_encoder import POISON, TINY_RERANKER_ID, poison_unknown_token
from tests.loopback import HashBackend

TOKEN = "the-right-token"
QUERY = "how do they handle on-call burnout"
DOCUMENTS = [
    "we rotate the pager weekly",
    "tomatoes need deep water in a dry summer",
    "the seed round closed in march",
    "founders talk about pricing and hiring",
]


def client_for(reranker: RerankBackend | None, **options: object) -> httpx.AsyncClient:
    app = create_app(HashBackend(), warm_up=False, reranker=reranker, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e")


@pytest.fixture
async def client(tiny_reranker: RerankBackend) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(tiny_reranker, max_rerank_documents=8, max_input_chars=200) as c:
        yield c


def code_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_scores_are_the_models_own_best_first(
    client: httpx.AsyncClient, tiny_reranker_dir: Path
) -> None:
    response = await client.post("/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS})
    assert response.status_code == 200
    body = response.json()
    expected = CrossEncoder(str(tiny_reranker_dir), max_length=128).predict(
        [[QUERY, d] for d in DOCUMENTS]
    )
    order = sorted(range(len(DOCUMENTS)), key=lambda i: -expected[i])
    assert [r["index"] for r in body["results"]] == order
    for result in body["results"]:
        assert result["relevance_score"] == pytest.approx(float(expected[result["index"]]), 1e-5)
    assert body["model"] == TINY_RERANKER_ID
    assert body["revision"].startswith("sha256:")
    assert body["usage"]["total_tokens"] > 4 * len(DOCUMENTS)
    assert body["usage"]["truncated_inputs"] == 0


async def test_top_n_keeps_the_best_and_long_pairs_are_counted_as_truncated(
    client: httpx.AsyncClient,
) -> None:
    full = (await client.post("/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS})).json()
    top = await client.post("/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS, "top_n": 2})
    assert top.json()["results"] == full["results"][:2]
    long = " ".join(["7" * 99] * 2)  # 198 word pieces: over the 128 tokens of a tiny pair
    usage = (await client.post("/v1/rerank", json={"query": QUERY, "documents": [long]})).json()
    assert usage["usage"]["truncated_inputs"] == 1


@pytest.mark.parametrize(
    ("body", "expected", "words"),
    [
        ({"query": QUERY, "documents": []}, (422, "invalid_request"), "documents"),
        ({"query": QUERY}, (422, "invalid_request"), "documents"),
        ({"query": " ", "documents": ["a"]}, (422, "invalid_request"), "query 0"),
        ({"query": QUERY, "documents": ["a", "\t"]}, (422, "invalid_request"), "document 1"),
        ({"query": QUERY, "documents": ["a", "\ud800"]}, (422, "invalid_request"), "surrogate"),
        ({"query": QUERY, "documents": ["a"] * 9}, (413, "batch_too_large"), "at most 8"),
        ({"query": QUERY, "documents": ["a" * 201]}, (413, "input_too_long"), "at most 200"),
        ({"query": QUERY, "documents": ["a"], "top_n": 0}, (422, "invalid_request"), "top_n"),
        ({"query": QUERY, "documents": ["a"], "model": "x/y"}, (404, "model_not_found"), "tiny"),
    ],
)
async def test_bad_requests_are_refused_with_a_clear_code(
    client: httpx.AsyncClient, body: dict[str, object], expected: tuple[int, str], words: str
) -> None:
    # ASCII JSON: a lone surrogate travels as its `\ud800` escape, as a client would send it.
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    response = await client.post("/v1/rerank", content=content, headers=headers)
    assert code_of(response) == expected
    assert words in response.json()["error"]["message"]


async def test_the_token_and_the_body_limit_guard_the_route(tiny_reranker: RerankBackend) -> None:
    async with client_for(tiny_reranker, token=SecretStr(TOKEN), max_body_bytes=2048) as client:
        anonymous = await client.post("/v1/rerank", content=b"{not json")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        huge = {"query": QUERY, "documents": ["pager " * 500]}
        too_big = await client.post("/v1/rerank", json=huge, headers=headers)
        fine = await client.post(
            "/v1/rerank", json={"query": QUERY, "documents": ["a"]}, headers=headers
        )
    assert code_of(anonymous) == (401, "unauthorized")
    assert code_of(too_big) == (413, "body_too_large")
    assert fine.status_code == 200


async def test_without_a_reranker_the_route_says_so_and_health_shows_none() -> None:
    async with client_for(None) as client:
        response = await client.post("/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS})
        health = (await client.get("/health")).json()
    assert code_of(response) == (404, "rerank_unavailable")
    assert "results" not in response.json()
    assert health["rerank_model"] is None


async def test_health_names_the_reranker(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["rerank_model"] == TINY_RERANKER_ID


async def test_a_nan_score_is_a_500_never_a_ranking(
    tiny_reranker_dir: Path, tmp_path: Path
) -> None:
    poisoned = poison_unknown_token(Path(shutil.copytree(tiny_reranker_dir, tmp_path / "p")))
    backend = CrossEncoderBackend(poisoned, max_length=128)
    async with client_for(backend) as client:
        bad = await client.post("/v1/rerank", json={"query": POISON, "documents": DOCUMENTS})
        good = await client.post("/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS})
    assert code_of(bad) == (500, "rerank_failed")
    assert "non-finite" in bad.json()["error"]["message"]
    assert good.status_code == 200


class BrokenModel(CrossEncoderBackend):
    """The real backend whose model fails mid-call with an error naming a server file."""

    def score(self, query: str, documents: Sequence[str]) -> ScoreResult:
        raise OSError("[Errno 5] Input/output error: '/srv/models/secret-path/model.safetensors'")


async def test_a_failing_model_is_a_500_that_names_no_server_file(
    tiny_reranker_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with client_for(BrokenModel(tiny_reranker_dir, max_length=128)) as client:
        bad = await client.post("/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS})
    assert code_of(bad) == (500, "rerank_failed")
    assert "/srv" not in bad.text and "Errno" not in bad.text
    assert "secret-path" in caplog.text  # the operator still sees what went wrong
