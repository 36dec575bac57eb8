"""Two window sizes fused by time, measured offline: today's 120:30 windows and longer ones.

    python -m bench.eval.granularities --corpus qmsum --other 160:40
    python -m bench.eval.granularities --corpus changelog --episodes 49 --other 160:40

Both indexes must exist under the cache (`python -m bench.eval --window 160 --overlap 40`
builds the second). Each branch (dense or BM25 of either index) is asked on its own, as the
engine's prefetches are; windows of two sizes never share an id, so a candidate scores, per
branch, the best RRF term of that branch's hits that overlap it in time (its own when it is
one). Candidates are then merged into moments as the API merges them. No query understanding
(topic branch, speaker boost) and no sponsor filter: compare the rows with each other, and
`today (by id)` (plain RRF over today's index) with the served figures of `make eval`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace

import qdrant_edge as qe

from bench.eval.corpus import read_questions
from bench.eval.metrics import K, Span, score
from bench.eval.run import eval_embedder
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.report import machine, table
from bench.shards import live_shard
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SegmentHit, StoreQuery
from podsearch.stores.plan import hit
from podsearch.stores.schema import DENSE, SPARSE, Bm25Encoder
from search_api.moments import merge_moments
from search_api.service import depth_for
from search_api.settings import ApiOptions

DEPTH = StoreQuery(limit=depth_for(K + 1, 1)).prefetch_limit
HEADERS = ["scope", "branches", f"MRR@{K}", f"Recall@{K}", "episode MRR", "moment s"]


def branch(
    shard: qe.EdgeShard, using: str, vector: list[float] | qe.SparseVector, flt: qe.Filter | None
) -> list[SegmentHit]:
    request = qe.QueryRequest(
        query=qe.Query.Nearest(vector, using=using), filter=flt, limit=DEPTH, with_payload=True
    )
    return [hit(p.id, p.score, p.payload) for p in shard.query(request) if p.payload]


def by_id(branches: Sequence[list[SegmentHit]], k: int) -> list[Span]:
    """Plain RRF (a point's terms add up only where the same point is in several branches)."""
    fused: dict[str, SegmentHit] = {}
    for hits in branches:
        for rank, h in enumerate(hits, 1):
            before = fused[h.id].score if h.id in fused else 0.0
            fused[h.id] = replace(h, score=before + 1 / (k + rank))
    return [Span(m.episode_id, m.start, m.end) for m in merge_moments(list(fused.values()))[:K]]


def by_time(branches: Sequence[list[SegmentHit]], k: int) -> list[Span]:
    """RRF where a candidate takes, per branch, the best term of the hits overlapping it."""
    terms = []
    for hits in branches:
        per_episode: dict[str, list[tuple[float, float, float]]] = {}
        for rank, h in enumerate(hits, 1):
            per_episode.setdefault(h.episode_id, []).append((h.start, h.end, 1 / (k + rank)))
        terms.append(per_episode)
    candidates = {h.id: h for hits in branches for h in hits}.values()
    fused = [
        replace(
            h,
            score=sum(
                max(
                    (t for a, b, t in per.get(h.episode_id, ()) if a < h.end and h.start < b),
                    default=0.0,
                )
                for per in terms
            ),
        )
        for h in candidates
    ]
    return [Span(m.episode_id, m.start, m.end) for m in merge_moments(fused)[:K]]


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    window, overlap = (int(x) for x in args.other.split(":"))
    other = ChunkerConfig(window_words=window, overlap_words=overlap)
    today = live_shard(args.cache / corpus.label(ChunkerConfig()) / "index")
    longer = live_shard(args.cache / corpus.label(other) / "index")
    questions = read_questions(corpus.questions)
    bm25 = Bm25Encoder()
    k = ApiOptions().rrf_k
    rows = []
    async with eval_embedder(url, args.cache) as embedder:
        dense = [(await embedder.embed([q.text], "query"))[0] for q in questions]
        for scope in ("across", "within"):
            results: dict[str, list[list[Span]]] = {}
            for q, vector in zip(questions, dense, strict=True):
                flt = None
                if scope == "within":
                    match = qe.MatchValue(q.episode_id)
                    flt = qe.Filter(must=[qe.FieldCondition(key="episode_id", match=match)])
                words = bm25.query(q.text)
                sparse = qe.SparseVector(indices=words.indices, values=words.values)
                td, tk = branch(today, DENSE, vector, flt), branch(today, SPARSE, sparse, flt)
                ld, lk = branch(longer, DENSE, vector, flt), branch(longer, SPARSE, sparse, flt)
                variants = {
                    "today (by id)": by_id([td, tk], k),
                    "today": by_time([td, tk], k),
                    f"{args.other}": by_time([ld, lk], k),
                    f"today + {args.other} dense": by_time([td, ld, tk], k),
                    f"today + {args.other}, both branches": by_time([td, ld, tk, lk], k),
                }
                for name, spans in variants.items():
                    results.setdefault(name, []).append(spans)
            for name, res in results.items():
                s = score([(r, list(q.answers)) for r, q in zip(res, questions, strict=True)])
                rows.append([scope, name, s.mrr, s.recall, s.episode_mrr, s.moment_s])
    today.close()
    longer.close()
    print(f"\n{corpus.label(ChunkerConfig())} + {args.other} | {machine()}")
    print(table(HEADERS, rows), flush=True)


def main() -> None:
    parser = tool_parser("python -m bench.eval.granularities", __doc__, corpus="qmsum")
    parser.add_argument("--other", default="160:40", help="window:overlap of the second index")
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
