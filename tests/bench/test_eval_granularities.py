"""Coarser granularity offline: windows of two sizes agree by time, since their ids never match
(the context passages the context shard embeds are `segmenting.cut_episode`, tested there)."""

from __future__ import annotations

import pytest

from bench.eval.granularities import by_time
from podsearch.models import SegmentHit


def _hit(id_: str, start: float, end: float) -> SegmentHit:
    return SegmentHit(id=id_, score=0.0, episode_id="e", segment_index=0, start=start, end=end)


def test_a_passage_both_sizes_rank_second_beats_one_only_a_single_branch_ranks_first() -> None:
    short = [_hit("s-far", 500, 540), _hit("s-mid", 100, 140)]
    long = [_hit("l-other", 900, 960), _hit("l-mid", 90, 150)]
    # Each branch alone puts another passage first; by time the windows around 100-150 s also
    # take the other branch's term, so they lead.
    fused = {h.id: h.score for h in by_time([(short, 1.0), (long, 1.0)], k=60)}
    assert max(fused, key=fused.__getitem__) in ("s-mid", "l-mid")
    assert fused["s-mid"] == pytest.approx(2 / 61) and fused["s-far"] == pytest.approx(1 / 60)
    # The engine's weighted term: rank r of a branch of weight w adds 1 / (r / w + k - 1).
    weighted = {h.id: h.score for h in by_time([(short, 1.0), (long, 0.5)], k=60)}
    assert weighted["l-other"] == pytest.approx(1 / 61)
    assert weighted["s-mid"] == pytest.approx(1 / 61 + 1 / 63)
