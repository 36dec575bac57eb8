"""Several granularities, measured offline against the served ranking (query understanding on).

    python -m bench.eval.context_shard --corpus qmsum --widths 20,40      # first: embeds
    python -m bench.eval.context_shard --corpus changelog --episodes 49 --widths 20,40
    python -m bench.eval.granularities --corpus qmsum --other 160:40
    python -m bench.eval.granularities --corpus changelog --episodes 49 --other 160:40

Every variant asks what the service asks (the question's dense and BM25 branches, a templated
question's topic as a second dense branch, the BM25 weight of a one-word query, no sponsor
reads), boosts named speakers (`search_api.ranking`) and merges moments as the API does;
`served` replays `SearchService` (checked against it). Two designs add coarser granularity:

- A (time): a second index of longer windows (`--other`, built by `python -m bench.eval --window
  160 --overlap 40`), its branches asked on their own. Windows of two sizes never share an id, so
  a candidate scores, per branch, the best RRF term of that branch's hits overlapping it in time.
- B, C (context): today's points, each with context vectors beside its own (`context_shard`: the
  embedding and BM25 of the segment widened by N words a side (B), or the mean of its vector and
  its neighbours' (C)): the same ids, so the extra branches are prefetches of the engine's RRF.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import qdrant_edge as qe

from bench.eval.context_shard import MEAN, ctx_dense, ctx_sparse, open_context_shard
from bench.eval.corpus import Question, read_questions
from bench.eval.feedback import compared
from bench.eval.metrics import K, Span, gains, reciprocal_rank, score
from bench.eval.run import eval_embedder, open_service, run_questions
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.report import machine, table
from bench.shards import live_shard
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SegmentHit, StoreQuery
from podsearch.sponsors import AD_FIELD
from podsearch.stores.plan import RANK_KEYS, hit, ranked
from podsearch.stores.schema import DENSE, SPARSE, Bm25Encoder
from search_api.moments import merge_moments
from search_api.query_understanding import read_query
from search_api.ranking import boost_named_speakers
from search_api.schemas import SearchMode
from search_api.service import depth_for
from search_api.settings import ApiOptions

DEPTH = depth_for(K + 1, 1)
PREFETCH = StoreQuery(limit=DEPTH).prefetch_limit
HEADERS = ["scope", "variant", f"MRR@{K}", "change", "95% interval", "up", "down", f"Recall@{K}"]
Vector = list[float] | qe.SparseVector


@dataclass(frozen=True)
class Asked:
    """One question's vectors: the question, its topic (None without a template), BM25."""

    question: Question
    dense: list[float]
    topic: list[float] | None
    bm25: qe.SparseVector
    keyword_weight: float

    def branches(
        self, dense: str, sparse: str | None, weight: float = 1.0
    ) -> list[tuple[str, Vector, float]]:
        """The service's branches on the named dense (and BM25) vectors, RRF weight `weight`."""
        out: list[tuple[str, Vector, float]] = [(dense, self.dense, weight)]
        if self.topic is not None:
            out.append((dense, self.topic, weight))
        if sparse is not None and self.bm25.indices:
            out.append((sparse, self.bm25, self.keyword_weight * weight))
        return out


def _filter(q: Question, within: bool) -> qe.Filter:
    must = [qe.FieldCondition(key="episode_id", match=qe.MatchValue(q.episode_id))]
    no_ads = [qe.FieldCondition(key=AD_FIELD, match=qe.MatchValue(1))]
    return qe.Filter(must=must if within else [], must_not=no_ads)


def fused(
    shard: qe.EdgeShard, branches: list[tuple[str, Vector, float]], flt: qe.Filter, k: int
) -> list[SegmentHit]:
    """The engine's RRF over the branches, as `stores.edge` asks it."""
    prefetches = [
        qe.Prefetch(limit=PREFETCH, query=qe.Query.Nearest(v, using=u), filter=flt)
        for u, v, _ in branches
    ]
    weights = [w for _, _, w in branches]
    fusion: qe.Fusion.Rrf = qe.Fusion.Rrf(k=k, weights=None if len(set(weights)) == 1 else weights)
    request = qe.QueryRequest(
        query=fusion, prefetches=prefetches, filter=flt, limit=DEPTH, with_payload=list(RANK_KEYS)
    )
    return ranked(hit(p.id, p.score, p.payload) for p in shard.query(request))


