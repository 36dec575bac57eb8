"""The search API as the MCP server sees it: the same routes, in-process or over the network.

In-process (the default) the API app runs inside the MCP server's process, over the store and
embedder its settings name, and is called through `httpx.ASGITransport`: no socket, and the
same validation, degraded mode and error codes as `GET /search`. With `mcp.api_url` set it is a
running API reached over HTTP. Either way the MCP server loads no model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from podsearch.contract import ErrorBody, ErrorCode
from search_api.app import create_app
from search_api.schemas import PodcastCount, SearchResponse, Transcript
from search_api.settings import ApiSettings

_PODCASTS = TypeAdapter(list[PodcastCount])


class ApiCallFailed(Exception):
    """The API refused or could not answer; `code` is its stable error code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code


class PodsearchApi:
    """Typed calls to the three routes the MCP tools use."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def search(self, params: dict[str, Any]) -> SearchResponse:
        return SearchResponse.model_validate_json(await self._get("/search", params))

    async def transcript(self, episode_id: str, start: float, end: float) -> Transcript:
        path = f"/episodes/{quote(episode_id, safe='')}/transcript"
        return Transcript.model_validate_json(await self._get(path, {"start": start, "end": end}))

    async def podcasts(self) -> list[PodcastCount]:
        return _PODCASTS.validate_json(await self._get("/podcasts", {}))

    async def _get(self, path: str, params: dict[str, Any]) -> bytes:
        """The body of a 200 answer; ApiCallFailed with the API's code otherwise."""
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ApiCallFailed(
                ErrorCode.api_unavailable, f"the search API did not answer ({type(exc).__name__})"
            ) from exc
        if response.status_code != 200:
            try:
                error = ErrorBody.model_validate_json(response.content).error
            except ValidationError:
                raise ApiCallFailed(ErrorCode.http_error, f"HTTP {response.status_code}") from None
            raise ApiCallFailed(error.code, error.message)
        return response.content


@asynccontextmanager
async def open_api(settings: ApiSettings) -> AsyncIterator[PodsearchApi]:
    """The API the settings name: `mcp.api_url`, or an in-process app over the store."""
    timeout = httpx.Timeout(settings.mcp.timeout_s)
    if settings.mcp.api_url:
        async with httpx.AsyncClient(base_url=settings.mcp.api_url, timeout=timeout) as http:
            yield PodsearchApi(http)
        return
    # One caller (the MCP client) in-process: the per-client rate limit has nothing to protect.
    options = settings.api.model_copy(update={"rate_limit_per_minute": 0})
    app = create_app(settings.model_copy(update={"api": options}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://podsearch.in-process", timeout=timeout
        ) as http:
            yield PodsearchApi(http)
