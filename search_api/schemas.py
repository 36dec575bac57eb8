"""The API's public JSON shapes (also what /docs shows); errors: `podsearch.contract.ErrorBody`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from search_api.explain import Explanation
from search_api.facets import FacetValue


class SearchMode(StrEnum):
    hybrid = "hybrid"
    semantic = "semantic"
    keyword = "keyword"


class GroupBy(StrEnum):
    none = "none"
    episode = "episode"


class Moment(BaseModel):
    """One ranked moment: where in which episode, what was said, and a link that plays it."""

    score: float = Field(description="RRF score (hybrid), cosine (semantic) or BM25 (keyword).")
    episode_id: str
    podcast: str
    episode_title: str
    published: datetime | None
    start: float = Field(description="Seconds from the start of the episode.")
    end: float
    speakers: list[str]
    text: str = Field(description="What was said (overlapping segments merged).")
    snippet: str = Field(description="HTML-escaped excerpt; query terms wrapped in <mark>.")
    highlights: list[tuple[int, int]] = Field(description="[start, end) offsets of terms in text.")
    url: str | None = Field(description="Plays the audio (or opens the episode) at `start`.")
    clip_url: str | None = Field(description="Media fragment for the whole moment, #t=start,end.")
    segment_ids: list[str]
    context_before: str | None = None
    context_after: str | None = None
    explain: Explanation | None = Field(None, description="`explain=true`: branch ranks, label.")


class EpisodeGroup(BaseModel):
    episode_id: str
    podcast: str
    episode_title: str
    published: datetime | None
    score: float
    moments: list[Moment]


class Timings(BaseModel):
    """Milliseconds per stage: embed the query (or hit its cache), rank the candidates, fetch
    the page's segments, shape the moments; total is all of it, inside the service."""

    embed_ms: float = 0.0
    search_ms: float = 0.0
    fetch_ms: float = 0.0
    rerank_ms: float = 0.0
    shape_ms: float = 0.0
    total_ms: float = 0.0


class RerankInfo(BaseModel):
    """What the optional rerank stage did (`PODSEARCH_API__RERANK_DEPTH`)."""

    applied: bool = Field(description="False: the store's order stands, `reason` says why.")
    moments: int = Field(description="The first results, in the reranker's order and score.")
    model: str | None = Field(description="The cross-encoder that scored them.")
    reason: str | None = None


class SearchResponse(BaseModel):
    query: str
    mode: SearchMode = Field(description="The mode that produced the results.")
    requested_mode: SearchMode
    degraded: bool = Field(
        description="True when the embedder failed and keyword results stand in."
    )
    degraded_reason: str | None = None
    took_ms: float
    timings: Timings
    cache: Literal["hit", "miss", "none"] = Field(description="Query embedding cache outcome.")
    limit: int
    offset: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    results: list[Moment]
    groups: list[EpisodeGroup] | None = None
    facets: dict[str, list[FacetValue]] | None = Field(
        None, description="`facets=`: counts over this search's candidate moments, not the index."
    )
    rerank: RerankInfo | None = Field(None, description="The rerank stage; null when it is off.")


class Health(BaseModel):
    status: str = "ok"


class ComponentState(BaseModel):
    ok: bool
    detail: str


class Ready(BaseModel):
    ready: bool = Field(description="True when searches can be answered (the store is ready).")
    store: ComponentState
    embedder: ComponentState
    cache_hit_ratio: float


class PodcastCount(BaseModel):
    podcast: str
    episodes: int
    segments: int


class Passage(BaseModel):
    """One utterance, or the words of one stored window the previous one did not contain."""

    start: float = Field(description="Seconds (windows: where the window's new words begin).")
    end: float
    speakers: list[str] = Field(description="Who speaks: the utterance's speaker, or the window's.")
    text: str


class Transcript(BaseModel):
    """An excerpt of one episode's transcript, utterance by utterance when the index has them."""

    episode_id: str
    podcast: str
    episode_title: str
    start: float = Field(description="The range asked for, in seconds.")
    end: float
    url: str | None = Field(description="Plays the audio at `start`.")
    passages: list[Passage] = Field(description="In order, each word once.")
    source: Literal["utterances", "segments"] = Field(
        description="`utterances`: as transcribed, one speaker each. `segments` (episodes indexed "
        "before utterances were kept): rebuilt from the overlapping search windows, times "
        "interpolated inside them, speakers per window, not per word."
    )
