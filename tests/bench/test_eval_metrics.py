"""The ranking metrics, on plain data with hand-computed answers."""

from __future__ import annotations

import math

import pytest

from bench.eval.metrics import Span, gains, ndcg, recall, reciprocal_rank, score

ANSWER = Span("ep-1", 100.0, 200.0)
OTHER_ANSWER = Span("ep-1", 500.0, 600.0)


def test_a_moment_is_relevant_when_it_overlaps_the_judged_span_in_the_same_episode() -> None:
    assert Span("ep-1", 150, 250).overlaps(ANSWER)
    assert Span("ep-1", 50, 101).overlaps(ANSWER)
    assert not Span("ep-1", 200, 260).overlaps(ANSWER)  # touching is not overlapping
    assert not Span("ep-2", 150, 250).overlaps(ANSWER)


def test_each_judged_span_is_credited_once() -> None:
    results = [
        Span("ep-2", 0, 60),
        Span("ep-1", 90, 140),
        Span("ep-1", 130, 190),  # the same answer again: no second credit
        Span("ep-1", 550, 580),
    ]
    assert gains(results, [ANSWER, OTHER_ANSWER]) == [0, 1, 0, 1]
    assert gains(results, [ANSWER, OTHER_ANSWER], k=3) == [0, 1, 0]


def test_reciprocal_rank_is_one_over_the_first_relevant_rank() -> None:
    assert reciprocal_rank([0, 0, 1, 1]) == pytest.approx(1 / 3)
    assert reciprocal_rank([True]) == 1.0
    assert reciprocal_rank([0, 0]) == 0.0


def test_recall_counts_judged_spans_found_in_the_top_k() -> None:
    results = [Span("ep-1", 150, 160), Span("ep-3", 0, 10), Span("ep-1", 500, 510)]
    assert recall(results, [ANSWER, OTHER_ANSWER]) == 1.0
    assert recall(results, [ANSWER, OTHER_ANSWER], k=2) == 0.5
    assert recall([], [ANSWER]) == 0.0


def test_ndcg_discounts_by_log_rank_against_the_ideal_order() -> None:
    miss = Span("ep-9", 0, 10)
    third = [miss, miss, Span("ep-1", 150, 160)]
    assert ndcg(third, [ANSWER]) == pytest.approx(1 / math.log2(4))  # 0.5
    both = [Span("ep-1", 150, 160), miss, Span("ep-1", 550, 560)]
    ideal = 1 + 1 / math.log2(3)
    assert ndcg(both, [ANSWER, OTHER_ANSWER]) == pytest.approx((1 + 0.5) / ideal)  # 0.9197
    assert ndcg([ANSWER], [ANSWER]) == 1.0


def test_scores_are_means_over_questions_and_episode_mrr_ignores_time() -> None:
    first = ([Span("ep-2", 0, 10), Span("ep-1", 120, 130)], [ANSWER])  # moment at rank 2
    second = ([Span("ep-1", 900, 950)], [ANSWER])  # right episode, wrong time
    scores = score([first, second])
    assert scores.questions == 2
    assert scores.mrr == pytest.approx(0.25)
    assert scores.recall == pytest.approx(0.5)
    assert scores.ndcg == pytest.approx(1 / math.log2(3) / 2)
    assert scores.episode_mrr == pytest.approx((0.5 + 1) / 2)


def test_scoring_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no questions"):
        score([])
