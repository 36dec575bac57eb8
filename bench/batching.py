"""Dynamic batching on the real local server: 32 concurrent single-text clients vs the same
requests one after another.

    .venv/bin/python bench/batching.py [--clients 32] [--per-client 8]

Starts `podsearch-embedder` (uvicorn, the bundled all-MiniLM-L6-v2 on CPU) on a free loopback
port twice: with dynamic batching as configured by default, and with it switched off
(`coalesce_max_texts=1`) as the control, so the gain of batching is told apart from the gain
of mere concurrency. Prints requests/s, latency percentiles and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
TOPICS = ["on-call burnout", "seed funding", "pricing pages", "hiring engineers", "podcast ads"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(**settings: str) -> Iterator[str]:
    """`podsearch-embedder` with these PODSEARCH_EMBEDDER_SERVER__* settings, until /health."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODSEARCH_")}
    env.update({f"PODSEARCH_EMBEDDER_SERVER__{k.upper()}": v for k, v in settings.items()})
    env["PODSEARCH_EMBEDDER_SERVER__PORT"] = str(port)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(BIN / "podsearch-embedder")], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit(f"the embedder did not start:\n{log.read().decode()[-2000:]}")
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


async def one(client: httpx.AsyncClient, text: str, latencies: list[float]) -> None:
    started = time.perf_counter()
    response = await client.post("/v1/embeddings", json={"input": [text], "input_type": "query"})
    response.raise_for_status()
    latencies.append(time.perf_counter() - started)


async def run(url: str, texts: list[str], clients: int) -> tuple[float, list[float]]:
    """Requests/s and latencies with `clients` concurrent clients (1: strictly sequential)."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        for text in texts[:16]:  # warm up connections and the model
            await one(client, text, [])
        queue = list(reversed(texts))

        async def worker() -> None:
            while queue:
                await one(client, queue.pop(), latencies)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(texts) / elapsed, sorted(latencies)


def describe(label: str, rate: float, latencies: list[float]) -> str:
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    return f"{label:<34} {rate:7.1f} req/s   p50 {p50 * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=8)
    args = parser.parse_args()
    count = args.clients * args.per_client
    texts = [
        f"what did guest {i} say about {TOPICS[i % len(TOPICS)]} in episode {i % 97}?"
        for i in range(count)
    ]
    with server() as url:
        sequential = asyncio.run(run(url, texts, 1))
        batched = asyncio.run(run(url, texts, args.clients))
    with server(coalesce_max_texts="1") as url:
        unbatched = asyncio.run(run(url, texts, args.clients))
    print(f"{count} single-text requests, all-MiniLM-L6-v2 on {os.cpu_count()} CPU cores")
    print(describe("sequential (1 client)", *sequential))
    print(describe(f"{args.clients} clients, batching off", *unbatched))
    print(describe(f"{args.clients} clients, dynamic batching", *batched))
    print(f"ratio concurrent+batching / sequential: {batched[0] / sequential[0]:.2f}x")
    print(f"ratio concurrent without batching / sequential: {unbatched[0] / sequential[0]:.2f}x")


if __name__ == "__main__":
    main()
