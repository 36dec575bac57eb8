"""The API's calls to the embedder (and its reranker) under a deadline, and what a client is told
when they fail.

A deadline that expires cancels the embedder call from outside, which the circuit breaker cannot
tell from a caller walking away; `within_deadline` tells it, so a hung embedder opens the circuit
as a dead one does and later searches degrade at once instead of each waiting out the deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from podsearch.circuit import CircuitBreaker
from podsearch.contract import EmbeddingRecipe
from podsearch.errors import (
    CircuitOpen,
    EmbedderAuthFailed,
    EmbedderResponseInvalid,
    EmbedderUnavailable,
)
from podsearch.ports import Embedder

T = TypeVar("T")


async def within_deadline(
    circuit: CircuitBreaker | None, deadline_s: float, work: Callable[[], Awaitable[T]]
) -> T:
    """`work()` (calls behind `circuit`: a RemoteEmbedder's `circuit` or `rerank_circuit`)
    bounded by `deadline_s`; expiry counts on that circuit."""
    try:
        async with asyncio.timeout(deadline_s):
            return await work()
    except TimeoutError:
        if circuit is not None:
            circuit.record_timeout(f"no answer within {deadline_s:g} s")
        raise


async def probe(embedder: Embedder, deadline_s: float) -> EmbeddingRecipe:
    """A real, bounded query embedding: proves the embedder answers, accepts our token and
    still produces valid vectors (its recipe alone is cached, and needs no token)."""

    async def embed_one() -> EmbeddingRecipe:
        await embedder.embed(["is the embedder ready"], "query")
        return await embedder.recipe()

    return await within_deadline(getattr(embedder, "circuit", None), deadline_s, embed_one)


def why_degraded(exc: Exception, deadline_s: float) -> str:
    """What a client may know of an embedder failure: its kind, not our URLs or internals."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {deadline_s:g} s"
    if isinstance(exc, CircuitOpen):
        return "circuit open after repeated failures"
    if isinstance(exc, EmbedderAuthFailed):
        return "it refused our token"
    if isinstance(exc, EmbedderResponseInvalid):
        return "invalid vectors"
    return "unreachable" if isinstance(exc, EmbedderUnavailable) else "it refused the query"
