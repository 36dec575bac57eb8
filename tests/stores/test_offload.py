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

import pytest

from podsearch.models import Passages, SearchFilters, SparseVector, StoreQuery
from podsearch.stores import plan
from podsearch.stores.offload import Offload, query_kind

BOUND_S = 0.01  # calls under it on average run inline: `short` is microseconds, even on a busy box
SLOW_S = 0.2
KIND = "hybrid"  # any hashable: the kind of query these calls stand for


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
    await offload.run(call, KIND)
    finished = time.perf_counter()
    await other
    return answered[0] < finished


async def measured_short(offload: Offload) -> Offload:
    for _ in range(4):
        await offload.run(short, KIND)
    return offload


async def test_short_queries_run_inline_once_measured_short() -> None:
    offload, loop_thread = Offload(BOUND_S), threading.get_ident()
    assert await offload.run(short, KIND) != loop_thread  # nothing measured yet: a thread
    await measured_short(offload)
    assert await offload.run(short, KIND) == loop_thread
    assert await offload.run(short, None) != loop_thread  # a deep page, say


async def test_the_first_query_goes_to_a_thread_however_long_it_takes() -> None:
    assert await answered_during(Offload(BOUND_S), slow)


async def test_after_a_slow_query_queries_go_to_threads_again() -> None:
    offload, loop_thread = await measured_short(Offload(BOUND_S)), threading.get_ident()
    await offload.run(slow, KIND)  # inline: nothing said it would be slow
    for _ in range(2):  # the average still remembers it
        assert await offload.run(short, KIND) != loop_thread
    assert await answered_during(offload, slow)


async def test_a_short_query_is_answered_while_a_slow_one_runs() -> None:
    offload, loop_thread = await measured_short(Offload(BOUND_S)), threading.get_ident()
    first = asyncio.ensure_future(offload.run(slow, None))
    await asyncio.sleep(0.01)  # the slow query is now in its thread
    assert offload.in_threads == 1
    assert await offload.run(short, KIND) == loop_thread  # answered at once, beside it
    assert not first.done()
    await first
    assert offload.in_threads == 0


async def test_a_new_generation_is_measured_again() -> None:
    offload, loop_thread = await measured_short(Offload(BOUND_S)), threading.get_ident()
    offload.forget()  # its first queries also read where their points sit: maybe slow
    assert await offload.run(short, KIND) != loop_thread


async def test_each_kind_of_query_is_measured_on_its_own() -> None:
    offload, loop_thread = await measured_short(Offload(BOUND_S)), threading.get_ident()
    assert await offload.run(short, "six branches") != loop_thread  # not vouched for by KIND
    await offload.run(slow, "six branches")
    assert await offload.run(short, KIND) == loop_thread  # nor held back by a dearer kind


def kind(limit: int = 10, passages: Passages = Passages.segment, **filters: object) -> object:
    query = StoreQuery(
        limit,
        dense=[0.1, 0.2],
        sparse=SparseVector(indices=[3], values=[1.0]),
        passages=passages,
        filters=SearchFilters(**filters),  # type: ignore[arg-type]
    )
    search = plan.plan_search(query)
    assert search is not None
    return query_kind(search)


def test_queries_are_of_one_kind_when_they_fuse_and_filter_alike() -> None:
    assert kind(podcasts=("changelog",)) == kind(podcasts=("jsparty", "gotime"))
    assert kind() != kind(passages=Passages.segment_and_context)  # two branches, four
    assert kind() != kind(podcasts=("changelog",))
    assert kind(limit=10) == kind(limit=100)


def test_deep_pages_and_phrase_filters_always_run_in_threads() -> None:
    assert kind(limit=101) is None
    assert kind(phrases=("open source",)) is None


async def test_a_query_on_the_old_generation_does_not_count_for_the_new_one() -> None:
    offload, loop_thread = Offload(1.0), threading.get_ident()
    release = threading.Event()
    old = asyncio.ensure_future(offload.run(lambda: release.wait(5), KIND))  # short, in a thread
    await asyncio.sleep(0.01)
    offload.forget()  # the pointer moved while it ran
    release.set()
    await old
    assert await offload.run(short, KIND) != loop_thread  # the new generation: not yet measured


async def test_a_cancelled_query_counts_until_its_thread_is_done() -> None:
    offload, release = Offload(BOUND_S), threading.Event()
    query = asyncio.ensure_future(offload.run(lambda: release.wait(5), KIND))
    await asyncio.sleep(0.01)  # the query is now in its thread
    query.cancel()  # the client went away
    with pytest.raises(asyncio.CancelledError):
        await query
    assert offload.in_threads == 1  # its thread still uses the shard: not to be closed yet
    release.set()
    for _ in range(500):
        if not offload.in_threads:
            break
        await asyncio.sleep(0.01)
    assert offload.in_threads == 0
