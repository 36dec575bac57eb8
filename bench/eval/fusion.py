"""Hybrid search with dense/BM25 weights, which podsearch does not pass to the engine (yet).

`qdrant_edge.Fusion.Rrf` takes `weights`: a point at 0-based position p of a branch of weight w
scores 1 / ((p + 1) / w + k - 1), i.e. 1 / (k + p) at w = 1. The request mirrors
`podsearch.stores.edge._query_request` (no filters) with weights added, and its hits go through
the service's own paging and moment merging; the sweep checks that weights (1, 1) reproduce
`SearchService`'s hybrid answers.
"""

from __future__ import annotations

import qdrant_edge as qe

from bench.eval.metrics import K, Span
from podsearch.models import SegmentHit, SparseVector, StoreQuery, page_of
from podsearch.stores.schema import DENSE, SPARSE
from search_api.moments import merge_moments
from search_api.service import depth_for


def weighted_request(
    dense: list[float], sparse: SparseVector, k: int, weights: tuple[float, float]
) -> tuple[qe.QueryRequest, StoreQuery]:
    """The engine request for one page of hybrid results, and the page it stands for."""
    page = StoreQuery(limit=depth_for(K + 1, 1))
    bm25 = qe.SparseVector(indices=sparse.indices, values=sparse.values)
    prefetches = [
        qe.Prefetch(limit=page.prefetch_limit, query=qe.Query.Nearest(vector, using=using))
        for using, vector in ((DENSE, dense), (SPARSE, bm25))
    ]
    fusion: qe.Fusion.Rrf = qe.Fusion.Rrf(k=k, weights=list(weights))
    request = qe.QueryRequest(
        query=fusion, prefetches=prefetches, limit=page.depth, with_payload=True
    )
    return request, page


def weighted_hybrid(
    shard: qe.EdgeShard,
    dense: list[float],
    sparse: SparseVector,
    k: int,
    weights: tuple[float, float],
) -> list[Span]:
    """The top-K moments of a hybrid search whose dense and BM25 branches carry `weights`."""
    request, page = weighted_request(dense, sparse, k, weights)
    hits = [SegmentHit(str(p.id), p.score, dict(p.payload or {})) for p in shard.query(request)]
    moments = merge_moments(page_of(hits, page))
    return [Span(m.episode_id, m.start, m.end) for m in moments[:K]]
