"""From ranked segments to moments: overlapping hits of one episode become one playable span.

Plain functions over plain data. Segments of one episode overlap by design (windows with
overlap), so adjacent hits are merged into one moment with the union of their time, the best
score, and their words joined once. Merging needs only where each hit sits (episode, order,
time), so it runs on the ranked hits before any segment's text is fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from podsearch.models import SegmentHit
from podsearch.stores.plan import ranked

_SEGMENT_INDEX = attrgetter("segment_index")
MAX_SEGMENTS_PER_MOMENT = 4  # ~5 minutes of talk at most: a moment, not a chapter
ADJACENT_GAP_S = 2.0


class MomentDraft:
    """A run of neighbouring hits of one episode, ranked by its best (first) hit.

    Time bounds are kept up to date as hits join: merging asks them of every moment of the
    episode for every candidate. Slots: a page's merging makes ~80 of them.
    """

    __slots__ = ("end", "episode_id", "hits", "score", "start")

    def __init__(self, seed: SegmentHit) -> None:
        self.hits = [seed]
        self.score = seed.score  # hits join best first, so the seed is the best
        self.episode_id = seed.episode_id
        self.start, self.end = seed.start, seed.end

    def add(self, hit: SegmentHit) -> None:
        hits = self.hits
        hits.append(hit)
        hits.sort(key=_SEGMENT_INDEX)
        self.start, self.end = hits[0].start, max(self.end, hit.end)

    @property
    def indexes(self) -> list[int]:
        return [h.segment_index for h in self.hits]


def join_texts(texts: Sequence[str]) -> str:
    """Join consecutive windows, writing the words they share only once."""
    return " ".join(join_words(texts))


def join_words(texts: Sequence[str]) -> list[str]:
    """The words of consecutive windows, those they share once (`join_texts`, split)."""
    words = texts[0].split() if texts else []
    for text in texts[1:]:
        nxt = text.split()
        shared = shared_run(words, nxt)
        words += nxt[shared:] if shared else ["…", *nxt]
    return words


def shared_run(head: list[str], tail: list[str]) -> int:
    """Length of the longest end of `head` that `tail` starts with (0 if none)."""
    if not tail:
        return 0
    longest = min(len(head), len(tail))
    for start in range(len(head) - longest, len(head)):  # longest candidates first
        if head[start] == tail[0] and head[start:] == tail[: len(head) - start]:
            return len(head) - start
    return 0


def merge_moments(hits: Sequence[SegmentHit]) -> list[MomentDraft]:
    """Best hits first: each seeds a moment or joins the one it touches.

    A hit that touches a full moment, or two moments, adds nothing new and is dropped, so the
    moments of one episode never overlap. Moments come out ranked by their best hit.
    """
    moments: list[MomentDraft] = []
    by_episode: dict[str, list[MomentDraft]] = {}
    for hit in ranked(hits):
        episode = by_episode.get(hit.episode_id)
        if episode is None:  # the episode's first hit seeds its first moment
            moment = MomentDraft(hit)
            by_episode[hit.episode_id] = [moment]
            moments.append(moment)
            continue
        # Overlapping in time, or separated by a pause of at most ADJACENT_GAP_S (inline, and
        # stopping at a second touch: this runs for every moment of the episode per candidate).
        start, reach, touched, several = hit.start, hit.end + ADJACENT_GAP_S, None, False
        for moment in episode:
            if start <= moment.end + ADJACENT_GAP_S and reach >= moment.start:
                if touched is not None:
                    several = True
                    break
                touched = moment
        if touched is None:
            moment = MomentDraft(hit)
            episode.append(moment)
            moments.append(moment)
        elif not several and len(touched.hits) < MAX_SEGMENTS_PER_MOMENT:
            touched.add(hit)
    return moments


def group_by_episode(moments: Sequence[MomentDraft], per_episode: int) -> list[list[MomentDraft]]:
    """Episodes in the order of their best moment, each with its best `per_episode` moments."""
    groups: dict[str, list[MomentDraft]] = {}
    for moment in moments:
        group = groups.setdefault(moment.episode_id, [])
        if len(group) < per_episode:
            group.append(moment)
    return list(groups.values())
