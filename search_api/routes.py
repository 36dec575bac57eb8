"""HTTP routes: validation here, search logic in `service`, error mapping in `errors`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from podsearch.models import SearchFilters
from search_api.deps import Service, Settings
from search_api.errors import ApiError
from search_api.schemas import ErrorBody, Health, PodcastCount, SearchMode, SearchResponse
from search_api.service import SearchParams, normalise_query

router = APIRouter()

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (409, 422, 502, 503)
}


def _utc(value: datetime | None) -> datetime | None:
    """Naive dates are read as UTC, like the indexer stores them."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.get("/search", response_model=SearchResponse, responses=_ERRORS)
async def search(
    service: Service,
    settings: Settings,
    q: Annotated[str, Query(description="What the listener asks, in words.")],
    mode: SearchMode = SearchMode.hybrid,
    limit: Annotated[int, Query(ge=1)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    podcast: Annotated[list[str] | None, Query(description="Repeat to allow several.")] = None,
    episode_id: Annotated[list[str] | None, Query()] = None,
    speaker: Annotated[list[str] | None, Query()] = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
) -> SearchResponse:
    options = settings.api
    query = normalise_query(q)
    if not query:
        raise ApiError(422, "empty_query", "q must contain at least one non-space character")
    if len(query) > options.max_query_chars:
        raise ApiError(
            422, "query_too_long", f"q is limited to {options.max_query_chars} characters"
        )
    if limit > options.max_limit:
        raise ApiError(422, "limit_too_large", f"limit is at most {options.max_limit}")
    if offset > options.max_offset:
        raise ApiError(422, "offset_too_large", f"offset is at most {options.max_offset}")
    after, before = _utc(published_after), _utc(published_before)
    if after and before and after > before:
        raise ApiError(422, "invalid_date_range", "published_after is later than published_before")
    filters = SearchFilters(
        podcasts=tuple(podcast or ()),
        episode_ids=tuple(episode_id or ()),
        speakers=tuple(speaker or ()),
        published_after=after,
        published_before=before,
    )
    return await service.search(SearchParams(query, mode, limit, offset, filters))


@router.get("/podcasts", response_model=list[PodcastCount], responses=_ERRORS)
async def podcasts(service: Service) -> list[PodcastCount]:
    counts = await service.reader.podcasts()
    return [PodcastCount(podcast=name, segments=n) for name, n in sorted(counts.items())]


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Liveness: the process answers."""
    return Health()