def nearest(
    shard: qe.EdgeShard, tag: str, branch: tuple[str, Vector, float], flt: qe.Filter
) -> tuple[list[SegmentHit], float]:
    """One branch asked on its own (ids tagged: two indexes reuse ids), and its RRF weight."""
    using, vector, weight = branch
    request = qe.QueryRequest(
        query=qe.Query.Nearest(vector, using=using),
        filter=flt,
        limit=PREFETCH,
        with_payload=list(RANK_KEYS),
    )
    return [hit(f"{tag}{p.id}", 0.0, p.payload) for p in shard.query(request)], weight


def by_time(branches: Sequence[tuple[list[SegmentHit], float]], k: int) -> list[SegmentHit]:
    """RRF where a candidate takes, per branch (hits best first, weight), the best term of the
    hits overlapping it in time (the engine's term: rank r adds 1 / (r / weight + k - 1))."""
    terms = []
    for hits, weight in branches:
        per_episode: dict[str, list[tuple[float, float, float]]] = {}
        for rank, h in enumerate(hits, 1):
            term = 1 / (rank / weight + k - 1)
            per_episode.setdefault(h.episode_id, []).append((h.start, h.end, term))
        terms.append(per_episode)

    def overlapping(h: SegmentHit) -> float:
        return sum(
            max(
                (t for a, b, t in per.get(h.episode_id, ()) if a < h.end and h.start < b), default=0
            )
            for per in terms
        )

    candidates = {h.id: h for hits, _ in branches for h in hits}.values()
    return ranked(h._replace(score=overlapping(h)) for h in candidates)[:DEPTH]


Ranker = Callable[[Asked, qe.Filter], list[SegmentHit]]


def variants(
    ctx: qe.EdgeShard, today: qe.EdgeShard, other: qe.EdgeShard | None, widths: list[int], k: int
) -> dict[str, Ranker]:
    """Name -> ranking; `served` first (the baseline of the up/down counts)."""
    out: dict[str, Ranker] = {
        "served": lambda a, f: fused(ctx, a.branches(DENSE, SPARSE), f, k),
        "C: + mean of neighbours (q, topic)": lambda a, f: fused(
            ctx, a.branches(DENSE, SPARSE) + a.branches(MEAN, None), f, k
        ),
        "C: + mean of neighbours x0.5": lambda a, f: fused(
            ctx, a.branches(DENSE, SPARSE) + a.branches(MEAN, None, 0.5), f, k
        ),
    }
    for w in widths:
        d, s = ctx_dense(w), ctx_sparse(w)
        out |= {
            f"B{w}: + ctx dense (q, topic)": lambda a, f, d=d: fused(
                ctx, a.branches(DENSE, SPARSE) + a.branches(d, None), f, k
            ),
            f"B{w}: + ctx dense x0.5": lambda a, f, d=d: fused(
                ctx, a.branches(DENSE, SPARSE) + a.branches(d, None, 0.5), f, k
            ),
            f"B{w}: + ctx dense + ctx BM25": lambda a, f, d=d, s=s: fused(
                ctx, a.branches(DENSE, SPARSE) + a.branches(d, s), f, k
            ),
            f"B{w}: + ctx dense + ctx BM25 x0.5": lambda a, f, d=d, s=s: fused(
                ctx, a.branches(DENSE, SPARSE) + a.branches(d, s, 0.5), f, k
            ),
            f"B{w}: + ctx dense (q only) + ctx BM25": lambda a, f, d=d, s=s: fused(
                ctx,
                [*a.branches(DENSE, SPARSE), (d, a.dense, 1.0), (s, a.bm25, a.keyword_weight)],
                f,
                k,
            ),
            f"B{w}: + ctx dense + ctx BM25, untemplated only": lambda a, f, d=d, s=s: fused(
                ctx, a.branches(DENSE, SPARSE) + (a.branches(d, s) if a.topic is None else []), f, k
            ),
            f"B{w}: + ctx BM25 only": lambda a, f, s=s: fused(
                ctx, [*a.branches(DENSE, SPARSE), (s, a.bm25, a.keyword_weight)], f, k
            ),
            f"B{w}: ctx dense instead of own": lambda a, f, d=d: fused(
                ctx, a.branches(d, SPARSE), f, k
            ),
        }
    if other is not None:
        out["A: today by time"] = lambda a, f: by_time(
            [nearest(today, "", b, f) for b in a.branches(DENSE, SPARSE)], k
        )
        out["A: today + longer by time"] = lambda a, f: by_time(
            [nearest(today, "", b, f) for b in a.branches(DENSE, SPARSE)]
            + [nearest(other, "L", b, f) for b in a.branches(DENSE, SPARSE)],
            k,
        )
    return out


