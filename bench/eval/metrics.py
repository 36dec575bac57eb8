"""Ranking metrics over moments: plain functions on plain data, unit-tested by hand.

A result is relevant when it is in the judged episode and its [start, end] overlaps the judged
[start, end]. Each judged span is credited once (the first result that overlaps it), so two
overlapping moments of the same passage do not count twice and nDCG stays within [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

K = 10


@dataclass(frozen=True)
class Span:
    """A stretch of one episode: a judged answer or a returned moment (seconds)."""

    episode_id: str
    start: float
    end: float

    def overlaps(self, other: Span) -> bool:
        return (
            self.episode_id == other.episode_id
            and self.start < other.end
            and other.start < self.end
        )


def gains(results: Sequence[Span], judged: Sequence[Span], k: int = K) -> list[int]:
    """1 where a top-k result is the first to overlap some judged span, else 0."""
    credited: set[int] = set()
    out = []
    for result in results[:k]:
        fresh = next(
            (i for i, span in enumerate(judged) if i not in credited and result.overlaps(span)),
            None,
        )
        if fresh is not None:
            credited.add(fresh)
        out.append(int(fresh is not None))
    return out


def reciprocal_rank(relevant: Sequence[int | bool]) -> float:
    """1/rank of the first relevant result, 0 when none is."""
    return next((1 / rank for rank, rel in enumerate(relevant, 1) if rel), 0.0)


def recall(results: Sequence[Span], judged: Sequence[Span], k: int = K) -> float:
    """Share of judged spans that some top-k result overlaps."""
    return sum(gains(results, judged, k)) / len(judged)


def ndcg(results: Sequence[Span], judged: Sequence[Span], k: int = K) -> float:
    """Binary-gain nDCG@k; the ideal ranking puts every judged span first."""
    dcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(gains(results, judged, k), 1))
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(judged), k) + 1))
    return dcg / ideal


@dataclass(frozen=True)
class Scores:
    """Means over a question set."""

    questions: int
    mrr: float
    recall: float
    ndcg: float
    episode_mrr: float
    moment_s: float  # mean length of the returned moments: longer ones overlap answers more easily


def score(runs: Sequence[tuple[Sequence[Span], Sequence[Span]]], k: int = K) -> Scores:
    """Scores of (results, judged spans) pairs, one pair per question."""
    if not runs:
        raise ValueError("no questions to score")
    return Scores(
        questions=len(runs),
        mrr=fmean(reciprocal_rank(gains(res, judged, k)) for res, judged in runs),
        recall=fmean(recall(res, judged, k) for res, judged in runs),
        ndcg=fmean(ndcg(res, judged, k) for res, judged in runs),
        episode_mrr=fmean(
            reciprocal_rank([r.episode_id in {j.episode_id for j in judged} for r in res[:k]])
            for res, judged in runs
        ),
        moment_s=fmean([r.end - r.start for res, _ in runs for r in res[:k]] or [0.0]),
    )
