"""Which passages rank a search: each segment's context joins only hybrid searches of exactly one
episode (the real `SearchService` over an Edge index of the sample corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podsearch.models import SearchFilters
from podsearch.stores import plan
from podsearch.stores.edge import EdgeReader
from podsearch.stores.schema import CONTEXT_DENSE, CONTEXT_SPARSE, DENSE, SPARSE
from search_api.explain import explain_moments
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService
from tests.fakes import HashEmbedder

QUESTION = "Summarize the discussion about on-call burnout"
ONE = SearchFilters(episode_ids=("night-shift-012",))
ONE_TWICE = SearchFilters(episode_ids=("night-shift-012", "night-shift-012"))  # ?id=a&id=a
TWO = SearchFilters(episode_ids=("night-shift-012", "ledger-lines-107"))
TODAY = [DENSE, DENSE, SPARSE]  # the question, its topic, its BM25 terms
BRANCHES = {  # `Explanation` field -> the vectors it asks
    "dense": DENSE,
    "topic": DENSE,
    "keyword": SPARSE,
    "context": CONTEXT_DENSE,
    "context_topic": CONTEXT_DENSE,
    "context_keyword": CONTEXT_SPARSE,
}


@pytest.mark.parametrize(
    ("mode", "filters", "spaces"),
    [
        (SearchMode.hybrid, ONE, [*TODAY, CONTEXT_DENSE, CONTEXT_DENSE, CONTEXT_SPARSE]),
        (SearchMode.hybrid, ONE_TWICE, [*TODAY, CONTEXT_DENSE, CONTEXT_DENSE, CONTEXT_SPARSE]),
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
    query = page.store_query
    explained = await explain_moments(service.reader, query, query.sparse, page.moments, 0.5)
    await service.reader.close()
    searched = plan.plan_search(query)
    assert searched is not None and [b.using for b in searched.branches] == spaces
    assert page.moments, "the search found something"
    if mode is SearchMode.hybrid:
        # Each fused score is what the planned branches add, context branches included: their
        # vectors are stored and fused, not only asked (ties may shift a rank by one: `rel`)
        for moment, explanation in zip(page.moments, explained, strict=True):
            ranks = [getattr(explanation, field) for field in BRANCHES]
            assert moment.score == pytest.approx(sum(r.fused for r in ranks if r), rel=0.01)
            assert {BRANCHES[f] for f, r in zip(BRANCHES, ranks, strict=True) if r} <= set(spaces)
