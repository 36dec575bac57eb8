"""Pseudo-relevance feedback: the expansion on plain data, then hybrid searches over the real
Edge index of the sample corpus with and without the feedback list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podsearch.models import SearchFilters, SegmentHit, SparseVector, StoreQuery
from podsearch.stores.edge import EdgeReader
from search_api.feedback import FEEDBACK_WEIGHT, expand
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService
from search_api.settings import ApiOptions
from tests.fakes import HashEmbedder

QUESTION = SparseVector(indices=[1, 2], values=[1.0, 1.0])


def test_the_terms_the_feedback_weighs_most_join_the_query_below_its_own_words() -> None:
    feedback = [
        SparseVector(indices=[1, 7, 8, 9], values=[1.0, 2.0, 1.0, 0.5]),
        SparseVector(indices=[7, 9], values=[1.0, 1.0]),
    ]
    widened = expand(QUESTION, feedback, terms=2)
    # pooled shares: 7 -> 2/4.5 + 1/2, 9 -> 0.5/4.5 + 1/2, 8 -> 1/4.5; term 1 is asked already
    assert widened.indices == [1, 2, 7, 9]
    assert widened.values[:3] == [1.0, 1.0, pytest.approx(FEEDBACK_WEIGHT)]
    assert widened.values[3] == pytest.approx(FEEDBACK_WEIGHT * (0.5 / 4.5 + 0.5) / (2 / 4.5 + 0.5))


def test_feedback_with_no_new_words_leaves_the_query_alone() -> None:
    assert expand(QUESTION, [SparseVector(indices=[2], values=[3.0])], terms=10) == QUESTION
    assert expand(QUESTION, [], terms=10) == QUESTION


async def search(index_root: Path, terms: int, mode: SearchMode, q: str) -> dict[str, Any]:
    reader = EdgeReader(index_root)
    try:
        service = SearchService(HashEmbedder(), reader, ApiOptions(feedback_terms=terms))
        return await service.search(SearchParams(query=q, mode=mode, limit=10, explain=True))
    finally:
        await reader.close()


async def test_the_feedback_list_reaches_talk_without_the_question_words(index_root: Path) -> None:
    question = "on-call burnout"
    plain = await search(index_root, 0, SearchMode.hybrid, question)
    assert all(m["explain"]["feedback"] is None for m in plain["results"])
    widened = await search(index_root, 10, SearchMode.hybrid, question)
    found = [m for m in widened["results"] if m["explain"]["feedback"]]
    assert found, "the widened BM25 list ranks segments of the page"

    def lifted(m: dict[str, Any]) -> bool:
        keyword, feedback = m["explain"]["keyword"], m["explain"]["feedback"]
        return keyword is None or feedback["rank"] < keyword["rank"]

    # talk on the topic in other words ranks higher in the widened list than in the question's
    assert any(lifted(m) and "burnout" not in m["text"].casefold() for m in found)
    assert [m["segment_ids"] for m in widened["results"]] != [
        m["segment_ids"] for m in plain["results"]
    ]


@pytest.mark.parametrize("mode", [SearchMode.keyword, SearchMode.semantic])
async def test_only_hybrid_searches_get_the_feedback_list(
    index_root: Path, mode: SearchMode
) -> None:
    plain = await search(index_root, 0, mode, "on-call burnout")
    widened = await search(index_root, 10, mode, "on-call burnout")
    assert widened["results"] == plain["results"]


class CountingReader(EdgeReader):
    """The real Edge reader, counting the ranked queries it is asked."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.searches = 0

    async def search(self, query: StoreQuery) -> list[SegmentHit]:
        self.searches += 1
        return await super().search(query)


async def test_a_repeated_search_reuses_its_feedback_list(index_root: Path) -> None:
    reader = CountingReader(index_root)
    service = SearchService(HashEmbedder(), reader)

    async def asked(**params: Any) -> int:
        before = reader.searches
        query = {"query": "on-call burnout", "mode": SearchMode.hybrid, "limit": 3} | params
        await service.search(SearchParams(**query))
        return reader.searches - before

    try:
        assert await asked() == 2  # the probe, then the page
        assert await asked() == 1  # the same question again
        assert await asked(offset=3) == 1  # its next page
        assert await asked(filters=SearchFilters(episode_ids=("night-shift-012",))) == 2
    finally:
        await reader.close()
