"""Checks of a search request that every front door shares (HTTP routes and the MCP tools).

Plain functions that raise `ApiError` with a stable code: a client mistake is refused the same
way whichever door it came through.
"""

from __future__ import annotations

from datetime import UTC, datetime

from podsearch.contract import ApiError, ErrorCode
from search_api.settings import ApiOptions


def normalise_query(text: str) -> str:
    """Trim and collapse whitespace: "   openai   " and "openai" are the same search."""
    return " ".join(text.split())


def checked_query(text: str, options: ApiOptions) -> str:
    query = normalise_query(text)
    if not query:
        raise ApiError(
            422, ErrorCode.empty_query, "q must contain at least one non-space character"
        )
    if len(query) > options.max_query_chars:
        raise ApiError(
            422, ErrorCode.query_too_long, f"q is limited to {options.max_query_chars} characters"
        )
    return query


def checked_limit(limit: int, options: ApiOptions) -> int:
    if limit > options.max_limit:
        raise ApiError(422, ErrorCode.limit_too_large, f"limit is at most {options.max_limit}")
    return limit


def _utc(value: datetime | None) -> datetime | None:
    """Naive dates are read as UTC, like the indexer stores them."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def checked_dates(
    after: datetime | None, before: datetime | None
) -> tuple[datetime | None, datetime | None]:
    after, before = _utc(after), _utc(before)
    if after and before and after > before:
        raise ApiError(
            422, ErrorCode.invalid_date_range, "published_after is later than published_before"
        )
    return after, before


def checked_time_range(start: float, end: float, options: ApiOptions) -> None:
    if start < 0 or end <= start:
        raise ApiError(422, ErrorCode.invalid_time_range, "need 0 <= start < end (seconds)")
    if end - start > options.max_transcript_s:
        raise ApiError(
            422,
            "time_range_too_long",
            f"a transcript excerpt spans at most {options.max_transcript_s:g} s",
        )
