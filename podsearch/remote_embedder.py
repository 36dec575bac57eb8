"""The one `Embedder` for a remote embedding service, over a small transport seam.

`RemoteEmbedder` owns everything that makes a remote call safe to depend on: one optional
deadline per call (no attempt or retry starts past it), retries with backoff
(`podsearch.circuit.call_with_retries`), the circuit breaker, batching (`embed_in_batches`) and
the validation of every vector, whatever the server claims to have checked. It reranks too
(`POST /v1/rerank`), behind a circuit of its own: a slow reranker must not cost the searches
their query embeddings. A transport makes one attempt and says how it went:

```
 RemoteEmbedder ── deadline · retries · circuit · batches · validate_vectors
   └─ EmbedderTransport (one attempt)
        ├─ HttpTransport   podsearch.http_transport: POST /v1/embeddings, /v1/rerank, GET /health
        └─ ModalTransport  embedder.modal_client: the Modal SDK (`modal` stays out of the core)
```
`open_embedder(settings)` builds the one the settings name; the API and the indexer use it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Protocol, Self, TypeVar

from podsearch.circuit import CircuitBreaker, call_with_retries
from podsearch.contract import (
    Embedded,
    EmbeddingRecipe,
    InputType,
    RerankResponse,
    RerankResult,
    RerankUsage,
    validate_ranking,
    validate_vectors,
)
from podsearch.errors import EmbedderResponseInvalid
from podsearch.http_transport import HttpTransport
from podsearch.settings import EmbedderClientSettings

T = TypeVar("T")
BatchEmbedder = Callable[[Sequence[str]], Awaitable[list[list[float]]]]


class EmbedderTransport(Protocol):
    """One attempt at the remote service, no more: no retries, no circuit, no validation.

    Raise `podsearch.circuit.Retryable` for what may pass when tried again (timeouts, refused
    connections, 429, 5xx), `EmbedderResponseInvalid` for an unusable answer and `EmbedderError`
    for a refusal; neither of those is retried.
    """

    @property
    def name(self) -> str:
        """Names the service in error messages."""
        ...

    @property
    def attempt_timeout_s(self) -> float | None:
        """Bound on one attempt, for transports without timeouts of their own."""
        ...

    async def recipe(self, remaining_s: float | None) -> EmbeddingRecipe: ...

    async def embed(
        self,
        texts: Sequence[str],
        input_type: InputType,
        recipe: EmbeddingRecipe,
        remaining_s: float | None,
    ) -> Embedded:
        """The vectors of one batch, in order (counted and validated by the caller)."""
        ...

    async def rerank(
        self, query: str, documents: Sequence[str], top_n: int | None, remaining_s: float | None
    ) -> RerankResponse:
        """One batch of documents scored against `query` (validated by the caller); raise
        `RerankUnavailable` when the service has no reranker."""
        ...

    async def aclose(self) -> None: ...


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


class RemoteEmbedder:
    """`Embedder` over any transport. Use `async with`, or call `aclose()` when done."""

    def __init__(
        self,
        settings: EmbedderClientSettings,
        transport: EmbedderTransport,
        *,
        backoff_s: float = 0.25,
        circuit: CircuitBreaker | None = None,
        rerank_circuit: CircuitBreaker | None = None,
    ) -> None:
        self.transport = transport
        self.circuit = circuit or CircuitBreaker()
        self.rerank_circuit = rerank_circuit or CircuitBreaker()
        self._settings = settings
        self._backoff_s = backoff_s
        self._recipe: EmbeddingRecipe | None = None
        self.truncated_inputs = 0  # texts so far the model read only in part (`Embedder`)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def recipe(self, *, deadline_s: float | None = None) -> EmbeddingRecipe:
        """The service's recipe, asked once; `deadline_s` bounds the asking, retries included."""
        return await self._cached_recipe(_deadline(deadline_s))

    async def embed(
        self, texts: Sequence[str], input_type: InputType, *, deadline_s: float | None = None
    ) -> list[list[float]]:
        """One vector per text. `deadline_s` bounds the whole call, retries and batches included."""
        if not texts:
            return []
        deadline = _deadline(deadline_s)
        recipe = await self._cached_recipe(deadline)

        async def embed_batch(batch: Sequence[str]) -> list[list[float]]:
            got = await self._call(
                "embed",
                lambda remaining: self.transport.embed(batch, input_type, recipe, remaining),
                deadline,
            )
            validate_vectors(got.vectors, len(batch), recipe.dimension)
            self.truncated_inputs += got.truncated_inputs
            return got.vectors

        return await embed_in_batches(texts, self._settings.batch_size, embed_batch)

    async def rerank(
        self,
        query: str,
        documents: Sequence[str],
        *,
        top_n: int | None = None,
        deadline_s: float | None = None,
    ) -> RerankResponse:
        """The documents that answer `query` best, best first (`top_n` of them), as the
        service's cross-encoder scores them; `deadline_s` bounds the whole call."""
        deadline = _deadline(deadline_s)
        results: list[RerankResult] = []
        answers: list[RerankResponse] = []
        size = self._settings.batch_size
        for start in range(0, len(documents), size):
            batch = documents[start : start + size]
            attempt = functools.partial(self.transport.rerank, query, batch, top_n)
            answer = await self._call("rerank", attempt, deadline, self.rerank_circuit)
            validate_ranking(answer.results, len(batch), top_n)
            results += [r.model_copy(update={"index": r.index + start}) for r in answer.results]
            answers.append(answer)
        if len({(a.model, a.revision) for a in answers}) > 1:
            raise EmbedderResponseInvalid("the reranker changed model between batches")
        results.sort(key=lambda r: (-r.relevance_score, r.index))  # the batches' best, merged
        return RerankResponse(
            model=answers[0].model if answers else "",
            revision=answers[0].revision if answers else "",
            results=results[:top_n],
            usage=RerankUsage(
                total_tokens=sum(a.usage.total_tokens for a in answers),
                truncated_inputs=sum(a.usage.truncated_inputs for a in answers),
            ),
        )

    async def _cached_recipe(self, deadline: float | None) -> EmbeddingRecipe:
        if self._recipe is None:
            self._recipe = await self._call("recipe", self.transport.recipe, deadline)
        return self._recipe

    async def _call(
        self,
        what: str,
        attempt: Callable[[float | None], Awaitable[T]],
        deadline: float | None,
        circuit: CircuitBreaker | None = None,
    ) -> T:
        """One remote call with retries under the deadline, behind the circuit (the embedder's
        unless told otherwise)."""
        name = f"{self.transport.name} {what}"
        return await (circuit or self.circuit).call(
            name,
            lambda: call_with_retries(
                attempt,
                what=name,
                retries=self._settings.retries,
                backoff_s=self._backoff_s,
                deadline=deadline,
                attempt_timeout_s=self.transport.attempt_timeout_s,
            ),
        )


def _deadline(deadline_s: float | None) -> float | None:
    return None if deadline_s is None else asyncio.get_running_loop().time() + deadline_s


def open_embedder(settings: EmbedderClientSettings) -> RemoteEmbedder:
    """The embedder the settings describe (`transport`: http | modal); nothing connects yet."""
    if settings.transport == "modal":
        # The Modal SDK lives with the embedder deployable; only this branch imports it.
        from embedder.modal_client import ModalTransport

        return RemoteEmbedder(settings, ModalTransport(settings))
    return RemoteEmbedder(settings, HttpTransport(settings))
