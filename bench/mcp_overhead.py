"""What the MCP layer adds to a search, in-process and over the network.

Same index and questions as bench/api_overhead.py (Changelog episodes, hashed 384-d vectors,
the cache-hit path), then in one run:
  search-asgi  GET /search through the API app in-process (ASGI)        baseline of mcp-inproc
  mcp-inproc   search_moments through the SDK client connected in-process to podsearch-mcp,
               which calls the in-process API app: what the stdio server does per call
  search-http  GET /search over loopback HTTP to a uvicorn process       baseline of mcp-http
  mcp-http     search_moments over streamable HTTP to a podsearch-mcp process that calls that
               API over HTTP (PODSEARCH_MCP__API_URL)

    python -m bench.mcp_overhead [--episodes 30] [--queries 100]
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
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from bench.api_overhead import (
    REPO,
    app_for,
    build_index,
    percentiles,
    questions,
    start_server,
)
from search_api.mcp_api import PodsearchApi
from search_api.mcp_server import build_server


async def time_pairs(
    http: httpx.AsyncClient, client: Client, asked: list[str]
) -> tuple[list[float], list[float]]:
    """GET /search and search_moments for each question, one after the other (paired, so the
    machine's load hits both alike); a first pass warms the query-embedding cache."""
    searches, tools = [], []
    for n, q in enumerate([*dict.fromkeys(asked), *asked]):
        started = time.perf_counter()
        (await http.get("/search", params={"q": q, "limit": 10})).raise_for_status()
        searched = time.perf_counter()
        result = await client.call_tool("search_moments", {"query": q, "limit": 10})
        done = time.perf_counter()
        assert not result.is_error, result.content
        if n >= len(set(asked)):
            searches.append(searched - started)
            tools.append(done - searched)
    return searches, tools


async def in_process(root: Path, asked: list[str]) -> tuple[list[float], list[float]]:
    app: Any = app_for(root)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        http = httpx.AsyncClient(transport=transport, base_url="http://api")
        async with http, Client(build_server(PodsearchApi(http))) as client:
            return await time_pairs(http, client, asked)


def start_mcp(api_url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PODSEARCH_MCP__TRANSPORT": "http",
        "PODSEARCH_MCP__PORT": str(port),
        "PODSEARCH_MCP__API_URL": api_url,
    }
    command = [sys.executable, "-m", "search_api.mcp_server"]
    process = subprocess.Popen(command, cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return process, f"{url}/mcp"
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("podsearch-mcp did not start")


def report(name: str, samples: list[float], baseline: list[float] | None = None) -> None:
    p50, p99 = percentiles(samples)
    line = f"{name:11s} p50 {p50 * 1e3:7.2f} ms  p99 {p99 * 1e3:7.2f} ms"
    if baseline is not None:
        base = percentiles(baseline)[0]
        line += f"  added {(p50 - base) * 1e3:+6.2f} ms  ratio {p50 / base:5.2f}x"
    print(line, flush=True)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "index"
        segments = await build_index(root, args.episodes)
        print(f"index: {args.episodes} Changelog episodes, {segments} segments")
        asked = questions(args.queries)
        asgi, tool = await in_process(root, asked)
        report("search-asgi", asgi)
        report("mcp-inproc", tool, asgi)
        api, api_url = start_server(root)
        mcp, mcp_url = start_mcp(api_url)
        try:
            async with httpx.AsyncClient(base_url=api_url) as http, Client(mcp_url) as client:
                over_http, remote = await time_pairs(http, client, asked)
        finally:
            for process in (mcp, api):
                process.terminate()
                process.wait()
        report("search-http", over_http)
        report("mcp-http", remote, over_http)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--queries", type=int, default=100)
    asyncio.run(main(parser.parse_args()))
