"""Hybrid search with any dense/BM25 weights (podsearch itself weighs BM25 only for one-word
queries, `StoreQuery.keyword_weight`).

`qdrant_edge.Fusion.Rrf` takes `weights`: a point at 0-based position p of a branch of weight w
scores 1 / ((p + 1) / w + k - 1), i.e. 1 / (k + p) at w = 1. The request mirrors
`podsearch.stores.edge._request` (no filters) with weights added, and its hits go through
the service's own paging and moment merging; the sweep checks that weights (1, 1) reproduce
`SearchService`'s hybrid answers.
"""

from __future__ import annotations

import qdrant_edge as qe

from bench.eval.metrics import K, Span
from podsearch.models import SparseVector, StoreQuery
from podsearch.stores.plan import hit, ranked
from podsearch.stores.schema import DENSE, SPARSE
from search_api.moments import merge_moments
from search_api.service import depth_for


def weighted_request(
    dense: list[float], sparse: SparseVector, k: int, weights: tuple[float, float]
) -> qe.QueryRequest:
    """The engine request for the hits of one page of hybrid results, as the API fetches them."""
    page = StoreQuery(limit=depth_for(K + 1, 1))
    bm25 = qe.SparseVector(indices=sparse.indices, values=sparse.values)
    prefetches = [
        qe.Prefetch(limit=page.prefetch_limit, query=qe.Query.Nearest(vector, using=using))
        for using, vector in ((DENSE, dense), (SPARSE, bm25))
    ]
    fusion: qe.Fusion.Rrf = qe.Fusion.Rrf(k=k, weights=list(weights))
    request = qe.QueryRequest(
        query=fusion, prefetches=prefetches, limit=page.limit, with_payload=True
    )
    return request


def weighted_hybrid(
    shard: qe.EdgeShard,
    dense: list[float],
    sparse: SparseVector,
    k: int,
    weights: tuple[float, float],
) -> list[Span]:
    """The top-K moments of a hybrid search whose dense and BM25 branches carry `weights`."""
    request = weighted_request(dense, sparse, k, weights)
    moments = merge_moments(ranked(hit(p.id, p.score, p.payload) for p in shard.query(request)))
    return [Span(m.episode_id, m.start, m.end) for m in moments[:K]]
