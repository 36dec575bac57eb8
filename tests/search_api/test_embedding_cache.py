"""The query-embedding cache: LRU order, shared in-flight calls, failures not cached."""

from __future__ import annotations

import asyncio

import pytest

from podsearch.errors import EmbedderUnavailable
from search_api.embedding_cache import QueryEmbeddingCache
from tests.fakes import HashEmbedder


async def test_the_least_recently_used_entry_is_evicted() -> None:
    embedder = HashEmbedder()
    cache = QueryEmbeddingCache(embedder, size=2)
    for query in ("a", "b", "a", "c", "a", "b"):
        await cache.embed(query, "m", "g1")
    assert [n for n, _ in embedder.calls] == [1, 1, 1, 1]  # a, b, c, then b again
    assert (cache.hits, cache.misses) == (2, 4)


async def test_model_and_generation_are_part_of_the_key() -> None:
    embedder = HashEmbedder()
    cache = QueryEmbeddingCache(embedder)
    await cache.embed("q", "m", "g1")
    await cache.embed("q", "m", "g2")
    await cache.embed("q", "other", "g2")
    assert len(embedder.calls) == 3


async def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    embedder = HashEmbedder()
    embedder.down = True
    cache = QueryEmbeddingCache(embedder)
    results = await asyncio.gather(
        *(cache.embed("q", "m", "g") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, EmbedderUnavailable) for r in results)
    embedder.down = False
    vector, hit = await cache.embed("q", "m", "g")
    assert vector and not hit


async def test_a_cancelled_leader_fails_its_waiters_cleanly() -> None:
    class Stuck(HashEmbedder):
        async def embed(self, texts, input_type):  # type: ignore[no-untyped-def]
            await asyncio.sleep(10)

    cache = QueryEmbeddingCache(Stuck())
    leader = asyncio.create_task(cache.embed("q", "m", "g"))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cache.embed("q", "m", "g"))
    await asyncio.sleep(0)
    leader.cancel()
    with pytest.raises(EmbedderUnavailable):
        await waiter
