"""Where the Edge reader runs a ranking query: on the event loop, or in a worker thread.

The engine runs a query on its own search threads and releases the GIL meanwhile, so running it
inline costs the event loop only the wait. Handing it to a worker thread lets the loop serve
other requests during that wait, but costs a request 0.3-0.4 ms and the server ~0.4 ms of CPU:
more than a whole query on a 10k-segment index. With 16 clients on 2 cores, inline served ~30%
more requests/s than offloading (bench/RESULTS.md). So a query runs inline when it is known to
be short: the recent queries' durations (a moving average) are under `inline_below_s`, about
what a request's own Python work holds the loop for. The first queries of a generation (which
also read where their points sit), every query after a slow one, and deep pages go to a thread;
a million-segment index's queries (5-15 ms) always do, and a 42k one's (~1.8 ms) do once the
machine is busy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

INLINE_BELOW_S = 0.002  # a request's own Python work on the loop: what one query may hold it
INLINE_DEPTH = 100  # candidates: a first page's query; deeper ones may cost several times more
WEIGHT = 0.1  # of the latest duration in the average: one preempted query moves it little;
# after a 50 ms query, ~20 short ones run in threads before queries run inline again

T = TypeVar("T")


class Offload:
    """Runs blocking engine calls for one reader; `in_threads` says how many run in threads."""

    def __init__(self, inline_below_s: float = INLINE_BELOW_S) -> None:
        self._inline_below_s = inline_below_s
        self._recent: float | None = None  # moving average of durations; None: none measured
        self.in_threads = 0

    def forget(self) -> None:
        """Measure again from the next call (a new generation's queries cost what they cost)."""
        self._recent = None

    async def run(self, call: Callable[[], T], inline: bool = True) -> T:
        """`call()`, inline if allowed and known to be short; `inline=False`: a call that may
        well be longer than the ones measured (a deep page), always in a thread."""
        recent = self._recent
        if inline and recent is not None and recent < self._inline_below_s:
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
