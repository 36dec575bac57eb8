"""The Edge reader's table of where ranked points sit: each point's keys are read once."""

from __future__ import annotations

from typing import Any

import pytest

from podsearch.models import SegmentHit
from podsearch.stores.places import PlaceTable


class Reads:
    """Stands in for the engine's retrieve: answers from a dict and records what was asked."""

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def __call__(self, keys: list[int]) -> list[tuple[int, str, Any]]:
        self.asked.append(keys)
        return [
            (k, f"id-{k}", {"episode_id": "e", "segment_index": k, "start": 1, "end": 2})
            for k in keys
        ]


def test_places_are_read_once_per_point_and_hits_keep_the_engine_order() -> None:
    table, reads = PlaceTable(), Reads()
    assert table.hits([(2, 0.9), (1, 0.5)], reads) == [
        SegmentHit("id-2", 0.9, "e", 2, 1.0, 2.0),
        SegmentHit("id-1", 0.5, "e", 1, 1.0, 2.0),
    ]
    assert [h.score for h in table.hits([(1, 0.7), (3, 0.1)], reads)] == [0.7, 0.1]
    assert reads.asked == [[2, 1], [3]]


def test_a_full_table_starts_over_without_losing_the_query_in_hand() -> None:
    table, reads = PlaceTable(limit=2), Reads()
    table.hits([(1, 1.0), (2, 1.0)], reads)
    assert len(table.hits([(3, 1.0), (1, 1.0)], reads)) == 2
    table.hits([(1, 1.0)], reads)
    assert reads.asked == [[1, 2], [3], [1]]


def test_a_hit_is_a_value_changed_only_by_copying() -> None:
    hit = SegmentHit("id-1", 0.5, "e", 1, 1.0, 2.0, ("Adam",))
    with pytest.raises(AttributeError):
        hit.score = 0.9  # type: ignore[misc]
    lifted = hit._replace(score=0.9)
    assert (hit.score, lifted.score) == (0.5, 0.9)
    assert len({hit, SegmentHit("id-1", 0.5, "e", 1, 1.0, 2.0, ("Adam",)), lifted}) == 2
