"""Downloading feeds and transcripts politely: conditional GET, size cap, type check, retries.

Every body is cached under `<cache>/<sha256 of the URL><suffix>` with its validators (`ETag`,
`Last-Modified`) in a `.validators.json` beside it, so a daily re-run sends `If-None-Match` /
`If-Modified-Since` and gets `304 Not Modified` for everything unchanged: it downloads only what
changed. A body is cached only once complete, so a crash never leaves a truncated file behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import BaseModel, Field

from podsearch.errors import FeedError

_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# Servers label text loosely; these say nothing about the content, so they never refuse a body.
_GENERIC_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})


class FetchSettings(BaseModel):
    """How the indexer downloads feeds, transcripts and chapters."""

    timeout_s: float = Field(20.0, gt=0, description="Connect/read timeout of one request.")
    retries: int = Field(3, ge=0, le=10, description="Retries after a timeout, 429 or 5xx.")
    backoff_s: float = Field(0.5, ge=0, description="First retry delay; doubles each retry.")
    max_feed_bytes: int = Field(50_000_000, gt=0, description="Largest feed or OPML accepted.")
    concurrency: int = Field(8, ge=1, le=64, description="Downloads in flight at once.")
    user_agent: str = "podsearch-indexer/0.1"


@dataclass
class FetchStats:
    """What the network cost: the figures a daily re-run is judged by."""

    requests: int = 0
    downloaded: int = 0
    not_modified: int = 0
    bytes: int = 0
    retries: int = 0


@dataclass(frozen=True)
class Fetched:
    url: str
    path: Path  # the cached body
    content_type: str
    changed: bool  # False when the server answered 304 Not Modified


class Fetcher:
    """One HTTP client for a run; `fetch` returns a cached file, fresh or revalidated."""

    def __init__(
        self,
        settings: FetchSettings,
        cache: Path,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._cache = cache
        self._slots = asyncio.Semaphore(settings.concurrency)
        self.stats = FetchStats()
        self._client = httpx.AsyncClient(
            timeout=settings.timeout_s,
            follow_redirects=True,
            headers={"User-Agent": settings.user_agent},
            transport=transport,
        )

    async def fetch(
        self, url: str, accept: frozenset[str], max_bytes: int, suffix: str = ".body"
    ) -> Fetched:
        """The body of `url` (cached with `suffix`, which parsers may read the format from);
        FeedError for a refused scheme, type or size, or once the retries are spent."""
        try:
            scheme = httpx.URL(url).scheme
        except httpx.InvalidURL as exc:
            raise FeedError(url, f"invalid URL: {exc}") from exc
        if scheme not in ("http", "https"):
            raise FeedError(url, "only http(s) URLs are fetched")
        entry = self._entry(url, suffix)
        async with self._slots:
            for attempt in range(self._settings.retries + 1):
                if attempt:
                    self.stats.retries += 1
                try:
                    return await self._get(url, entry, accept, max_bytes)
                except _Retryable as exc:
                    if attempt == self._settings.retries:
                        raise FeedError(url, f"{exc} (after {attempt + 1} attempts)") from exc
                    await asyncio.sleep(exc.wait or self._settings.backoff_s * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _get(
        self, url: str, entry: _CacheEntry, accept: frozenset[str], max_bytes: int
    ) -> Fetched:
        self.stats.requests += 1
        try:
            async with self._client.stream("GET", url, headers=entry.conditions()) as response:
                if response.status_code == 304 and entry.validators:
                    self.stats.not_modified += 1
                    kind = entry.validators.get("content_type", "")
                    return Fetched(url, entry.body, kind, changed=False)
                if response.status_code in _RETRY_STATUSES:
                    raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
                if response.status_code != 200:
                    raise FeedError(url, f"HTTP {response.status_code}")
                kind = _media_type(response.headers.get("content-type", ""))
                if kind not in accept and kind not in _GENERIC_TYPES:
                    raise FeedError(url, f"unexpected content type {kind!r}")
                data = await _read_capped(response, url, max_bytes)
                validators = {
                    "etag": response.headers.get("etag", ""),
                    "last_modified": response.headers.get("last-modified", ""),
                    "content_type": kind,
                }
        except httpx.TransportError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:  # too many redirects, undecodable body
            raise FeedError(url, f"{type(exc).__name__}: {exc}") from exc
        self._cache.mkdir(parents=True, exist_ok=True)
        _write_atomically(entry.body, data)
        _write_atomically(entry.meta, json.dumps(validators).encode())
        self.stats.downloaded += 1
        self.stats.bytes += len(data)
        return Fetched(url, entry.body, kind, changed=True)

    def _entry(self, url: str, suffix: str) -> _CacheEntry:
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        body, meta = self._cache / f"{key}{suffix}", self._cache / f"{key}.validators.json"
        return _CacheEntry(body, meta, _read_meta(meta) if body.exists() else {})

    async def aclose(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True)
class _CacheEntry:
    body: Path
    meta: Path
    validators: dict[str, str]

    def conditions(self) -> dict[str, str]:
        """Headers that let the server answer 304 when our cached copy is still current."""
        headers = {}
        if self.validators.get("etag"):
            headers["If-None-Match"] = self.validators["etag"]
        if self.validators.get("last_modified"):
            headers["If-Modified-Since"] = self.validators["last_modified"]
        return headers


class _Retryable(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


async def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    """Refuse early on a declared length, and stop reading the moment the cap is passed."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FeedError(url, f"too large: {declared} bytes (limit {max_bytes})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(url, f"too large: over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(response: httpx.Response) -> float | None:
    """A numeric Retry-After, capped so one server cannot stall the run for long."""
    value = response.headers.get("retry-after", "")
    return min(float(value), 30.0) if value.isdigit() else None


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _read_meta(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
