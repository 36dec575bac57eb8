"""Pseudo-relevance feedback and moment scoring, measured offline on the eval indexes.

    python -m bench.eval.feedback --corpus qmsum
    python -m bench.eval.feedback --corpus changelog --episodes 49

Each variant re-asks the golden questions of an index `make eval` built, the way `SearchService`
does (the same reading of the question, depth, filters, speaker lift and moment merging), across
the corpus and within the judged episode; only the question vectors are embedded (cached).
Feedback reads the first search's best `n` segments, then searches again: dense Rocchio moves
the question's vector towards the mean of their stored vectors (weight `a`), RM3-style expansion
adds their `t` strongest BM25 terms to the keyword query (the strongest at weight `b`, a
question word weighs 1), either in place of the question's BM25 query or as one more list fused
beside the service's own (RRF in Python, with its reference row). Moment scoring ranks a moment
by the sum, or a decayed sum, of its segments' fused scores instead of its best one. Each row
has the change in MRR@10 against the service's ranking with a paired-bootstrap 95% interval,
and how many questions moved up and down (on 60 questions one question moving from rank 2 to 1
is 0.008).
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import fmean

import qdrant_edge as qe

from bench.eval.build import prepare_index
from bench.eval.corpus import Question, read_questions
from bench.eval.metrics import K, Span, gains, reciprocal_rank, score
from bench.eval.run import eval_embedder, open_service
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.report import machine, table
from bench.shards import live_shard
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SearchFilters, SegmentHit, SparseVector, StoreQuery
from podsearch.stores.schema import DENSE, Bm25Encoder
from search_api.moments import MomentDraft, merge_moments
from search_api.query_understanding import read_query
from search_api.ranking import boost_named_speakers
from search_api.schemas import SearchMode
from search_api.service import MAX_DEPTH, SearchService, depth_for

Aggregate = Callable[[list[float]], float]  # a moment's segment scores, best first -> its score


@dataclass(frozen=True)
class Variant:
    label: str
    segments: int = 0  # feedback segments n; 0: no second search
    alpha: float = 0.0  # Rocchio weight a
    terms: int = 0  # expansion terms t
    weight: float = 0.6  # the strongest expansion term's weight b
    aggregate: Aggregate | None = None  # None: a moment scores as its best segment
    lists: int = 0  # 0: the engine fuses; 2: RRF in Python; 3: the expanded BM25 query added


def decayed(factor: float) -> Aggregate:
    return lambda scores: sum(s * factor**i for i, s in enumerate(scores))


VARIANTS = [
    Variant("service (no feedback)"),
    *(Variant(f"Rocchio n{n} a{a}", n, alpha=a) for n in (3, 5, 10) for a in (0.3, 0.6, 1.0)),
    *(Variant(f"RM3 n{n} t10 b{b}", n, terms=10, weight=b) for n in (3, 5, 10) for b in (0.3, 0.6)),
    Variant("RM3 n5 t20 b0.6", 5, terms=20),
    Variant("Rocchio a0.3 + RM3 b0.6, n5 t10", 5, alpha=0.3, terms=10),
    Variant("the service's lists fused in Python (reference)", lists=2),
    *(Variant(f"+ RM3 n{n} t10 b0.6 as one more list", n, terms=10, lists=3) for n in (3, 5)),
    Variant("moment = sum of its segments", aggregate=sum),
    *(Variant(f"moment = decayed sum x{f}", aggregate=decayed(f)) for f in (0.2, 0.4)),
]


def expand(
    query: SparseVector, feedback: Sequence[SparseVector], terms: int, weight: float
) -> SparseVector:
    """The query plus the `terms` terms the feedback weighs most (each segment's weights
    normalised to sum 1, then added up), scaled so the strongest new one weighs `weight`."""
    pooled: dict[int, float] = defaultdict(float)
    for vector in feedback:
        total = sum(vector.values)
        for index, value in zip(vector.indices, vector.values, strict=True):
            pooled[index] += value / total
    asked = set(query.indices)
    fresh = sorted(((w, i) for i, w in pooled.items() if i not in asked), reverse=True)[:terms]
    if not fresh:
        return query
    strongest = fresh[0][0]
    return SparseVector(
        indices=[*query.indices, *(i for _, i in fresh)],
        values=[*query.values, *(weight * w / strongest for w, _ in fresh)],
    )


def rocchio(
    query: Sequence[float], feedback: Sequence[Sequence[float]], alpha: float
) -> list[float]:
    """The query moved towards the feedback's mean direction, unit length again."""
    mean = [fmean(column) for column in zip(*feedback, strict=True)]
    size = sum(x * x for x in mean) ** 0.5 or 1.0
    moved = [q + alpha * m / size for q, m in zip(query, mean, strict=True)]
    length = sum(x * x for x in moved) ** 0.5 or 1.0
    return [x / length for x in moved]


def ranked_moments(hits: Sequence[SegmentHit], aggregate: Aggregate | None) -> list[MomentDraft]:
    moments = merge_moments(hits)
    if aggregate is None:
        return moments
    keyed = [
        (-aggregate(sorted((h.score for h in m.hits), reverse=True)), i)
        for i, m in enumerate(moments)
    ]
    return [moments[i] for _, i in sorted(keyed)]


