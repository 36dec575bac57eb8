"""The in-engine MaxSim query of `bench.maxsim_engine` on a real Edge shard: it is the offline
experiment's "third RRF branch" (`bench.eval.maxsim.third_branch`), computed by Qdrant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from bench.maxsim_engine import DIM, RESCORED, RRF_K, _config, build, query_ms, request

SEGMENTS = 60


def test_the_maxsim_branch_adds_one_rrf_term_to_the_hybrid_top_candidates(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(SEGMENTS, DIM)).astype(np.float32)
    sentences = [rng.normal(size=(1 + i % 4, DIM)).astype(np.float32) for i in range(SEGMENTS)]
    shard = qe.EdgeShard.create(str(tmp_path / "shard"), _config(sentences=True))
    points = [
        qe.Point(
            id=i,
            vector={
                "dense": dense[i].tolist(),
                "bm25": qe.SparseVector(indices=[1], values=[1 + i / SEGMENTS]),  # no ties
                "sentences": sentences[i].tolist(),
            },
            payload={},
        )
        for i in range(SEGMENTS)
    ]
    shard.update(qe.UpdateOperation.upsert_points(points))
    query = rng.normal(size=DIM).astype(np.float32)
    term = qe.SparseVector(indices=[1], values=[1.0])
    try:
        hybrid = {p.id: p.score for p in shard.query(request(query.tolist(), term, maxsim=False))}
        fused = {p.id: p.score for p in shard.query(request(query.tolist(), term, maxsim=True))}
    finally:
        shard.close()

    top = sorted(hybrid, key=lambda i: -hybrid[i])[:RESCORED]
    unit = query / np.linalg.norm(query)
    maxsim = {i: max(s @ unit / np.linalg.norm(s) for s in sentences[int(i)]) for i in top}
    rank = {i: r for r, i in enumerate(sorted(top, key=lambda i: -maxsim[i]))}
    for i, score in fused.items():
        extra = 1 / (RRF_K + rank[i]) if i in rank else 0.0
        assert score == pytest.approx(hybrid[i] + extra, rel=1e-5)


def test_the_benchmark_builds_and_queries_both_shards(tmp_path: Path) -> None:
    paths = [tmp_path / "today", tmp_path / "maxsim"]
    for i, path in enumerate(paths):
        assert build(path, segments=40, sentences=3.0, with_sentences=bool(i)) > 0
    took = query_ms(paths, queries=3)
    assert [len(t) for t in took] == [3, 3]
