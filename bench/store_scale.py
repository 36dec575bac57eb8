"""Qdrant Edge at scale with the HNSW settings podsearch ships: latency and recall@10.

    python -m bench.store_scale --quick                  # 20k x 768, random and low-rank
    python -m bench.store_scale --size 1000000           # the 1M target (~3 GB of vectors)
    python -m bench.store_scale --vectors none --real-index data/eval/changelog-all-w120-o30/index

Built through `EdgeWriter` with `_shard_config` (m=16, ef_construct=100, an int8 copy of the
dense vectors in RAM) and queried through `EdgeReader` exactly as the API asks (limit 10: 100
hits ranked, the page's 10 fetched), beside float reads of the same graph, the one the API made
before among them (100 hits with full payloads), and int8 without rescoring (`scale_reads`).
Exact search over the float vectors on the same shard defines recall@10. Vector kinds:
see `bench.synthetic`; `real` takes the MiniLM vectors of an index `make eval` built (queries:
held-out segment vectors).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import get_args

import numpy as np
import qdrant_edge as qe

from bench.report import machine, percentile, table
from bench.scale_reads import Latency, in_child
from bench.shards import live_shard
from bench.synthetic import (
    FINGERPRINT,
    Talk,
    VectorKind,
    Vectors,
    VectorSource,
    episodes,
)
from podsearch.contract import EmbeddingRecipe
from podsearch.index_meta import ChunkerConfig, IndexMeta
from podsearch.stores.edge import EdgeWriter
from podsearch.stores.generations import GenerationDir
from podsearch.stores.plan import id_text
from podsearch.stores.schema import DENSE
from search_api.service import depth_for

EPISODE = 1000  # segments per write: fewer flushes than real 140-segment episodes at 1M
EXACT = qe.SearchParams(exact=True, quantization=qe.QuantizationSearchParams(ignore=True))


async def build(root: Path, size: int, vectors: VectorSource) -> tuple[float, float]:
    """Write `size` segments and publish; seconds spent upserting and publishing."""
    meta = IndexMeta(
        recipe=EmbeddingRecipe(model_id=f"bench/{vectors.kind}", dimension=vectors.dim),
        chunker=ChunkerConfig(),
    )
    writer = EdgeWriter(root)
    await writer.prepare(meta)
    upsert_s = 0.0
    try:
        for episode_id, points in episodes(size, vectors, Talk(distinct=1000), EPISODE):
            started = time.perf_counter()
            await writer.replace_episode(episode_id, FINGERPRINT, points)
            upsert_s += time.perf_counter() - started
        started = time.perf_counter()
        await writer.publish()
        return upsert_s, time.perf_counter() - started
    finally:
        await writer.close()


class RealVectors:
    """The dense vectors of an existing podsearch Edge index, shuffled, each handed out once."""

    kind = "real"

    def __init__(self, index: Path, seed: int = 0) -> None:
        shard = live_shard(index)
        rows, offset = [], None
        try:
            while True:
                request = qe.ScrollRequest(offset=offset, limit=1000, with_vector=[DENSE])
                records, offset = shard.scroll(request)
                # episode records carry no vector
                rows += [r.vector[DENSE] for r in records if DENSE in (r.vector or {})]
                if offset is None:
                    break
        finally:
            shard.close()
        self._rows = np.random.default_rng(seed).permutation(np.asarray(rows, np.float32))
        self.dim = self._rows.shape[1]
        self._next = 0

    def __len__(self) -> int:
        return len(self._rows)

    def sample(self, n: int) -> np.ndarray:
        if self._next + n > len(self._rows):
            raise ValueError(f"the index holds only {len(self._rows)} vectors")
        self._next += n
        return self._rows[self._next - n : self._next]


def exact(root: Path, queries: list[list[float]]) -> tuple[list[set[str]], float]:
    """The true top 10 of each query, and the p50 of podsearch's request made exact."""
    depth = depth_for(11, 1)  # what the API fetches (with payloads) for limit=10
    shard = live_shard(root)
    truth, samples = [], []
    try:
        for vector in queries:
            request = qe.QueryRequest(
                query=qe.Query.Nearest(vector, using=DENSE),
                limit=depth,
                with_payload=True,
                params=EXACT,
            )
            started = time.perf_counter()
            hits = shard.query(request)
            samples.append((time.perf_counter() - started) * 1000)
            ranked = sorted(hits, key=lambda p: (-p.score, id_text(p.id)))
            truth.append({id_text(p.id) for p in ranked[:10]})
    finally:
        shard.close()
    return truth, percentile(samples, 50)


def disk_mb(root: Path) -> float:
    """Size of the live generation (the writer's staging copy is not counted)."""
    folder = GenerationDir(root).current()
    assert folder is not None
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


async def run(vectors: VectorSource, size: int, queries: int) -> list[list[object]]:
    kind = vectors.kind
    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=_scratch()) as tmp:
        root = Path(tmp)
        _progress(f"{kind}: writing {size:,} segments and building HNSW")
        upsert_s, publish_s = await build(root, size, vectors)
        _progress(f"{kind}: built (upsert {upsert_s:.0f} s, publish {publish_s:.0f} s); querying")
        asked = vectors.sample(queries).tolist()
        truth, exact_ms = exact(root, asked)
        found, rss, peak = in_child(root, asked, truth)
        built = [size / upsert_s, publish_s, disk_mb(root), rss, peak]
        rows = [_row(kind, size, name, built, q, exact_ms) for name, q in found.items()]
        _progress(f"{kind}: {size:,} done")
    return rows


def _scratch() -> str | None:
    """Where the shards go: $BENCH_SCRATCH (a big disk) or the system's temp folder."""
    return os.environ.get("BENCH_SCRATCH")


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _row(
    kind: str, size: int, path: str, build: list[object], q: Latency, exact_ms: float
) -> list[object]:
    return [
        kind,
        size,
        path,
        *build,
        q.p50_ms,
        q.p99_ms,
        "–" if q.recall is None else q.recall,
        exact_ms,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.store_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="20k segments, 50 queries")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--vectors", default="random,lowrank", help="kinds, comma-separated")
    parser.add_argument("--real-index", type=Path, help="also: the vectors of this Edge index")
    args = parser.parse_args()
    size, queries = (20_000, 50) if args.quick else (args.size, args.queries)
    kinds = [k for k in get_args(VectorKind) if k in args.vectors.split(",")]
    sources: list[VectorSource] = [Vectors(args.dim, kind, seed=3) for kind in kinds]
    if args.real_index:
        sources.append(RealVectors(args.real_index))
    rows = []
    for source in sources:
        fits = min(size, len(source) - queries) if isinstance(source, RealVectors) else size
        rows += asyncio.run(run(source, fits, queries))
    print(
        f"store at scale: Qdrant Edge, shipped config (HNSW m=16, ef_construct=100, int8 copy of "
        f"the dense vectors), {queries} queries"
    )
    print(machine())
    headers = ["vectors", "segments", "read path", "upsert points/s"]
    headers += ["publish s", "disk MB", "RSS MB", "peak RSS MB"]
    headers += ["p50 ms", "p99 ms", "recall@10", "exact p50 ms"]
    print(table(headers, rows), flush=True)


if __name__ == "__main__":
    main()
