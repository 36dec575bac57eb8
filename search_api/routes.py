"""HTTP routes: validation here, search logic in `service`, error mapping in `errors`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from podsearch.contract import ApiError, ErrorBody, ErrorCode
from podsearch.errors import PodsearchError
from podsearch.models import SearchFilters
from search_api.deps import Service, Settings
from search_api.embedder_link import probe
from search_api.pagination import CursorScope, request_key
from search_api.schemas import (
    ComponentState,
    GroupBy,
    Health,
    PodcastCount,
    Ready,
    SearchMode,
    SearchResponse,
)
from search_api.service import SearchParams, SearchService, normalise_query


async def rate_limit(request: Request, settings: Settings) -> None:
    """429 with Retry-After once a client spends its burst faster than the refill rate (async:
    a plain `def` dependency would cost a threadpool handoff per request)."""
    limiter = request.app.state.rate_limiter
    if limiter is None:
        return
    client = request.client.host if request.client else "unknown"
    if settings.api.trust_forwarded_for:
        client = request.headers.get("x-forwarded-for", client).split(",")[0].strip()
    wait = limiter.retry_after(client)
    if wait:
        request.app.state.metrics.rate_limited.inc()
        raise ApiError(429, ErrorCode.rate_limited, "too many requests", {"Retry-After": str(wait)})


router = APIRouter()
limited = APIRouter(dependencies=[Depends(rate_limit)])

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (409, 422, 429, 502, 503)
}


def _utc(value: datetime | None) -> datetime | None:
    """Naive dates are read as UTC, like the indexer stores them."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@limited.get("/search", response_model=SearchResponse, responses=_ERRORS)
async def search(
    request: Request,
    service: Service,
    settings: Settings,
    q: Annotated[str, Query(description="What the listener asks, in words.")],
    mode: SearchMode = SearchMode.hybrid,
    limit: Annotated[int, Query(ge=1, description="Moments, or episodes when grouped.")] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    podcast: Annotated[list[str] | None, Query(description="Repeat to allow several.")] = None,
    episode_id: Annotated[list[str] | None, Query()] = None,
    speaker: Annotated[list[str] | None, Query()] = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
    group_by: GroupBy = GroupBy.none,
    per_episode: Annotated[int | None, Query(ge=1, le=20)] = None,
    context: Annotated[bool, Query(description="Add the words said just before/after.")] = False,
    score_threshold: Annotated[
        float | None, Query(description="Drop hits scoring below this (scale depends on mode).")
    ] = None,
    rrf_k: Annotated[
        int | None, Query(ge=1, le=1000, description="Hybrid fusion constant.")
    ] = None,
) -> Response:
    """The body is built as plain data and encoded once (see `shaping`); `response_model`
    documents it."""
    options = settings.api
    query = normalise_query(q)
    if not query:
        raise ApiError(
            422, ErrorCode.empty_query, "q must contain at least one non-space character"
        )
    if len(query) > options.max_query_chars:
        raise ApiError(
            422, ErrorCode.query_too_long, f"q is limited to {options.max_query_chars} characters"
        )
    if limit > options.max_limit:
        raise ApiError(422, ErrorCode.limit_too_large, f"limit is at most {options.max_limit}")
    after, before = _utc(published_after), _utc(published_before)
    if after and before and after > before:
        raise ApiError(
            422, ErrorCode.invalid_date_range, "published_after is later than published_before"
        )
    filters = SearchFilters(
        podcasts=tuple(podcast or ()),
        episode_ids=tuple(episode_id or ()),
        speakers=tuple(speaker or ()),
        published_after=after,
        published_before=before,
    )
    per_episode = per_episode or options.per_episode
    key = request_key(query, mode, filters, group_by, per_episode, score_threshold, rrf_k)
    cursors = CursorScope(
        request.app.state.cursor_secret, key, options.max_offset + options.max_limit
    )
    if cursor is not None:
        offset = cursors.decode(cursor)
    if offset > options.max_offset:
        raise ApiError(422, ErrorCode.offset_too_large, f"offset is at most {options.max_offset}")
    params = SearchParams(
        query=query,
        mode=mode,
        limit=limit,
        offset=offset,
        filters=filters,
        group_by=group_by,
        per_episode=per_episode,
        context=context,
        score_threshold=score_threshold,
        rrf_k=rrf_k,
        cursor=cursors,
    )
    return JSONResponse(await service.search(params))


@limited.get("/podcasts", response_model=list[PodcastCount], responses=_ERRORS)
async def podcasts(service: Service) -> list[PodcastCount]:
    """Every podcast in the index, with its episode and segment counts."""
    stats = await service.reader.podcasts()
    return [
        PodcastCount(podcast=name, episodes=s.episodes, segments=s.segments)
        for name, s in sorted(stats.items())
    ]


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready}})
async def ready(service: Service, settings: Settings, response: Response) -> Ready:
    """Readiness, store and embedder reported apart: without an embedder we still answer.
    Each check gives up after `ready_deadline_s`, so a probe never hangs on a cold embedder."""
    deadline_s = settings.api.ready_deadline_s
    store, embedder = await asyncio.gather(
        _store_state(service, deadline_s), _embedder_state(service, deadline_s)
    )
    if not store.ok:
        response.status_code = 503
    return Ready(
        ready=store.ok, store=store, embedder=embedder, cache_hit_ratio=service.cache.hit_ratio
    )


async def _store_state(service: SearchService, deadline_s: float) -> ComponentState:
    try:
        async with asyncio.timeout(deadline_s):
            generation = await service.reader.generation()
    except (PodsearchError, TimeoutError) as exc:
        return ComponentState(ok=False, detail=str(exc) or f"no answer within {deadline_s:g} s")
    return ComponentState(ok=True, detail=f"index generation {generation}")


async def _embedder_state(service: SearchService, deadline_s: float) -> ComponentState:
    circuit = getattr(service.embedder, "circuit", None)  # a RemoteEmbedder's
    breaker = f"; circuit {circuit.snapshot().state.value}" if circuit is not None else ""
    try:
        recipe = await probe(service.embedder, deadline_s)
    except (PodsearchError, TimeoutError) as exc:
        detail = str(exc) or f"no answer within {deadline_s:g} s"
        return ComponentState(ok=False, detail=f"{detail}{breaker}; searches degrade to keyword")
    return ComponentState(ok=True, detail=f"{recipe.model_id} ({recipe.dimension}-d){breaker}")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
