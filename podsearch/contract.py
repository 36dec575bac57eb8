"""The wire contracts, written once: the embedding API (OpenAI-compatible), the rerank API (the
shape of Jina's and Cohere's `/v1/rerank`), the answers of the Modal classes, the recipe recorded
with every index, and the JSON error body of both servers.

Servers (`embedder.app`, `embedder.modal_bridge`, `search_api`) and the client
(`podsearch.remote_embedder` and its transports) use these models, so nobody hand-writes the
JSON twice. `validate_vectors` and `validate_ranking` run on both sides of the wire.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from podsearch.errors import EmbedderResponseInvalid

InputType = Literal["query", "document"]

MAX_INPUTS_PER_REQUEST = 2048


class EmbeddingRequest(BaseModel):
    """`POST /v1/embeddings`; `input_type` picks the instruction for instructor-style models."""

    model_config = ConfigDict(extra="ignore")

    input: list[str] = Field(min_length=1, max_length=MAX_INPUTS_PER_REQUEST)
    model: str | None = None
    input_type: InputType = "document"
    encoding_format: Literal["float"] = "float"


class EmbeddingData(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float]


class EmbeddingUsage(BaseModel):
    prompt_tokens: int = 0
    total_tokens: int = 0
    truncated_inputs: int = 0


@dataclass(frozen=True)
class Embedded:
    """One batch's vectors, in order, and how many of its texts the model read only in part
    (longer than its input length, as the service's `usage` says; 0 where it says nothing)."""

    vectors: list[list[float]]
    truncated_inputs: int = 0


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingData]
    model: str
    usage: EmbeddingUsage = Field(default_factory=EmbeddingUsage)


class EmbeddingRecipe(BaseModel):
    """Everything that decides what a vector means. Two recipes that differ must not be mixed."""

    model_config = ConfigDict(frozen=True)

    model_id: str
    revision: str = ""
    dimension: int = Field(gt=0)
    normalized: bool = True
    query_instruction: str = ""
    document_instruction: str = ""
    max_seq_length: int | None = None

    def mismatch(self, other: EmbeddingRecipe) -> list[str]:
        """Names the fields that differ (dtype is not part of the recipe: bf16 is validated)."""
        mine, theirs = self.model_dump(), other.model_dump()
        return [f"{k}: {mine[k]!r} != {theirs[k]!r}" for k in mine if mine[k] != theirs[k]]


class EmbedderHealth(BaseModel):
    """`GET /health`: what the embedder serves, so callers can check it before trusting it."""

    status: Literal["ok"] = "ok"
    recipe: EmbeddingRecipe
    backend: str
    device: str
    dtype: str = "float32"
    warm: bool = False
    load_seconds: float | None = None
    rerank_model: str | None = Field(None, description="What `/v1/rerank` scores with, if any.")
    versions: dict[str, str] = Field(default_factory=dict)


def validate_vectors(vectors: Sequence[Sequence[float]], count: int, dimension: int) -> None:
    """Refuse anything but `count` finite, non-zero vectors of `dimension` floats."""
    if len(vectors) != count:
        raise EmbedderResponseInvalid(f"expected {count} vectors, got {len(vectors)}")
    for i, vector in enumerate(vectors):
        if len(vector) != dimension:
            raise EmbedderResponseInvalid(
                f"vector {i} has dimension {len(vector)}, expected {dimension}"
            )
        norm_sq = 0.0
        for x in vector:
            if not math.isfinite(x):
                raise EmbedderResponseInvalid(f"vector {i} contains a non-finite value ({x})")
            norm_sq += x * x
        if norm_sq == 0.0:
            raise EmbedderResponseInvalid(f"vector {i} is all zeros")


# ## Reranking: `POST /v1/rerank`, a cross-encoder's second look at the top candidates


class RerankRequest(BaseModel):
    """How well each document answers `query`; `top_n` keeps only the best ones."""

    model_config = ConfigDict(extra="ignore")

    query: str
    documents: list[str] = Field(min_length=1, max_length=MAX_INPUTS_PER_REQUEST)
    model: str | None = None
    top_n: int | None = Field(None, ge=1)


class RerankResult(BaseModel):
    index: int = Field(ge=0, description="The document's position in the request.")
    relevance_score: float


class RerankUsage(BaseModel):
    total_tokens: int = 0
    truncated_inputs: int = 0


class RerankResponse(BaseModel):
    """Results best first (ties by index); `revision` pins the weights that scored them."""

    model: str
    revision: str = ""
    results: list[RerankResult]
    usage: RerankUsage = Field(default_factory=RerankUsage)


