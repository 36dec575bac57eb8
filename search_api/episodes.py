"""The episode view: an episode's metadata, its transcript by time range, and the page that
plays it and reads along.

`GET /episodes/{id}` answers JSON, or the episode page when a browser asks for HTML (the page
then calls the same URL for JSON). Metadata comes from the episode's first segment; utterances,
speakers, duration and chapters from its record (see `podsearch.episodes`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from podsearch.contract import ApiError, ErrorBody, ErrorCode
from podsearch.episodes import EpisodeRecord
from podsearch.models import point_id
from podsearch.ports import SegmentReader
from search_api.deps import Service
from search_api.routes import rate_limit

MAX_UTTERANCES = 1000
STATIC = Path(__file__).parent / "static"


class ChapterOut(BaseModel):
    start: float
    title: str


class EpisodeInfo(BaseModel):
    episode_id: str
    podcast: str
    title: str
    published: datetime | None
    url: str | None
    audio_url: str | None = Field(description="The audio, when the manifest gave one.")
    duration: float | None = Field(description="Seconds, to the end of the last utterance.")
    speakers: list[str]
    chapters: list[ChapterOut] = Field(description="Empty when the episode has no chapters.")
    transcript: bool = Field(description="False when indexed before transcripts were kept.")


class UtteranceOut(BaseModel):
    start: float
    end: float
    speaker: str | None
    text: str


class UtterancePage(BaseModel):
    episode_id: str
    utterances: list[UtteranceOut] = Field(description="Overlapping [start, end), in time order.")
    next_start: float | None = Field(description="`start` of the next page; null at the end.")


router = APIRouter(dependencies=[Depends(rate_limit)])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (404, 422, 503)
}


async def _record(reader: SegmentReader, episode_id: str) -> EpisodeRecord:
    record = await reader.episode_record(episode_id)
    if record is None:
        if await reader.fetch([point_id(episode_id, 0)]):
            message = "this episode was indexed before transcripts were kept: re-index it"
            raise ApiError(404, ErrorCode.transcript_not_indexed, message)
        raise ApiError(404, ErrorCode.episode_not_found, f"no episode {episode_id!r} in the index")
    return record


@router.get(
    "/episodes/{episode_id:path}/utterances", response_model=UtterancePage, responses=_ERRORS
)
async def utterances(
    service: Service,
    episode_id: str,
    start: Annotated[float, Query(ge=0, description="Seconds.")] = 0.0,
    end: Annotated[float | None, Query(gt=0, description="Seconds; default: the end.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_UTTERANCES)] = 200,
) -> UtterancePage:
    """What was said between `start` and `end`, utterance by utterance, `limit` at a time."""
    if end is not None and end <= start:
        raise ApiError(422, ErrorCode.invalid_time_range, "end must be later than start")
    said = (await _record(service.reader, episode_id)).between(start, end)
    page, rest = said[:limit], said[limit:]
    return UtterancePage(
        episode_id=episode_id,
        utterances=[
            UtteranceOut(start=u.start, end=u.end, speaker=u.speaker, text=u.text) for u in page
        ],
        next_start=rest[0].start if rest else None,
    )


@router.get("/episodes/{episode_id:path}", response_model=EpisodeInfo, responses=_ERRORS)
async def episode(
    service: Service, episode_id: str, request: Request
) -> EpisodeInfo | FileResponse:
    """Metadata, speakers, duration and chapters. A browser asking for HTML gets the page."""
    if _wants_html(request):
        return FileResponse(STATIC / "episode.html")
    first = await service.reader.fetch([point_id(episode_id, 0)])
    if not first:
        raise ApiError(404, ErrorCode.episode_not_found, f"no episode {episode_id!r} in the index")
    p = next(iter(first.values()))
    record = await service.reader.episode_record(episode_id)
    return EpisodeInfo(
        episode_id=episode_id,
        podcast=p.podcast,
        title=p.episode_title,
        published=p.published,  # type: ignore[arg-type]  # pydantic parses the ISO string
        url=p.url,
        audio_url=p.audio_url,
        duration=record.duration if record else None,
        speakers=record.speakers if record else [],
        chapters=[ChapterOut(start=c.start, title=c.title) for c in record.chapters]
        if record
        else [],
        transcript=record is not None,
    )


def _wants_html(request: Request) -> bool:
    """Browsers navigating put text/html first; fetch() from the page asks for JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept
