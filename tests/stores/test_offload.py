"""Ranking queries run on the event loop only while they are known to be short.

The calls are real blocking functions: `time.sleep` stands in for a slow engine query (a query
on a million segments holds its thread the same way). What is checked is the thread each call
ran in and whether another request was answered while a slow one ran.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from podsearch.stores.offload import Offload

BOUND_S = 0.01  # calls under it on average run inline: `short` is microseconds, even on a busy box
SLOW_S = 0.2


def short() -> int:
    return threading.get_ident()


def slow() -> int:
    time.sleep(SLOW_S)
    return threading.get_ident()


async def answered_during(offload: Offload, call: Callable[[], int]) -> bool:
    """Whether another request (a few ms of waiting, then an answer) was answered while the
    call ran."""
    answered: list[float] = []

    async def other_request() -> None:
        await asyncio.sleep(0.005)
        answered.append(time.perf_counter())

    other = asyncio.ensure_future(other_request())
    await asyncio.sleep(0)  # the other request is under way
    await offload.run(call)
    finished = time.perf_counter()
    await other
    return answered[0] < finished


async def measured_short(offload: Offload) -> Offload:
    for _ in range(4):
        await offload.run(short)
    return offload


async def test_short_queries_run_inline_once_measured_short() -> None:
    offload, loop_thread = Offload(BOUND_S), threading.get_ident()
    assert await offload.run(short) != loop_thread  # nothing measured yet: a thread
    await measured_short(offload)
    assert await offload.run(short) == loop_thread
    assert await offload.run(short, inline=False) != loop_thread  # a deep page, say


async def test_the_first_query_goes_to_a_thread_however_long_it_takes() -> None:
    assert await answered_during(Offload(BOUND_S), slow)


async def test_after_a_slow_query_queries_go_to_threads_again() -> None:
    offload, loop_thread = await measured_short(Offload(BOUND_S)), threading.get_ident()
    await offload.run(slow, inline=False)  # a deep page, say
    for _ in range(2):  # the average still remembers it
        assert await offload.run(short) != loop_thread
    assert await answered_during(offload, slow)


async def test_a_short_query_is_answered_while_a_slow_one_runs() -> None:
    offload, loop_thread = await measured_short(Offload(BOUND_S)), threading.get_ident()
    first = asyncio.ensure_future(offload.run(slow, inline=False))
    await asyncio.sleep(0.01)  # the slow query is now in its thread
    assert offload.in_threads == 1
    assert await offload.run(short) == loop_thread  # answered at once, beside it
    assert not first.done()
    await first
    assert offload.in_threads == 0


async def test_a_new_generation_is_measured_again() -> None:
    offload, loop_thread = await measured_short(Offload(BOUND_S)), threading.get_ident()
    offload.forget()  # its first queries also read where their points sit: maybe slow
    assert await offload.run(short) != loop_thread