class Lab:
    """The service's reader for ranked searches, the shard itself for stored vectors."""

    def __init__(self, service: SearchService, shard: qe.EdgeShard) -> None:
        self.service, self.shard, self.bm25 = service, shard, Bm25Encoder()

    async def hits(self, text: str, asked: StoreQuery) -> list[SegmentHit]:
        """As `SearchService.run` ranks one page of K moments (deeper while hits merge away)."""
        depth = depth_for(K + 1, 1)
        while True:
            hits = boost_named_speakers(
                text, await self.service.reader.search(replace(asked, limit=depth))
            )
            if len(merge_moments(hits)) > K or len(hits) < depth or depth >= MAX_DEPTH:
                return hits
            depth = min(MAX_DEPTH, 2 * depth)

    async def listed(
        self, text: str, asked: StoreQuery, feedback: SparseVector | None
    ) -> list[SegmentHit]:
        """Weighted RRF in Python (Qdrant's: position p of a list of weight w adds
        1 / ((p + 1) / w + k - 1)) over the lists `asked` fuses, plus `feedback` as one more
        BM25 list; each as deep as the engine's prefetch for one page."""
        page = replace(asked, limit=depth_for(K + 1, 1))
        alone = replace(page, limit=page.prefetch_limit, dense=None, sparse=None, dense_topic=None)
        lists = [(replace(alone, dense=v), 1.0) for v in (asked.dense, asked.dense_topic) if v]
        lists += [(replace(alone, sparse=asked.sparse), asked.keyword_weight)]
        lists += [(replace(alone, sparse=feedback), 1.0)] if feedback else []
        fused: dict[str, float] = defaultdict(float)
        found: dict[str, SegmentHit] = {}
        for query, weight in lists:
            for position, hit in enumerate(await self.service.reader.search(query)):
                fused[hit.id] += 1 / ((position + 1) / weight + page.rrf_k - 1)
                found[hit.id] = hit
        best = sorted(fused, key=lambda i: (-fused[i], i))[: page.limit]
        return boost_named_speakers(text, [found[i]._replace(score=fused[i]) for i in best])

    async def answer(self, question: Question, within: bool, variant: Variant) -> list[Span]:
        """The question asked as the service asks it (its reading: topic branch, keyword
        weight, phrases), then the variant."""
        reading = read_query(question.text)
        texts = reading.dense_texts(SearchMode.hybrid)
        dense, *topic = await self.service.embedder.embed(texts, "query")
        episodes = (question.episode_id,) if within else ()
        asked = StoreQuery(
            limit=K,
            dense=dense,
            sparse=self.bm25.query(question.text),
            dense_topic=topic[0] if topic else None,
            keyword_weight=reading.keyword_weight,
            filters=SearchFilters(episode_ids=episodes, phrases=reading.phrases),
        )
        assert asked.sparse is not None and asked.dense is not None
        hits = await self.hits(question.text, asked)
        if variant.lists == 2:
            hits = await self.listed(question.text, asked, None)
        if variant.segments:
            best = [h.id for h in hits[: variant.segments]]
            widened = replace(asked)
            if variant.alpha:
                stored = self.shard.retrieve([int(i) for i in best], False, True)
                moved = rocchio(asked.dense, [r.vector[DENSE] for r in stored], variant.alpha)
                widened = replace(widened, dense=moved)
            if variant.terms:
                payloads = await self.service.reader.fetch(best)
                said = [self.bm25.document(payloads[i].text) for i in best if i in payloads]
                words = [d for d in said if d.values]
                sparse = expand(asked.sparse, words, variant.terms, variant.weight)
                widened = replace(widened, sparse=sparse)
            if variant.lists == 3:
                hits = await self.listed(question.text, asked, widened.sparse)
            else:
                hits = await self.hits(question.text, widened)
        moments = ranked_moments(hits, variant.aggregate)
        return [Span(m.episode_id, m.start, m.end) for m in moments[:K]]


def compared(base: Sequence[float], new: Sequence[float], rounds: int = 2000) -> list[object]:
    """Mean change with a paired-bootstrap 95% interval, questions up, questions down."""
    deltas = [b - a for a, b in zip(base, new, strict=True)]
    draw = random.Random(0)
    means = sorted(fmean(draw.choices(deltas, k=len(deltas))) for _ in range(rounds))
    lo, hi = means[int(0.025 * rounds)], means[int(0.975 * rounds)]
    return [
        fmean(deltas),
        f"[{lo:+.3f}, {hi:+.3f}]",
        sum(d > 0 for d in deltas),
        sum(d < 0 for d in deltas),
    ]


async def measure(lab: Lab, questions: list[Question], variants: Sequence[Variant]) -> str:
    out = []
    for scope in ("across", "within"):
        rows, base = [], None
        for variant in variants:
            results = [await lab.answer(q, scope == "within", variant) for q in questions]
            pairs = [(r, list(q.answers)) for r, q in zip(results, questions, strict=True)]
            ranks = [reciprocal_rank(gains(r, judged)) for r, judged in pairs]
            base = base or ranks
            s = score(pairs)
            rows.append([variant.label, s.mrr, *compared(base, ranks), s.recall, s.moment_s])
        headers = ["variant", f"MRR@{K}", "change", "95% interval", "up", "down"]
        out.append(f"{scope}:\n" + table([*headers, f"Recall@{K}", "mean moment s"], rows))
    return "\n\n".join(out)


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    chunker = ChunkerConfig()
    async with eval_embedder(url, args.cache) as embedder:
        index = await prepare_index(corpus, chunker, args.cache, embedder)
        shard = live_shard(index)
        try:
            async with open_service(index, embedder) as service:
                report = await measure(
                    Lab(service, shard), read_questions(corpus.questions), VARIANTS
                )
        finally:
            shard.close()
    print(f"\n{corpus.label(chunker)} | {machine()}\n{report}")


def main() -> None:
    parser = tool_parser("python -m bench.eval.feedback", __doc__, "qmsum")
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
