"""The embedding HTTP contract (OpenAI-compatible) and the recipe recorded with every index.

Server (`embedder.app`) and client (`podsearch.embedder_client`) both use these models: the JSON
is written once. `validate_vectors` runs on both sides of the wire.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
