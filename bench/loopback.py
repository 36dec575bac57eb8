"""Loopback HTTP for the API benchmarks: one keep-alive connection per client on asyncio
streams, latency of several paths asked in turn and requests/s under concurrent clients."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: an httpx client in this process
    costs about as much CPU per request as the server, which would be timed with it."""

    def __init__(self, url: str) -> None:
        self.host, self.port = url.removeprefix("http://").split(":")
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, query: str) -> tuple[bool, bytes]:
        """(status was 200, body) of GET /search?q=query."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, int(self.port))
        reader, writer = self._streams
        target = f"/search?{urlencode({'q': query})}"
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        return head.startswith(b"HTTP/1.1 200"), await reader.readexactly(length)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()


Timer = Callable[[str], Awaitable[float]]  # seconds one path takes to answer a question


def http_timer(connection: Connection) -> Timer:
    """GET /search over one keep-alive connection, timed from request to last body byte."""

    async def timed(query: str) -> float:
        started = time.perf_counter()
        ok, _ = await connection.get(query)
        taken = time.perf_counter() - started
        assert ok
        return taken

    return timed


async def time_in_turn(timers: list[Timer], asked: list[str], repeat: int) -> list[list[float]]:
    """Latency per path, each asked the same question in turn, the best of `repeat`: the
    shared machine's load drifts and comes in bursts, so paths are compared question by
    question, never phase by phase. Each path answers every distinct question once first
    (the API's query-embedding cache is warm: we measure the hit path)."""
    for timer in timers:
        for q in dict.fromkeys(asked):
            await timer(q)
    samples: list[list[float]] = [[] for _ in timers]
    for q in asked:
        for timer, taken in zip(timers, samples, strict=True):
            taken.append(min([await timer(q) for _ in range(repeat)]))
    return samples


async def stage_timings(url: str, asked: list[str]) -> dict[str, float]:
    """Mean milliseconds per stage, as the API reports them in `timings`."""
    totals: dict[str, float] = {}
    connection = Connection(url)
    try:
        for q in asked:
            for stage, ms in json.loads((await connection.get(q))[1])["timings"].items():
                totals[stage] = totals.get(stage, 0.0) + ms
    finally:
        connection.close()
    return {stage: ms / len(asked) for stage, ms in totals.items()}


async def load(url: str, asked: list[str], clients: int, seconds: float) -> tuple[float, int]:
    """Requests/s and errors with `clients` concurrent keep-alive connections."""
    done = errors = 0
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done, errors
        connection, i = Connection(url), offset
        try:
            while time.perf_counter() < stop:
                ok, _ = await connection.get(asked[i % len(asked)])
                errors += not ok
                done += 1
                i += clients
        finally:
            connection.close()

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return done / seconds, errors
