"""Query embeddings, cached: a remote embedding call costs 10-500 ms, a dict lookup microseconds.

An in-process LRU keyed by (normalised query, model, index generation); concurrent identical
queries share one embedder call instead of stampeding it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence

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
        (vector,), hit = await self.embed_all([query], model, generation)
        return vector, hit

    async def embed_all(
        self, queries: Sequence[str], model: str, generation: str
    ) -> tuple[list[list[float]], bool]:
        """The vectors of `queries` (those not cached in one embedder call), and whether all
        came from the cache or from calls in flight."""
        keys = [(query, model, generation) for query in queries]
        found: dict[Key, list[float]] = {}
        waits: dict[Key, asyncio.Future[list[float]]] = {}
        for key in dict.fromkeys(keys):
            if key in self._vectors:
                self._vectors.move_to_end(key)
                found[key] = self._vectors[key]
            elif key in self._in_flight:
                waits[key] = self._in_flight[key]
        self.hits += len(found) + len(waits)
        missing = [key for key in dict.fromkeys(keys) if key not in found and key not in waits]
        if missing:
            found.update(await self._lead(missing))
        for key, future in waits.items():
            found[key] = await asyncio.shield(future)
        return [found[key] for key in keys], not missing

    async def _lead(self, missing: list[Key]) -> dict[Key, list[float]]:
        """One embedder call for `missing`; concurrent callers asking for them wait for it."""
        self.misses += len(missing)
        loop = asyncio.get_running_loop()
        futures = {key: loop.create_future() for key in missing}
        self._in_flight.update(futures)
        try:
            vectors = await self._embedder.embed([key[0] for key in missing], "query")
        except BaseException as exc:
            # Waiters get an embedder error, never the leader's own cancellation.
            shared = exc if isinstance(exc, Exception) else EmbedderUnavailable("query cancelled")
            for future in futures.values():
                future.set_exception(shared)
                future.exception()  # retrieved here, so a future nobody awaited does not warn
            raise
        finally:
            for key in missing:
                del self._in_flight[key]
        fresh = dict(zip(missing, vectors, strict=True))
        for key, vector in fresh.items():
            futures[key].set_result(vector)
            self._vectors[key] = vector
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)
        return fresh
