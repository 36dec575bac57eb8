"""Episode places kept, the moments inside each episode ordered by the search of that episode.

    python -m bench.eval.episode_slots --corpus qmsum
    python -m bench.eval.episode_slots --corpus changelog --episodes 49

Hybrid searches across episodes, on the index `make eval` built (question vectors from its
cache). `before` is `SearchService` as served (`search_api.episode_slots` off); every other row
keeps which episode each place of its moment list holds, so episode MRR stays, and changes which
of that episode's moments take them:

- refill: the places of the first n episodes take the moments a hybrid search of that episode
  alone returns (its context branches too, `query_understanding.passages`; 100 hits, or fewer),
  one more store query per episode. The opt-in (`PODSEARCH_API__REFILLED_EPISODES=1`, 50 hits)
  is checked against `SearchService` with it on.
- permute: the same searches only order the episode's own candidate moments (a moment's key is
  the best rank of its segments there; moments it missed keep their order, after the others).
- cheaper single searches in place of one per episode: the within plan over the first page's
  episodes together, over the candidates' ids only, or over the whole corpus.
- control (the across plan filtered to each episode, no contexts) and oracle (a moment that
  overlaps an answer first: what ordering alone could reach).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import qdrant_edge as qe

from bench.eval.corpus import Question, read_questions
from bench.eval.feedback import compared
from bench.eval.metrics import K, Span, gains, reciprocal_rank, score
from bench.eval.run import eval_embedder, open_service, run_questions
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.report import machine, table
from bench.shards import live_shard
from podsearch.index_meta import ChunkerConfig
from podsearch.models import Passages, SearchFilters, SegmentHit, StoreQuery
from podsearch.stores import plan
from podsearch.stores.edge import _condition, _nearest
from search_api.episode_slots import WITHIN_HITS, first_episodes, refill, within_episode
from search_api.moments import MomentDraft, merge_moments
from search_api.ranking import boost_named_speakers
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService

OPT_IN = 1  # `PODSEARCH_API__REFILLED_EPISODES` measured against `SearchService`
HEADERS = ["variant", f"MRR@{K}", "change", "95% interval", "up", "down", "sum of RR change"]
HEADERS += [f"Recall@{K}", f"nDCG@{K}", "episode MRR", "moment s", "extra ms"]
Hits = dict[str, list[SegmentHit]]  # episode -> ranked hits
T = TypeVar("T")
SHALLOW = (20, 30, WITHIN_HITS)  # fewer hits asked of each episode's search than its 100


@dataclass
class Asked:
    """One question's across candidates as before, and rankings of their episodes (boosted)."""

    question: Question
    moments: list[MomentDraft]  # every candidate moment, ranked as before
    within: Hits  # the first page's episodes, each searched alone (the within plan)
    plain: Hits  # the same, with the across plan (no contexts)
    together: Hits  # the within plan over the first page's episodes in one search
    by_ids: Hits  # the within plan's branches over the candidates' ids only
    everywhere: Hits  # the within plan's branches over the whole corpus
    shallow: dict[int, Hits]  # limit -> the first 2 episodes, each searched alone, fewer hits
    ms: dict[str, float]  # what each of those cost, ms


def per_episode(hits: Sequence[SegmentHit]) -> Hits:
    out: Hits = {}
    for h in hits:
        out.setdefault(h.episode_id, []).append(h)
    return out


def permute(
    moments: Sequence[MomentDraft], order: Mapping[str, Sequence[SegmentHit]]
) -> list[MomentDraft]:
    """Each episode of `order` keeps its places; its moments fill them by the best rank of
    their segments in `order[episode]` (those it ranks none of after, in their order)."""
    out = list(moments)
    for episode, hits in order.items():
        rank = {h.id: r for r, h in enumerate(hits)}
        places = [i for i, m in enumerate(moments) if m.episode_id == episode]
        ordered = sorted(
            (moments[i] for i in places),
            key=lambda m: min(rank.get(h.id, len(rank)) for h in m.hits),
        )
        for i, moment in zip(places, ordered, strict=True):
            out[i] = moment
    return out


def refilled(moments: Sequence[MomentDraft], order: Hits) -> list[MomentDraft]:
    """`episode_slots.refill` with the moments of `order`'s hits (fresh ones: it sets scores)."""
    return refill(moments, {e: merge_moments(hits) for e, hits in order.items()})


