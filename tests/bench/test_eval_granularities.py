"""Fusing windows of two sizes: agreement is found by time, since their ids never match."""

from __future__ import annotations

from bench.eval.granularities import by_id, by_time
from podsearch.models import SegmentHit


def _hit(id_: str, start: float, end: float) -> SegmentHit:
    return SegmentHit(id=id_, score=0.0, episode_id="e", segment_index=0, start=start, end=end)


def test_a_passage_both_sizes_rank_second_beats_one_only_a_single_branch_ranks_first() -> None:
    short = [_hit("s-far", 500, 540), _hit("s-mid", 100, 140)]
    long = [_hit("l-other", 900, 960), _hit("l-mid", 90, 150)]
    # By id the two windows around 100-150 s never add up: the first hits win.
    assert by_id([short, long], k=60)[0].start in (500, 900)
    # By time each of them also takes the other branch's term, so they lead.
    assert by_time([short, long], k=60)[0].start in (90, 100)
