"""What MaxSim over sentence vectors would cost inside Qdrant Edge, beside today's hybrid query.

    python -m bench.maxsim_engine                 # qmsum-val's shape: 3,324 segments, 6.3 sentences
    python -m bench.maxsim_engine --segments 42000 --sentences 6

Two shards of the same random points: dense + BM25 (today), and the same plus a `sentences`
multivector (MaxSim comparator, no HNSW graph: it only re-scores). The query is the API's hybrid
request at depth 100; the second adds MaxSim as a third RRF branch over the hybrid top 30, in the
same engine call (prefetch inside prefetch). Timings depend on the shapes, not the values, so
random vectors do; `bench.eval.maxsim` measures what the re-scoring does to quality.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from bench.report import machine, percentile, ratio, table

DIM = 384  # all-MiniLM-L6-v2
DEPTH, PREFETCH, RESCORED, RRF_K = 100, 200, 30, 60  # as the API asks a page of hybrid results
VOCABULARY = 20_000


def _config(sentences: bool) -> qe.EdgeConfig:
    vectors = {"dense": qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine)}
    if sentences:
        vectors["sentences"] = qe.EdgeVectorParams(
            size=DIM,
            distance=qe.Distance.Cosine,
            multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
            hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
        )
    return qe.EdgeConfig(
        vectors=vectors,
        sparse_vectors={"bm25": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000),
        wal_enabled=False,
    )


def _unit(rng: np.random.Generator, *shape: int) -> np.ndarray:
    x = rng.normal(size=(*shape, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _sparse(rng: np.random.Generator, terms: int) -> qe.SparseVector:
    indices = sorted({int(i) for i in rng.zipf(1.3, terms) % VOCABULARY})
    return qe.SparseVector(indices=indices, values=[1.0] * len(indices))


def build(path: Path, segments: int, sentences: float, with_sentences: bool) -> float:
    """Seconds to upsert and optimise the shard."""
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    shard = qe.EdgeShard.create(str(path), _config(with_sentences))
    for first in range(0, segments, 500):
        points = []
        for i in range(first, min(segments, first + 500)):
            vector: dict[str, Any] = {"dense": _unit(rng).tolist(), "bm25": _sparse(rng, 80)}
            if with_sentences:
                vector["sentences"] = _unit(rng, int(rng.poisson(sentences - 1)) + 1).tolist()
            points.append(qe.Point(id=i, vector=vector, payload={}))
        shard.update(qe.UpdateOperation.upsert_points(points))
    shard.flush()
    shard.optimize()
    shard.close()
    return time.perf_counter() - started


def request(dense: list[float], sparse: qe.SparseVector, maxsim: bool) -> qe.QueryRequest:
    branches = [
        qe.Prefetch(limit=PREFETCH, query=qe.Query.Nearest(dense, using="dense")),
        qe.Prefetch(limit=PREFETCH, query=qe.Query.Nearest(sparse, using="bm25")),
    ]
    if maxsim:
        hybrid = qe.Prefetch(limit=RESCORED, query=qe.Fusion.Rrf(k=RRF_K), prefetches=branches)
        sentences = qe.Query.Nearest([dense], using="sentences")
        branches = [*branches, qe.Prefetch(limit=RESCORED, query=sentences, prefetches=[hybrid])]
    fusion: Any = qe.Fusion.Rrf(k=RRF_K)
    return qe.QueryRequest(limit=DEPTH, query=fusion, prefetches=branches, with_payload=False)


def query_ms(paths: list[Path], queries: int) -> list[list[float]]:
    """Milliseconds per query on each shard; the shards take turns, so load drifts hit both."""
    rng = np.random.default_rng(11)
    shards = [qe.EdgeShard.load(str(p)) for p in paths]
    try:
        took: list[list[float]] = [[] for _ in shards]
        for _ in range(queries):
            dense, sparse = _unit(rng).tolist(), _sparse(rng, 6)
            for maxsim, shard in enumerate(shards):
                req = request(dense, sparse, bool(maxsim))
                started = time.perf_counter()
                shard.query(req)
                took[maxsim].append((time.perf_counter() - started) * 1000)
        return took
    finally:
        for shard in shards:
            shard.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.maxsim_engine", description=__doc__)
    parser.add_argument("--segments", type=int, default=3324)
    parser.add_argument("--sentences", type=float, default=6.3, help="mean per segment")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    names = ("hybrid (today)", "hybrid + MaxSim branch")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / str(i) for i in range(len(names))]
        build_s = [build(p, args.segments, args.sentences, bool(i)) for i, p in enumerate(paths)]
        took = query_ms(paths, args.queries)
    rows: list[list[object]] = []
    today = percentile(took[0], 50)
    for i, name in enumerate(names):
        vectors = args.segments * (1 + args.sentences * i)
        p50, p99 = percentile(took[i], 50), percentile(took[i], 99)
        rows.append(
            [
                name,
                build_s[i],
                vectors * DIM * 4 / 1e6,
                p50,
                p99,
                ratio(p50, today),
            ]
        )
    print(f"{args.segments} segments, {args.sentences} sentences each, {args.queries} queries")
    print(machine())
    print(table(["shard", "build s", "dense MB", "p50 ms", "p99 ms", "p50 vs today"], rows))


if __name__ == "__main__":
    main()
