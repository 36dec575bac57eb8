"""Across episodes, the first episodes' moments as a search of each episode alone ranks them.

A hybrid search across episodes decides which episode each place of the moment list holds; a
search filtered to one episode ranks that episode's moments better, because it also asks each
segment's context (`query_understanding.passages`), but asked across episodes the contexts pull
in other episodes' talk about the same subject. So the across ranking keeps the places, and the
places of the first few episodes (`ApiOptions.refilled_episodes`) take, in order, the moments a
hybrid search of that episode alone would return (measured on both eval sets, `bench.eval.episode_slots`):
hybrid MRR@10 across, Changelog 0.811 -> 0.865, qmsum-val 0.461 -> 0.464 (flat), episode MRR
unchanged.

One more store query per refilled episode; the list is a function of the candidates alone (not
of the page's offset or size), so the pages a cursor walks are cut from one list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from podsearch.models import StoreQuery
from podsearch.ports import SegmentReader
from search_api.moments import MomentDraft, merge_moments
from search_api.query_understanding import passages
from search_api.ranking import boost_named_speakers
from search_api.schemas import SearchMode


def first_episodes(moments: Sequence[MomentDraft], n: int) -> list[str]:
    """The first `n` distinct episodes of the list, in its order."""
    return list(dict.fromkeys(m.episode_id for m in moments))[:n]


def within_episode(query: StoreQuery, episode_id: str) -> StoreQuery:
    """`query` as a hybrid search filtered to `episode_id` asks it (its context branches too)."""
    filters = replace(query.filters, episode_ids=(episode_id,))
    return replace(query, filters=filters, passages=passages(SearchMode.hybrid, filters))


def refill(
    moments: Sequence[MomentDraft], theirs: Mapping[str, Sequence[MomentDraft]]
) -> list[MomentDraft]:
    """Each episode of `theirs` keeps the places its moments hold in `moments`; they take its
    moments in `theirs`, in order (a place left over, when those run out, is dropped). A moment
    that takes a place takes its score too, so scores still fall down the list (`theirs` are
    changed: built for this)."""
    left = {episode: iter(ranked) for episode, ranked in theirs.items()}
    out = []
    for moment in moments:
        refilled = left.get(moment.episode_id)
        if refilled is None:
            out.append(moment)
        elif (taken := next(refilled, None)) is not None:
            taken.score = moment.score
            out.append(taken)
    return out


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