def rerank_response(
    model: str,
    revision: str,
    scores: Sequence[float],
    tokens: Sequence[int],
    truncated: Sequence[bool],
    top_n: int | None,
) -> RerankResponse:
    """A model's per-document scores (input order) as the answer: best first, ties by index,
    `top_n` of them, with the usage of every document scored."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return RerankResponse(
        model=model,
        revision=revision,
        results=[RerankResult(index=i, relevance_score=scores[i]) for i in order[:top_n]],
        usage=RerankUsage(total_tokens=sum(tokens), truncated_inputs=sum(truncated)),
    )


def validate_ranking(results: Sequence[RerankResult], documents: int, top_n: int | None) -> None:
    """Refuse anything but min(documents, top_n) distinct documents with finite scores, best
    first: a NaN would sort anywhere, a missing document would silently drop a moment."""
    expected = min(documents, top_n or documents)
    if len(results) != expected:
        raise EmbedderResponseInvalid(f"expected {expected} rerank results, got {len(results)}")
    indices = [r.index for r in results]
    if len(set(indices)) != len(indices) or any(i >= documents for i in indices):
        raise EmbedderResponseInvalid(f"rerank indices are not distinct documents of {documents}")
    scores = [r.relevance_score for r in results]
    if not all(math.isfinite(s) for s in scores):
        raise EmbedderResponseInvalid("a rerank score is not finite")
    if any(a < b for a, b in itertools.pairwise(scores)):
        raise EmbedderResponseInvalid("rerank results are not best first")


# ## Errors: `{"error": {"code", "message"[, "details"]}}` from every server


class ErrorCode(StrEnum):
    """Every stable error `code` our servers answer with; clients may branch on them."""

    # both servers
    invalid_request = "invalid_request"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    http_error = "http_error"
    internal_error = "internal_error"
    # the embedding service
    unauthorized = "unauthorized"
    batch_too_large = "batch_too_large"
    body_too_large = "body_too_large"
    input_too_long = "input_too_long"
    model_not_found = "model_not_found"
    invalid_embedding = "invalid_embedding"
    embedding_failed = "embedding_failed"
    rerank_unavailable = "rerank_unavailable"
    rerank_failed = "rerank_failed"
    # the search API
    empty_query = "empty_query"
    query_too_long = "query_too_long"
    limit_too_large = "limit_too_large"
    offset_too_large = "offset_too_large"
    invalid_date_range = "invalid_date_range"
    invalid_cursor = "invalid_cursor"
    invalid_facet = "invalid_facet"
    transcript_not_indexed = "transcript_not_indexed"
    rate_limited = "rate_limited"
    index_mismatch = "index_mismatch"
    embedder_invalid_response = "embedder_invalid_response"
    embedder_unavailable = "embedder_unavailable"
    index_not_ready = "index_not_ready"
    store_unavailable = "store_unavailable"
    invalid_time_range = "invalid_time_range"
    time_range_too_long = "time_range_too_long"
    episode_not_found = "episode_not_found"
    # the MCP server, when the search API it calls does not answer
    api_unavailable = "api_unavailable"


class ErrorDetail(BaseModel):
    code: ErrorCode = Field(description="Stable, machine-readable error code.")
    message: str
    details: list[dict[str, object]] | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail

    @classmethod
    def of(
        cls, code: ErrorCode, message: str, details: list[dict[str, object]] | None = None
    ) -> dict[str, object]:
        """The JSON-ready body; `details` only when there are some."""
        error = ErrorDetail(code=code, message=message, details=details)
        return cls(error=error).model_dump(mode="json", exclude_none=True)


class ApiError(Exception):
    """A request refused on purpose: HTTP status, stable code, message (and headers)."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers) if headers else None


class ModalAnswer(BaseModel):
    """What the Modal classes return per call (a query: one vector), or why there is none.
    Plain values only (the code as its string): Modal carries it across processes."""

    model_config = ConfigDict(use_enum_values=True)

    embeddings: list[list[float]] = []
    tokens: list[int] = []
    truncated: list[bool] = []
    error: str | None = None
    code: ErrorCode | None = None  # invalid_embedding (never retried) | embedding_failed | ...
    server: dict[str, str] = {}  # the GPU container: device, torch, cuda, load_seconds


class ModalRerankAnswer(BaseModel):
    """What the Modal reranker class returns per call: one score per document in input order
    (with the model that gave them), or why there are none."""

    model_config = ConfigDict(use_enum_values=True)

    scores: list[float] = []
    tokens: list[int] = []
    truncated: list[bool] = []
    model: str = ""
    revision: str = ""
    error: str | None = None
    code: ErrorCode | None = None
    server: dict[str, str] = {}
