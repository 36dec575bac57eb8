"""Sponsor and promo reads: words a show repeats nearly verbatim across its episodes.

A sponsor read, a "subscribe to our plus feed" promo or a canned intro is said again and again
with the same words, and it crowds real answers out of search results. A segment is flagged when
most of its words lie in word 8-grams (shingles) that at least `MIN_EPISODES` episodes of the same
podcast contain, or when a smaller share does and it uses sponsor phrasing ("brought to you by").

The flags are a pure function of the *set* of a podcast's segments: shingles are hashed with a
fixed hash and counted per distinct episode, so the answer never depends on the order episodes
were indexed in. The indexer recomputes them over the whole podcast whenever its episodes change,
so an episode indexed before its podcast's other episodes is flagged once they arrive.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SHINGLE_WORDS = 8
MIN_EPISODES = 3  # a shingle said in at least this many episodes is boilerplate
REPEATED_SHARE = 0.5  # flagged when this share of a segment's words is boilerplate...
PHRASED_SHARE = 0.2  # ...or this share, with sponsor phrasing
AD_FIELD = "ad"  # the payload flag: 1 on a sponsor/promo read, 0 or absent otherwise

_WORD = re.compile(r"[a-z0-9']+")
_SPONSOR_PHRASING = re.compile(
    r"brought to you by|sponsored by|our sponsors?\b|(thanks|thank you) to our (friends|partners)"
    r"|our friends at|promo code|use (the )?code\b|free trial|(go|head) to \S+\.(com|io|dev)"
    r"|\.(com|io|dev)/\S+|plus plus|\+\+|subscribe|sign up",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StoredSegment:
    """What detection needs of one stored segment."""

    id: str
    episode_id: str
    text: str
    ad: bool = False


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(tokens: Sequence[str]) -> list[int]:
    """A stable 64-bit hash of each run of SHINGLE_WORDS words (Python's hash() is salted)."""
    runs = (" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1))
    return [int.from_bytes(hashlib.blake2b(run.encode(), digest_size=8).digest()) for run in runs]


def repeated_share(tokens: Sequence[str], hashes: Sequence[int], boilerplate: set[int]) -> float:
    """Share of the words covered by at least one boilerplate shingle."""
    if not tokens:
        return 0.0
    covered = [False] * len(tokens)
    for i, h in enumerate(hashes):
        if h in boilerplate:
            covered[i : i + SHINGLE_WORDS] = [True] * SHINGLE_WORDS
    return sum(covered[: len(tokens)]) / len(tokens)


def is_ad(share: float, text: str) -> bool:
    return share >= REPEATED_SHARE or (
        share >= PHRASED_SHARE and _SPONSOR_PHRASING.search(text) is not None
    )


def flag_ads(segments: Iterable[StoredSegment]) -> dict[str, bool]:
    """segment id -> flag, for all the segments of ONE podcast."""
    tokenised = [(s, words(s.text)) for s in segments]
    hashed = [(s, tokens, shingles(tokens)) for s, tokens in tokenised]
    per_episode: defaultdict[str, set[int]] = defaultdict(set)
    for s, _, hashes in hashed:
        per_episode[s.episode_id].update(hashes)
    said_in: Counter[int] = Counter()
    for distinct in per_episode.values():
        said_in.update(distinct)
    boilerplate = {h for h, n in said_in.items() if n >= MIN_EPISODES}
    return {
        s.id: is_ad(repeated_share(tokens, hashes, boilerplate), s.text)
        for s, tokens, hashes in hashed
    }


def changed_flags(segments: Sequence[StoredSegment]) -> dict[str, bool]:
    """Only the flags that differ from what is stored (what the indexer must write)."""
    flags = flag_ads(segments)
    return {s.id: flags[s.id] for s in segments if flags[s.id] != s.ad}
