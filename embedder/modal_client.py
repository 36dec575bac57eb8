"""The Modal SDK transport of `podsearch.remote_embedder.RemoteEmbedder`: the deployed classes of
`embedder.modal_app`, called directly (`modal.Cls.from_name`), skipping HTTP and the web
container. It lives here, beside the app it calls, so the core never imports `modal`;
`open_embedder` imports it only when `PODSEARCH_EMBEDDER__TRANSPORT=modal`.

Queries go one text per call to the query class, whose `@modal.batched` method batches
concurrent callers; a batch of documents goes in one call to the bulk class; a rerank goes in
one call to the reranker class. The recipe comes from the app's CPU-only `recipe` function
(asking it wakes no GPU).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

import modal
import modal.exception
from pydantic import ValidationError

from podsearch.circuit import Retryable
from podsearch.contract import (
    Embedded,
    EmbeddingRecipe,
    ErrorCode,
    InputType,
    ModalAnswer,
    ModalRerankAnswer,
    RerankResponse,
    rerank_response,
)
from podsearch.errors import (
    EmbedderAuthFailed,
    EmbedderError,
    EmbedderResponseInvalid,
    RerankUnavailable,
)
from podsearch.settings import EmbedderClientSettings

QUERY_CLASS, BULK_CLASS, RECIPE_FUNCTION = "QueryEmbedder", "BulkEmbedder", "recipe"
RERANK_CLASS = "Reranker"
# Refusals: the app is not deployed, the token is wrong, the call is malformed. Never retried.
_REFUSALS = (modal.exception.NotFoundError, modal.exception.InvalidError)


class ModalTransport:
    """`EmbedderTransport` over the Modal SDK. `modal_api` stands in for the `modal` module
    (tests pass a fake of Modal's cloud)."""

    def __init__(self, settings: EmbedderClientSettings, *, modal_api: Any = modal) -> None:
        self._app = settings.modal_app
        self._modal = modal_api
        self._handles: dict[str, Any] = {}
        # The SDK has no timeout of its own: every attempt is bounded by the read timeout.
        self.attempt_timeout_s: float | None = settings.read_timeout_s

    @property
    def name(self) -> str:
        return f"Modal {self._app}"

    async def aclose(self) -> None:
        self._handles.clear()

    async def recipe(self, remaining_s: float | None) -> EmbeddingRecipe:
        raw = await self._remote(self._handle(RECIPE_FUNCTION).remote.aio())
        try:
            return EmbeddingRecipe.model_validate(raw)
        except ValidationError as exc:
            raise EmbedderResponseInvalid(f"malformed recipe from {self.name}: {exc}") from exc

    async def embed(
        self,
        texts: Sequence[str],
        input_type: InputType,
        recipe: EmbeddingRecipe,
        remaining_s: float | None,
    ) -> Embedded:
        if input_type == "query":
            query = self._handle(QUERY_CLASS).embed.remote.aio
            answers = await asyncio.gather(
                *(self._answer(query(text, input_type)) for text in texts)
            )
            return Embedded(
                [answer.embeddings[0] if answer.embeddings else [] for answer in answers],
                sum(sum(answer.truncated) for answer in answers),
            )
        answer = await self._answer(
            self._handle(BULK_CLASS).embed.remote.aio(list(texts), input_type)
        )
        return Embedded(answer.embeddings, sum(answer.truncated))

    async def rerank(
        self, query: str, documents: Sequence[str], top_n: int | None, remaining_s: float | None
    ) -> RerankResponse:
        raw = await self._remote(
            self._handle(RERANK_CLASS).rerank.remote.aio(query, list(documents))
        )
        try:
            answer = ModalRerankAnswer.model_validate(raw)
        except ValidationError as exc:
            raise EmbedderResponseInvalid(f"malformed answer from {self.name}: {exc}") from exc
        if answer.error is not None:
            if answer.code == ErrorCode.rerank_unavailable:
                raise RerankUnavailable(f"{self._app} has no reranker: {answer.error}")
            if answer.code == ErrorCode.rerank_failed:
                raise EmbedderResponseInvalid(answer.error)
            raise EmbedderError(f"Modal refused the rerank of {self._app}: {answer.error}")
        if len(answer.scores) != len(documents):
            raise EmbedderResponseInvalid(
                f"{len(documents)} documents, {len(answer.scores)} scores"
            )
        return rerank_response(
            answer.model, answer.revision, answer.scores, answer.tokens, answer.truncated, top_n
        )

    def _handle(self, name: str) -> Any:
        """`modal.Function.from_name(app, "recipe")` or `modal.Cls.from_name(app, cls)()`."""
        if name not in self._handles:
            if name == RECIPE_FUNCTION:
                self._handles[name] = self._modal.Function.from_name(self._app, name)
            else:
                self._handles[name] = self._modal.Cls.from_name(self._app, name)()
        return self._handles[name]

    async def _answer(self, call: Awaitable[Any]) -> ModalAnswer:
        """A class's answer, its error sorted into invalid (not retried), refused or retryable."""
        raw = await self._remote(call)
        try:
            answer = ModalAnswer.model_validate(raw)
        except ValidationError as exc:
            raise EmbedderResponseInvalid(f"malformed answer from {self.name}: {exc}") from exc
        if answer.error is None:
            return answer
        if answer.code == ErrorCode.invalid_embedding:
            raise EmbedderResponseInvalid(answer.error)
        if answer.code == ErrorCode.invalid_request:
            raise EmbedderError(f"Modal refused the call to {self._app}: {answer.error}")
        raise Retryable(f"the model failed: {answer.error}")

    async def _remote(self, call: Awaitable[Any]) -> Any:
        """Await one SDK call; Modal's refusals are errors, anything else is worth a retry."""
        try:
            return await call
        except EmbedderError:
            raise
        except modal.exception.AuthError as exc:
            raise EmbedderAuthFailed(f"Modal refused our credentials: {_problem(exc)}") from exc
        except _REFUSALS as exc:
            raise EmbedderError(f"Modal refused the call to {self._app}: {_problem(exc)}") from exc
        except Exception as exc:
            raise Retryable(_problem(exc)) from exc


def _problem(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
