"""An excerpt of an episode's transcript: its utterances, or rebuilt from its search windows.

Episodes indexed with a record (`podsearch.episodes`) answer with their utterances, each with its
own speaker and times. Older indexes keep only overlapping word windows, whose consecutive
windows share their edge words: each passage is then one window minus the words the previous
window already gave, so every word appears once, with the window's times and speakers (not per
word). `source` says which a reader got.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from podsearch.contract import ApiError, ErrorCode
from podsearch.models import SegmentPayload, point_id
from podsearch.ports import SegmentReader
from search_api.moments import shared_run
from search_api.schemas import Passage, Transcript
from search_api.shaping import play_url

MAX_SEGMENTS = 400  # more windows than any allowed range holds (1800 s is ~40 windows of 120 words)


def passages(segments: Sequence[SegmentPayload]) -> list[Passage]:
    """Consecutive windows in transcript order, each reduced to the words it adds."""
    out: list[Passage] = []
    previous: list[str] = []
    last_index: int | None = None
    for p in segments:
        words = p.text.split()
        shared = shared_run(previous, words) if last_index == p.segment_index - 1 else 0
        start, end = p.start, p.end
        fresh = words[shared:]
        if fresh:
            begins = start + (end - start) * shared / len(words)
            out.append(
                Passage(
                    start=round(begins, 2),
                    end=end,
                    speakers=list(p.speakers),
                    text=" ".join(fresh),
                )
            )
        previous, last_index = words, p.segment_index
    return out


async def read_transcript(
    reader: SegmentReader, episode_id: str, start: float, end: float
) -> Transcript:
    """The passages of `episode_id` that overlap [start, end]; 404 for an unknown episode."""
    first = (await reader.fetch([point_id(episode_id, 0)])).get(point_id(episode_id, 0))
    if first is None:
        raise ApiError(404, ErrorCode.episode_not_found, f"no episode {episode_id!r} in the index")
    record = await reader.episode_record(episode_id)
    if record is not None:
        said = [
            Passage(
                start=u.start, end=u.end, speakers=[u.speaker] if u.speaker else [], text=u.text
            )
            for u in record.between(start, end)
        ]
        return _transcript(first, start, end, said, "utterances")
    windows = await reader.excerpt(episode_id, start, end, MAX_SEGMENTS)
    return _transcript(first, start, end, passages(windows), "segments")


def _transcript(
    p: SegmentPayload,
    start: float,
    end: float,
    said: list[Passage],
    source: Literal["utterances", "segments"],
) -> Transcript:
    return Transcript(
        episode_id=p.episode_id,
        podcast=p.podcast,
        episode_title=p.episode_title,
        start=start,
        end=end,
        url=play_url(p, start),
        passages=said,
        source=source,
    )
