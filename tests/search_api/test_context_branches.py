"""Which passages rank a search: each segment's context joins only hybrid searches of exactly one
episode (the real `SearchService` over an Edge index of the sample corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podsearch.models import Passages, SearchFilters
from podsearch.stores import plan
from podsearch.stores.edge import EdgeReader
from podsearch.stores.schema import CONTEXT_DENSE, CONTEXT_SPARSE, DENSE, SPARSE
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService
from tests.fakes import HashEmbedder

QUESTION = "Summarize the discussion about on-call burnout"
ONE = SearchFilters(episode_ids=("night-shift-012",))
TWO = SearchFilters(episode_ids=("night-shift-012", "ledger-lines-107"))
TODAY = [DENSE, DENSE, SPARSE]  # the question, its topic, its BM25 terms


@pytest.mark.parametrize(
    ("mode", "filters", "spaces"),
    [
        (SearchMode.hybrid, ONE, [*TODAY, CONTEXT_DENSE, CONTEXT_DENSE, CONTEXT_SPARSE]),
        (SearchMode.hybrid, SearchFilters(), TODAY),  # across: the plan (and answers) of before
        (SearchMode.hybrid, TWO, TODAY),
        (SearchMode.semantic, ONE, [DENSE]),
        (SearchMode.keyword, ONE, [SPARSE]),
    ],
)
async def test_only_a_hybrid_search_of_one_episode_asks_the_contexts(
    index_root: Path, mode: SearchMode, filters: SearchFilters, spaces: list[str]
) -> None:
    service = SearchService(HashEmbedder(), EdgeReader(index_root))
    page = await service.run(SearchParams(QUESTION, mode, limit=5, filters=filters))
    await service.reader.close()
    searched = plan.plan_search(page.store_query)
    assert searched is not None and [b.using for b in searched.branches] == spaces
    assert page.moments, "the search found something"
    if page.store_query.passages is Passages.segment_and_context:
        assert {h.episode_id for m in page.candidates for h in m.hits} == {"night-shift-012"}
