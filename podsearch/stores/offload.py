"""Where the Edge reader runs a ranking query: in a worker thread, or on the event loop.

In a worker thread the event loop keeps serving other requests while the engine works (it
releases the GIL), but the handoff costs a request 0.3-0.4 ms: most of what a whole query costs
on a 10k-segment index. So a query runs inline only when it is known to be short: no other
query is in a worker thread, and the recent queries were short (a moving average of their
durations under `inline_below_s`). The first queries, every query while another is in a
thread, every query after a slow one, and deep pages (more candidates than a first page's) go
to a thread, so the event loop is held at most about `inline_below_s` by a query of a size it
has seen; on a 42k or a million-segment index every query is offloaded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

INLINE_BELOW_S = 0.001  # a few thread handoffs: what an idle server may hold its loop for
INLINE_DEPTH = 100  # candidates: a first page's query; deeper ones may cost several times more
WEIGHT = 0.2  # of the latest duration in the average: after a 50 ms query, ~11 short ones run
# in threads before queries run inline again

T = TypeVar("T")


class Offload:
    """Runs blocking engine calls for one reader; `in_threads` says how many run in threads."""

    def __init__(self, inline_below_s: float = INLINE_BELOW_S) -> None:
        self._inline_below_s = inline_below_s
        self._recent: float | None = None  # moving average of durations; None: none measured
        self.in_threads = 0

    async def run(self, call: Callable[[], T], inline: bool = True) -> T:
        """`call()`, inline if allowed and known to be short; `inline=False`: a call that may
        well be longer than the ones measured (a deep page), always in a thread."""
        recent = self._recent
        if inline and not self.in_threads and recent is not None and recent < self._inline_below_s:
            return self._timed(call)
        self.in_threads += 1
        try:
            return await asyncio.to_thread(self._timed, call)
        finally:
            self.in_threads -= 1

    def _timed(self, call: Callable[[], T]) -> T:
        """The call, its own duration measured (not a thread's handoff: what the loop would
        be held for inline). From a worker thread too: a lost update only skips one sample."""
        started = time.perf_counter()
        try:
            return call()
        finally:
            seconds, recent = time.perf_counter() - started, self._recent
            self._recent = seconds if recent is None else recent + WEIGHT * (seconds - recent)
