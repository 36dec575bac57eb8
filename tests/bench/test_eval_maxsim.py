"""The offline MaxSim experiment's plain parts: cutting a segment into sentences, re-ranking."""

from __future__ import annotations

import pytest

from bench.eval.maxsim import MAX_WORDS, MIN_WORDS, rrf_with_maxsim, sentences, third_branch
from podsearch.models import SegmentHit


def test_short_sentences_join_the_next_and_every_word_is_kept_once() -> None:
    text = "Yeah. OK. So the budget is what we agreed on last week, right? Fine. " * 3
    parts = sentences(text)
    assert " ".join(parts).split() == text.split()
    assert all(len(p.split()) >= MIN_WORDS for p in parts)
    assert parts[0] == "Yeah. OK. So the budget is what we agreed on last week, right?"


def test_unpunctuated_talk_is_cut_into_pieces_of_similar_length() -> None:
    text = " ".join(f"w{i}" for i in range(100))
    parts = sentences(text)
    assert " ".join(parts) == text
    assert len(parts) == 4
    assert all(len(p.split()) <= MAX_WORDS for p in parts)


def test_a_short_tail_joins_the_last_piece() -> None:
    assert sentences("The remote control needs a bigger button for the volume. Yes.") == [
        "The remote control needs a bigger button for the volume. Yes."
    ]


def _hits(n: int) -> list[SegmentHit]:
    return [SegmentHit(f"id{i}", 1 / (60 + i), "e", i, 10.0 * i, 10.0 * i + 9) for i in range(n)]


def test_maxsim_lifts_a_candidate_only_as_far_as_the_fusion_allows() -> None:
    hits = _hits(3)
    fused = rrf_with_maxsim(60, 1.0)(hits, [0.1, 0.9, 0.2], 60)  # the second has the best sentence
    assert max(fused, key=lambda h: h.score).id == "id1"
    maxsim = [0.1, 0.2, 0.9]
    added = third_branch(1.0)(hits, maxsim, 60)
    gained = [h.score - s.score for h, s in zip(added, hits, strict=True)]
    assert gained == pytest.approx([1 / 62, 1 / 61, 1 / 60])
    assert max(added, key=lambda h: h.score).id == "id0"  # two branches still outvote one
