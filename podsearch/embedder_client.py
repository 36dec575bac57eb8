"""The `Embedder`s that talk to a remote embedding service, over HTTP or the Modal SDK.

`HttpEmbedder` speaks our OpenAI-compatible contract (local server, the Modal web endpoint, TEI,
...): one pooled `httpx.AsyncClient`, created inside the event loop that first uses it and
refused from any other loop (clients shared across loops hung the system this one replaces).
`ModalEmbedder` calls the deployed Modal classes directly (`modal.Cls.from_name`), skipping
HTTP. Both share one retry loop and circuit breaker (`podsearch.circuit`), one batching helper
and one validation: every call fits one optional deadline, timeouts shrink to what is left, no
retry starts past it, and vectors are validated here whatever the server claims to have checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from podsearch.circuit import CircuitBreaker, Retryable, call_with_retries
from podsearch.contract import (
    EmbedderHealth,
    EmbeddingRecipe,
    EmbeddingRequest,
    EmbeddingResponse,
    InputType,
    validate_vectors,
)
from podsearch.errors import EmbedderAuthFailed, EmbedderError, EmbedderResponseInvalid
from podsearch.settings import EmbedderClientSettings

BatchEmbedder = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
_Model = TypeVar("_Model", bound=BaseModel)


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


def _deadline(deadline_s: float | None) -> float | None:
    return None if deadline_s is None else asyncio.get_running_loop().time() + deadline_s


class HttpEmbedder:
    """`Embedder` over HTTP. Use `async with`, or call `aclose()` when done."""

    def __init__(
        self,
        settings: EmbedderClientSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        backoff_s: float = 0.25,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._backoff_s = backoff_s
        self.circuit = circuit or CircuitBreaker()
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
        return await self._health(_deadline(deadline_s))

    async def recipe(self) -> EmbeddingRecipe:
        return await self._cached_recipe(None)

    async def embed(
        self, texts: Sequence[str], input_type: InputType, *, deadline_s: float | None = None
    ) -> list[list[float]]:
        """One vector per text. `deadline_s` bounds the whole call, retries and batches included."""
        if not texts:
            return []
        deadline = _deadline(deadline_s)
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

    def _timeout(self, remaining: float | None) -> httpx.Timeout:
        connect, read = self._settings.connect_timeout_s, self._settings.read_timeout_s
        if remaining is not None:
            connect, read = min(connect, remaining), min(read, remaining)
        return httpx.Timeout(read, connect=connect, pool=connect)

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None, deadline: float | None
    ) -> httpx.Response:
        """Send with retries on transport errors, 429 and 5xx; other 4xx are not retried."""
        client = self._http()

        async def attempt(remaining: float | None) -> httpx.Response:
            try:
                response = await client.request(
                    method, path, json=body, timeout=self._timeout(remaining)
                )
            except httpx.TransportError as exc:
                raise Retryable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
            if response.is_success:
                return response
            problem = _describe(response)
            if response.status_code in (401, 403):
                raise EmbedderAuthFailed(f"embedder refused our token: {problem}")
            if response.status_code != 429 and response.status_code < 500:
                raise EmbedderError(f"embedder refused {method} {path}: {problem}")
            raise Retryable(problem, _retry_after(response))

        what = f"{method} {path}"
        return await self.circuit.call(
            what,
            lambda: call_with_retries(
                attempt,
                what=what,
                retries=self._settings.retries,
                backoff_s=self._backoff_s,
                deadline=deadline,
            ),
        )


# ## The Modal SDK transport


class ModalAnswer(BaseModel):
    """What the Modal classes return per call (a query: one vector), or why there is none."""

    embeddings: list[list[float]] = []
    tokens: list[int] = []
    truncated: list[bool] = []
    error: str | None = None
    code: str | None = None  # invalid_embedding (never retried) | embedding_failed
    server: dict[str, str] = {}  # the GPU container: device, torch, cuda, load_seconds


class ModalEmbedder:
    """`Embedder` over the Modal SDK: `modal.Cls.from_name(app, cls)().method.remote.aio(...)`.

    Queries go one text per call to the query class, whose `@modal.batched` method batches
    concurrent callers; documents go `batch_size` at a time to the bulk class. The recipe comes
    from the app's CPU-only `recipe` function (asking it wakes no GPU). `modal_api` stands in for
    the `modal` module (tests pass a fake of Modal's cloud); `modal` is imported only when used.
    """

    def __init__(
        self,
        settings: EmbedderClientSettings,
        *,
        app_name: str = "podsearch-embedder",
        classes: tuple[str, str] = ("QueryEmbedder", "BulkEmbedder"),
        modal_api: Any = None,
        backoff_s: float = 0.25,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        self._settings, self._app, self._classes = settings, app_name, classes
        self._modal = modal_api
        self._backoff_s = backoff_s
        self.circuit = circuit or CircuitBreaker()
        self._handles: dict[str, Any] = {}
        self._recipe: EmbeddingRecipe | None = None

    def _handle(self, kind: str) -> Any:
        """`modal.Function.from_name(app, "recipe")` or `modal.Cls.from_name(app, cls)()`."""
        if kind not in self._handles:
            if self._modal is None:
                import modal

                self._modal = modal
            if kind == "recipe":
                self._handles[kind] = self._modal.Function.from_name(self._app, "recipe")
            else:
                name = self._classes[kind == "bulk"]
                self._handles[kind] = self._modal.Cls.from_name(self._app, name)()
        return self._handles[kind]

    async def aclose(self) -> None:
        self._handles.clear()

    async def recipe(self) -> EmbeddingRecipe:
        if self._recipe is None:
            remote = self._handle("recipe").remote.aio
            self._recipe = await self._call("recipe", remote, None, EmbeddingRecipe)
        return self._recipe

    async def embed(
        self, texts: Sequence[str], input_type: InputType, *, deadline_s: float | None = None
    ) -> list[list[float]]:
        """One vector per text. `deadline_s` bounds the whole call, retries and batches included."""
        if not texts:
            return []
        deadline = _deadline(deadline_s)
        recipe = await self.recipe()

        async def query(text: str) -> list[float]:
            remote = self._handle("query").embed.remote.aio
            answer = await self._call(
                "query", lambda: remote(text, input_type), deadline, ModalAnswer
            )
            return answer.embeddings[0] if answer.embeddings else []

        async def embed_batch(batch: Sequence[str]) -> list[list[float]]:
            if input_type == "query":
                vectors = list(await asyncio.gather(*(query(text) for text in batch)))
            else:
                remote = self._handle("bulk").embed.remote.aio
                answer = await self._call(
                    "bulk", lambda: remote(list(batch), input_type), deadline, ModalAnswer
                )
                vectors = answer.embeddings
            validate_vectors(vectors, len(batch), recipe.dimension)
            return vectors

        return await embed_in_batches(texts, self._settings.batch_size, embed_batch)

    async def _call(
        self,
        what: str,
        remote: Callable[[], Awaitable[Any]],
        deadline: float | None,
        model: type[_Model],
    ) -> _Model:
        """One remote call with retries, behind the circuit; its answer parsed as `model`."""

        async def attempt(remaining: float | None) -> _Model:
            try:
                raw = await remote()
            except EmbedderError:
                raise
            except Exception as exc:
                import modal.exception as refused

                problem = f"{type(exc).__name__}: {exc}".rstrip(": ")
                if isinstance(
                    exc, refused.NotFoundError | refused.AuthError | refused.InvalidError
                ):
                    raise EmbedderError(f"Modal refused {what}: {problem}") from exc
                raise Retryable(problem) from exc
            try:
                answer = model.model_validate(raw)
            except ValidationError as exc:
                raise EmbedderResponseInvalid(f"malformed {what} answer from Modal: {exc}") from exc
            if isinstance(answer, ModalAnswer) and answer.error is not None:
                if answer.code == "invalid_embedding":
                    raise EmbedderResponseInvalid(answer.error)
                if answer.code == "invalid_request":
                    raise EmbedderError(f"Modal refused {what}: {answer.error}")
                raise Retryable(f"the model failed: {answer.error}")
            return answer

        name = f"Modal {self._app} {what}"
        return await self.circuit.call(
            name,
            lambda: call_with_retries(
                attempt,
                what=name,
                retries=self._settings.retries,
                backoff_s=self._backoff_s,
                deadline=deadline,
                attempt_timeout_s=self._settings.read_timeout_s,
            ),
        )
