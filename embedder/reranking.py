"""`POST /v1/rerank`: a cross-encoder's second look at a search's top candidates.

A bi-encoder embeds the question and each passage apart; a cross-encoder reads them together
and scores the pair, which ranks better and costs a forward pass per pair, so it only ever sees
the few candidates a search already found. The route lives on the embedding service because the
GPU does. With no reranker configured it answers 404 `rerank_unavailable`: a caller must know
the scores are missing, never receive made-up ones.

Implementations of `RerankBackend`: `cross_encoder.CrossEncoderBackend` (torch, local or on a
Modal GPU), `modal_bridge.ForwardingReranker` (the web endpoint, forwarding to the GPU class).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import anyio
import anyio.to_thread
from fastapi import FastAPI

from embedder.guard import check_inputs
from podsearch.contract import (
    ApiError,
    ErrorCode,
    RerankRequest,
    RerankResponse,
    rerank_response,
)

log = logging.getLogger(__name__)

_WARM_UP = ("warming up the reranker", ["a first pair to score"])


@dataclass(frozen=True)
class ScoreResult:
    """One relevance score per document, in input order, with per-document usage."""

    scores: list[float]
    tokens: list[int]
    truncated: list[bool]


class RerankBackend(Protocol):
    """A loaded cross-encoder. `score` is blocking: the app runs it in a worker thread."""

    @property
    def name(self) -> str: ...
    @property
    def model_id(self) -> str: ...
    @property
    def revision(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def versions(self) -> Mapping[str, str]: ...

    def score(self, query: str, documents: Sequence[str]) -> ScoreResult: ...


def check_scores(result: ScoreResult, documents: int) -> None:
    """One finite score per document, or a ValueError: a NaN would sort anywhere."""
    if len(result.scores) != documents:
        raise ValueError(f"{documents} documents, {len(result.scores)} scores")
    if not all(math.isfinite(s) for s in result.scores):
        raise ValueError("the model produced a non-finite score")


class Rescorer:
    """Runs the blocking backend in a worker thread, `concurrency` calls at a time (one for a
    local model: torch already uses every core), and refuses to hand out unusable scores."""

    def __init__(self, backend: RerankBackend | None, concurrency: int = 1) -> None:
        self.backend = backend
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def rerank(self, query: str, documents: list[str], top_n: int | None) -> RerankResponse:
        backend = self.backend
        if backend is None:
            raise ApiError(
                404,
                ErrorCode.rerank_unavailable,
                "no reranking model is configured on this service",
            )
        try:
            result = await anyio.to_thread.run_sync(
                backend.score, query, documents, limiter=self._limiter
            )
            check_scores(result, len(documents))
        except ValueError as exc:  # check_scores: its words say what was wrong, nothing more
            log.error("reranker %s: %s", backend.model_id, exc)
            raise ApiError(500, ErrorCode.rerank_failed, f"the reranker failed: {exc}") from exc
        except Exception as exc:  # the model's own errors may name files: logged, not answered
            log.exception("reranker %s failed on %d documents", backend.model_id, len(documents))
            raise ApiError(500, ErrorCode.rerank_failed, "the reranker failed") from exc
        return rerank_response(
            backend.model_id,
            backend.revision,
            result.scores,
            result.tokens,
            result.truncated,
            top_n,
        )

    async def warm_up(self) -> None:
        if self.backend is not None:
            query, documents = _WARM_UP
            await self.rerank(query, documents, None)


def install_rerank_route(
    app: FastAPI,
    backend: RerankBackend | None,
    *,
    max_documents: int,
    max_input_chars: int,
    concurrency: int = 1,
) -> Rescorer:
    """Add `POST /v1/rerank` to the embedding app (behind its token and body-size guard)."""
    rescorer = Rescorer(backend, concurrency)

    @app.post("/v1/rerank")
    async def rerank(body: RerankRequest) -> RerankResponse:
        if len(body.documents) > max_documents:
            raise ApiError(
                413,
                ErrorCode.batch_too_large,
                f"{len(body.documents)} documents, at most {max_documents}",
            )
        check_inputs([body.query], max_input_chars, "query")
        check_inputs(body.documents, max_input_chars, "document")
        if backend is not None and body.model not in (None, *_names(backend.model_id)):
            raise ApiError(
                404, ErrorCode.model_not_found, f"this service reranks with {backend.model_id}"
            )
        return await rescorer.rerank(body.query, body.documents, body.top_n)

    return rescorer


def _names(model_id: str) -> tuple[str, str]:
    return model_id, model_id.rsplit("/", 1)[-1]
