"""Merging ranked segments into moments, on plain data."""

from __future__ import annotations

import itertools
import random

from podsearch.models import SegmentHit
from podsearch.stores.plan import ranked
from search_api.moments import MAX_SEGMENTS_PER_MOMENT, group_by_episode, join_texts, merge_moments


def hit(episode: str, index: int, score: float) -> SegmentHit:
    start = 36.0 * index  # 120-word windows every 90 words: consecutive ones overlap in time
    return SegmentHit(f"{episode}-{index}", score, episode, index, start, start + 48.0)


def test_overlapping_windows_are_joined_without_repeating_words() -> None:
    assert join_texts(["a b c d e", "d e f g"]) == "a b c d e f g"
    assert join_texts(["a b c", "x y"]) == "a b c … x y"
    assert join_texts(["only"]) == "only"


def test_adjacent_hits_of_one_episode_become_one_moment_with_the_best_score() -> None:
    moments = merge_moments([hit("e1", 4, 0.5), hit("e1", 3, 0.9), hit("e2", 3, 0.7)])
    assert [(m.episode_id, m.indexes, m.score) for m in moments] == [
        ("e1", [3, 4], 0.9),
        ("e2", [3], 0.7),
    ]
    first = moments[0]
    assert (first.start, first.end) == (108.0, 192.0)


def test_distant_hits_of_one_episode_stay_separate_moments() -> None:
    moments = merge_moments([hit("e1", 1, 0.9), hit("e1", 9, 0.8)])
    assert [m.indexes for m in moments] == [[1], [9]]


def test_a_moment_never_grows_past_its_cap_nor_overlaps_another() -> None:
    run = [hit("e1", i, 1.0 - i / 100) for i in range(10)]
    moments = merge_moments(run)
    assert max(len(m.hits) for m in moments) == MAX_SEGMENTS_PER_MOMENT
    spans = sorted((m.start, m.end) for m in moments)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


def test_a_weaker_hit_extends_the_stronger_moment_it_touches() -> None:
    moments = merge_moments([hit("e1", 5, 0.9), hit("e1", 6, 0.2), hit("e1", 4, 0.1)])
    assert [m.indexes for m in moments] == [[4, 5, 6]]


def test_ties_are_ordered_the_same_way_every_time() -> None:
    hits = [hit("b", 1, 0.5), hit("a", 1, 0.5), hit("c", 1, 0.5)]
    assert [m.episode_id for m in merge_moments(hits)] == ["a", "b", "c"]
    assert [m.episode_id for m in merge_moments(hits[::-1])] == ["a", "b", "c"]


def test_groups_keep_episode_order_and_cap_moments_per_episode() -> None:
    hits = [hit("e1", 1, 0.9), hit("e2", 1, 0.8), hit("e1", 9, 0.7), hit("e1", 20, 0.6)]
    groups = group_by_episode(merge_moments(hits), per_episode=2)
    assert [[m.indexes[0] for m in g] for g in groups] == [[1, 9], [1]]
    assert [g[0].episode_id for g in groups] == ["e1", "e2"]


def test_the_longest_shared_run_wins_when_words_repeat() -> None:
    assert join_texts(["x a b a b", "a b a b y"]) == "x a b a b y"
    assert join_texts(["a a", "a a a"]) == "a a a"


def test_ranked_is_best_first_with_ties_in_id_order_whatever_the_input_order() -> None:
    chance = random.Random(7)
    scores = [0.5, 0.25, 0.1, 0.0, -0.1]
    hits = [
        SegmentHit(f"p{chance.randrange(40)}", chance.choice(scores), "e", i, 0.0, 1.0)
        for i in range(200)
    ]
    for _ in range(5):
        chance.shuffle(hits)
        assert ranked(hits) == sorted(hits, key=lambda h: (-h.score, h.id))