def over_ids(
    shard: qe.EdgeShard, query: StoreQuery, hits: Sequence[SegmentHit]
) -> list[SegmentHit]:
    """The within plan's branches (contexts too) over `hits` only, fused by the engine."""
    search = plan.plan_search(replace(query, passages=Passages.segment_and_context))
    assert search is not None and search.fused
    ids: set[qe.PointId] = {int(h.id) for h in hits}
    unless = [c for c in search.where if isinstance(c, plan.Unless)]
    flt = qe.Filter(
        must=[qe.HasIdCondition(ids), *(_condition(c) for c in search.where if c not in unless)],
        must_not=[_condition(c) for c in unless],
    )
    prefetches = [
        qe.Prefetch(limit=len(ids), query=_nearest(b), filter=flt) for b in search.branches
    ]
    fusion: qe.Fusion.Rrf = qe.Fusion.Rrf(k=search.rrf_k, weights=search.weights)
    request = qe.QueryRequest(query=fusion, prefetches=prefetches, filter=flt, limit=len(ids))
    by_id = {h.id: h for h in hits}
    return plan.ranked(
        by_id[plan.id_text(p.id)]._replace(score=p.score) for p in shard.query(request)
    )


async def clocked(ms: dict[str, float], name: str, searched: Awaitable[T]) -> T:
    started = time.perf_counter()
    found = await searched
    ms[name] = (time.perf_counter() - started) * 1000
    return found


async def ask(service: SearchService, shard: qe.EdgeShard, q: Question) -> Asked:
    params = SearchParams(query=q.text, mode=SearchMode.hybrid, limit=K, filters=SearchFilters())
    page = await service.run(params)
    assert page.degraded_reason is None and not page.refilled, "the service as it was"
    moments, query = page.candidates, page.store_query
    ms: dict[str, float] = {}
    episodes = first_episodes(moments[:K], K)

    async def each(passages: Passages, limit: int = query.limit, n: int = K) -> Hits:
        asked = {e: replace(within_episode(query, e), passages=passages) for e in episodes[:n]}
        asked = {e: replace(one, limit=limit) for e, one in asked.items()}
        return {e: await service.reader.search(one) for e, one in asked.items()}

    async def by_ids() -> list[SegmentHit]:
        return over_ids(shard, query, [h for m in moments for h in m.hits])

    def boosted(order: Hits) -> Hits:
        return {e: boost_named_speakers(q.text, hits) for e, hits in order.items()}

    def ranked(hits: list[SegmentHit]) -> Hits:
        found = per_episode(boost_named_speakers(q.text, hits))
        return {e: found.get(e, []) for e in episodes}

    together = replace(query, filters=replace(query.filters, episode_ids=tuple(episodes)))
    together = replace(together, passages=Passages.segment_and_context)
    corpus = replace(query, passages=Passages.segment_and_context)
    return Asked(
        question=q,
        moments=moments,
        within=boosted(await clocked(ms, "within", each(Passages.segment_and_context))),
        plain=boosted(await clocked(ms, "plain", each(Passages.segment))),
        together=ranked(await clocked(ms, "together", service.reader.search(together))),
        by_ids=ranked(await clocked(ms, "ids", by_ids())),
        everywhere=ranked(await clocked(ms, "everywhere", service.reader.search(corpus))),
        shallow={
            limit: boosted(
                await clocked(ms, f"limit {limit}", each(Passages.segment_and_context, limit, 2))
            )
            for limit in SHALLOW
        },
        ms=ms,
    )


def first(n: int, order: Hits) -> Hits:
    return dict(list(order.items())[:n])


def answers_first(a: Asked) -> Hits:
    """Per episode of the first page, the segments of its moments that overlap an answer."""
    good = [
        h
        for m in a.moments
        for h in m.hits
        if any(Span(m.episode_id, m.start, m.end).overlaps(j) for j in a.question.answers)
    ]
    found = per_episode(good)
    return {e: found.get(e, []) for e in a.within}


def share(a: Asked, n: int) -> float:
    """The per-episode searches' cost for the first n episodes (their mean, times n)."""
    return a.ms["within"] * min(n, len(a.within)) / max(1, len(a.within))


