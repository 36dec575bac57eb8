"""One caller's bad request costs nobody else anything: the token is checked before the body is
read, bodies and inputs are bounded, and a bad input fails only its own request, even when it
would have shared a dynamic batch with other callers' inputs (the real MiniLM model)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from embedder.app import create_app
from embedder.backends import Backend
from embedder.settings import EmbedderServerSettings
from tests.loopback import HashBackend

TOKEN = "the-right-token"


def client_for(**app_options: object) -> httpx.AsyncClient:
    app = create_app(HashBackend(), warm_up=False, **app_options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e")


class CountedBody:
    """A streamed request body that records how many chunks the server pulled."""

    def __init__(self, chunks: int, chunk: bytes = b"x" * 65536) -> None:
        self.chunks, self.chunk, self.pulled = chunks, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.chunk


def code_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_the_token_is_checked_before_the_body_is_parsed() -> None:
    async with client_for(token=SecretStr(TOKEN)) as client:
        garbage = await client.post("/v1/embeddings", content=b"{not json")
        body = CountedBody(chunks=800)  # 50 MB, never read
        flood = await client.post("/v1/embeddings", content=body)
        wrong = await client.post(
            "/v1/embeddings", json={"input": ["a"]}, headers={"Authorization": "Bearer nope"}
        )
        right = await client.post(
            "/v1/embeddings", json={"input": ["a"]}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert code_of(garbage) == code_of(flood) == code_of(wrong) == (401, "unauthorized")
    assert body.pulled <= 1
    assert right.status_code == 200


async def test_a_body_over_the_limit_is_refused_unread() -> None:
    async with client_for(max_body_bytes=100_000) as client:
        declared = await client.post("/v1/embeddings", content=b"x" * 200_000)
        body = CountedBody(chunks=800)
        streamed = await client.post("/v1/embeddings", content=body)
    assert code_of(declared) == code_of(streamed) == (413, "body_too_large")
    assert body.pulled <= 3  # stopped just past 100 kB, not at 50 MB


async def test_inputs_per_request_and_characters_per_input_are_bounded() -> None:
    async with client_for(max_batch=4, max_input_chars=1000) as client:
        many = await client.post("/v1/embeddings", json={"input": ["a"] * 5})
        long = await client.post("/v1/embeddings", json={"input": ["ok", "x" * 1001]})
        fits = await client.post("/v1/embeddings", json={"input": ["a"] * 3 + ["x" * 1000]})
    assert code_of(many) == (413, "batch_too_large")
    assert code_of(long) == (413, "input_too_long") and "input 1" in long.text
    assert fits.status_code == 200


async def test_a_bad_input_fails_only_its_own_request_not_its_batch(minilm: Backend) -> None:
    """A lone surrogate makes the tokenizer raise for the whole batch it is in."""
    app = create_app(minilm, warm_up=False, coalesce_wait_ms=300, coalesce_max_texts=64)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:

        def post(texts: list[str]) -> asyncio.Task[httpx.Response]:
            raw = json.dumps({"input": texts, "input_type": "query"}).encode()  # \\ud800 escaped
            headers = {"content-type": "application/json"}
            return asyncio.create_task(client.post("/v1/embeddings", content=raw, headers=headers))

        good, bad, other = post(["seed rounds"]), post(["caf\ud800"]), post(["term sheets"])
        responses = await asyncio.gather(good, bad, other)
    assert list(app.state.encoder.batcher.batches) == [2]  # the good two shared one batch
    assert [r.status_code for r in responses] == [200, 422, 200]
    assert "lone surrogate" in responses[1].text


def test_a_non_loopback_address_needs_a_token_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="without a token"):
        EmbedderServerSettings(host="0.0.0.0")
    assert EmbedderServerSettings(host="0.0.0.0", token=SecretStr("t")).token
    assert EmbedderServerSettings(host="0.0.0.0", allow_no_token=True).allow_no_token
    assert EmbedderServerSettings(host="::1").host == "::1"
