"""Query embeddings, cached: a remote embedding call costs 10-500 ms, a dict lookup microseconds.

An in-process LRU keyed by (normalised query, model, index generation); concurrent identical
queries share one embedder call instead of stampeding it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from podsearch.errors import EmbedderUnavailable
from podsearch.ports import Embedder

Key = tuple[str, str, str]


class QueryEmbeddingCache:
    def __init__(self, embedder: Embedder, size: int = 2048) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[Key, list[float]] = OrderedDict()
        self._in_flight: dict[Key, asyncio.Future[list[float]]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    async def embed(self, query: str, model: str, generation: str) -> tuple[list[float], bool]:
        """The query's vector, and whether it came from the cache (or a call in flight)."""
        key = (query, model, generation)
        if key in self._vectors:
            self._vectors.move_to_end(key)
            self.hits += 1
            return self._vectors[key], True
        if key in self._in_flight:
            self.hits += 1
            return await asyncio.shield(self._in_flight[key]), True
        self.misses += 1
        future: asyncio.Future[list[float]] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            (vector,) = await self._embedder.embed([query], "query")
        except BaseException as exc:
            # Waiters get an embedder error, never the leader's own cancellation.
            shared = exc if isinstance(exc, Exception) else EmbedderUnavailable("query cancelled")
            future.set_exception(shared)
            future.exception()  # retrieved here, so a future nobody awaited does not warn
            raise
        finally:
            del self._in_flight[key]
        future.set_result(vector)
        self._vectors[key] = vector
        if len(self._vectors) > self._size:
            self._vectors.popitem(last=False)
        return vector, False
