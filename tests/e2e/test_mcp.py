"""`podsearch-mcp` as an assistant runs it, over both transports, through the SDK's own client:
the sample corpus indexed by the real indexer CLI with the real MiniLM embedder process.

- stdio: the client starts the server as a subprocess that searches in-process (Edge index,
  embedder over HTTP);
- streamable HTTP: the server runs on a loopback port and calls a running `podsearch-api`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.conftest import environment, run_indexer, start
from tests.support import REPO, free_port

pytestmark = pytest.mark.slow

SERVER = [sys.executable, "-m", "search_api.mcp_server"]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder_url: str) -> Path:
    folder = tmp_path_factory.mktemp("mcp-index") / "index"
    run_indexer(REPO / "sample" / "episodes.jsonl", folder, embedder_url)
    return folder


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def use_all_three_tools(client: Client) -> None:
    """What an agent does: list the podcasts, search, then read around the best moment."""
    tools = {t.name for t in (await client.list_tools()).tools}
    assert tools == {"search_moments", "get_transcript", "list_podcasts"}
    podcasts = await call(client, "list_podcasts")
    assert {p["podcast"]: p["episodes"] for p in podcasts["podcasts"]} == {
        "Ledger Lines": 3,
        "The Night Shift": 3,
        "Seed & Soil": 2,
    }
    found = await call(client, "search_moments", query="how do they handle on-call burnout")
    assert found["degraded_reason"] is None and found["mode"] == "hybrid"
    best = found["moments"][0]
    assert best["episode_id"] == "night-shift-012" and best["play_url"]
    transcript = await call(
        client,
        "get_transcript",
        episode_id=best["episode_id"],
        start_s=max(0.0, best["start"] - 20),
        end_s=best["end"] + 20,
    )
    words = " ".join(p["text"] for p in transcript["passages"])
    assert " ".join(best["text"].split()[:10]) in words
    refused = await client.call_tool("search_moments", {"query": " "})
    assert refused.is_error and "empty_query" in str(refused.content)


async def test_stdio_searches_in_process(index: Path, embedder_url: str) -> None:
    env = environment(store__path=str(index), embedder__url=embedder_url)
    async with Client(StdioServerParameters(command=SERVER[0], args=SERVER[1:], env=env)) as c:
        await use_all_three_tools(c)


async def test_streamable_http_calls_a_running_api(
    index: Path, api_factory: Callable[[Path], str], tmp_path: Path
) -> None:
    api = api_factory(index)
    port = free_port()
    env = environment(mcp__transport="http", mcp__port=str(port), mcp__api_url=api)
    server = start(SERVER, env, port, tmp_path / "mcp.log")
    try:
        async with Client(f"{server.url}/mcp") as client:
            await use_all_three_tools(client)
    finally:
        server.stop()