Variant = tuple[Callable[[Asked], list[MomentDraft]], Callable[[Asked], float]]


def variants() -> dict[str, Variant]:
    out: dict[str, Variant] = {"before": (lambda a: a.moments, lambda a: 0.0)}
    for n in (1, 2, 3, K):
        many = "the first page's episodes" if n == K else f"first {n} episode{'s' * (n > 1)}"
        out[f"refill, {many}"] = (
            lambda a, n=n: refilled(a.moments, first(n, a.within)),
            lambda a, n=n: share(a, n),
        )
        out[f"permute, {many}"] = (
            lambda a, n=n: permute(a.moments, first(n, a.within)),
            lambda a, n=n: share(a, n),
        )
    for limit in SHALLOW:
        for n in (1, 2):
            name = f"refill, first {n} episode{'s' * (n > 1)}, {limit} hits each"
            name += " (the opt-in)" * ((n, limit) == (OPT_IN, WITHIN_HITS))
            out[name] = (
                lambda a, n=n, limit=limit: refilled(a.moments, first(n, a.shallow[limit])),
                lambda a, n=n, limit=limit: (
                    a.ms[f"limit {limit}"]
                    * min(n, len(a.shallow[limit]))
                    / max(1, len(a.shallow[limit]))
                ),
            )
    single: dict[str, Callable[[Asked], Hits]] = {
        "the first page's episodes together": lambda a: a.together,
        "the candidates' ids only": lambda a: a.by_ids,
        "the whole corpus": lambda a: a.everywhere,
    }
    keys = {"the first page's episodes together": "together", "the candidates' ids only": "ids"}
    for name, hits in single.items():
        cost = keys.get(name, "everywhere")
        out[f"permute by one search over {name}"] = (
            lambda a, hits=hits: permute(a.moments, hits(a)),
            lambda a, cost=cost: a.ms[cost],
        )
        out[f"refill by one search over {name}"] = (
            lambda a, hits=hits: refilled(a.moments, hits(a)),
            lambda a, cost=cost: a.ms[cost],
        )
    out["control: permute by the across plan of each episode"] = (
        lambda a: permute(a.moments, a.plain),
        lambda a: a.ms["plain"],
    )
    out["oracle: permute, moments that overlap an answer first"] = (
        lambda a: permute(a.moments, answers_first(a)),
        lambda a: 0.0,
    )
    return out


def _spans(moments: Sequence[MomentDraft]) -> list[Span]:
    return [Span(m.episode_id, m.start, m.end) for m in moments[:K]]


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    label = corpus.label(ChunkerConfig())
    index = args.cache / label / "index"
    questions = read_questions(corpus.questions)
    shard = live_shard(index)
    async with eval_embedder(url, args.cache) as embedder:
        async with open_service(index, embedder, refilled_episodes=0) as service:
            for q in questions[:20]:  # warm up: the first pass reads the shard from disk
                await ask(service, shard, q)
            asked = [await ask(service, shard, q) for q in questions]
        async with open_service(index, embedder, refilled_episodes=OPT_IN) as service:
            served = await run_questions(service, questions, SearchMode.hybrid)
    shard.close()
    rows, baseline = [], None
    for name, (order, cost) in variants().items():
        got = [_spans(order(a)) for a in asked]
        if "(the opt-in)" in name:
            same = sum(g == s for g, s in zip(got, served, strict=True))
            print(f"{name} = SearchService in {same}/{len(questions)}", flush=True)
        judged = [list(q.answers) for q in questions]
        rr = [reciprocal_rank(gains(g, j)) for g, j in zip(got, judged, strict=True)]
        baseline = baseline or rr
        s = score(list(zip(got, judged, strict=True)))
        total = f"{sum(rr) - sum(baseline):+.2f}"
        ms = sum(cost(a) for a in asked) / len(asked)
        row = [name, s.mrr, *compared(baseline, rr), total, s.recall, s.ndcg, s.episode_mrr]
        rows.append([*row, s.moment_s, ms])
    print(f"\n{label}, hybrid across, {len(questions)} questions | {machine()}")
    print(table(HEADERS, rows), flush=True)


def main() -> None:
    parser = tool_parser("python -m bench.eval.episode_slots", __doc__, corpus="qmsum")
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
