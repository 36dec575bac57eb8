"""Per-client token buckets: a burst is fine, a flood gets 429 with Retry-After."""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class RateLimiter:
    """`per_minute` requests a minute per client, with bursts of up to `burst`."""

    def __init__(self, per_minute: float, burst: int, max_clients: int = 100_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def retry_after(self, client: str, now: float | None = None) -> int:
        """0 when the request may proceed (and is counted); else seconds until it may."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            wait = 0
        else:
            self._buckets[client] = (tokens, now)
            wait = max(1, math.ceil((1.0 - tokens) / self._rate))
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)  # forget the least recently seen client
        return wait
