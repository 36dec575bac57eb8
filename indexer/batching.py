"""Embedding an episode in batches sized by a token budget, several batches in flight.

A count of texts is a poor batch size: a model's cost grows with tokens, and transcripts mix
one-word cues with long monologues. Batches here hold at most `max_tokens` (estimated at four
characters a token, the usual English ratio for WordPiece/BPE vocabularies) and at most
`max_texts`. With a remote GPU embedder, up to `in_flight` batches (shared by every episode of the
run) are sent at once, so several containers work at the same time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from podsearch.ports import Embedder

CHARS_PER_TOKEN = 4


def estimated_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def token_batches(texts: Sequence[str], max_tokens: int, max_texts: int) -> list[range]:
    """Consecutive index ranges; a text longer than the budget gets a batch of its own."""
    batches: list[range] = []
    start = tokens = 0
    for index, text in enumerate(texts):
        cost = estimated_tokens(text)
        if index > start and (tokens + cost > max_tokens or index - start >= max_texts):
            batches.append(range(start, index))
            start, tokens = index, 0
        tokens += cost
    if start < len(texts):
        batches.append(range(start, len(texts)))
    return batches


class BusyClock:
    """Measures how long at least one call was in flight, however many overlap."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._inflight = 0
        self._since = 0.0

    def __enter__(self) -> None:
        if self._inflight == 0:
            self._since = time.perf_counter()
        self._inflight += 1

    def __exit__(self, *exc: object) -> None:
        self._inflight -= 1
        if self._inflight == 0:
            self.seconds += time.perf_counter() - self._since


class BatchEmbedder:
    """Embeds documents in token-budget batches, at most `in_flight` calls at once."""

    def __init__(self, embedder: Embedder, max_tokens: int, max_texts: int, in_flight: int) -> None:
        self._embedder = embedder
        self._max_tokens = max_tokens
        self._max_texts = max_texts
        self._slots = asyncio.Semaphore(in_flight)
        self.busy = BusyClock()  # the embedder's share of the run's wall time
        self.texts = 0  # embedded so far

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        async def one(batch: range) -> list[list[float]]:
            async with self._slots:
                with self.busy:
                    vectors = await self._embedder.embed([texts[i] for i in batch], "document")
            self.texts += len(batch)
            return vectors

        batches = token_batches(texts, self._max_tokens, self._max_texts)
        parts = await asyncio.gather(*(one(batch) for batch in batches))
        return [vector for part in parts for vector in part]
