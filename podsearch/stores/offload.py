"""Where the Edge reader runs a ranking query: on the event loop, or in a worker thread.

The engine runs a query on its own search threads and releases the GIL meanwhile, so running it
inline costs the event loop only the wait. Handing it to a worker thread lets the loop serve
other requests during that wait, but costs a request 0.3-0.4 ms and the server ~0.4 ms of CPU:
more than a whole query on a 10k-segment index. With 16 clients on 2 cores, inline served ~30%
more requests/s than offloading (bench/RESULTS.md). So a query runs inline when it is known to
be short: the recent durations of queries of its kind (a moving average) are under
`inline_below_s`, about what a request's own Python work holds the loop for. The first queries
of a kind in a generation (which also read where their points sit), every query after a slow
one of its kind, and deep pages go to a thread; a million-segment index's queries (5-15 ms)
always do, and a 42k one's (~1.8 ms) do once the machine is busy.

A kind is what a query's cost depends on besides the index (`query_kind`): how many branches it
fuses and which kinds of filter it applies. Cheap kinds (explain's single-branch queries) do not
vouch for dear ones (six branches within one episode). A phrase filter's cost depends on the
phrase itself, not on its kind, so such a query always goes to a thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from podsearch.stores import plan

INLINE_BELOW_S = 0.002  # a request's own Python work on the loop: what one query may hold it
INLINE_DEPTH = 100  # candidates: a first page's query; deeper ones may cost several times more
WEIGHT = 0.1  # of the latest duration in the average: one preempted query moves it little;
# after a 50 ms query, ~20 short ones of its kind run in threads before they run inline again

T = TypeVar("T")


def query_kind(search: plan.SearchPlan) -> Hashable | None:
    """The queries whose durations are averaged together; None: a query whose cost recent ones
    do not tell (a deep page, a phrase filter), always run in a thread."""
    if search.limit > INLINE_DEPTH or any(isinstance(c, plan.Phrase) for c in search.where):
        return None
    return len(search.branches), frozenset(type(c) for c in search.where)


class Offload:
    """Runs blocking engine calls for one reader; `in_threads` says how many worker threads
    still run one (a cancelled call's thread counts until it is done: it may still use the
    shard)."""

    def __init__(self, inline_below_s: float = INLINE_BELOW_S) -> None:
        self._inline_below_s = inline_below_s
        self._recent: dict[Hashable, float] = {}  # per kind: moving average of durations
        self._epoch = 0  # bumped by `forget`: calls started before it are not measured
        self.in_threads = 0

    def forget(self) -> None:
        """Measure again from the next call (a new generation's queries cost what they cost);
        calls still running on the old generation will not count."""
        self._recent = {}
        self._epoch += 1

    async def run(self, call: Callable[[], T], kind: Hashable | None) -> T:
        """`call()`, inline if calls of its `kind` are known to be short, else in a thread."""
        recent = None if kind is None else self._recent.get(kind)
        if recent is not None and recent < self._inline_below_s:
            result, seconds = _timed(call)
            self._measured(kind, seconds)
            return result
        future, epoch = asyncio.get_running_loop().run_in_executor(None, _timed, call), self._epoch
        self.in_threads += 1
        future.add_done_callback(lambda done: self._thread_done(done, kind, epoch))
        # shielded: cancelling the request must not cancel `future`, whose callback would then
        # run at once while its thread still queries the shard
        result, _ = await asyncio.shield(future)
        return result

    def _thread_done(
        self, done: asyncio.Future[tuple[T, float]], kind: Hashable | None, epoch: int
    ) -> None:
        """On the loop's thread, once the worker thread is done (its call awaited or not)."""
        self.in_threads -= 1
        if not done.cancelled() and done.exception() is None and epoch == self._epoch:
            self._measured(kind, done.result()[1])

    def _measured(self, kind: Hashable | None, seconds: float) -> None:
        if kind is not None:
            recent = self._recent.get(kind)
            self._recent[kind] = seconds if recent is None else recent + WEIGHT * (seconds - recent)


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    """The call and its own duration (not a thread's handoff: what the loop would be held for
    inline; in a thread it also includes waits for the GIL, which errs towards threads)."""
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started
