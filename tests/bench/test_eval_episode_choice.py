"""The episode-choice lab's orderings and its reading of QMSum meeting names, on plain data."""

from __future__ import annotations

from bench.eval.episode_choice import capped, decayed, kind, penalised, relation
from search_api.moments import MomentDraft
from tests.search_api.test_moments import hit


def moments(*seeds: tuple[str, float]) -> list[MomentDraft]:
    return [MomentDraft(hit(episode, i * 10, score)) for i, (episode, score) in enumerate(seeds)]


def episodes(ordered: list[MomentDraft]) -> list[str]:
    return [m.episode_id for m in ordered]


SERVED = moments(("a", 1.0), ("a", 0.99), ("a", 0.98), ("b", 0.97), ("c", 0.5))


def test_a_decayed_score_lets_a_close_second_episode_through_but_not_a_far_one() -> None:
    assert episodes(decayed(0.9)(SERVED)) == ["a", "b", "a", "a", "c"]
    assert episodes(decayed(1.0)(SERVED)) == episodes(SERVED)


def test_a_cap_lists_each_episode_first_moments_then_the_rest_in_order() -> None:
    assert episodes(capped(1)(SERVED)) == ["a", "b", "c", "a", "a"]
    assert episodes(capped(2)(SERVED)) == ["a", "a", "b", "c", "a"]


def test_a_rank_penalty_moves_later_moments_of_an_episode_down() -> None:
    assert episodes(penalised(2)(SERVED)) == ["a", "a", "b", "c", "a"]
    assert episodes(penalised(0)(SERVED)) == episodes(SERVED)


def test_meeting_names_tell_the_kind_and_how_a_wrong_first_meeting_relates() -> None:
    assert [kind(e) for e in ("qmsum-ES2006c", "qmsum-Bmr005", "qmsum-education_0")] == [
        "AMI",
        "ICSI",
        "committee",
    ]
    assert kind("changelog-123") == "episode"
    assert relation("qmsum-ES2006c", "qmsum-TS3010c") == "AMI, same stage"
    assert relation("qmsum-ES2006c", "qmsum-ES2006a") == "AMI, same team"
    assert relation("qmsum-ES2006c", "qmsum-IS1006b") == "same kind"
    assert relation("qmsum-ES2006c", "qmsum-Bro011") == "other kind"
    assert relation("changelog-1", "changelog-2") == "other episode"
    assert relation("qmsum-Bro011", "qmsum-Bro011") == "right episode"
