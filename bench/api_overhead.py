"""What the API adds on top of the store, on the cache-hit path, and what it sustains under load.

Builds an Edge index of Changelog episodes (real transcripts, real segmenter and BM25; vectors
from the tests' hashing embedder, 384-d like MiniLM, so no model time pollutes the figures),
then measures in one run, the API of `--before` (git revisions) served beside this checkout's.
The code of `--built-by` (a revision before integer point ids, index schema 3) builds the same
episodes into an index of its own format: older code cannot read this checkout's, so the
`--before` APIs serve that one, and the baseline reads it.
  baseline  today's raw store query for one page: 100 candidates with full payloads (each fused
            branch 200, `PREFETCH_BEFORE`), on a copy
            of the `--built-by` index configured as indexes were before `max_search_threads=1`
            (the engine's own search threads)
  old here  the same query on the index as this checkout builds it
  store     the store part of a page now: slim ranking query + one fetch of the page's segments
            (with `--refilled-episodes n`, the searches of the first n episodes too)
  in-proc   GET /search through the ASGI app in-process (validation, cache, merge, JSON)
  http      GET /search over loopback HTTP to uvicorn processes served as `podsearch-api` serves
            (this checkout's with `--refilled-episodes`, `ApiOptions.refilled_episodes`)
  load      requests/s with --clients concurrent HTTP clients vs baseline queries/s, one thread
Baseline, store and http are asked each question in turn, and load rounds alternate with a
baseline pass, so every ratio compares paths measured under the same load.

    python -m bench.api_overhead [--episodes 60] [--queries 200] [--clients 16] [--seconds 10]
                                 [--before REV ...] [--built-by REV] [--refilled-episodes 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.full_payload import FullPayloadReader
from bench.loopback import Connection, http_timer, load, stage_timings, time_in_turn
from bench.report import machine
from indexer.pipeline import Indexer
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import StoreQuery
from podsearch.stores import plan
from podsearch.stores.edge import EdgeReader, EdgeWriter, _rank, _request
from podsearch.stores.schema import Bm25Encoder
from search_api.app import create_app
from search_api.episode_slots import refill_first_episodes
from search_api.moments import merge_moments
from search_api.service import depth_for
from search_api.settings import ApiOptions, ApiSettings
from search_api.shaping import page_ids
from tests.fakes import HashEmbedder

REPO = Path(__file__).resolve().parents[1]
CHANGELOG = REPO.parent / "shared" / "data" / "changelog"
DIM = 384
BEFORE = "9c0f848"  # the API before slim reads, prebuilt bodies and thread offload
PREFETCH_BEFORE = 2.0  # each fused branch's candidates per page candidate, as asked before 1.5x
BUILT_BY = "c33e8b7"  # the last revision whose indexes have UUID point ids (schema 2)
# `build_index` of another revision's code, run in its own checkout
BUILD = (
    "import asyncio, sys; from pathlib import Path; from bench.api_overhead import build_index; "
    "asyncio.run(build_index(Path(sys.argv[1]), int(sys.argv[2])))"
)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def build_index(root: Path, episodes: int) -> int:
    chosen = read_manifest(CHANGELOG / "episodes.jsonl")[:episodes]
    writer = EdgeWriter(root)
    report = await Indexer(HashEmbedder(DIM), writer, ChunkerConfig()).run(chosen)
    await writer.close()
    return report.segments


def build_with(source: Path, root: Path, episodes: int) -> None:
    """The same episodes indexed by the code under `source`, in its own index format. It reads
    the corpus from beside its checkout (`CHANGELOG`), so a checkout made here gets a link."""
    beside = source.parent / CHANGELOG.parents[1].name
    if not beside.exists():
        beside.symlink_to(CHANGELOG.parents[1])
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-c", BUILD, str(root), str(episodes)]
    subprocess.run(command, cwd=source, env=env, check=True, stdout=subprocess.DEVNULL)


def as_built_before(root: Path, into: Path) -> Path:
    """A copy of the index whose shard config lacks `max_search_threads`, as indexes were
    built before it was set: the engine then searches with its default pool of threads."""
    shutil.copytree(root, into)
    for config in into.glob("**/edge_config.json"):
        settings = json.loads(config.read_text())
        settings.pop("max_search_threads", None)
        config.write_text(json.dumps(settings))
    return into


def questions(count: int) -> list[str]:
    golden = REPO / "bench" / "golden" / "changelog.jsonl"
    asked = [json.loads(line)["question"] for line in golden.read_text().splitlines()]
    return (asked * (count // len(asked) + 1))[:count]


class StorePaths:
    """The store's part of one page, old and new: `old` is today's raw store query (100
    candidates, full payloads) on the index as built before (`before`), `old_here` the same on
    `root`, `page` the store part of a page now (ids and scores, places, one fetch of the page's
    segments) on `root`, `refilled` episodes' own searches included. Each returns the seconds it
    took."""

    def __init__(self, root: Path, before: Path, asked: list[str], refilled: int) -> None:
        self.reader = EdgeReader(root)
        self.refilled = refilled
        self.before = FullPayloadReader(before, PREFETCH_BEFORE)
        self.here = FullPayloadReader(root, PREFETCH_BEFORE)
        embedder, bm25 = HashEmbedder(DIM), Bm25Encoder()
        depth = depth_for(11, 1)  # what the API fetches for limit=10, offset=0
        self.queries = {
            q: StoreQuery(limit=depth, dense=embedder.vector(q), sparse=bm25.query(q))
            for q in dict.fromkeys(asked)
        }

    async def old(self, question: str) -> float:
        started = time.perf_counter()
        await self.before.search(self.queries[question])
        return time.perf_counter() - started

    async def old_here(self, question: str) -> float:
        started = time.perf_counter()
        await self.here.search(self.queries[question])
        return time.perf_counter() - started

    async def page(self, question: str) -> float:
        """The engine work alone, as `search` runs it (inline or in a worker thread: the
        handoff, when there is one, is in the API figures)."""
        search = plan.plan_search(self.queries[question])
        assert search is not None  # every golden question has terms
        shard, _ = self.reader._live()
        started = time.perf_counter()
        hits = _rank(shard, self.reader._places, _request(search))
        moments = merge_moments(hits)
        if self.refilled:
            query = self.queries[question]
            moments, _ = await refill_first_episodes(
                self.reader, query, question, moments, self.refilled
            )
        await self.reader.fetch(page_ids(moments[:10], context=False))
        return time.perf_counter() - started

    async def rate(self, asked: list[str], seconds: float) -> float:
        """`old` queries/s in one plain pass: what the API's throughput is compared to."""
        done, stop = 0, time.perf_counter() + seconds
        while time.perf_counter() < stop:
            await self.old(asked[done % len(asked)])
            done += 1
        return done / seconds

    async def close(self) -> None:
        await self.reader.close()
        await self.before.close()
        await self.here.close()


