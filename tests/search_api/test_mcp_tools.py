"""The MCP tools through the SDK's own client, connected in-process to the server, over the
real API app and an Edge index of the sample corpus (HashEmbedder). The transports (stdio,
streamable HTTP) with the real model are in tests/e2e/test_mcp.py."""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.mcp_api import PodsearchApi
from search_api.mcp_server import build_server, main
from search_api.settings import ApiSettings
from tests.fakes import HashEmbedder
from tests.support import REPO


@asynccontextmanager
async def connected(index_root: Path, embedder: HashEmbedder) -> AsyncIterator[Client]:
    """Entered and left inside one test: the SDK's task groups must not cross tasks."""
    settings = ApiSettings(store=StoreSettings(path=index_root))
    app = create_app(settings, embedder=embedder, reader=EdgeReader(index_root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        http = httpx.AsyncClient(transport=transport, base_url="http://api")
        async with http, Client(build_server(PodsearchApi(http))) as client:
            yield client


def test_the_console_script_points_at_the_servers_main() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["podsearch-mcp"].split(":")
    assert getattr(importlib.import_module(module), function) is main


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def error_of(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_the_three_tools_are_described_for_a_model(
    index_root: Path, embedder: HashEmbedder
) -> None:
    async with connected(index_root, embedder) as mcp:
        tools = {t.name: t for t in (await mcp.list_tools()).tools}
        assert set(tools) == {"search_moments", "get_transcript", "list_podcasts"}
        for tool in tools.values():
            assert tool.description and len(tool.description) > 80
            assert tool.annotations is not None and tool.annotations.read_only_hint
            assert tool.output_schema is not None
        search = tools["search_moments"].input_schema
        assert search["required"] == ["query"]
        assert search["properties"]["limit"]["maximum"] == 20
        assert set(search["properties"]["mode"]["enum"]) == {"hybrid", "semantic", "keyword"}
        assert "get_transcript" in tools["search_moments"].description or "get_transcript" in (
            mcp.instructions or ""
        )


async def test_search_moments_returns_playable_moments(
    index_root: Path, embedder: HashEmbedder
) -> None:
    async with connected(index_root, embedder) as mcp:
        found = await call(mcp, "search_moments", query="on-call burnout", limit=3)
        assert found["degraded_reason"] is None and found["mode"] == "hybrid"
        assert 1 <= len(found["moments"]) <= 3
        best = found["moments"][0]
        assert best["podcast"] == "The Night Shift"
        assert "burnout" in best["text"].lower()
        assert best["play_url"].endswith(f"#t={best['start']:.0f}")
        assert best["start"] < best["end"] and best["speakers"]
        assert best["published"].count("-") == 2


async def test_search_moments_filters_like_search(index_root: Path, embedder: HashEmbedder) -> None:
    async with connected(index_root, embedder) as mcp:
        found = await call(
            mcp,
            "search_moments",
            query="founder burnout",
            podcasts=["Ledger Lines"],
            mode="keyword",
        )
        assert found["moments"] and {m["podcast"] for m in found["moments"]} == {"Ledger Lines"}
        dated = await call(mcp, "search_moments", query="burnout", published_after="2030-01-01")
        assert dated["moments"] == []


async def test_a_moment_leads_to_its_transcript(index_root: Path, embedder: HashEmbedder) -> None:
    async with connected(index_root, embedder) as mcp:
        moment = (await call(mcp, "search_moments", query="on-call burnout", limit=1))["moments"][0]
        start, end = max(0.0, moment["start"] - 30), moment["end"] + 30
        transcript = await call(
            mcp, "get_transcript", episode_id=moment["episode_id"], start_s=start, end_s=end
        )
        assert transcript["episode_id"] == moment["episode_id"]
        text = " ".join(p["text"] for p in transcript["passages"])
        assert " ".join(moment["text"].split()[:12]) in text
        assert all(p["speakers"] is not None for p in transcript["passages"])


async def test_list_podcasts_names_the_filter_values(
    index_root: Path, embedder: HashEmbedder
) -> None:
    async with connected(index_root, embedder) as mcp:
        listed = await call(mcp, "list_podcasts")
        names = {p["podcast"] for p in listed["podcasts"]}
        assert names == {"Ledger Lines", "The Night Shift", "Seed & Soil"}


async def test_mistakes_come_back_as_tool_errors_with_the_apis_codes(
    index_root: Path, embedder: HashEmbedder
) -> None:
    async with connected(index_root, embedder) as mcp:
        assert "empty_query" in await error_of(mcp, "search_moments", query="   ")
        assert "episode_not_found" in await error_of(mcp, "get_transcript", episode_id="nope")
        assert "time_range_too_long" in await error_of(
            mcp, "get_transcript", episode_id="night-shift-012", start_s=0, end_s=99999
        )
        assert "limit" in await error_of(mcp, "search_moments", query="x", limit=500)


async def test_a_down_embedder_degrades_to_keyword_and_says_so(
    index_root: Path, embedder: HashEmbedder
) -> None:
    async with connected(index_root, embedder) as mcp:
        embedder.down = True
        found = await call(mcp, "search_moments", query="on-call burnout")
        assert found["mode"] == "keyword" and "embedder unavailable" in found["degraded_reason"]
        assert found["moments"]
