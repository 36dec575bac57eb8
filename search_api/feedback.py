"""Pseudo-relevance feedback for hybrid search: the words the best first-round segments weigh
most widen the question's BM25 query, and the widened query joins the fusion as a third list.

A question names its topic in the asker's words; the talk that answers it often uses others
("the recording equipment" against "mikes", "channels", "close-talking"). The best few segments
of a shallow first search are mostly on the topic, so their strongest terms, added to the BM25
query at a fraction of a question word's weight, let a keyword list reach talk that never says
the question's words (RM3-style expansion). The store applies IDF to every term, so the filler
of talk that comes along weighs little. The question's own dense and BM25 lists stay in the
fusion beside it: replacing the BM25 query instead drifted off topic as often as it helped
(bench/RESULTS.md). Costs a shallow store query and a read of a few payloads, no embedding.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import replace

from podsearch.models import SparseVector, StoreQuery
from podsearch.ports import SegmentReader
from podsearch.stores.schema import Bm25Encoder
from search_api.ranking import rerank

FEEDBACK_SEGMENTS = 5  # the first round's best segments read for their words
FEEDBACK_WEIGHT = 0.6  # the strongest added term, against 1 for each word of the question


def expand(
    query: SparseVector,
    feedback: Sequence[SparseVector],
    terms: int,
    weight: float = FEEDBACK_WEIGHT,
) -> SparseVector:
    """The query plus the `terms` terms the feedback weighs most (each segment's weights
    normalised to sum 1, then added up), scaled so the strongest new one weighs `weight`."""
    pooled: dict[int, float] = defaultdict(float)
    for vector in feedback:
        total = sum(vector.values)
        for index, value in zip(vector.indices, vector.values, strict=True):
            pooled[index] += value / total
    asked = set(query.indices)
    fresh = sorted(((w, i) for i, w in pooled.items() if i not in asked), reverse=True)[:terms]
    if not fresh:
        return query
    strongest = fresh[0][0]
    return SparseVector(
        indices=[*query.indices, *(i for _, i in fresh)],
        values=[*query.values, *(weight * w / strongest for w, _ in fresh)],
    )


class FeedbackCache:
    """Widened BM25 queries by (question, filters, fusion, index generation), least recently used
    dropped first: a repeated search (the next page, the same question again) skips the probe,
    as it skips the embedding."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._widened: OrderedDict[Hashable, SparseVector | None] = OrderedDict()

    async def with_feedback(
        self, reader: SegmentReader, bm25: Bm25Encoder, text: str, query: StoreQuery, terms: int
    ) -> StoreQuery:
        """`query` (hybrid, with BM25 terms) with the feedback list added. A shallow probe ranks
        the feedback segments: the top of a fused ranking does not depend on how deep the page
        goes."""
        assert query.sparse is not None
        rrf, threshold = query.rrf_k, query.score_threshold
        key = (text, query.filters, rrf, threshold, terms, await reader.generation())
        if key in self._widened:
            self._widened.move_to_end(key)
            widened = self._widened[key]
        else:
            widened = await _widened(reader, bm25, text, query, terms)
            self._widened[key] = widened
            if len(self._widened) > self._size:
                self._widened.popitem(last=False)
        return replace(query, feedback=widened)


async def _widened(
    reader: SegmentReader, bm25: Bm25Encoder, text: str, query: StoreQuery, terms: int
) -> SparseVector | None:
    assert query.sparse is not None
    probe = replace(query, limit=FEEDBACK_SEGMENTS)
    best = [h.id for h in rerank(text, await reader.search(probe))]
    payloads = await reader.fetch(best)
    said = [bm25.document(payloads[i].text) for i in best if i in payloads]
    widened = expand(query.sparse, [d for d in said if d.values], terms)
    return widened if widened != query.sparse else None
