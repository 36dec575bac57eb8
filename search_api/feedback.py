"""Pseudo-relevance feedback for hybrid search: the words the best first-round segments weigh
most widen the keyword query, and the store is asked once more.

A question names its topic in the asker's words; the talk that answers it often uses others
("the recording equipment" against "mikes", "channels", "close-talking"). The best few segments
of a first search are mostly on the topic, so their strongest terms, added to the BM25 query at
a fraction of a question word's weight, let the keyword branch reach talk that never says the
question's words (RM3-style expansion). The store applies IDF to every term, so the filler of
talk that comes along weighs little. It costs a read of a few payloads and one more store query,
no embedding; measured on both eval sets in bench/RESULTS.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from podsearch.models import SegmentHit, SparseVector, StoreQuery
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


async def widened(
    reader: SegmentReader,
    bm25: Bm25Encoder,
    text: str,
    asked: StoreQuery,
    hits: Sequence[SegmentHit],
    terms: int,
) -> StoreQuery:
    """`asked` with its BM25 query expanded by the words of its best hits (as ranked, a named
    speaker's segments lifted)."""
    assert asked.sparse is not None
    best = [h.id for h in rerank(text, hits)[:FEEDBACK_SEGMENTS]]
    payloads = await reader.fetch(best)
    documents = [bm25.document(payloads[i].text) for i in best if i in payloads]
    return replace(asked, sparse=expand(asked.sparse, [d for d in documents if d.values], terms))
