"""Synthetic segments in podsearch's own schema, for the store benchmarks.

Payloads are real `Segment.payload`s, BM25 vectors come from `Bm25Encoder` over Zipf-distributed
words, and dense vectors are unit vectors of one of two kinds:
- `random`: uniform on the sphere. The worst case for HNSW: every point is about as far from a
  query as every other, so "the" 10 nearest are barely nearer than the rest.
- `lowrank`: a random 32-dimensional subspace plus a little noise. Real sentence embeddings
  have a low intrinsic dimension like this, and HNSW finds their neighbours far more reliably.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from podsearch.models import Episode, Segment, SegmentPoint, SparseVector
from podsearch.stores.schema import Bm25Encoder

VectorKind = Literal["random", "lowrank"]
SEGMENTS_PER_EPISODE = 140  # the Changelog corpus: ~42k segments in 299 episodes
WORDS_PER_SEGMENT = 120
PODCASTS = [f"Podcast {i}" for i in range(10)]
SPEAKERS = [f"Speaker {i}" for i in range(40)]
FINGERPRINT = "x"  # every synthetic episode's; nothing re-indexes them
VOCABULARY = [f"term{rank}" for rank in range(20_000)]
ZIPF = list(accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))  # cumulative
RANK, NOISE = 32, 0.1


class VectorSource(Protocol):
    dim: int
    kind: str

    def sample(self, n: int) -> np.ndarray:
        """The next n unit vectors, one per row."""
        ...


class Vectors:
    """A seeded stream of unit vectors of one kind."""

    def __init__(self, dim: int, kind: VectorKind, seed: int = 0) -> None:
        self.dim, self.kind = dim, kind
        self._rng = np.random.default_rng(seed)
        self._basis = self._rng.standard_normal((RANK, dim), dtype=np.float32)

    def sample(self, n: int) -> np.ndarray:
        if self.kind == "random":
            v = self._rng.standard_normal((n, self.dim), dtype=np.float32)
        else:
            v = self._rng.standard_normal((n, RANK), dtype=np.float32) @ self._basis
            v += NOISE * np.sqrt(RANK / self.dim) * self._rng.standard_normal(v.shape, np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


class Talk:
    """Made-up words with natural-language frequencies; `distinct` texts are reused in turn."""

    def __init__(self, seed: int = 0, distinct: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._distinct = distinct
        self._bm25 = Bm25Encoder()
        self._cache: dict[int, tuple[str, SparseVector]] = {}

    def segment(self, number: int) -> tuple[str, SparseVector]:
        key = number % self._distinct if self._distinct else number
        if key not in self._cache:
            text = " ".join(self._rng.choices(VOCABULARY, cum_weights=ZIPF, k=WORDS_PER_SEGMENT))
            entry = (text, self._bm25.document(text))
            if self._distinct:
                self._cache[key] = entry
            return entry
        return self._cache[key]

    def query(self) -> str:
        return " ".join(self._rng.choices(VOCABULARY[50:5000], k=4))


def episodes(
    segments: int, vectors: VectorSource, talk: Talk, per_episode: int = SEGMENTS_PER_EPISODE
) -> Iterator[tuple[str, list[SegmentPoint]]]:
    """(episode_id, points) until `segments` points were produced."""
    for number, first in enumerate(range(0, segments, per_episode)):
        episode = Episode(
            episode_id=f"bench-{number:06d}",
            podcast=PODCASTS[number % len(PODCASTS)],
            title=f"Episode {number}",
            transcript=Path("synthetic"),
            published=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=number),
            url=f"https://example.org/episodes/{number}",
            audio_url=f"https://example.org/audio/{number}.mp3",
        )
        count = min(per_episode, segments - first)
        dense = vectors.sample(count).tolist()
        said = [talk.segment(first + index) for index in range(count)]
        points = []
        for index, (text, sparse) in enumerate(said):
            pair = SPEAKERS[number % len(SPEAKERS)], SPEAKERS[(number + 1 + index % 2) % 40]
            speakers = tuple(dict.fromkeys(pair))
            segment = Segment(episode, index, index * 40.0, index * 40.0 + 52.0, text, speakers)
            # the context's vectors: the next segment's, so a point costs the store what a real
            # one does (four vectors) without sampling more
            near = min(index + 1, count - 1)
            points.append(
                SegmentPoint(
                    segment.point_id,
                    dense[index],
                    sparse,
                    segment.payload(FINGERPRINT),
                    dense[near],
                    said[near][1],
                )
            )
        yield episode.episode_id, points
