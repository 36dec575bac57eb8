"""Search, from a validated request to ranked moments: embed once (cached), rank, fetch, shape.

The ranking query reads only where each hit sits; moments are merged and the page is cut from
those, and only the page's segments are fetched in full (one call by id).

When the embedder times out, fails or its circuit is open, `hybrid` and `semantic` searches
answer with keyword results marked `degraded` instead of an error. With
`PODSEARCH_API__RERANK_DEPTH` set, the first moments are rescored by a cross-encoder before the
page is cut (`rerank_stage`; skipped, and said so, when it cannot run).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from podsearch.errors import EmbedderError
from podsearch.index_meta import IndexMeta
from podsearch.models import Passages, SearchFilters, SegmentPayload, StoreQuery
from podsearch.ports import Embedder, Reranker, SegmentReader
from podsearch.stores.schema import Bm25Encoder
from search_api.embedder_link import why_degraded, within_deadline
from search_api.embedding_cache import QueryEmbeddingCache
from search_api.episode_slots import explain_page, refill_first_episodes
from search_api.explain import Explanation
from search_api.facets import count_facets
from search_api.highlight import query_terms, term_pattern
from search_api.moments import MomentDraft, group_by_episode, merge_moments
from search_api.observability import Metrics
from search_api.pagination import CursorScope
from search_api.query_understanding import passages, read_query
from search_api.ranking import boost_named_speakers
from search_api.rerank_stage import RerankOutcome, RerankStage
from search_api.schemas import GroupBy, SearchMode
from search_api.settings import ApiOptions
from search_api.shaping import Body, group_body, moment_body, page_ids

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
    facets: tuple[str, ...] = ()
    explain: bool = False


def depth_for(needed: int, per_item: int) -> int:
    """Segments to fetch so `needed` moments can be built: whole windows, so neighbouring pages
    are cut from the same candidates."""
    wanted = max(PAGE_WINDOW, 3 * per_item * needed)
    return min(MAX_DEPTH, -(-wanted // PAGE_WINDOW) * PAGE_WINDOW)


@dataclass
class Timings:
    """Milliseconds per stage of one search (`schemas.Timings`)."""

    embed_ms: float = 0.0
    search_ms: float = 0.0
    fetch_ms: float = 0.0
    rerank_ms: float = 0.0
    shape_ms: float = 0.0
    total_ms: float = 0.0


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
    payloads: dict[str, SegmentPayload]  # of the page's segments (and neighbours, for context)
    candidates: list[MomentDraft]  # every moment built from the fetched segments
    store_query: StoreQuery  # the query that ranked them
    refilled: list[str]  # episodes whose moments a search of each alone ranked (`episode_slots`)
    rerank: RerankOutcome | None  # None: the stage is off


class SearchService:
    """Holds the embedder, the store reader and the cache for the app's lifetime."""

    def __init__(
        self,
        embedder: Embedder,
        reader: SegmentReader,
        options: ApiOptions | None = None,
        metrics: Metrics | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.embedder = embedder
        self.reader = reader
        self.options = options or ApiOptions()
        self.rerank_stage = RerankStage(
            reranker, reader, self.options.rerank_depth, self.options.rerank_deadline_s
        )
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

    async def _query_vectors(
        self, texts: list[str], timings: Timings
    ) -> tuple[list[list[float]], bool]:
        started = time.perf_counter()

        async def embed() -> tuple[list[list[float]], bool]:
            await self.check_compatible()
            assert self._verified is not None
            recipe = self._verified.recipe
            model = f"{recipe.model_id}@{recipe.revision}"
            return await self.cache.embed_all(texts, model, await self.reader.generation())

        circuit = getattr(self.embedder, "circuit", None)  # a RemoteEmbedder's
        vectors, hit = await within_deadline(circuit, self.options.embed_deadline_s, embed)
        timings.embed_ms = _ms_since(started)
        self.metrics.stage.labels("embed").observe(timings.embed_ms / 1000)
        return vectors, hit

    async def run(self, params: SearchParams) -> Page:
        """Embed (or degrade), query the store, merge hits into moments."""
        timings = Timings()
        mode, reason, cache, dense, topic = params.mode, None, "none", None, None
        reading = read_query(params.query)
        if mode is not SearchMode.keyword:
            await self.reader.meta()  # a missing index is an error, not a degradation
            try:
                (dense, *rest), hit = await self._query_vectors(reading.dense_texts(mode), timings)
                topic = rest[0] if rest else None
                cache = "hit" if hit else "miss"
                self.metrics.cache.labels(cache).inc()
                self.metrics.cache_hit_ratio.set(self.cache.hit_ratio)
            except (EmbedderError, TimeoutError) as exc:
                reason = f"embedder unavailable: {why_degraded(exc, self.options.embed_deadline_s)}"
                log.warning("search degraded to keyword: %s", exc)
                mode = SearchMode.keyword
                self.metrics.degraded.labels(type(exc).__name__).inc()
        sparse = self._bm25.query(params.query) if mode is not SearchMode.semantic else None
        filters = replace(params.filters, phrases=reading.phrases)
        grouped = params.group_by is GroupBy.episode
        needed = params.offset + params.limit + 1  # one more than the page tells if more exist
        depth = depth_for(needed, params.per_episode if grouped else 1)
        started = time.perf_counter()
        while True:
            store_query = StoreQuery(
                limit=depth,
                dense=dense,
                sparse=sparse,
                dense_topic=topic,
                keyword_weight=reading.keyword_weight,
                passages=passages(mode, filters),
                filters=filters,
                rrf_k=params.rrf_k or self.options.rrf_k,
                score_threshold=params.score_threshold,
            )
            hits = await self.reader.search(store_query)
            moments = merge_moments(boost_named_speakers(params.query, hits))
            found = group_by_episode(moments, params.per_episode) if grouped else moments
            if len(found) >= needed or len(hits) < depth or depth >= MAX_DEPTH:
                break
            depth = min(MAX_DEPTH, 2 * depth)  # many hits merged away: look deeper
        refilled: list[str] = []
        across = mode is SearchMode.hybrid and store_query.passages is Passages.segment
        if across and self.options.refilled_episodes:
            moments, refilled = await refill_first_episodes(
                self.reader, store_query, params.query, moments, self.options.refilled_episodes
            )
        timings.search_ms = _ms_since(started)
        self.metrics.stage.labels("search").observe(timings.search_ms / 1000)
        reranked = None
        if self.options.rerank_depth:
            started = time.perf_counter()
            moments, reranked = await self.rerank_stage.run(params.query, moments, bool(reason))
            timings.rerank_ms = _ms_since(started)
            self.metrics.stage.labels("rerank").observe(timings.rerank_ms / 1000)
        candidates = moments  # in their final order: refilled, reranked, then grouped
        groups = group_by_episode(moments, params.per_episode) if grouped else None
        items: list[Any] = groups if groups is not None else moments
        has_more = len(items) > params.offset + params.limit
        page = items[params.offset : params.offset + params.limit]
        if groups is not None:
            groups, moments = page, [m for group in page for m in group]
        else:
            moments = page
        started = time.perf_counter()
        payloads = await self.reader.fetch(page_ids(moments, params.context)) if moments else {}
        timings.fetch_ms = _ms_since(started)
        self.metrics.stage.labels("fetch").observe(timings.fetch_ms / 1000)
        return Page(
            mode,
            reason,
            cache,
            timings,
            moments,
            groups,
            has_more,
            payloads,
            candidates,
            store_query,
            refilled,
            reranked,
        )

    async def search(self, params: SearchParams) -> Body:
        """The response body as plain data (the shape of `schemas.SearchResponse`)."""
        started = time.perf_counter()
        page = await self.run(params)
        timings = page.timings
        shaping = time.perf_counter()
        pattern = term_pattern(query_terms(params.query))
        shaped = {
            id(m): moment_body(m, page.payloads, pattern, params.context) for m in page.moments
        }
        explained: list[Explanation | None] = [None] * len(page.moments)
        if params.explain:
            sparse = page.store_query.sparse or self._bm25.query(params.query)
            explained[:] = await explain_page(
                self.reader,
                page.store_query,
                sparse,
                page.moments,
                page.refilled,
                self.options.strong_cosine,
            )
        for m, explanation in zip(page.moments, explained, strict=True):
            shaped[id(m)]["explain"] = explanation.model_dump() if explanation else None
        facets = None
        if params.facets:
            hit_ids = [h.id for m in page.candidates for h in m.hits]
            counted = count_facets(page.candidates, await self.reader.fetch(hit_ids), params.facets)
            facets = {name: [v.model_dump() for v in values] for name, values in counted.items()}
        groups = None
        if page.groups is not None:
            groups = [group_body([shaped[id(m)] for m in group]) for group in page.groups]
        timings.shape_ms = _ms_since(shaping)
        self.metrics.stage.labels("shape").observe(timings.shape_ms / 1000)
        timings.total_ms = _ms_since(started)
        return {
            "query": params.query,
            "mode": page.mode.value,
            "requested_mode": params.mode.value,
            "degraded": page.degraded_reason is not None,
            "degraded_reason": page.degraded_reason,
            "took_ms": timings.total_ms,
            "timings": asdict(timings),
            "cache": page.cache,
            "limit": params.limit,
            "offset": params.offset,
            "next_cursor": (
                params.cursor.encode(params.offset + params.limit)
                if page.has_more and params.cursor is not None
                else None
            ),
            "results": [shaped[id(m)] for m in page.moments],
            "groups": groups,
            "facets": facets,
            "rerank": page.rerank.body() if page.rerank is not None else None,
        }


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
