"""Pseudo-relevance feedback: the expansion on plain data, then hybrid searches over the real
Edge index of the sample corpus with and without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from podsearch.models import SparseVector
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
    assert widened.values[:2] == [1.0, 1.0]
    assert widened.values[2] == pytest.approx(FEEDBACK_WEIGHT)
    assert widened.values[3] == pytest.approx(FEEDBACK_WEIGHT * (0.5 / 4.5 + 0.5) / (2 / 4.5 + 0.5))


def test_feedback_with_no_new_words_leaves_the_query_alone() -> None:
    assert expand(QUESTION, [SparseVector(indices=[2], values=[3.0])], terms=10) == QUESTION
    assert expand(QUESTION, [], terms=10) == QUESTION


async def search(index_root: Path, terms: int, mode: SearchMode = SearchMode.hybrid) -> dict:  # type: ignore[type-arg]
    reader = EdgeReader(index_root)
    try:
        service = SearchService(HashEmbedder(), reader, ApiOptions(feedback_terms=terms))
        params = SearchParams(query="on-call burnout", mode=mode, limit=10, explain=True)
        return await service.search(params)
    finally:
        await reader.close()


async def test_feedback_lets_the_keyword_branch_find_talk_without_the_question_words(
    index_root: Path,
) -> None:
    plain, widened = await search(index_root, 0), await search(index_root, 10)

    def found_by_keywords(body: dict) -> set[tuple[str, ...]]:  # type: ignore[type-arg]
        return {tuple(m["segment_ids"]) for m in body["results"] if m["explain"]["keyword"]}

    new = found_by_keywords(widened) - found_by_keywords(plain)
    assert new, "the expanded BM25 query reaches moments the question's words did not"
    said = [m["text"].casefold() for m in widened["results"] if tuple(m["segment_ids"]) in new]
    assert any("burnout" not in text and "on-call" not in text for text in said)
    # the fused score still adds up from the branches as they were asked
    for m in widened["results"]:
        parts = [b["fused"] for b in (m["explain"]["dense"], m["explain"]["keyword"]) if b]
        assert m["score"] == pytest.approx(sum(parts), rel=3e-2)


async def test_keyword_searches_are_not_expanded(index_root: Path) -> None:
    plain = await search(index_root, 0, SearchMode.keyword)
    widened = await search(index_root, 10, SearchMode.keyword)
    assert [m["segment_ids"] for m in widened["results"]] == [
        m["segment_ids"] for m in plain["results"]
    ]
