"""Every walk of the segments' dense HNSW graph is as wide as the plan says (`hnsw_ef`), a dense
search alone too: at the page's own depth recall@10 falls with the index's size. The engines
only use the width above their full-scan threshold (~10 MB of vectors), so the requests the
adapters build are checked here, not the answers of a test-sized index."""

from __future__ import annotations

import pytest

from podsearch.models import SparseVector, StoreQuery
from podsearch.settings import StoreSettings
from podsearch.stores import edge, plan
from podsearch.stores.qdrant_server import QdrantServerStore
from podsearch.stores.schema import DENSE

DENSE_VECTOR = [0.1] * 8
TERMS = SparseVector(indices=[3], values=[1.0])


def planned(**vectors: object) -> plan.SearchPlan:
    search = plan.plan_search(StoreQuery(limit=100, **vectors))  # type: ignore[arg-type]
    assert search is not None
    return search


def test_a_dense_search_alone_walks_as_wide_as_a_fused_branch() -> None:
    alone, fused = planned(dense=DENSE_VECTOR), planned(dense=DENSE_VECTOR, sparse=TERMS)
    assert alone.hnsw_ef == fused.hnsw_ef == fused.prefetch_limit > alone.limit


def test_edge_requests_walk_the_dense_graph_hnsw_ef_wide_over_rescored_int8() -> None:
    alone = edge._request(planned(dense=DENSE_VECTOR))
    assert alone.params is not None
    assert alone.params.hnsw_ef == 150
    assert alone.params.quantization is not None and alone.params.quantization.rescore

    fused = edge._request(planned(dense=DENSE_VECTOR, sparse=TERMS))
    dense, keyword = fused.prefetches
    assert dense.params is not None and dense.params.hnsw_ef == 150
    assert keyword.params is None  # BM25 has no graph


def test_keyword_search_alone_asks_no_walk() -> None:
    assert edge._request(planned(sparse=TERMS)).params is None


@pytest.mark.parametrize("fused", [False, True])
def test_the_server_store_walks_the_dense_graph_as_wide(fused: bool) -> None:
    search = planned(dense=DENSE_VECTOR, sparse=TERMS if fused else None)
    server = QdrantServerStore(StoreSettings(backend="qdrant", url="http://127.0.0.1:6333"))
    walks = {b.using: server._walk(b, search) for b in search.branches}
    assert walks[DENSE] is not None and walks[DENSE].hnsw_ef == 150
    assert all(walk is None for using, walk in walks.items() if using != DENSE)


def test_local_mode_asks_no_walk_as_it_searches_exactly() -> None:
    local = QdrantServerStore(StoreSettings(backend="qdrant", url=":memory:"))
    search = planned(dense=DENSE_VECTOR)
    assert local._walk(search.branches[0], search) is None
