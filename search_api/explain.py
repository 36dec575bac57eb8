"""`explain=true`: why each moment ranked where it did, and whether it is a good match at all.

The engine fuses the dense and BM25 branches (and the topic of a templated question, see
`query_understanding`) itself (RRF) and returns only the fused score, so the explanation asks
each branch again on its own, with the same filters and the same candidate depth as the fused
query's prefetches, and reads the rank and score of each moment's best segment (a hybrid search
of one episode also asks each segment's context with every vector: three `context*` branches).
A branch at 1-based rank r adds 1 / (r / w + k - 1) to the fused score (Qdrant's RRF; w is its
weight, 1 but for BM25 under a one-word query); a segment beyond a branch's prefetch adds
nothing from it. Segments with equal branch scores may sit in either order inside the engine's
prefetch, so a rank can be off by one among ties.

`relevance` is `strong` when the best segment's cosine similarity to the question reaches
`strong_cosine` (calibrated on the golden sets with `python -m bench.eval.relevance`), else
`weak`; a client can say "no good match" when even the first moment is weak. Keyword-only
searches have no embedding of the question and so no label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, Field

from podsearch.models import Passages, SegmentHit, SparseVector, StoreQuery
from podsearch.ports import SegmentReader
from search_api.moments import MomentDraft

Relevance = Literal["strong", "weak"]


class BranchRank(BaseModel):
    rank: int = Field(description="1-based rank of the moment's best segment in this branch.")
    score: float = Field(description="Cosine similarity (dense) or BM25 score (keyword).")
    fused: float | None = Field(
        description="What this branch added to the hybrid RRF score; null outside hybrid."
    )


class Explanation(BaseModel):
    dense: BranchRank | None = Field(description="Null when the segment is not in that branch.")
    keyword: BranchRank | None
    topic: BranchRank | None = Field(
        None, description="The question's topic without its template words (hybrid only)."
    )
    context: BranchRank | None = Field(
        None,
        description="The question against the segment's context, its passage widened (hybrid "
        "searches of one episode only); null otherwise.",
    )
    context_topic: BranchRank | None = Field(
        None, description="The question's topic against the segment's context."
    )
    context_keyword: BranchRank | None = Field(
        None, description="The question's BM25 terms against the segment's context."
    )
    relevance: Relevance | None = Field(description="Null for keyword-only searches.")
    within_episode: bool = Field(
        False,
        description="A hybrid search across episodes placed this moment among its episode's "
        "moments by a search of that episode alone (the first episodes of the list): the "
        "branches above are that search's, contexts included, and add up to its score there; "
        "its `score` is the place's.",
    )


def relevance_of(cosine: float | None, strong_cosine: float) -> Relevance | None:
    if cosine is None:
        return None
    return "strong" if cosine >= strong_cosine else "weak"


Ranks = dict[str, tuple[int, float]]  # segment id -> (1-based rank, score) in one branch


def _ranks(hits: Sequence[SegmentHit]) -> Ranks:
    return {hit.id: (rank, hit.score) for rank, hit in enumerate(hits, 1)}


async def _branch_ranks(
    reader: SegmentReader, alone: StoreQuery, sparse: SparseVector | None, hybrid: bool
) -> tuple[Ranks, Ranks, Ranks]:
    """The dense, topic and keyword branches over `alone.passages`, each asked on its own
    (empty where the search has no such branch)."""
    dense: Ranks = {}
    if alone.dense is not None:
        dense = _ranks(await reader.search(replace(alone, sparse=None, dense_topic=None)))
    topic: Ranks = {}
    if alone.dense_topic is not None and hybrid:
        only_topic = replace(alone, dense=alone.dense_topic, dense_topic=None, sparse=None)
        topic = _ranks(await reader.search(only_topic))
    keyword: Ranks = {}
    if sparse is not None and sparse.indices:
        keyword = _ranks(await reader.search(replace(alone, dense=None, sparse=sparse)))
    return dense, topic, keyword


def _branch(ranks: Ranks, segment: str, k: int | None, weight: float = 1.0) -> BranchRank | None:
    if segment not in ranks:
        return None
    rank, score = ranks[segment]
    fused = None if k is None else 1 / (rank / weight + k - 1)
    return BranchRank(rank=rank, score=score, fused=fused)


async def explain_moments(
    reader: SegmentReader,
    fused: StoreQuery,
    sparse: SparseVector | None,
    moments: Sequence[MomentDraft],
    strong_cosine: float,
) -> list[Explanation]:
    """One explanation per moment. `fused` is the query that ranked them; `sparse` the question's
    BM25 terms (also asked in semantic mode, to show how a keyword search would rank it)."""
    hybrid = fused.dense is not None and fused.sparse is not None
    alone = replace(fused, limit=fused.prefetch_limit, score_threshold=None)
    own = replace(alone, passages=Passages.segment)
    dense, topic, keyword = await _branch_ranks(reader, own, sparse, hybrid)
    context_dense: Ranks = {}
    context_topic: Ranks = {}
    context_keyword: Ranks = {}
    if fused.passages is Passages.segment_and_context:
        contexts = replace(alone, passages=Passages.context)
        context_dense, context_topic, context_keyword = await _branch_ranks(
            reader, contexts, sparse, hybrid
        )
    k = fused.rrf_k if hybrid else None
    explained = []
    for moment in moments:
        best = max(moment.hits, key=lambda h: h.score).id  # the seed: hits join best first
        by_dense = _branch(dense, best, k)
        cosine: float | None = None
        if by_dense is not None:
            cosine = by_dense.score
        elif fused.dense is not None:
            # semantic: the moment's score is the cosine; hybrid: beyond the dense candidates
            cosine = -1.0 if hybrid else moment.score
        explained.append(
            Explanation(
                dense=by_dense,
                keyword=_branch(keyword, best, k, fused.keyword_weight),
                topic=_branch(topic, best, k),
                context=_branch(context_dense, best, k),
                context_topic=_branch(context_topic, best, k),
                context_keyword=_branch(context_keyword, best, k, fused.keyword_weight),
                relevance=relevance_of(cosine, strong_cosine),
            )
        )
    return explained
