"""The API's public JSON shapes (also what /docs shows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class SearchMode(StrEnum):
    hybrid = "hybrid"
    semantic = "semantic"
    keyword = "keyword"


class Moment(BaseModel):
    """One ranked moment: where in which episode, what was said, and a link that plays it."""

    score: float = Field(
        description="Fused RRF score (hybrid), cosine (semantic) or BM25 (keyword)."
    )
    segment_id: str
    episode_id: str
    podcast: str
    episode_title: str
    published: datetime | None
    start: float = Field(description="Seconds from the start of the episode.")
    end: float
    speakers: list[str]
    text: str
    url: str | None = Field(description="Plays the audio (or opens the episode) at `start`.")


class Timings(BaseModel):
    embed_ms: float = 0.0
    search_ms: float = 0.0


class SearchResponse(BaseModel):
    query: str
    mode: SearchMode
    took_ms: float
    timings: Timings
    limit: int
    offset: int
    results: list[Moment]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable error code.")
    message: str
    details: list[dict[str, object]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str = "ok"


class PodcastCount(BaseModel):
    podcast: str
    segments: int
