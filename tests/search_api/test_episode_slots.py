"""Episode places (`episode_slots`, opt-in): a hybrid search across episodes keeps which episode
each place of its list holds and fills the first episodes' places with what a search of each
episode alone returns (the real `SearchService` and API over the sample corpus's Edge index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podsearch.models import SearchFilters, SegmentHit
from podsearch.stores.edge import EdgeReader
from search_api.episode_slots import refill
from search_api.moments import MomentDraft
from search_api.schemas import SearchMode
from search_api.service import Page, SearchParams, SearchService
from search_api.settings import ApiOptions
from tests.fakes import HashEmbedder
from tests.search_api.conftest import api_client
from tests.search_api.test_search_features import get

QUESTION = "compost worms"  # its first episode's own search orders that episode's moments anew
BRANCHES = ("dense", "keyword", "topic", "context", "context_topic", "context_keyword")


async def ask(root: Path, params: SearchParams, refilled_episodes: int = 2) -> Page:
    options = ApiOptions(refilled_episodes=refilled_episodes)
    service = SearchService(HashEmbedder(), EdgeReader(root), options)
    try:
        return await service.run(params)
    finally:
        await service.reader.close()


def alone(episode: str, limit: int = 10) -> SearchParams:
    filters = SearchFilters(episode_ids=(episode,))
    return SearchParams(QUESTION, SearchMode.hybrid, limit=limit, filters=filters)


async def test_the_first_episodes_moments_come_as_their_own_search_ranks_them(
    index_root: Path,
) -> None:
    params = SearchParams(QUESTION, SearchMode.hybrid, limit=10)
    page = await ask(index_root, params)
    assert page.refilled == list(dict.fromkeys(m.episode_id for m in page.candidates))[:2]
    for episode in page.refilled:
        own = await ask(index_root, alone(episode))
        placed = [m.indexes for m in page.candidates if m.episode_id == episode]
        assert placed == [m.indexes for m in own.candidates][: len(placed)]
    before = await ask(index_root, params, refilled_episodes=0)
    assert before.refilled == []
    assert [m.indexes for m in page.moments] != [m.indexes for m in before.moments]


async def test_places_keep_their_episode_and_score_and_moments_never_overlap(
    index_root: Path,
) -> None:
    params = SearchParams(QUESTION, SearchMode.hybrid, limit=30)
    page = await ask(index_root, params)
    before = await ask(index_root, params, refilled_episodes=0)
    assert [m.episode_id for m in page.candidates] == [m.episode_id for m in before.candidates]
    assert [m.score for m in page.candidates] == [m.score for m in before.candidates]
    for i, m in enumerate(page.candidates):
        same = [o for o in page.candidates[i + 1 :] if o.episode_id == m.episode_id]
        assert all(o.end <= m.start or o.start >= m.end for o in same), (m.indexes, same)


@pytest.mark.parametrize(
    ("mode", "filters"),
    [
        (SearchMode.hybrid, SearchFilters(episode_ids=("seed-soil-041",))),
        (SearchMode.semantic, SearchFilters()),
        (SearchMode.keyword, SearchFilters()),
    ],
)
async def test_only_hybrid_searches_across_episodes_refill(
    index_root: Path, mode: SearchMode, filters: SearchFilters
) -> None:
    page = await ask(index_root, SearchParams(QUESTION, mode, limit=10, filters=filters))
    assert page.moments and page.refilled == []


async def test_cursor_pages_walk_one_refilled_list_and_explain_says_who_placed_them(
    index_root: Path, embedder: HashEmbedder
) -> None:
    async with api_client(index_root, embedder, ApiOptions(refilled_episodes=1)) as client:
        whole = await get(client, q=QUESTION, limit=20, explain="true")
        first = await get(client, q=QUESTION, limit=10)
        second = await get(client, q=QUESTION, limit=10, cursor=first["next_cursor"])
        paged = [r["segment_ids"] for r in first["results"] + second["results"]]
        assert paged == [r["segment_ids"] for r in whole["results"]]
        assert len(set(map(tuple, paged))) == len(paged)
        scores = [r["score"] for r in whole["results"]]
        assert scores == sorted(scores, reverse=True)
        top = whole["results"][0]["episode_id"]
        own = await get(client, q=QUESTION, episode_id=top, limit=20)
        score_alone = {tuple(r["segment_ids"]): r["score"] for r in own["results"]}
        for r in whole["results"]:
            why = r["explain"]
            assert why["within_episode"] == (r["episode_id"] == top)
            total = sum(why[name]["fused"] for name in BRANCHES if why[name] is not None)
            if why["within_episode"]:  # its branches add up to its score in its episode's search
                assert why["context"] is not None
                assert score_alone[tuple(r["segment_ids"])] == pytest.approx(total, rel=1e-2)
            else:
                assert why["context"] is None
                assert r["score"] == pytest.approx(total, rel=3e-2)


def moment(episode: str, index: int, score: float) -> MomentDraft:
    start = 90.0 * index
    return MomentDraft(SegmentHit(f"{episode}-{index}", score, episode, index, start, start + 120))


def test_refill_keeps_places_and_scores_then_own_moments_then_drops_places() -> None:
    ranked = [moment("a", 1, 0.9), moment("b", 5, 0.8), moment("a", 7, 0.7), moment("a", 3, 0.6)]
    ranked.append(moment("a", 20, 0.5))
    theirs = [moment("a", 3, 0.05), moment("a", 8, 0.04)]  # two moments for four places
    out = refill(ranked, {"a": theirs})
    # then "a"'s own moments that overlap none of theirs, in order: 1 and 20 (7 and 3 do)
    assert [(m.episode_id, m.indexes, m.score) for m in out] == [
        ("a", [3], 0.9),
        ("b", [5], 0.8),
        ("a", [8], 0.7),
        ("a", [1], 0.6),
        ("a", [20], 0.5),
    ]
    fewer = [moment("a", 1, 0.9), moment("b", 5, 0.8), moment("a", 7, 0.7), moment("a", 3, 0.6)]
    out = refill(fewer, {"a": [moment("a", 2, 0.05)]})  # overlaps 1 and 3: a place is left over
    assert [(m.indexes, m.score) for m in out] == [([2], 0.9), ([5], 0.8), ([7], 0.7)]
