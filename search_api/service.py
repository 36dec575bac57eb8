"""Search, from a validated request to ranked moments: embed once (cached), query once, shape.

When the embedder times out, fails or its circuit is open, `hybrid` and `semantic` searches
answer with keyword results marked `degraded` instead of an error.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from podsearch.errors import EmbedderError
from podsearch.index_meta import IndexMeta
from podsearch.models import SearchFilters, SegmentHit, SegmentPayload, StoreQuery
from podsearch.ports import Embedder, SegmentReader
from podsearch.stores.schema import Bm25Encoder
from search_api.embedder_link import why_degraded, within_deadline
from search_api.embedding_cache import QueryEmbeddingCache
from search_api.highlight import highlights, query_terms, snippet, term_pattern
from search_api.moments import MomentDraft, group_by_episode, join_texts, merge_moments
from search_api.observability import Metrics
from search_api.pagination import CursorScope
from search_api.ranking import rerank
from search_api.schemas import (
    EpisodeGroup,
    GroupBy,
    Moment,
    SearchMode,
    SearchResponse,
    Timings,
)
from search_api.settings import ApiOptions

log = logging.getLogger("podsearch.api")

PAGE_WINDOW = 100  # segments are fetched in whole windows of this many
MAX_DEPTH = 3000  # segments fetched for one page at most


@dataclass(frozen=True)
class SearchParams:
    query: str
    mode: SearchMode
    limit: int
    offset: int = 0
    filters: SearchFilters = field(default_factory=SearchFilters)
    group_by: GroupBy = GroupBy.none
    per_episode: int = 3
    context: bool = False
    score_threshold: float | None = None
    rrf_k: int | None = None
    cursor: CursorScope | None = None


def play_url(payload: SegmentPayload, start: float, end: float | None = None) -> str | None:
    """A media-fragment link (`#t=`) that starts playback at the moment (and ends it)."""
    base = payload.audio_url or payload.url
    if not base:
        return None
    return f"{base}#t={start:.0f}" + (f",{end:.0f}" if end is not None else "")


def depth_for(needed: int, per_item: int) -> int:
    """Segments to fetch so `needed` moments can be built: whole windows, so neighbouring pages
    are cut from the same candidates."""
    wanted = max(PAGE_WINDOW, 3 * per_item * needed)
    return min(MAX_DEPTH, -(-wanted // PAGE_WINDOW) * PAGE_WINDOW)


@dataclass
class Page:
    """What one search produced, before it is shaped into JSON."""

    mode: SearchMode
    degraded_reason: str | None
    cache: str
    timings: Timings
    moments: list[MomentDraft]
    groups: list[list[MomentDraft]] | None
    has_more: bool


class SearchService:
    """Holds the embedder, the store reader and the cache for the app's lifetime."""

    def __init__(
        self,
        embedder: Embedder,
        reader: SegmentReader,
        options: ApiOptions | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.embedder = embedder
        self.reader = reader
        self.options = options or ApiOptions()
        self.metrics = metrics or Metrics()
        self.cache = QueryEmbeddingCache(embedder, self.options.cache_size)
        self._bm25 = Bm25Encoder()
        self._verified: IndexMeta | None = None

    async def check_compatible(self) -> None:
        """Refuse (IndexMismatch) to embed queries with another recipe than the index's."""
        meta = await self.reader.meta()
        if meta != self._verified:
            meta.check_recipe(await self.embedder.recipe())
            self._verified = meta

    async def _query_vector(self, query: str, timings: Timings) -> tuple[list[float], bool]:
        started = time.perf_counter()

        async def embed() -> tuple[list[float], bool]:
            await self.check_compatible()
            assert self._verified is not None
            recipe = self._verified.recipe
            model = f"{recipe.model_id}@{recipe.revision}"
            return await self.cache.embed(query, model, await self.reader.generation())

        vector, hit = await within_deadline(self.embedder, self.options.embed_deadline_s, embed)
        timings.embed_ms = _ms_since(started)
        self.metrics.stage.labels("embed").observe(timings.embed_ms / 1000)
        return vector, hit

    async def run(self, params: SearchParams) -> Page:
        """Embed (or degrade), query the store, merge hits into moments."""
        timings = Timings()
        mode, reason, cache, dense = params.mode, None, "none", None
        if mode is not SearchMode.keyword:
            await self.reader.meta()  # a missing index is an error, not a degradation
            try:
                dense, hit = await self._query_vector(params.query, timings)
                cache = "hit" if hit else "miss"
                self.metrics.cache.labels(cache).inc()
                self.metrics.cache_hit_ratio.set(self.cache.hit_ratio)
            except (EmbedderError, TimeoutError) as exc:
                reason = f"embedder unavailable: {why_degraded(exc, self.options.embed_deadline_s)}"
                log.warning("search degraded to keyword: %s", exc)
                mode = SearchMode.keyword
                self.metrics.degraded.labels(type(exc).__name__).inc()
        sparse = self._bm25.query(params.query) if mode is not SearchMode.semantic else None
        grouped = params.group_by is GroupBy.episode
        needed = params.offset + params.limit + 1  # one more than the page tells if more exist
        depth = depth_for(needed, params.per_episode if grouped else 1)
        started = time.perf_counter()
        while True:
            hits = await self.reader.search(
                StoreQuery(
                    limit=depth,
                    dense=dense,
                    sparse=sparse,
                    filters=params.filters,
                    rrf_k=params.rrf_k or self.options.rrf_k,
                    score_threshold=params.score_threshold,
                )
            )
            moments = merge_moments(rerank(params.query, hits))
            groups = group_by_episode(moments, params.per_episode) if grouped else None
            items: list[Any] = groups if groups is not None else moments
            if len(items) >= needed or len(hits) < depth or depth >= MAX_DEPTH:
                break
            depth = min(MAX_DEPTH, 2 * depth)  # many hits merged away: look deeper
        timings.search_ms = _ms_since(started)
        self.metrics.stage.labels("search").observe(timings.search_ms / 1000)
        has_more = len(items) > params.offset + params.limit
        page = items[params.offset : params.offset + params.limit]
        if groups is not None:
            groups, moments = page, [m for group in page for m in group]
        else:
            moments = page
        return Page(mode, reason, cache, timings, moments, groups, has_more)

    async def search(self, params: SearchParams) -> SearchResponse:
        started = time.perf_counter()
        page = await self.run(params)
        pattern = term_pattern(query_terms(params.query))
        shaped = {id(m): await self._moment(m, pattern, params.context) for m in page.moments}
        groups = None
        if page.groups is not None:
            groups = [_group([shaped[id(m)] for m in group]) for group in page.groups]
        page.timings.total_ms = _ms_since(started)
        return SearchResponse(
            query=params.query,
            mode=page.mode,
            requested_mode=params.mode,
            degraded=page.degraded_reason is not None,
            degraded_reason=page.degraded_reason,
            took_ms=page.timings.total_ms,
            timings=page.timings,
            cache=page.cache,  # type: ignore[arg-type]
            limit=params.limit,
            offset=params.offset,
            next_cursor=(
                params.cursor.encode(params.offset + params.limit)
                if page.has_more and params.cursor is not None
                else None
            ),
            results=[shaped[id(m)] for m in page.moments],
            groups=groups,
        )

    async def _moment(
        self, draft: MomentDraft, pattern: re.Pattern[str] | None, context: bool
    ) -> Moment:
        text = draft.text
        spans = highlights(text, pattern)
        p = draft.payload
        before = after = None
        if context:
            before, after = await self._context(draft)
        return Moment(
            score=draft.score,
            episode_id=draft.episode_id,
            podcast=p.podcast,
            episode_title=p.episode_title,
            published=p.published,
            start=draft.start,
            end=draft.end,
            speakers=draft.speakers,
            text=text,
            snippet=snippet(text, spans),
            highlights=spans,
            url=play_url(p, draft.start),
            clip_url=play_url(p, draft.start, draft.end),
            segment_ids=[h.id for h in draft.hits],
            context_before=before,
            context_after=after,
        )

    async def _context(self, draft: MomentDraft) -> tuple[str | None, str | None]:
        """The words said just before and just after the moment (neighbouring segments)."""
        first, last = min(draft.indexes), max(draft.indexes)
        found = {
            h.payload.segment_index: h
            for h in await self.reader.segments(draft.episode_id, [first - 1, last + 1])
        }
        return _outside(found.get(first - 1), draft, before=True), _outside(
            found.get(last + 1), draft, before=False
        )


def _outside(neighbour: SegmentHit | None, draft: MomentDraft, before: bool) -> str | None:
    """The neighbour's words that the moment does not already contain."""
    if neighbour is None:
        return None
    words, inside = neighbour.payload.text.split(), draft.text.split()
    joined = join_texts(
        [" ".join(words), " ".join(inside)] if before else [" ".join(inside), " ".join(words)]
    ).split()
    extra = joined[: len(joined) - len(inside)] if before else joined[len(inside) :]
    return " ".join(w for w in extra if w != "…") or None


def _group(moments: list[Moment]) -> EpisodeGroup:
    first = moments[0]
    return EpisodeGroup(
        episode_id=first.episode_id,
        podcast=first.podcast,
        episode_title=first.episode_title,
        published=first.published,
        score=max(m.score for m in moments),
        moments=moments,
    )


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
