"""The read paths `bench.store_scale` times on one shard: podsearch's own in a fresh process
whose RSS is what a serving API would hold, the others in another. The shard is built as
podsearch ships it: the segments' dense vectors with an int8 copy in RAM. Float paths ignore
that copy (the same HNSW graph walked over the float vectors): the read before slim ranking
(100 full payloads) and a slim float read; podsearch's own (`EdgeReader`: int8 walk, float
rescoring, fetch of the page) and filtered; and int8 without rescoring. Each path asks every
query once unmeasured first: the paths read different candidates' payloads, and whichever came
first would otherwise pay the page cache's misses for the others (a serving process's cache
holds what its queries read)."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from bench.report import percentile
from bench.shards import live_shard
from bench.synthetic import PODCASTS
from podsearch.models import SearchFilters, SegmentHit, StoreQuery
from podsearch.stores.edge import EdgeReader
from podsearch.stores.plan import RANK_KEYS, id_text
from podsearch.stores.schema import DENSE
from search_api.service import depth_for

FLOAT = qe.SearchParams(quantization=qe.QuantizationSearchParams(ignore=True))
INT8_ONLY = qe.SearchParams(quantization=qe.QuantizationSearchParams(rescore=False))


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    recall: float | None  # None: no exact answer to compare with (filtered reads)


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def _raw(
    shard: qe.EdgeShard,
    queries: list[list[float]],
    truth: list[set[str]],
    payload: bool | list[str],
    params: qe.SearchParams | None = None,
) -> Latency:
    """The request the API made before (`payload=True`: 100 full payloads per page), or a slim
    ranking pass plus the page's 10 payloads by id, straight on the shard."""

    def page(vector: list[float]) -> list[Any]:
        request = qe.QueryRequest(
            query=qe.Query.Nearest(vector, using=DENSE),
            limit=depth_for(11, 1),
            with_payload=payload,
            params=params,
        )
        hits = sorted(shard.query(request), key=lambda p: (-p.score, id_text(p.id)))
        if payload is not True:
            shard.retrieve([p.id for p in hits[:10]], with_payload=True, with_vector=False)
        return hits

    for vector in queries:  # unmeasured: the page cache now holds what this path reads
        page(vector)
    samples, found = [], 0
    for vector, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        hits = page(vector)
        samples.append((time.perf_counter() - started) * 1000)
        found += len({id_text(p.id) for p in hits[:10]} & expected)
    return Latency(percentile(samples, 50), percentile(samples, 99), found / (10 * len(queries)))


async def _reader_queries(
    root: Path, queries: list[list[float]], truth: list[set[str]] | None, filters: SearchFilters
) -> Latency:
    """podsearch's own read path: `EdgeReader.search` (slim) then `fetch` of the page's 10."""
    reader, depth = EdgeReader(root), depth_for(11, 1)

    async def page(vector: list[float]) -> list[SegmentHit]:
        hits = await reader.search(StoreQuery(limit=depth, dense=vector, filters=filters))
        await reader.fetch([h.id for h in hits[:10]])
        return hits

    samples, found = [], 0
    try:
        for vector in queries:  # unmeasured: opens the shard, warms the page cache
            await page(vector)
        for i, vector in enumerate(queries):
            started = time.perf_counter()
            hits = await page(vector)
            samples.append((time.perf_counter() - started) * 1000)
            found += len({h.id for h in hits[:10]} & truth[i]) if truth else 0
    finally:
        await reader.close()
    recall = found / (10 * len(queries)) if truth else None
    return Latency(percentile(samples, 50), percentile(samples, 99), recall)


def serve_queries(
    root: Path, queries: list[list[float]], truth: list[set[str]]
) -> tuple[dict[str, Latency], float, float]:
    """In a fresh process, podsearch's own reads only, so its RSS is a serving API's."""
    out = {
        "now: int8 + rescoring, slim + fetch 10": asyncio.run(
            _reader_queries(root, queries, truth, SearchFilters())
        ),
        # the exact answers are unfiltered, so a filtered read has no recall: latency only
        "now, filtered (1 of 10 podcasts)": asyncio.run(
            _reader_queries(root, queries, None, SearchFilters(podcasts=(PODCASTS[3],)))
        ),
    }
    rss, peak = _rss_mb()
    return out, rss, peak


def compare_queries(
    root: Path, queries: list[list[float]], truth: list[set[str]]
) -> dict[str, Latency]:
    """In another fresh process (walking the float vectors pages them all in): the float reads
    of the same graph and int8 without rescoring."""
    shard = live_shard(root)
    try:
        return {
            "float, before: 100 full payloads": _raw(shard, queries, truth, True, FLOAT),
            "float: slim + fetch 10": _raw(shard, queries, truth, list(RANK_KEYS), FLOAT),
            "int8, no rescoring": _raw(shard, queries, truth, list(RANK_KEYS), INT8_ONLY),
        }
    finally:
        shard.close()


def in_child(
    root: Path, queries: list[list[float]], truth: list[set[str]]
) -> tuple[dict[str, Latency], float, float]:
    """Every read path's latency, and the RSS / peak RSS of the process serving podsearch's."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        served, rss, peak = pool.submit(serve_queries, root, queries, truth).result()
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        compared = pool.submit(compare_queries, root, queries, truth).result()
    return {**compared, **served}, rss, peak
