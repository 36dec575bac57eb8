"""Where each ranked point sits (episode, segment order, time), remembered per generation.

Reading even a few payload keys of a query's 100 candidates costs about as much again as the
search itself. Those values never change within a published generation, so the Edge reader
asks the engine for ids and scores only, and reads the keys (`plan.RANK_KEYS`) just for points
it has not seen since the generation went live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from podsearch.models import SegmentHit

PLACES_LIMIT = 200_000  # ~60 MB; past it the table starts over (a few slower queries)
Place = tuple[str, int, float, float, tuple[str, ...]]  # episode_id, index, start, end, speakers
Records = Iterable[tuple[object, Mapping[str, Any] | None]]


class PlaceTable:
    """point id -> Place for one generation; a new generation gets a new table. Safe to share
    between worker threads: a query works on its own dict of the places it needs."""

    def __init__(self, limit: int = PLACES_LIMIT) -> None:
        self._limit = limit
        self._places: dict[str, Place] = {}

    def hits(
        self, scored: Sequence[tuple[str, float]], read: Callable[[list[str]], Records]
    ) -> list[SegmentHit]:
        """`scored` (id, score) as hits; `read` fetches the rank keys of ids not seen yet."""
        known = self._places
        found = {i: known[i] for i, _ in scored if i in known}
        missing = [i for i, _ in scored if i not in found]
        if missing:
            fresh = {str(point_id): _place(data or {}) for point_id, data in read(missing)}
            if len(known) + len(fresh) > self._limit:
                self._places = {}
            self._places.update(fresh)
            found.update(fresh)
        return [SegmentHit(i, score, *found[i]) for i, score in scored]


def _place(payload: Mapping[str, Any]) -> Place:
    return (
        str(payload["episode_id"]),
        int(payload["segment_index"]),
        float(payload["start"]),
        float(payload["end"]),
        tuple(payload.get("speakers") or ()),
    )
