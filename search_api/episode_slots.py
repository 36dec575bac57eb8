"""Across episodes, the first episodes' moments as a search of each episode alone ranks them.

A hybrid search across episodes decides which episode each place of the moment list holds; a
search filtered to one episode ranks that episode's moments better, because it also asks each
segment's context (`query_understanding.passages`), but asked across episodes the contexts pull
in other episodes' talk about the same subject. With `ApiOptions.refilled_episodes` = n, the
across ranking keeps the places, and the places of its first n episodes take, in order, the
moments a hybrid search of that episode alone returns. Measured (`bench.eval.episode_slots`,
n = 1): hybrid MRR@10 across Changelog 0.811 -> 0.861, qmsum-val 0.461 -> 0.462 (flat), episode
MRR unchanged, for one more store query (~0.4 ms: +18-25% of a repeated search's p50 over
HTTP, a fifth less throughput at 16 clients on 2 cores, `bench.api_overhead
--refilled-episodes 1`): off by default.

The list is a function of the candidates alone (not of the page's offset or size), so the pages
a cursor walks are cut from one list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from podsearch.models import SparseVector, StoreQuery
from podsearch.ports import SegmentReader
from search_api.explain import Explanation, explain_moments
from search_api.moments import MomentDraft, merge_moments
from search_api.query_understanding import passages
from search_api.ranking import boost_named_speakers
from search_api.schemas import SearchMode

# Hits asked of each episode's search: enough moments for the places a page shows, at a third
# less cost than the 100 a search of one episode asks (30, 50 and 100 score the same on both
# eval sets; 20 loses on Changelog).
WITHIN_HITS = 50


def first_episodes(moments: Sequence[MomentDraft], n: int) -> list[str]:
    """The first `n` distinct episodes of the list, in its order."""
    return list(dict.fromkeys(m.episode_id for m in moments))[:n]


def within_episode(query: StoreQuery, episode_id: str) -> StoreQuery:
    """`query` as a hybrid search filtered to `episode_id` asks it (its context branches too),
    for its first `WITHIN_HITS` hits."""
    filters = replace(query.filters, episode_ids=(episode_id,))
    within = passages(SearchMode.hybrid, filters)
    return replace(query, limit=WITHIN_HITS, filters=filters, passages=within)


def refill(
    moments: Sequence[MomentDraft], theirs: Mapping[str, Sequence[MomentDraft]]
) -> list[MomentDraft]:
    """Each episode of `theirs` keeps the places its moments hold in `moments`; they take its
    moments in `theirs`, in order, then (when those run out) its own moments that overlap none
    of those, in order; a place still left over is dropped. A moment that takes a place takes
    its score too, so scores still fall down the list (the moments are changed)."""
    queues = {}
    for episode, ranked in theirs.items():
        own = [m for m in moments if m.episode_id == episode]
        queues[episode] = iter([*ranked, *(m for m in own if not _overlaps_any(m, ranked))])
    out = []
    for moment in moments:
        queue = queues.get(moment.episode_id)
        if queue is None:
            out.append(moment)
        elif (taken := next(queue, None)) is not None:
            taken.score = moment.score
            out.append(taken)
    return out


def _overlaps_any(moment: MomentDraft, others: Sequence[MomentDraft]) -> bool:
    return any(moment.start < o.end and o.start < moment.end for o in others)


async def refill_first_episodes(
    reader: SegmentReader, query: StoreQuery, text: str, moments: Sequence[MomentDraft], n: int
) -> tuple[list[MomentDraft], list[str]]:
    """The moments with the first `n` episodes' places refilled (`refill`), and those episodes.
    `text` is the query as typed (it may name a speaker, `ranking`)."""
    episodes = first_episodes(moments, n)
    theirs = {}
    for episode in episodes:
        hits = await reader.search(within_episode(query, episode))
        theirs[episode] = merge_moments(boost_named_speakers(text, hits))
    return refill(moments, theirs), episodes


async def explain_page(
    reader: SegmentReader,
    fused: StoreQuery,
    sparse: SparseVector | None,
    moments: Sequence[MomentDraft],
    refilled: Sequence[str],
    strong_cosine: float,
) -> list[Explanation]:
    """`explain.explain_moments` of each moment by the store query that ranked it: `fused`, or
    for a moment of a refilled episode that episode's own search (marked `within_episode`)."""
    by_search: dict[str | None, list[MomentDraft]] = {}  # None: the fused query
    for m in moments:
        by_search.setdefault(m.episode_id if m.episode_id in refilled else None, []).append(m)
    explained: dict[int, Explanation] = {}
    for episode, chosen in by_search.items():
        query = fused if episode is None else within_episode(fused, episode)
        got = await explain_moments(reader, query, sparse, chosen, strong_cosine)
        marked = {"within_episode": episode is not None}
        explained |= {id(m): e.model_copy(update=marked) for m, e in zip(chosen, got, strict=True)}
    return [explained[id(m)] for m in moments]
