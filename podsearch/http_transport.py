"""The HTTP transport of `RemoteEmbedder`: our OpenAI-compatible contract (the local server, the
Modal web endpoint, TEI, ...), and `POST /v1/rerank` where the service has a reranker.

One pooled `httpx.AsyncClient`, created inside the event loop that first uses it and refused
from any other loop (clients shared across loops hung the system this one replaces). Timeouts
shrink to the time the caller's deadline leaves. The wire format is checked here (parsable
JSON, the announced model, indices 0..n-1); the vectors themselves by `RemoteEmbedder`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from podsearch.circuit import Retryable
from podsearch.contract import (
    Embedded,
    EmbedderHealth,
    EmbeddingRecipe,
    EmbeddingRequest,
    EmbeddingResponse,
    ErrorBody,
    ErrorCode,
    InputType,
    RerankRequest,
    RerankResponse,
)
from podsearch.errors import (
    EmbedderAuthFailed,
    EmbedderError,
    EmbedderResponseInvalid,
    RerankUnavailable,
)
from podsearch.settings import EmbedderClientSettings

_Model = TypeVar("_Model", bound=BaseModel)


def _describe(response: httpx.Response) -> tuple[ErrorCode | None, str]:
    """The server's own words: the code and message of our `ErrorBody`, or the start of
    whatever it sent."""
    try:
        error = ErrorBody.model_validate_json(response.content).error
    except ValidationError:
        return None, f"HTTP {response.status_code} {response.text[:300]}".rstrip()
    return error.code, f"HTTP {response.status_code} {error.code}: {error.message}"


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:
        return 0.0


def _parse(model: type[_Model], response: httpx.Response) -> _Model:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise EmbedderResponseInvalid(
            f"malformed {model.__name__} from {response.request.url}: {exc.errors()[0]['msg']}"
        ) from exc


class HttpTransport:
    """`EmbedderTransport` over HTTP; `transport` replaces the network (tests, ASGI apps)."""

    attempt_timeout_s = None  # httpx bounds connect and every read itself

    def __init__(
        self, settings: EmbedderClientSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def name(self) -> str:
        return self._settings.url

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = self._loop = None

    async def health(self, remaining_s: float | None) -> EmbedderHealth:
        """What the service serves: recipe, device, warmth, library versions."""
        response = await self._request("GET", "/health", None, remaining_s)
        return _parse(EmbedderHealth, response)

    async def recipe(self, remaining_s: float | None) -> EmbeddingRecipe:
        return (await self.health(remaining_s)).recipe

    async def embed(
        self,
        texts: Sequence[str],
        input_type: InputType,
        recipe: EmbeddingRecipe,
        remaining_s: float | None,
    ) -> Embedded:
        body = EmbeddingRequest(
            input=list(texts), model=self._settings.model, input_type=input_type
        )
        response = await self._request(
            "POST", "/v1/embeddings", body.model_dump(exclude_none=True), remaining_s
        )
        parsed = _parse(EmbeddingResponse, response)
        if parsed.model != recipe.model_id:
            raise EmbedderResponseInvalid(
                f"vectors of {parsed.model!r}, but the service announced {recipe.model_id!r}"
            )
        data = sorted(parsed.data, key=lambda d: d.index)
        if [d.index for d in data] != list(range(len(data))):
            raise EmbedderResponseInvalid("response indices are not 0..n-1")
        return Embedded([d.embedding for d in data], parsed.usage.truncated_inputs)

    async def rerank(
        self, query: str, documents: Sequence[str], top_n: int | None, remaining_s: float | None
    ) -> RerankResponse:
        body = RerankRequest(query=query, documents=list(documents), top_n=top_n)
        response = await self._request(
            "POST", "/v1/rerank", body.model_dump(exclude_none=True), remaining_s
        )
        return _parse(RerankResponse, response)

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None, remaining_s: float | None
    ) -> httpx.Response:
        """One request: transport errors, 429 and 5xx are `Retryable`; other 4xx are refusals."""
        try:
            response = await self._http().request(
                method, path, json=body, timeout=self._timeout(remaining_s)
            )
        except httpx.TransportError as exc:
            raise Retryable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        if response.is_success:
            return response
        code, problem = _describe(response)
        if response.status_code in (401, 403):
            raise EmbedderAuthFailed(f"embedder refused our token: {problem}")
        if code == ErrorCode.rerank_unavailable:
            raise RerankUnavailable(f"embedder has no reranker: {problem}")
        if response.status_code != 429 and response.status_code < 500:
            raise EmbedderError(f"embedder refused {method} {path}: {problem}")
        raise Retryable(problem, _retry_after(response))

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None:
            token = self._settings.token
            headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
            self._client = httpx.AsyncClient(
                base_url=self._settings.url,
                headers=headers,
                timeout=self._timeout(None),
                transport=self._transport,
            )
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError(
                "an HTTP embedder is bound to the event loop that first used it: make one per loop"
            )
        return self._client

    def _timeout(self, remaining_s: float | None) -> httpx.Timeout:
        connect, read = self._settings.connect_timeout_s, self._settings.read_timeout_s
        if remaining_s is not None:
            connect, read = min(connect, remaining_s), min(read, remaining_s)
        return httpx.Timeout(read, connect=connect, pool=connect)
