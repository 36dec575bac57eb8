"""Embedding batches: sized by tokens, capped in count, order kept, calls in flight bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from indexer.batching import BatchEmbedder, estimated_tokens, token_batches
from podsearch.contract import InputType
from tests.fakes import HashEmbedder


def test_batches_fill_up_to_the_token_budget_and_the_count_cap() -> None:
    texts = ["x" * 39] * 10  # 10 estimated tokens each
    assert estimated_tokens(texts[0]) == 10
    assert token_batches(texts, max_tokens=30, max_texts=64) == [
        range(0, 3),
        range(3, 6),
        range(6, 9),
        range(9, 10),
    ]
    assert token_batches(texts, max_tokens=1000, max_texts=4) == [
        range(0, 4),
        range(4, 8),
        range(8, 10),
    ]


def test_a_text_over_the_budget_goes_alone_and_nothing_is_lost() -> None:
    texts = ["short", "y" * 4000, "short"]
    assert token_batches(texts, max_tokens=100, max_texts=64) == [
        range(0, 1),
        range(1, 2),
        range(2, 3),
    ]
    assert token_batches([], max_tokens=100, max_texts=64) == []


class SlowEmbedder(HashEmbedder):
    """Counts how many calls overlap (what a pool of remote GPU containers would see)."""

    def __init__(self) -> None:
        super().__init__()
        self.inflight = self.peak = 0

    async def embed(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        await asyncio.sleep(0.01)
        self.inflight -= 1
        return await super().embed(texts, input_type)


async def test_batches_run_concurrently_up_to_the_limit_and_vectors_keep_their_order() -> None:
    embedder = SlowEmbedder()
    batches = BatchEmbedder(embedder, max_tokens=20, max_texts=64, in_flight=3)
    texts = [f"word{i} " * 5 for i in range(40)]
    one, two = await asyncio.gather(batches.embed(texts[:20]), batches.embed(texts[20:]))
    assert one + two == [embedder.vector(t) for t in texts]
    assert embedder.peak == 3  # shared by both episodes
    assert len(embedder.calls) == 40 // 2 and batches.busy.seconds > 0
