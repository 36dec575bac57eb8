"""Search, from a validated request to ranked moments: embed once, query once, shape the answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from podsearch.index_meta import IndexMeta
from podsearch.models import SearchFilters, SegmentHit, StoreQuery
from podsearch.ports import Embedder, SegmentReader
from podsearch.stores.schema import Bm25Encoder
from search_api.schemas import Moment, SearchMode, SearchResponse, Timings


@dataclass(frozen=True)
class SearchParams:
    query: str
    mode: SearchMode
    limit: int
    offset: int
    filters: SearchFilters


def normalise_query(text: str) -> str:
    """Trim and collapse whitespace: "   openai   " and "openai" are the same search."""
    return " ".join(text.split())


def play_url(payload: dict[str, Any]) -> str | None:
    """A media-fragment link (`#t=`) that starts playback at the moment."""
    base = payload.get("audio_url") or payload.get("url")
    if not base:
        return None
    return f"{base}#t={payload['start']:.0f}"


def to_moment(hit: SegmentHit) -> Moment:
    p = hit.payload
    return Moment(
        score=hit.score,
        segment_id=hit.id,
        episode_id=p["episode_id"],
        podcast=p["podcast"],
        episode_title=p["episode_title"],
        published=p.get("published"),
        start=p["start"],
        end=p["end"],
        speakers=p.get("speakers") or [],
        text=p["text"],
        url=play_url(p),
    )


class SearchService:
    """Holds the embedder and the store reader for the app's lifetime (one event loop)."""

    def __init__(self, embedder: Embedder, reader: SegmentReader, rrf_k: int = 60) -> None:
        self.embedder = embedder
        self.reader = reader
        self._bm25 = Bm25Encoder()
        self._rrf_k = rrf_k
        self._verified: IndexMeta | None = None

    async def check_compatible(self) -> None:
        """Refuse (IndexMismatch) to embed queries with another recipe than the index's."""
        meta = await self.reader.meta()
        if meta != self._verified:
            meta.check_recipe(await self.embedder.recipe())
            self._verified = meta

    async def search(self, params: SearchParams) -> SearchResponse:
        started = time.perf_counter()
        timings = Timings()
        dense = None
        if params.mode is not SearchMode.keyword:
            await self.check_compatible()
            (dense,) = await self.embedder.embed([params.query], "query")
            timings.embed_ms = _ms_since(started)
        sparse = self._bm25.query(params.query) if params.mode is not SearchMode.semantic else None
        before_search = time.perf_counter()
        hits = await self.reader.search(
            StoreQuery(
                limit=params.limit,
                offset=params.offset,
                dense=dense,
                sparse=sparse,
                filters=params.filters,
                rrf_k=self._rrf_k,
            )
        )
        timings.search_ms = _ms_since(before_search)
        return SearchResponse(
            query=params.query,
            mode=params.mode,
            took_ms=_ms_since(started),
            timings=timings,
            limit=params.limit,
            offset=params.offset,
            results=[to_moment(hit) for hit in hits],
        )


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
