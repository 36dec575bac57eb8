"""Qdrant Edge vs qdrant-client local mode, both through podsearch's adapters, on equal data.

    python -m bench.store --quick        # 20k segments
    python -m bench.store                # 20k and 100k segments
    python -m bench.store --sizes 42000 --queries 300

Edge: `EdgeWriter` (staging shard, `publish` = HNSW build + copy) and `EdgeReader`. Baseline:
`QdrantServerStore` on qdrant-client's local mode with an on-disk path (see `local` for how its
query side is loaded). Both write the same first 20 episodes into an empty on-disk index, one
`replace_episode` each. Segments are synthetic in podsearch's schema (`bench.synthetic`): 384-d
random unit vectors, BM25 of made-up talk. Queries (limit 10, fetched as the API does): dense
(semantic mode), dense + podcast filter (~10% of segments), dense + BM25 fused by RRF (hybrid).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from qdrant_client import AsyncQdrantClient

from bench.report import machine, percentile, ratio, table
from bench.synthetic import FINGERPRINT, PODCASTS, Talk, Vectors, episodes
from podsearch.contract import EmbeddingRecipe
from podsearch.index_meta import ChunkerConfig, IndexMeta
from podsearch.models import SearchFilters, SegmentPoint, StoreQuery
from podsearch.ports import SegmentReader, SegmentWriter
from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.qdrant_server import QdrantServerStore
from podsearch.stores.schema import Bm25Encoder
from search_api.service import depth_for

DIM = 384
Episodes = list[tuple[str, list[SegmentPoint]]]
Queries = dict[str, list[StoreQuery]]
WRITE_SAMPLE = 20  # episodes (2,800 segments) written into an empty on-disk index by both
META = IndexMeta(
    recipe=EmbeddingRecipe(model_id="bench/random", dimension=DIM), chunker=ChunkerConfig()
)


@dataclass(frozen=True)
class Figures:
    sample_per_s: float  # replace_episode into an empty on-disk index, first WRITE_SAMPLE points
    upsert_per_s: float | None  # replace_episode of every segment (None: not measured)
    publish_s: float
    query_ms: float
    filtered_ms: float
    hybrid_ms: float


def workload(size: int, queries: int) -> tuple[Episodes, Queries]:
    data = list(episodes(size, Vectors(DIM, "random", seed=1), Talk(seed=1)))
    vectors, talk, bm25 = Vectors(DIM, "random", seed=2), Talk(seed=2), Bm25Encoder()
    dense = vectors.sample(queries).tolist()
    depth = depth_for(11, 1)  # what the API fetches for limit=10
    return data, {
        "dense": [StoreQuery(limit=depth, dense=v) for v in dense],
        "filtered": [
            StoreQuery(
                limit=depth,
                dense=v,
                filters=SearchFilters(podcasts=(PODCASTS[i % len(PODCASTS)],)),
            )
            for i, v in enumerate(dense)
        ],
        "hybrid": [
            StoreQuery(limit=depth, dense=v, sparse=bm25.query(talk.query())) for v in dense
        ],
    }


async def p50_ms(reader: SegmentReader, queries: list[StoreQuery], warmup: int = 3) -> float:
    for query in queries[:warmup]:
        await reader.search(query)
    samples = []
    for query in queries:
        started = time.perf_counter()
        await reader.search(query)
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 50)


def points(data: Episodes) -> int:
    return sum(len(p) for _, p in data)


async def write(writer: SegmentWriter, data: Episodes) -> float:
    """Seconds `replace_episode` (the indexer's write) takes for these episodes, one by one."""
    started = time.perf_counter()
    for episode_id, episode_points in data:
        await writer.replace_episode(episode_id, FINGERPRINT, episode_points)
    return time.perf_counter() - started


async def query_figures(reader: SegmentReader, queries: Queries) -> tuple[float, float, float]:
    return (
        await p50_ms(reader, queries["dense"]),
        await p50_ms(reader, queries["filtered"]),
        await p50_ms(reader, queries["hybrid"]),
    )


async def edge(root: Path, data: Episodes, queries: Queries) -> Figures:
    writer = EdgeWriter(root)
    await writer.prepare(META)
    try:
        sample_s = await write(writer, data[:WRITE_SAMPLE])
        all_s = sample_s + await write(writer, data[WRITE_SAMPLE:])
        started = time.perf_counter()
        await writer.publish()
        publish_s = time.perf_counter() - started
    finally:
        await writer.close()
    reader = EdgeReader(root)
    try:
        rates = points(data[:WRITE_SAMPLE]) / sample_s, points(data) / all_s
        return Figures(*rates, publish_s, *await query_figures(reader, queries))
    finally:
        await reader.close()


async def local(root: Path, data: Episodes, queries: Queries) -> Figures:
    """Writes on disk (path mode); queries in memory, which is where path mode answers them too.

    Path mode commits every point to SQLite and deletes by scanning every payload in Python,
    so writing 100k segments episode by episode takes hours. The query store is loaded with one
    `replace_episode` call holding every point (one upsert, one delete scan that matches none).
    """
    settings = StoreSettings(backend="qdrant", url=f"local:{root}")
    on_disk = QdrantServerStore(settings, client=AsyncQdrantClient(path=str(root)))
    await on_disk.prepare(META)
    try:
        sample_rate = points(data[:WRITE_SAMPLE]) / await write(on_disk, data[:WRITE_SAMPLE])
    finally:
        await on_disk.close()
    in_memory = QdrantServerStore(settings, client=AsyncQdrantClient(location=":memory:"))
    await in_memory.prepare(META)
    try:
        await in_memory.replace_episode(
            "bulk-load", FINGERPRINT, [p for _, points in data for p in points]
        )
        return Figures(sample_rate, None, 0.0, *await query_figures(in_memory, queries))
    finally:
        await in_memory.close()


def rows(size: int, ours: Figures, base: Figures) -> list[list[object]]:
    def row(name: str, f: Figures) -> list[object]:
        everything = "n/a" if f.upsert_per_s is None else f.upsert_per_s
        figures = [f.query_ms, f.filtered_ms, f.hybrid_ms]
        return [name, size, f.sample_per_s, everything, f.publish_s, *figures]

    speedup = [
        "Edge advantage",
        size,
        ratio(ours.sample_per_s, base.sample_per_s),
        "",
        "",
        ratio(base.query_ms, ours.query_ms),
        ratio(base.filtered_ms, ours.filtered_ms),
        ratio(base.hybrid_ms, ours.hybrid_ms),
    ]
    return [row("Qdrant Edge", ours), row("qdrant-client local", base), speedup]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="20k segments, 30 queries")
    parser.add_argument("--sizes", default="20000,100000", help="segment counts, comma-separated")
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    args = parser.parse_args()
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    queries = 30 if args.quick else args.queries
    # Local mode warns that it is not meant for more than 20k points: that is the point here.
    warnings.filterwarnings("ignore", message="Local mode is not recommended", category=UserWarning)
    table_rows: list[list[object]] = []
    for size in sizes:
        data, workload_queries = workload(size, queries)
        with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
            ours = asyncio.run(edge(Path(tmp) / "edge", data, workload_queries))
            base = asyncio.run(local(Path(tmp) / "local", data, workload_queries))
        table_rows += rows(size, ours, base)
    print(f"store: Qdrant Edge vs qdrant-client local mode, {DIM}-d, p50 of {queries} queries")
    print(machine())
    headers = ["store", "segments", "upsert/s (first 2.8k)", "upsert/s (all)", "publish s"]
    print(table([*headers, "query p50 ms", "filtered p50 ms", "hybrid p50 ms"], table_rows))


if __name__ == "__main__":
    main()
