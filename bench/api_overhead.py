"""What the API adds on top of the store, on the cache-hit path, and what it sustains under load.

Builds an Edge index of Changelog episodes (real transcripts, real segmenter and BM25; vectors
from the tests' hashing embedder, 384-d like MiniLM, so no model time pollutes the figures),
then measures in one run:
  baseline  the raw store query the API makes for one page (EdgeReader.search, in-process)
  in-proc   GET /search through the ASGI app in-process (validation, cache, merge, JSON)
  http      GET /search over loopback HTTP to a uvicorn process (one client)
  load      requests/s with --clients concurrent HTTP clients vs store queries/s in one thread

    python -m bench.api_overhead [--episodes 60] [--queries 200] [--clients 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from indexer.pipeline import Indexer
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import StoreQuery
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.schema import Bm25Encoder
from search_api.app import create_app
from search_api.service import depth_for
from search_api.settings import ApiOptions, ApiSettings
from tests.fakes import HashEmbedder

REPO = Path(__file__).resolve().parents[1]
CHANGELOG = REPO.parent / "shared" / "data" / "changelog"
DIM = 384


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def build_index(root: Path, episodes: int) -> int:
    chosen = read_manifest(CHANGELOG / "episodes.jsonl")[:episodes]
    writer = EdgeWriter(root)
    report = await Indexer(HashEmbedder(DIM), writer, ChunkerConfig()).run(chosen)
    await writer.close()
    return report.segments


def questions(count: int) -> list[str]:
    golden = REPO / "bench" / "golden" / "changelog.jsonl"
    asked = [json.loads(line)["question"] for line in golden.read_text().splitlines()]
    return (asked * (count // len(asked) + 1))[:count]


async def time_store(root: Path, asked: list[str]) -> list[float]:
    reader, embedder, bm25 = EdgeReader(root), HashEmbedder(DIM), Bm25Encoder()
    depth = depth_for(11, 1)  # what the API fetches for limit=10, offset=0
    queries = [
        StoreQuery(limit=depth, dense=embedder.vector(q), sparse=bm25.query(q)) for q in asked
    ]
    await reader.search(queries[0])
    samples = []
    for query in queries:
        started = time.perf_counter()
        await reader.search(query)
        samples.append(time.perf_counter() - started)
    await reader.close()
    return samples


def app_for(root: Path) -> object:
    settings = ApiSettings(api=ApiOptions(rate_limit_per_minute=0))
    return create_app(settings, embedder=HashEmbedder(DIM), reader=EdgeReader(root))


async def time_in_process(root: Path, asked: list[str]) -> list[float]:
    app = app_for(root)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await time_client(client, asked)


async def time_client(client: httpx.AsyncClient, asked: list[str]) -> list[float]:
    for q in set(asked):  # warm the query-embedding cache: we measure the hit path
        (await client.get("/search", params={"q": q})).raise_for_status()
    samples = []
    for q in asked:
        started = time.perf_counter()
        (await client.get("/search", params={"q": q})).raise_for_status()
        samples.append(time.perf_counter() - started)
    return samples


async def load(url: str, asked: list[str], clients: int, seconds: float) -> float:
    done = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker(offset: int) -> None:
            nonlocal done
            i = offset
            while time.perf_counter() < stop:
                (
                    await client.get("/search", params={"q": asked[i % len(asked)]})
                ).raise_for_status()
                done += 1
                i += clients

        await asyncio.gather(*(worker(i) for i in range(clients)))
    return done / seconds


def serve(root: Path, port: int) -> None:
    import uvicorn

    uvicorn.run(app_for(root), host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "bench.api_overhead", "--serve", str(root), str(port)]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the API did not start")


def report(name: str, samples: list[float], baseline: float) -> None:
    p50, p99 = percentiles(samples)
    added = (p50 - baseline) * 1e3
    print(
        f"{name:9s} p50 {p50 * 1e3:7.2f} ms  p99 {p99 * 1e3:7.2f} ms  added {added:+6.2f} ms"
        f"  ratio {p50 / baseline:5.2f}x baseline"
    )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "index"
        started = time.perf_counter()
        segments = await build_index(root, args.episodes)
        print(
            f"index: {args.episodes} Changelog episodes, {segments} segments, "
            f"{DIM}-d hashed vectors, built in {time.perf_counter() - started:.1f} s"
        )
        asked = questions(args.queries)
        store = await time_store(root, asked)
        base, base99 = percentiles(store)
        print(f"baseline  p50 {base * 1e3:7.2f} ms  p99 {base99 * 1e3:7.2f} ms  (raw store query)")
        report("in-proc", await time_in_process(root, asked), base)
        process, url = start_server(root)
        try:
            async with httpx.AsyncClient(base_url=url) as client:
                report("http", await time_client(client, asked), base)
            rps = await load(url, asked, args.clients, args.seconds)
        finally:
            process.terminate()
            process.wait()
        store_qps = len(store) / sum(store)
        print(
            f"load      {rps:7.1f} req/s with {args.clients} clients over HTTP; "
            f"raw store {store_qps:7.1f} q/s in one thread; ratio {rps / store_qps:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--serve", nargs=2, metavar=("INDEX", "PORT"), help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(Path(parsed.serve[0]), int(parsed.serve[1]))
    else:
        asyncio.run(main(parsed))
