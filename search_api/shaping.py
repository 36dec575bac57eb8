"""Moments as the plain data the response is encoded from, built once and never re-validated.

The dicts here follow `schemas.Moment` / `schemas.EpisodeGroup` key for key (the OpenAPI schema
still comes from those models; a test checks every field round-trips through them unchanged).
Re-validating models the service just built cost more than the search on a cache hit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

from podsearch.models import SegmentPayload, point_id
from search_api.highlight import TermPattern, highlights, snippet
from search_api.moments import MomentDraft, join_texts, join_words

Body = dict[str, Any]
_PUBLISHED: TypeAdapter[datetime | None] = TypeAdapter(datetime | None)


@lru_cache(maxsize=4096)
def published_json(stored: str | None) -> str | None:
    """The stored ISO date exactly as the response model writes it (one parse per episode)."""
    return _PUBLISHED.dump_python(_PUBLISHED.validate_python(stored), mode="json")  # type: ignore[no-any-return]


def play_url(payload: SegmentPayload, start: float, end: float | None = None) -> str | None:
    """A media-fragment link (`#t=`) that starts playback at the moment (and ends it)."""
    base = payload.audio_url or payload.url
    if not base:
        return None
    return f"{base}#t={start:.0f}" + (f",{end:.0f}" if end is not None else "")


def page_ids(drafts: Sequence[MomentDraft], context: bool) -> list[str]:
    """The segments a page shows, and with `context` each moment's two neighbours: point ids
    are derived from (episode, index), so one fetch by id serves them all."""
    ids = [h.id for d in drafts for h in d.hits]
    if context:
        for d in drafts:
            first, last = min(d.indexes), max(d.indexes)
            ids += [point_id(d.episode_id, i) for i in (first - 1, last + 1) if i >= 0]
    return list(dict.fromkeys(ids))


def moment_body(
    draft: MomentDraft,
    payloads: Mapping[str, SegmentPayload],
    pattern: TermPattern | None,
    context: bool,
) -> Body:
    segments = [payloads[h.id] for h in draft.hits]
    words = join_words([s.text for s in segments])
    text = " ".join(words)
    spans = highlights(text, pattern)
    first = segments[0]
    speakers: dict[str, None] = {}
    for segment in segments:
        speakers.update(dict.fromkeys(segment.speakers))
    before = after = None
    if context:
        low, high = min(draft.indexes), max(draft.indexes)
        before = _outside(payloads.get(point_id(draft.episode_id, low - 1)), text, before=True)
        after = _outside(payloads.get(point_id(draft.episode_id, high + 1)), text, before=False)
    return {
        "score": draft.score,
        "episode_id": draft.episode_id,
        "podcast": first.podcast,
        "episode_title": first.episode_title,
        "published": published_json(first.published),
        "start": draft.start,
        "end": draft.end,
        "speakers": list(speakers),
        "text": text,
        "snippet": snippet(words, spans),
        "highlights": spans,
        "url": play_url(first, draft.start),
        "clip_url": play_url(first, draft.start, draft.end),
        "segment_ids": [h.id for h in draft.hits],
        "context_before": before,
        "context_after": after,
    }


def group_body(moments: list[Body]) -> Body:
    first = moments[0]
    return {
        "episode_id": first["episode_id"],
        "podcast": first["podcast"],
        "episode_title": first["episode_title"],
        "published": first["published"],
        "score": max(m["score"] for m in moments),
        "moments": moments,
    }


def _outside(neighbour: SegmentPayload | None, inside_text: str, before: bool) -> str | None:
    """The neighbour's words that the moment does not already contain."""
    if neighbour is None:
        return None
    words, inside = neighbour.text.split(), inside_text.split()
    joined = join_texts(
        [" ".join(words), " ".join(inside)] if before else [" ".join(inside), " ".join(words)]
    ).split()
    extra = joined[: len(joined) - len(inside)] if before else joined[len(inside) :]
    return " ".join(w for w in extra if w != "…") or None
