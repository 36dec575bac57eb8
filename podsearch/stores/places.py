"""Where each ranked point sits (episode, segment order, time), remembered per generation.

Reading even a few payload keys of a query's 100 candidates costs about as much again as the
search itself. Those values never change within a published generation, so the Edge reader
asks the engine for ids and scores only, and reads the keys (`plan.RANK_KEYS`) just for points
it has not seen since the generation went live. Points are keyed by their id as the engine
hands it back (an integer): the table keeps each point's id as text, made once, not per query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from podsearch.models import SegmentHit

PLACES_LIMIT = 200_000  # ~60 MB; past it the table starts over (a few slower queries)
# point id, episode_id, index, start, end, speakers
Place = tuple[str, str, int, float, float, tuple[str, ...]]
Records = Iterable[tuple[int, str, Mapping[str, Any] | None]]  # key, point id, rank keys


class PlaceTable:
    """point key -> Place for one generation; a new generation gets a new table. Safe to share
    between worker threads: a query works on its own dict of the places it needs."""

    def __init__(self, limit: int = PLACES_LIMIT) -> None:
        self._limit = limit
        self._places: dict[int, Place] = {}

    def hits(
        self, scored: Sequence[tuple[int, float]], read: Callable[[list[int]], Records]
    ) -> list[SegmentHit]:
        """`scored` (key, score) as hits; `read` fetches the rank keys of points not seen yet."""
        known = self._places
        missing = [key for key, _ in scored if key not in known]
        if missing:
            fresh = {key: _place(point_id, data or {}) for key, point_id, data in read(missing)}
            if len(known) + len(fresh) > self._limit:
                self._places = {}
            self._places.update(fresh)
            fresh.update((key, known[key]) for key, _ in scored if key not in fresh)
            known = fresh  # this query's places, whatever the table does meanwhile
        hits = []
        for key, score in scored:
            point_id, episode_id, index, start, end, speakers = known[key]
            hits.append(SegmentHit(point_id, score, episode_id, index, start, end, speakers))
        return hits


def _place(point_id: str, payload: Mapping[str, Any]) -> Place:
    return (
        point_id,
        str(payload["episode_id"]),
        int(payload["segment_index"]),
        float(payload["start"]),
        float(payload["end"]),
        tuple(payload.get("speakers") or ()),
    )