def _spans(a: Asked, hits: list[SegmentHit]) -> list[Span]:
    moments = merge_moments(boost_named_speakers(a.question.text, hits))
    return [Span(m.episode_id, m.start, m.end) for m in moments[:K]]


def _rr(spans: list[Span], q: Question) -> float:
    return reciprocal_rank(gains(spans, list(q.answers)))


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    label = corpus.label(ChunkerConfig())
    index = args.cache / label / "index"
    ctx, held = open_context_shard(args.cache / f"{label}-context")
    widths = sorted(set(args.widths) & set(held))
    today = live_shard(index)
    other = None
    if args.other:
        window, overlap = (int(x) for x in args.other.split(":"))
        longer = ChunkerConfig(window_words=window, overlap_words=overlap)
        other = live_shard(args.cache / corpus.label(longer) / "index")
    questions = read_questions(corpus.questions)
    bm25 = Bm25Encoder()
    k = ApiOptions().rrf_k
    async with eval_embedder(url, args.cache) as embedder:
        asked = []
        for q in questions:
            reading = read_query(q.text)
            texts = reading.dense_texts(SearchMode.hybrid)
            vectors = await embedder.embed(texts, "query")
            words = bm25.query(q.text)
            sparse = qe.SparseVector(indices=words.indices, values=words.values)
            topic = vectors[1] if len(vectors) > 1 else None
            asked.append(Asked(q, vectors[0], topic, sparse, reading.keyword_weight))
        async with open_service(index, embedder) as service:
            served = await run_questions(service, questions, SearchMode.hybrid)
    rankers = variants(ctx, today, other, widths, k)
    for a in asked:  # warm up: the first pass reads the shards from disk
        for rank in rankers.values():
            rank(a, _filter(a.question, True))
    rows = []
    for scope in ("across", "within"):
        baseline: list[float] = []
        for name, rank in rankers.items():
            started = time.perf_counter()
            hits = [rank(a, _filter(a.question, scope == "within")) for a in asked]
            ms = (time.perf_counter() - started) * 1000 / len(asked)  # the engine's part
            got = [_spans(a, h) for a, h in zip(asked, hits, strict=True)]
            if name == "served" and scope == "across":
                same = sum(g == s for g, s in zip(got, served, strict=True))
                print(f"served replay = SearchService in {same}/{len(questions)}", flush=True)
            rr = [_rr(g, q) for g, q in zip(got, questions, strict=True)]
            baseline = baseline or rr
            s = score([(g, list(q.answers)) for g, q in zip(got, questions, strict=True)])
            row = [scope, name, s.mrr, *compared(baseline, rr), s.recall, s.episode_mrr]
            rows.append([*row, s.moment_s, ms])
    for shard in (ctx, today, other):
        if shard is not None:
            shard.close()
    print(f"\n{label} (+{args.other or 'no other index'}, widths {widths}) | {machine()}")
    print(table([*HEADERS, "episode MRR", "moment s", "ranking ms"], rows), flush=True)


def main() -> None:
    parser = tool_parser("python -m bench.eval.granularities", __doc__, corpus="qmsum")
    parser.add_argument("--other", default="160:40", help="window:overlap of a second index")
    parser.add_argument(
        "--widths",
        type=lambda text: [int(w) for w in text.split(",") if w],
        default=[20, 40],
        help="context widths to ask, of those the context shard holds",
    )
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
