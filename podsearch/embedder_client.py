"""The `Embedder` that talks to any service speaking our contract (local server, Modal, ...).

One pooled `httpx.AsyncClient`, created inside the event loop that first uses it and refused
from any other loop (clients shared across loops hung the system this one replaces). Every call
fits one optional deadline: timeouts shrink to what is left, and no retry starts past it.
Vectors are validated here too, whatever the server claims to have checked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from podsearch.contract import (
    EmbedderHealth,
    EmbeddingRecipe,
    EmbeddingRequest,
    EmbeddingResponse,
    InputType,
    validate_vectors,
)
from podsearch.errors import EmbedderError, EmbedderResponseInvalid, EmbedderUnavailable
from podsearch.settings import EmbedderClientSettings

BatchEmbedder = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
_Model = TypeVar("_Model", bound=BaseModel)
_MAX_DELAY_S = 8.0


async def embed_in_batches(
    texts: Sequence[str], batch_size: int, embed_batch: BatchEmbedder
) -> list[list[float]]:
    """Batching written once, for the client and the indexer: batches in order, counts checked."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    vectors: list[list[float]] = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        got = await embed_batch(batch)
        if len(got) != len(batch):
            raise EmbedderResponseInvalid(f"asked for {len(batch)} vectors, got {len(got)}")
        vectors.extend(got)
    return vectors


def _describe(response: httpx.Response) -> str:
    """The server's own words: our `{"error": {"code", "message"}}`, or the start of the body."""
    try:
        error = response.json()["error"]
        detail = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        detail = response.text[:300]
    return f"HTTP {response.status_code} {detail}".rstrip()


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


class HttpEmbedder:
    """`Embedder` over HTTP. Use `async with`, or call `aclose()` when done."""

    def __init__(
        self,
        settings: EmbedderClientSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        backoff_s: float = 0.25,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._backoff_s = backoff_s
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._recipe: EmbeddingRecipe | None = None

    async def __aenter__(self) -> Self:
        self._http()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = self._loop = None

    async def health(self, *, deadline_s: float | None = None) -> EmbedderHealth:
        """What the service serves: recipe, device, warmth, library versions."""
        return await self._health(self._deadline(deadline_s))

    async def recipe(self) -> EmbeddingRecipe:
        return await self._cached_recipe(None)

    async def embed(
        self, texts: Sequence[str], input_type: InputType, *, deadline_s: float | None = None
    ) -> list[list[float]]:
        """One vector per text. `deadline_s` bounds the whole call, retries and batches included."""
        if not texts:
            return []
        deadline = self._deadline(deadline_s)
        recipe = await self._cached_recipe(deadline)

        async def embed_batch(batch: Sequence[str]) -> list[list[float]]:
            body = EmbeddingRequest(
                input=list(batch), model=self._settings.model, input_type=input_type
            )
            response = await self._request(
                "POST", "/v1/embeddings", body.model_dump(exclude_none=True), deadline
            )
            parsed = _parse(EmbeddingResponse, response)
            if parsed.model != recipe.model_id:
                raise EmbedderResponseInvalid(
                    f"vectors of {parsed.model!r}, but the service announced {recipe.model_id!r}"
                )
            data = sorted(parsed.data, key=lambda d: d.index)
            if [d.index for d in data] != list(range(len(data))):
                raise EmbedderResponseInvalid("response indices are not 0..n-1")
            vectors = [d.embedding for d in data]
            validate_vectors(vectors, len(batch), recipe.dimension)
            return vectors

        return await embed_in_batches(texts, self._settings.batch_size, embed_batch)

    async def _health(self, deadline: float | None) -> EmbedderHealth:
        return _parse(EmbedderHealth, await self._request("GET", "/health", None, deadline))

    async def _cached_recipe(self, deadline: float | None) -> EmbeddingRecipe:
        if self._recipe is None:
            self._recipe = (await self._health(deadline)).recipe
        return self._recipe

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
                "HttpEmbedder is bound to the event loop that first used it: make one per loop"
            )
        return self._client

    def _deadline(self, deadline_s: float | None) -> float | None:
        return None if deadline_s is None else asyncio.get_running_loop().time() + deadline_s

    def _timeout(self, remaining: float | None) -> httpx.Timeout:
        connect, read = self._settings.connect_timeout_s, self._settings.read_timeout_s
        if remaining is not None:
            connect, read = min(connect, remaining), min(read, remaining)
        return httpx.Timeout(read, connect=connect, pool=connect)

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None, deadline: float | None
    ) -> httpx.Response:
        """Send with retries on transport errors, 429 and 5xx; other 4xx are not retried."""
        client, loop = self._http(), asyncio.get_running_loop()
        attempts = self._settings.retries + 1
        for attempt in range(attempts):
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise EmbedderUnavailable(f"{method} {path}: deadline passed")
            retry_after = 0.0
            try:
                async with asyncio.timeout(remaining):
                    response = await client.request(
                        method, path, json=body, timeout=self._timeout(remaining)
                    )
            except (httpx.TransportError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                if response.is_success:
                    return response
                problem = _describe(response)
                if response.status_code != 429 and response.status_code < 500:
                    raise EmbedderError(f"embedder refused {method} {path}: {problem}")
                retry_after = _retry_after(response)
            if attempt + 1 == attempts:
                break
            ceiling = min(_MAX_DELAY_S, self._backoff_s * 2**attempt)
            delay = max(
                ceiling / 2 + random.uniform(0, ceiling / 2), min(retry_after, _MAX_DELAY_S)
            )
            if deadline is not None and loop.time() + delay >= deadline:
                raise EmbedderUnavailable(f"{method} {path}: {problem} (no time left to retry)")
            await asyncio.sleep(delay)
        raise EmbedderUnavailable(f"{method} {path}: {problem} (after {attempts} attempts)")
