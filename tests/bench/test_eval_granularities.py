"""Coarser granularity offline: windows of two sizes agree by time, since their ids never match;
a context passage is the segment the chunker cut, widened on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.eval.context_shard import _widened
from bench.eval.granularities import by_time
from podsearch.index_meta import ChunkerConfig
from podsearch.models import Episode, SegmentHit, Utterance
from podsearch.segmenting import segment_episode


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


def _episode(words: int) -> tuple[Episode, list[Utterance]]:
    episode = Episode(episode_id="e", podcast="p", title="t", transcript=Path("t.vtt"))
    # one utterance per 10 words, words named by their position
    utterances = [
        Utterance(
            start=float(i), end=float(i + 1), text=" ".join(f"w{j}" for j in range(i, i + 10))
        )
        for i in range(0, words, 10)
    ]
    return episode, utterances


def test_a_context_is_its_segment_with_width_words_either_side_clipped_at_the_ends() -> None:
    episode, utterances = _episode(400)
    segments = segment_episode(episode, utterances, ChunkerConfig())
    contexts = _widened(utterances, segments, 20)
    assert len(contexts) == len(segments) > 2
    for segment, context in zip(segments, contexts, strict=True):
        assert f" {segment.text} " in f" {context} "
    first, middle = contexts[0].split(), contexts[1].split()
    assert first[0] == "w0" and len(first) == len(segments[0].text.split()) + 20
    own = segments[1].text.split()
    assert middle[20:-20] == own and middle[0] == f"w{int(own[0][1:]) - 20}"
    assert contexts[-1].split()[-1] == "w399"


def test_a_segment_the_chunker_did_not_cut_there_is_refused() -> None:
    episode, utterances = _episode(400)
    segments = segment_episode(episode, utterances, ChunkerConfig(overlap_words=20))
    with pytest.raises(RuntimeError, match="not where the chunker cut it"):
        _widened(utterances, segments, 20)