def app_for(root: Path, refilled: int) -> object:
    settings = ApiSettings(api=ApiOptions(rate_limit_per_minute=0, refilled_episodes=refilled))
    return create_app(settings, embedder=HashEmbedder(DIM), reader=EdgeReader(root))


async def time_in_process(root: Path, asked: list[str], refilled: int) -> list[float]:
    app = app_for(root, refilled)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            for q in set(asked):  # warm the query-embedding cache: we measure the hit path
                (await client.get("/search", params={"q": q})).raise_for_status()
            samples = []
            for q in asked:
                started = time.perf_counter()
                (await client.get("/search", params={"q": q})).raise_for_status()
                samples.append(time.perf_counter() - started)
            return samples


def serve(root: Path, port: int, refilled: int) -> None:
    """The API on `root` as `podsearch-api` serves it (logging included), with the hashing
    embedder and no rate limit (every load client comes from one address)."""
    from search_api.cli import serve as serve_api

    options = ApiOptions(rate_limit_per_minute=0, port=port, refilled_episodes=refilled)
    app = create_app(ApiSettings(api=options), embedder=HashEmbedder(DIM), reader=EdgeReader(root))
    serve_api(app, options)


def start_server(
    root: Path, source: Path = REPO, refilled: int = 0
) -> tuple[subprocess.Popen[bytes], str]:
    """The API of the code under `source` (this checkout, or an older revision) on `root`; its
    log (a JSON line per request) goes to a file beside the index. Only this checkout's serves
    `refilled` episodes (older code's `--serve` takes no such argument)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "bench.api_overhead", "--serve", str(root), str(port)]
    if refilled:
        command += ["--refilled-episodes", str(refilled)]
    env = {**os.environ, "PYTHONPATH": str(source)}
    log = root.parent / f"server-{port}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(command, cwd=source, env=env, stderr=handle)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # imports and the index's first open, on a busy machine
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the API of {source} did not start: {log.read_text()[-2000:]}")


def checkout(revision: str, into: Path) -> Path:
    """The tracked files of `revision` (the code before this change), to serve side by side."""
    archive = subprocess.run(
        ["git", "archive", revision], cwd=REPO, capture_output=True, check=True
    ).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def load_avg() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def report(name: str, samples: list[float], baseline: float) -> None:
    p50, p99 = percentiles(samples)
    added = (p50 - baseline) * 1e3
    print(
        f"{name:22s} p50 {p50 * 1e3:7.2f} ms  p99 {p99 * 1e3:7.2f} ms  added {added:+6.2f} ms"
        f"  ratio {p50 / baseline:5.2f}x baseline  ({load_avg()})"
    )


async def main(args: argparse.Namespace) -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "index"
        started = time.perf_counter()
        segments = await build_index(root, args.episodes)
        print(
            f"index: {args.episodes} Changelog episodes, {segments} segments, "
            f"{DIM}-d hashed vectors, built in {time.perf_counter() - started:.1f} s"
        )

        def source(name: str, folder: str) -> Path:
            return Path(name) if Path(name).is_dir() else checkout(name, Path(tmp) / folder)

        others = [(name, source(name, f"v{i}")) for i, name in enumerate(args.before)]
        old_root = Path(tmp) / "index-old"
        started = time.perf_counter()
        build_with(source(args.built_by, "built-by"), old_root, args.episodes)
        print(
            f"index as {args.built_by} builds it (baseline, --before APIs): "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        asked = questions(args.queries)
        before = as_built_before(old_root, Path(tmp) / "index-before")
        store = StorePaths(root, before, asked, args.refilled_episodes)
        cold = [await store.page(q) for q in store.queries]  # places not read yet: first asks
        in_process = await time_in_process(root, asked, args.refilled_episodes)
        labelled = [*others, ("new", REPO)]
        servers = [start_server(old_root, code) for _, code in others]
        servers.append(start_server(root, refilled=args.refilled_episodes))
        connections = [Connection(url) for _, url in servers]
        try:
            timers = [store.old, store.old_here, store.page, *(http_timer(c) for c in connections)]
            old, here, new, *latencies = await time_in_turn(timers, asked, args.repeat)
            base, base99 = percentiles(old)
            print(
                f"{'baseline':22s} p50 {base * 1e3:7.2f} ms  p99 {base99 * 1e3:7.2f} ms"
                f"  (today's raw store query: 100 full payloads; best of {args.repeat} per query,"
                f" all paths below asked in turn)  ({load_avg()})"
            )
            report("old read, this index", here, base)
            report("store part of a page", new, base)
            report("  (first asks)", cold, base)
            report("in-proc API (new)", in_process, base)
            for (name, _), taken in zip(labelled, latencies, strict=True):
                report(f"http API ({Path(name).name})", taken, base)
            stages = await stage_timings(servers[-1][1], asked)
            print("new stages, mean ms: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
            await measure_load(store, labelled, [url for _, url in servers], asked, args)
        finally:
            for connection in connections:
                connection.close()
            for process, _ in servers:
                process.terminate()
                process.wait()
            await store.close()


async def measure_load(
    store: StorePaths,
    labelled: list[tuple[str, Path]],
    urls: list[str],
    asked: list[str],
    args: argparse.Namespace,
) -> None:
    """Rounds in turn (the machine's load drifts): the raw store's queries/s in one thread,
    then each server under `--clients` clients; each round's ratio is taken in that round."""
    seconds = args.seconds / args.rounds
    ratios: dict[str, list[float]] = {name: [] for name, _ in labelled}
    rates: dict[str, list[float]] = {name: [] for name, _ in labelled}
    store_rates, errors = [], 0
    for _ in range(args.rounds):
        store_rates.append(await store.rate(asked, seconds))
        for (name, _), url in zip(labelled, urls, strict=True):
            rps, failed = await load(url, asked, args.clients, seconds)
            rates[name].append(rps)
            ratios[name].append(rps / store_rates[-1])
            errors += failed
    store_qps = statistics.median(store_rates)
    for name, measured in rates.items():
        print(
            f"load ({Path(name).name}): {statistics.median(measured):7.1f} req/s with "
            f"{args.clients} clients; raw store {store_qps:7.1f} q/s in one thread; ratio "
            f"{statistics.median(ratios[name]):.2f} (medians of {args.rounds} rounds, each ratio "
            f"within its round)  ({load_avg()})"
        )
    print(f"load errors, all servers: {errors}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="of load, per server")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="latency: best of this many")
    parser.add_argument(
        "--before",
        nargs="+",
        default=[BEFORE],
        help="git revisions (or source folders) whose API is served beside this checkout's, on "
        "the index of --built-by (default: the last revision before slim reads)",
    )
    parser.add_argument(
        "--built-by",
        default=BUILT_BY,
        help="git revision (or source folder) that builds the baseline's index (default: the "
        "last revision before integer point ids)",
    )
    parser.add_argument(
        "--refilled-episodes",
        type=int,
        default=0,
        help="this checkout's API (and store part) with `ApiOptions.refilled_episodes` = n "
        "(default 0, as served)",
    )
    parser.add_argument("--serve", nargs=2, metavar=("INDEX", "PORT"), help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve:
        serve(Path(parsed.serve[0]), int(parsed.serve[1]), parsed.refilled_episodes)
    else:
        asyncio.run(main(parsed))
