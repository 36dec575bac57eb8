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


async def test_the_texts_of_one_search_share_one_call_and_are_cached_one_by_one() -> None:
    embedder = HashEmbedder()
    cache = QueryEmbeddingCache(embedder)
    vectors, hit = await cache.embed_all(["question", "topic"], "m", "g")
    assert embedder.calls == [(2, "query")] and not hit
    assert vectors == [embedder.vector("question"), embedder.vector("topic")]
    again, hit = await cache.embed_all(["topic", "other"], "m", "g")
    assert embedder.calls[1:] == [(1, "query")] and not hit  # only "other" was asked
    assert again[0] == vectors[1]
    assert (await cache.embed_all(["question", "other"], "m", "g"))[1]
    assert (cache.hits, cache.misses) == (3, 3)


async def test_a_search_waits_for_the_texts_another_search_is_embedding() -> None:
    embedder = HashEmbedder()
    cache = QueryEmbeddingCache(embedder)
    first, second = await asyncio.gather(
        cache.embed_all(["question", "topic"], "m", "g"), cache.embed_all(["topic"], "m", "g")
    )
    assert embedder.calls == [(2, "query")]
    assert second == ([first[0][1]], True)
