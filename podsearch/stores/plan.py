"""The library-neutral query plan: what to ask the store, decided once for both adapters.

Filters, branches, fusion and the segment selections the writer and reader need are plain values
here; `edge.py` and `qdrant_server.py` only map them onto their library's types. The payload keys
named here are fields of `SegmentPayload`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from podsearch.errors import PointIdCollision
from podsearch.models import (
    Passages,
    PodcastStats,
    SearchFilters,
    SegmentHit,
    SegmentPayload,
    SparseVector,
    StoreQuery,
    point_text,
)
from podsearch.sponsors import AD_FIELD, StoredSegment
from podsearch.stores.schema import CONTEXT_DENSE, CONTEXT_SPARSE, DENSE, SPARSE

PODCAST = "podcast"
TEXT = "text"  # the words said (quoted phrases are matched against them)
FINGERPRINT_KEYS = ("episode_id", "episode_fingerprint")  # all `fingerprints()` reads
# all a ranked `SegmentHit` reads (speakers: the ranking lifts segments of a named speaker)
RANK_KEYS = ("episode_id", "segment_index", "start", "end", "speakers")
FACET_LIMIT = 10_000  # podcasts listed by /podcasts at most
_ID, _SCORE = attrgetter("id"), attrgetter("score")  # of a SegmentHit


@dataclass(frozen=True)
class Match:
    """The field equals `value`."""

    key: str
    value: str | int


@dataclass(frozen=True)
class AnyOf:
    """The field (or one element of a list field) is one of `values`."""

    key: str
    values: list[str] | list[int]


@dataclass(frozen=True)
class AtLeast:
    """A numeric field is `value` or more."""

    key: str
    value: float


@dataclass(frozen=True)
class AtMost:
    """A numeric field is `value` or less."""

    key: str
    value: float


@dataclass(frozen=True)
class Between:
    """A datetime field lies in [after, before]; None leaves that side open."""

    key: str
    after: datetime | None
    before: datetime | None


@dataclass(frozen=True)
class Unless:
    """The field is not `value`; a point without the field passes too."""

    key: str
    value: str | int


@dataclass(frozen=True)
class Phrase:
    """A text field says `phrase` word for word (the engine's word tokenizer, any case)."""

    key: str
    phrase: str


Condition = Match | AnyOf | AtLeast | AtMost | Between | Unless | Phrase
Where = tuple[Condition, ...]  # all must hold; empty: everything


@dataclass(frozen=True)
class Branch:
    """One ranked retrieval: nearest neighbours of `vector` in the named vector space."""

    using: str
    vector: list[float] | SparseVector
    weight: float = 1.0  # in RRF: rank r adds 1 / (r / weight + k - 1)


@dataclass(frozen=True)
class SearchPlan:
    """One branch is ranked on its own; several are fused with RRF, each filtered first."""

    branches: tuple[Branch, ...]
    where: Where
    limit: int
    prefetch_limit: int
    rrf_k: int
    score_threshold: float | None

    @property
    def fused(self) -> bool:
        return len(self.branches) > 1

    @property
    def hnsw_ef(self) -> int:
        """How wide a dense branch's HNSW walk is: as wide as a fused branch's prefetch, for a
        dense search alone too. At the page's own depth (100) recall@10 falls with the index's
        size (0.990 at 20k, 0.976 at 100k, 0.958 at 200k); at 150 it is 0.995 at 100k
        (bench/RESULTS.md, "The shipped config at 100,000 and 200,000")."""
        return self.prefetch_limit

    @property
    def weights(self) -> list[float] | None:
        """The branches' RRF weights; None when all are equal."""
        weights = [b.weight for b in self.branches]
        return None if len(set(weights)) == 1 else weights


SPACES = {  # (dense, sparse) vector names each choice of passages asks
    Passages.segment: ((DENSE, SPARSE),),
    Passages.segment_and_context: ((DENSE, SPARSE), (CONTEXT_DENSE, CONTEXT_SPARSE)),
    Passages.context: ((CONTEXT_DENSE, CONTEXT_SPARSE),),
}


def plan_search(query: StoreQuery) -> SearchPlan | None:
    """None when there is nothing to rank (a stop-word-only keyword query has no terms).

    Each vector of the query is asked of each space in `query.passages`, with the same weight:
    with the contexts too, the question's dense vector ranks segments and contexts, and so do
    its topic and its BM25 terms."""
    branches: list[Branch] = []
    for dense, sparse in SPACES[query.passages]:
        if query.dense is not None:
            branches.append(Branch(dense, query.dense))
            if query.dense_topic is not None:
                branches.append(Branch(dense, query.dense_topic))
        if query.sparse is not None and query.sparse.indices:
            branches.append(Branch(sparse, query.sparse, query.keyword_weight))
    if not branches:
        return None
    return SearchPlan(
        branches=tuple(branches),
        where=filter_conditions(query.filters),
        limit=query.limit,
        prefetch_limit=query.prefetch_limit,
        rrf_k=query.rrf_k,
        score_threshold=query.score_threshold,
    )


def filter_conditions(filters: SearchFilters) -> Where:
    where: list[Condition] = [
        AnyOf(key, list(values))
        for key, values in (
            ("podcast", filters.podcasts),
            ("episode_id", filters.episode_ids),
            ("speakers", filters.speakers),
        )
        if values
    ]
    if filters.published_after is not None or filters.published_before is not None:
        where.append(Between("published", filters.published_after, filters.published_before))
    if not filters.include_ads:
        where.append(Unless(AD_FIELD, 1))  # segments indexed before the flag existed pass
    where += [Phrase(TEXT, phrase) for phrase in filters.phrases]
    return tuple(where)


def podcast_segments(podcast: str) -> Where:
    return (Match(PODCAST, podcast),)


STORED_KEYS = ["episode_id", "text", AD_FIELD]  # all `podcast_segments()` reads


def id_text(point_id: object) -> str:
    """A point id as either library hands it back, as podsearch's text: Edge's integers
    (`models.point_number`) as `models.point_text`, other ids (a server's) as they read."""
    return point_text(point_id) if isinstance(point_id, int) else str(point_id)


def stored(point_id: object, payload: Mapping[str, Any] | None) -> StoredSegment:
    """What sponsor detection needs of a stored point of either library."""
    data = payload or {}
    return StoredSegment(
        id_text(point_id), str(data["episode_id"]), str(data["text"]), bool(data.get(AD_FIELD))
    )


def check_new_ids(episode_id: str, ids: Sequence[str], holders: Iterable[object]) -> None:
    """Refuse to write an episode whose points would overwrite one another or another episode's
    points: ids are 64-bit hashes (`models.point_number`), so two keys can share one, if very
    rarely. `holders` are the episode ids of the points the store holds under `ids`."""
    if len(set(ids)) < len(ids):
        raise PointIdCollision(f"two points of episode {episode_id!r} share one id")
    others = sorted({str(holder) for holder in holders} - {episode_id})
    if others:
        raise PointIdCollision(
            f"a point of episode {episode_id!r} has the id of a point of {others[0]!r}"
        )


def episode_segments(episode_id: str, from_index: int = 0) -> Where:
    """Segments `from_index` onwards of one episode (all of them by default)."""
    where: list[Condition] = [Match("episode_id", episode_id)]
    if from_index:
        where.append(AtLeast("segment_index", from_index))
    return tuple(where)


def excerpt(episode_id: str, start: float, end: float) -> Where:
    """Segments of one episode that overlap [start, end] seconds."""
    return (Match("episode_id", episode_id), AtMost("start", end), AtLeast("end", start))


EXCERPT_ORDER = "segment_index"  # an excerpt comes in transcript order


FIRST_SEGMENTS: Where = (Match("segment_index", 0),)  # one per episode


def hit(point_id: object, score: float, payload: Mapping[str, Any] | None) -> SegmentHit:
    """A ranked point of either library (payload restricted to RANK_KEYS) as podsearch's hit."""
    data = payload or {}
    return SegmentHit(
        id=id_text(point_id),
        score=score,
        episode_id=str(data["episode_id"]),
        segment_index=int(data["segment_index"]),
        start=float(data["start"]),
        end=float(data["end"]),
        speakers=tuple(data.get("speakers") or ()),
    )


def payloads(
    records: Iterable[tuple[object, Mapping[str, Any] | None]],
) -> dict[str, SegmentPayload]:
    """Fetched points of either library by id; ids the store does not hold are simply absent."""
    return {id_text(point_id): SegmentPayload.from_dict(data or {}) for point_id, data in records}


def ranked(hits: Iterable[SegmentHit]) -> list[SegmentHit]:
    """Best first, equal scores by id: the engines break ties arbitrarily, pages must not. Two
    stable sorts on C-level keys (ids, then scores descending: `reverse` keeps ties in id
    order) cost about half of one sort on a (-score, id) lambda."""
    ordered = sorted(hits, key=_ID)
    ordered.sort(key=_SCORE, reverse=True)
    return ordered


def podcast_stats(
    segments: Iterable[tuple[Any, int]], episodes: Iterable[tuple[Any, int]]
) -> dict[str, PodcastStats]:
    """Join the two facets on `podcast` (all segments; first segments, one per episode)."""
    per_podcast = {str(value): count for value, count in episodes}
    return {
        str(value): PodcastStats(episodes=per_podcast.get(str(value), 0), segments=count)
        for value, count in segments
    }
