"""Query understanding, measured offline: the golden questions of an existing eval index asked
again with other texts for the dense and BM25 branches, other RRF weights or another speaker
boost, each ranked by the engine and merged into moments by the service's own code.

    python -m bench.eval.query_variants --corpus qmsum
    python -m bench.eval.query_variants --corpus changelog --episodes 49 --variants service,3way

The script checks that variant `service` reproduces `SearchService` and prints, per variant,
the scores and how many questions moved up or down against the first variant asked.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import qdrant_edge as qe

from bench.eval.build import prepare_index
from bench.eval.corpus import REPO, Question, changelog, qmsum, read_questions
from bench.eval.embedder_process import local_embedder
from bench.eval.metrics import K, Span, gains, reciprocal_rank, score
from bench.eval.run import eval_embedder, open_service, run_questions
from bench.report import table
from bench.shards import live_shard
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SearchFilters, SegmentHit, SparseVector, StoreQuery
from podsearch.sponsors import AD_FIELD
from podsearch.stores.plan import SPACES, hit, ranked
from podsearch.stores.schema import Bm25Encoder
from search_api import query_understanding as qu
from search_api.moments import merge_moments
from search_api.ranking import boost_named_speakers, named_speakers
from search_api.schemas import SearchMode
from search_api.service import depth_for

SpeakerBoost = Callable[[str, Sequence[SegmentHit]], list[SegmentHit]]


def same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Variant:
    """What each branch is asked, with which RRF weights, and the boost after ranking."""

    dense: Callable[[str], str | None] = same  # None: no dense branch
    blend: Callable[[str], str | None] = field(default=lambda q: None)  # averaged into dense
    extra: Callable[[str], str | None] = field(default=lambda q: None)  # a second dense branch
    extra_sparse: Callable[[str], str | None] = field(default=lambda q: None)  # a second BM25
    sparse: Callable[[str], str | None] = same  # None: no BM25 branch
    # RRF weights of the dense, extra dense and BM25 branches, per query
    weights: Callable[[str], tuple[float, float, float]] = field(default=lambda q: (1.0, 1.0, 1.0))
    boost: SpeakerBoost = boost_named_speakers


def boost_by(factor: float) -> SpeakerBoost:
    """The speaker boost of `search_api.ranking` with another factor."""

    def boost(query: str, hits: Sequence[SegmentHit]) -> list[SegmentHit]:
        speakers = named_speakers(query, hits)
        lifted = [
            h._replace(score=h.score * factor) if speakers.intersection(h.speakers) else h
            for h in hits
        ]
        return sorted(lifted, key=lambda h: (-h.score, h.id))

    return boost


def _main(query: str) -> str:
    """The topic before a "when discussing ..." clause."""
    return qu.topic(re.split(r"\b(?:when|while)\s+\w+ing\b", query, flags=re.IGNORECASE)[0])


_QUESTION = re.compile(
    r"^\s*(?:what|why|how|who|when|where|which|is|are|do|does|did|can|could|should|will|would|has"
    r"|have|summari[sz]e|describe|please)\b|\?",
    re.IGNORECASE,
)


def keywords(query: str) -> bool:
    """Keyword-shaped: no question word first and no question mark."""
    return not _QUESTION.search(query)


def _new_topic(query: str) -> str | None:
    """The topic when it differs from the query (a second dense branch only then)."""
    found = qu.topic(query)
    return found if found != query else None


_WH = re.compile(
    r"^\s*(?:what|why|how|who|when|where|which)(?:'s|’s)?\s+(?:(?:did|does|do|is|are|was|were"
    r"|would|can|could|should|will|has|have)\s+)?",
    re.IGNORECASE,
)


def _any_topic(query: str) -> str | None:
    """The template topic, or else the question without its question word and auxiliary."""
    found = _new_topic(query)
    if found is not None:
        return found
    stripped = _WH.sub("", query, count=1).rstrip("?")
    return stripped if stripped != query and qu.content_words(stripped) else None


EQUAL = (1.0, 1.0, 1.0)
Shape = Callable[[str], bool]


def bm25_weight(weight: float, when: Shape) -> Callable[[str], tuple[float, float, float]]:
    return lambda q: (1.0, 1.0, weight) if when(q) else EQUAL


def weights(dense: float, topic: float, bm25: float) -> Callable[[str], tuple[float, float, float]]:
    return lambda q: (dense, topic, bm25)


def free_question(query: str) -> bool:
    return not keywords(query) and _new_topic(query) is None


def one_word(query: str) -> bool:
    return qu.read_query(query).keyword_weight != 1.0


# The first is the baseline of the up/down counts; `service` is what SearchService does.
VARIANTS: dict[str, Variant] = {
    "question-only": Variant(),  # hybrid before query understanding: no topic, equal weights
    "service": Variant(extra=_new_topic, weights=bm25_weight(qu.KEYWORD_FIRST, one_word)),
    # the topic instead of the question, in one branch or both, or averaged with it
    "topic-dense": Variant(dense=qu.topic),
    "topic-main-dense": Variant(dense=_main),  # without the "when discussing Y" part
    "topic-bm25": Variant(sparse=qu.topic),
    "topic-both": Variant(dense=qu.topic, sparse=qu.topic),
    "blend": Variant(blend=qu.topic),
    "blend-bm25topic": Variant(blend=qu.topic, sparse=qu.topic),
    # the topic as a third branch (`3way`, what the service keeps), and with BM25 of the topic
    "3way": Variant(extra=_new_topic),
    "3way-any-question": Variant(extra=_any_topic),
    "3way-bm25topic": Variant(extra=_new_topic, sparse=qu.topic),
    "4way": Variant(extra=_new_topic, extra_sparse=_new_topic),
    # RRF weights: (question, topic, BM25), for every query or per query shape
    "3way-0.5-1-1": Variant(extra=_new_topic, weights=weights(0.5, 1, 1)),
    "3way-1-0.5-1": Variant(extra=_new_topic, weights=weights(1, 0.5, 1)),
    "3way-1-1.5-1": Variant(extra=_new_topic, weights=weights(1, 1.5, 1)),
    "3way-1-1-1.5": Variant(extra=_new_topic, weights=weights(1, 1, 1.5)),
    "3way-1-1-2": Variant(extra=_new_topic, weights=weights(1, 1, 2)),
    "topic-dense-w0.7": Variant(dense=qu.topic, weights=weights(0.7, 1, 1)),
    "topic-dense-w1.5": Variant(dense=qu.topic, weights=weights(1.5, 1, 1)),
    "kw-bm25x1.5": Variant(weights=bm25_weight(1.5, keywords)),
    "kw-bm25x2": Variant(weights=bm25_weight(2, keywords)),
    "kw-bm25x3": Variant(weights=bm25_weight(3, keywords)),
    "q-bm25x1.5": Variant(weights=bm25_weight(1.5, lambda q: not keywords(q))),
    "3way+free-q-bm25x1.5": Variant(extra=_new_topic, weights=bm25_weight(1.5, free_question)),
    "3way+free-q-bm25x2": Variant(extra=_new_topic, weights=bm25_weight(2, free_question)),
    "one-word-bm25x3": Variant(weights=bm25_weight(3, one_word)),
    # the speaker boost
    "no-boost": Variant(boost=lambda q, hits: list(hits)),
    "boost-x2": Variant(boost=boost_by(2.0)),
    "boost-x3": Variant(boost=boost_by(3.0)),
}


def _mean(a: list[float], b: list[float]) -> list[float]:
    summed = [x + y for x, y in zip(a, b, strict=True)]
    norm = sum(x * x for x in summed) ** 0.5 or 1.0
    return [x / norm for x in summed]


def _request(
    dense: list[float] | None,
    extra: list[float] | None,
    sparse: SparseVector | None,
    weights: tuple[float, float, float],
    episode_id: str | None,
    k: int,
    extra_sparse: SparseVector | None = None,
) -> qe.QueryRequest | None:
    """The service's ranking request (`stores.edge`) with the variant's texts and weights: each
    vector asked of every space the service asks (`plan.SPACES`; within one episode the
    contexts' too, `query_understanding.passages`)."""
    depth = depth_for(K + 1, 1)
    must = [qe.FieldCondition(key="episode_id", match=qe.MatchValue(episode_id or ""))]
    flt = qe.Filter(
        must=must if episode_id else [],
        must_not=[qe.FieldCondition(key=AD_FIELD, match=qe.MatchValue(1))],
    )
    filters = SearchFilters(episode_ids=(episode_id,) if episode_id else ())
    branches: list[tuple[str, object, float]] = []
    for dense_space, sparse_space in SPACES[qu.passages(SearchMode.hybrid, filters)]:
        if dense is not None:
            branches.append((dense_space, dense, weights[0]))
        if extra is not None:
            branches.append((dense_space, extra, weights[1]))
        if sparse is not None and sparse.indices:
            bm25 = qe.SparseVector(indices=sparse.indices, values=sparse.values)
            branches.append((sparse_space, bm25, weights[2]))
        if extra_sparse is not None and extra_sparse.indices:
            bm25 = qe.SparseVector(indices=extra_sparse.indices, values=extra_sparse.values)
            branches.append((sparse_space, bm25, 1.0))
    if not branches:
        return None
    if len(branches) == 1:
        using, vector, _ = branches[0]
        nearest = qe.Query.Nearest(vector, using=using)  # type: ignore[arg-type]
        return qe.QueryRequest(query=nearest, filter=flt, limit=depth, with_payload=True)
    prefetches = [
        qe.Prefetch(
            limit=StoreQuery(limit=depth).prefetch_limit,
            query=qe.Query.Nearest(vector, using=using),  # type: ignore[arg-type]
            filter=flt,
        )
        for using, vector, _ in branches
    ]
    fusion: qe.Fusion.Rrf = qe.Fusion.Rrf(k=k, weights=[w for _, _, w in branches])
    return qe.QueryRequest(
        query=fusion, prefetches=prefetches, filter=flt, limit=depth, with_payload=True
    )


async def ask_all(
    shard: qe.EdgeShard,
    embed: Callable[[str], list[float]],
    questions: Sequence[Question],
    variant: Variant,
    within: bool,
    k: int = 60,
) -> list[list[Span]]:
    bm25 = Bm25Encoder()
    out = []
    for q in questions:
        dense_text, sparse_text = variant.dense(q.text), variant.sparse(q.text)
        dense = embed(dense_text) if dense_text is not None else None
        blend = variant.blend(q.text)
        if dense is not None and blend is not None:
            dense = _mean(dense, embed(blend))
        extra = variant.extra(q.text)
        request = _request(
            dense,
            embed(extra) if extra is not None else None,
            bm25.query(sparse_text) if sparse_text is not None else None,
            variant.weights(q.text),
            q.episode_id if within else None,
            k,
            bm25.query(more) if (more := variant.extra_sparse(q.text)) else None,
        )
        points = shard.query(request) if request is not None else []
        hits = ranked(hit(p.id, p.score, p.payload) for p in points)
        moments = merge_moments(variant.boost(q.text, hits))
        out.append([Span(m.episode_id, m.start, m.end) for m in moments[:K]])
    return out


def _rr(results: list[Span], q: Question) -> float:
    return reciprocal_rank(gains(results, list(q.answers)))


async def compare(args: argparse.Namespace) -> None:
    corpus = qmsum() if args.corpus == "qmsum" else changelog(args.episodes)
    questions = read_questions(corpus.questions)
    names = args.variants.split(",")
    with (
        nullcontext(args.embedder_url)
        if args.embedder_url
        else local_embedder(args.cache / "embedder.log") as url
    ):
        async with eval_embedder(url, args.cache) as embedder:
            index = await prepare_index(corpus, ChunkerConfig(), args.cache, embedder)
            texts = sorted(
                {
                    t
                    for n in names
                    for q in questions
                    for t in (
                        VARIANTS[n].dense(q.text),
                        VARIANTS[n].blend(q.text),
                        VARIANTS[n].extra(q.text),
                    )
                    if t
                }
            )
            vectors = dict(zip(texts, await embedder.embed(texts, "query"), strict=True))
            async with open_service(index, embedder) as service:
                served = await run_questions(service, questions, SearchMode.hybrid)
            shard = live_shard(index)
            try:
                rows = []
                for scope in ("across", "within"):
                    baseline: list[list[Span]] | None = None
                    for name in names:
                        got = await ask_all(
                            shard, vectors.__getitem__, questions, VARIANTS[name], scope == "within"
                        )
                        if name == "service" and scope == "across":
                            agree = sum(a == b for a, b in zip(got, served, strict=True))
                            print(f"service reproduced SearchService in {agree}/{len(questions)}")
                        baseline = baseline or got
                        up = sum(
                            _rr(g, q) > _rr(b, q)
                            for g, b, q in zip(got, baseline, questions, strict=True)
                        )
                        down = sum(
                            _rr(g, q) < _rr(b, q)
                            for g, b, q in zip(got, baseline, questions, strict=True)
                        )
                        pairs = [(g, list(q.answers)) for g, q in zip(got, questions, strict=True)]
                        s = score(pairs)
                        rows.append([scope, name, s.mrr, s.recall, s.ndcg, s.episode_mrr, up, down])
            finally:
                shard.close()
    print(f"\n{corpus.label(ChunkerConfig())}: {len(questions)} questions")
    headers = ["scope", "variant", f"MRR@{K}", f"Recall@{K}", f"nDCG@{K}", "episode MRR"]
    print(table([*headers, "up", "down"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.eval.query_variants", description=__doc__
    )
    parser.add_argument("--corpus", choices=("qmsum", "changelog"), default="qmsum")
    parser.add_argument("--episodes", type=int, default=49, help="Changelog subset size")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "eval")
    parser.add_argument("--embedder-url", help="use this embedder instead of starting one")
    asyncio.run(compare(parser.parse_args()))


if __name__ == "__main__":
    main()
