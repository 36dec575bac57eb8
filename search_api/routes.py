"""HTTP routes: validation here, search logic in `service`, error mapping in `errors`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic_core import to_json

from podsearch.contract import ApiError, ErrorBody, ErrorCode
from podsearch.errors import PodsearchError
from podsearch.models import SearchFilters
from search_api.answers import answer_events
from search_api.checks import checked_dates, checked_limit, checked_query, checked_time_range
from search_api.deps import Chat, Service, Settings
from search_api.embedder_link import probe
from search_api.facets import parse_facets
from search_api.pagination import CursorScope, request_key
from search_api.schemas import (
    ComponentState,
    GroupBy,
    Health,
    PodcastCount,
    Ready,
    SearchMode,
    SearchResponse,
    Transcript,
)
from search_api.service import SearchParams, SearchService
from search_api.transcript import read_transcript


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
    code: {"model": ErrorBody} for code in (404, 409, 422, 429, 502, 503)
}


@dataclass(frozen=True)
class Criteria:
    """What to look for: the query, its mode and its filters (shared by /search and /answer)."""

    query: str
    mode: SearchMode
    filters: SearchFilters


async def criteria(
    settings: Settings,
    q: Annotated[str, Query(description="What the listener asks, in words.")],
    mode: SearchMode = SearchMode.hybrid,
    podcast: Annotated[list[str] | None, Query(description="Repeat to allow several.")] = None,
    episode_id: Annotated[list[str] | None, Query()] = None,
    speaker: Annotated[list[str] | None, Query()] = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
    include_ads: Annotated[
        bool, Query(description="Also return sponsor/promo reads (left out by default).")
    ] = False,
) -> Criteria:
    after, before = checked_dates(published_after, published_before)
    filters = SearchFilters(
        podcasts=tuple(podcast or ()),
        episode_ids=tuple(episode_id or ()),
        speakers=tuple(speaker or ()),
        published_after=after,
        published_before=before,
        include_ads=include_ads,
    )
    return Criteria(checked_query(q, settings.api), mode, filters)


Wanted = Annotated[Criteria, Depends(criteria)]


@limited.get("/search", response_model=SearchResponse, responses=_ERRORS)
async def search(
    request: Request,
    service: Service,
    settings: Settings,
    wanted: Wanted,
    limit: Annotated[int, Query(ge=1, description="Moments, or episodes when grouped.")] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    group_by: GroupBy = GroupBy.none,
    per_episode: Annotated[int | None, Query(ge=1, le=20)] = None,
    context: Annotated[bool, Query(description="Add the words said just before/after.")] = False,
    score_threshold: Annotated[
        float | None, Query(description="Drop hits scoring below this (scale depends on mode).")
    ] = None,
    rrf_k: Annotated[
        int | None, Query(ge=1, le=1000, description="Hybrid fusion constant.")
    ] = None,
    facets: Annotated[
        list[str] | None,
        Query(description="podcast, speaker, year: counts over this search's candidates."),
    ] = None,
    explain: Annotated[
        bool, Query(description="Add each moment's dense/keyword ranks and a relevance label.")
    ] = False,
) -> Response:
    """The body is built as plain data and encoded once (see `shaping`); `response_model`
    documents it. pydantic-core's encoder writes the bytes `JSONResponse` would, ~7x faster."""
    options = settings.api
    checked_limit(limit, options)
    query, mode, filters = wanted.query, wanted.mode, wanted.filters
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
        facets=parse_facets(facets or ()),
        explain=explain,
    )
    body = to_json(await service.search(params), inf_nan_mode="null")
    return Response(body, media_type="application/json")


@limited.get(
    "/answer",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-Sent Events: `moments`, then `token`s, then `answer`.",
        },
        **_ERRORS,
    },
)
async def answer(
    service: Service,
    settings: Settings,
    chat: Chat,
    wanted: Wanted,
    limit: Annotated[
        int | None, Query(ge=1, le=20, description="Moments the answer may cite.")
    ] = None,
) -> StreamingResponse:
    """A short answer citing the retrieved moments as [1], [2]…, streamed. Without a model,
    or when it fails, the moments still come, with `answer: null` and a reason."""
    params = SearchParams(
        query=wanted.query,
        mode=wanted.mode,
        limit=limit or settings.llm.moments,
        filters=wanted.filters,
    )
    # store errors answer as JSON errors, before streaming; the answer path validates the body
    found = SearchResponse.model_validate(await service.search(params))
    return StreamingResponse(
        answer_events(found, chat, service.metrics),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/features")
async def features(chat: Chat) -> dict[str, bool]:
    """What this deployment offers beyond search (the page asks before showing an answer)."""
    return {"answers": chat is not None}


@limited.get("/podcasts", response_model=list[PodcastCount], responses=_ERRORS)
async def podcasts(service: Service) -> list[PodcastCount]:
    """Every podcast in the index, with its episode and segment counts."""
    stats = await service.reader.podcasts()
    return [
        PodcastCount(podcast=name, episodes=s.episodes, segments=s.segments)
        for name, s in sorted(stats.items())
    ]


@limited.get("/episodes/{episode_id:path}/transcript", response_model=Transcript, responses=_ERRORS)
async def transcript(
    service: Service,
    settings: Settings,
    episode_id: str,
    start: Annotated[float, Query(ge=0, description="Seconds from the episode's start.")] = 0.0,
    end: Annotated[
        float, Query(gt=0, description="Seconds; at most max_transcript_s after start.")
    ] = 300.0,
) -> Transcript:
    """The words said in an episode between two times, with speakers, each word once."""
    checked_time_range(start, end, settings.api)
    return await read_transcript(service.reader, episode_id, start, end)


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
