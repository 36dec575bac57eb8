"""The search API under load while its embedder is up, dead or hung (loopback, bounded).

Three processes per scenario: the search API (uvicorn, Edge index of the sample corpus, the
real HTTP embedder client with the API's default deadline and circuit), the embedder, and this
load generator: `--clients` concurrent keep-alive HTTP clients for `--seconds`, every query
unique so that the query-embedding cache never hides the embedder. Scenarios:

  keyword  the baseline: `mode=keyword` searches, which never ask the embedder
  up       the embedder app (hash backend: no model time pollutes the figures) on loopback
  dead     nothing listens on the embedder's port (connections refused)
  hung     a server that accepts connections and never answers (only deadlines help)

Per scenario: requests/s, p50/p99 latency, errors (anything but 200), degraded answers, and the
p50 of the answers given while the circuit was open; ratios against the keyword baseline
measured in the same run. Targets: 0 errors, and with a hung embedder a p50 under 50 ms once the
circuit opens (on an idle machine; compare the ratio on a loaded one).

    python -m bench.resilience [--clients 16] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.report import machine, percentile, ratio, table
from tests.support import free_port, index_sample

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "e2e" / "sample_questions.jsonl"


def serve_api() -> None:
    import uvicorn

    from search_api.app import create_app
    from search_api.settings import ApiSettings

    port = int(os.environ["BENCH_PORT"])
    uvicorn.run(create_app(ApiSettings()), host="127.0.0.1", port=port, log_level="error")


def serve_embedder() -> None:
    import uvicorn

    from embedder.app import create_app
    from tests.loopback import HashBackend

    app = create_app(HashBackend(), warm_up=False)
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="error")


@contextmanager
def process(role: str, port: int, **env: str) -> Iterator[str]:
    """`python -m bench.resilience --serve ROLE` on `port`, until its /health answers."""
    command = [sys.executable, "-m", "bench.resilience", "--serve", role]
    environment = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_PORT": str(port), **env}
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while not _healthy(url):
                if child.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{role} did not start: {log.read()[-2000:].decode()}")
                time.sleep(0.2)
            yield url
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def hung_server() -> Iterator[str]:
    """Accepts every connection, reads, never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
        for conn in accepted:
            conn.close()


@dataclass
class Outcome:
    scenario: str
    latencies: list[float]
    errors: int
    degraded: int
    seconds: float
    circuit_open: list[float]  # latencies of answers degraded because the circuit was open

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds


async def load(url: str, scenario: str, clients: int, seconds: float) -> Outcome:
    asked = [json.loads(line)["question"] for line in GOLDEN.read_text().splitlines()]
    mode = "keyword" if scenario == "keyword" else "hybrid"
    latencies: list[float] = []
    circuit_open: list[float] = []
    errors = degraded = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def worker(n: int) -> None:
            nonlocal errors, degraded
            i = 0
            while time.perf_counter() < stop:
                query = f"{asked[(n + i) % len(asked)]} {n}x{i}"  # unique: no cache hits
                i += 1
                started = time.perf_counter()
                try:
                    response = await client.get("/search", params={"q": query, "mode": mode})
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1
                elif response.json()["degraded"]:
                    degraded += 1
                    if "circuit open" in response.json()["degraded_reason"]:
                        circuit_open.append(latencies[-1])

        began = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(clients)))
    return Outcome(scenario, latencies, errors, degraded, time.perf_counter() - began, circuit_open)


@contextmanager
def embedder(scenario: str) -> Iterator[str]:
    if scenario in ("keyword", "up"):
        with process("embedder", free_port()) as url:
            yield url
    elif scenario == "dead":
        yield f"http://127.0.0.1:{free_port()}"
    else:
        with hung_server() as url:
            yield url


def main(args: argparse.Namespace) -> None:
    print(machine())
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        index_sample(index)
        for scenario in ("keyword", "up", "dead", "hung"):
            with (
                embedder(scenario) as embedder_url,
                process(
                    "api",
                    free_port(),
                    PODSEARCH_STORE__PATH=str(index),
                    PODSEARCH_EMBEDDER__URL=embedder_url,
                    PODSEARCH_API__RATE_LIMIT_PER_MINUTE="0",
                    PODSEARCH_API__JSON_LOGS="false",
                ) as api_url,
            ):
                outcomes.append(asyncio.run(load(api_url, scenario, args.clients, args.seconds)))
    base = outcomes[0]
    base_p50 = percentile(base.latencies, 50) * 1e3
    rows = []
    for o in outcomes:
        p50, p99 = (percentile(o.latencies, p) * 1e3 for p in (50, 99))
        opened = percentile(o.circuit_open, 50) * 1e3 if len(o.circuit_open) > 1 else None
        rows.append(
            [
                o.scenario,
                len(o.latencies),
                o.rps,
                ratio(o.rps, base.rps),
                p50,
                ratio(p50, base_p50),
                p99,
                o.errors,
                f"{o.degraded / max(1, len(o.latencies)):.0%}",
                "-" if opened is None else f"{opened:.1f} ({ratio(opened, base_p50)})",
            ]
        )
    headers = [
        "scenario",
        "requests",
        "req/s",
        "req/s vs keyword",
        "p50 ms",
        "p50 vs keyword",
        "p99 ms",
        "errors",
        "degraded",
        "p50 ms, circuit open",
    ]
    print(f"{args.clients} clients x {args.seconds:.0f} s per scenario, unique queries\n")
    print(table(headers, rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--serve", choices=["api", "embedder"], help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve == "api":
        serve_api()
    elif parsed.serve == "embedder":
        serve_embedder()
    else:
        main(parsed)
