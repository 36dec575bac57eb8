"""The data that flows through podsearch: transcript -> utterance -> segment -> hit.

Plain frozen dataclasses in the middle of the pipeline (parsing, segmenting, ranking are tested
with plain data); pydantic only where data crosses a process boundary (see `contract.py`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

# Fixed namespace: point ids must be identical on every machine and every run.
POINT_NAMESPACE = uuid.UUID("5b0d7c5e-8f2a-4c1e-9a57-6f3c2f4b9d10")


def point_id(episode_id: str, index: int) -> str:
    """Deterministic, so re-indexing an episode overwrites instead of duplicating, and a
    segment's neighbours can be fetched by id without a query."""
    return point_text(point_number(f"{episode_id}:{index}"))


def point_number(key: str) -> int:
    """The store's id of a point: the first 64 bits of the UUIDv5 of `key`. An integer id costs
    the engine's binding nothing to hand back, where a UUID id is built as a Python `uuid.UUID`
    on every access (bench/RESULTS.md); 60 of the bits vary (the version takes 4), so two of a
    million points share an id with odds ~4e-7, and the writers refuse such a point rather than
    overwrite (`stores.plan.check_new_ids`)."""
    return uuid.uuid5(POINT_NAMESPACE, key).int >> 64


def point_text(number: int) -> str:
    """A point id as podsearch passes it around: 20 digits, so ids in text order are in number
    order, which is the order of the UUIDs they were cut from (ties among equal scores are
    ranked by id: the same order as with those UUIDs)."""
    return f"{number:020d}"


@dataclass(frozen=True)
class Chapter:
    """A titled part of an episode, from its Podcasting 2.0 chapters file."""

    start: float
    title: str


@dataclass(frozen=True)
class Episode:
    """One episode of a podcast, as the manifest or feed describes it. `episode_id` is opaque.

    `people` are the episode's credited people (a feed's `<podcast:person>`): the speakers of a
    transcript that names none. `chapters` are in start order.
    """

    episode_id: str
    podcast: str
    title: str
    transcript: Path
    published: datetime | None = None
    url: str | None = None
    audio_url: str | None = None
    people: tuple[str, ...] = ()
    chapters: tuple[Chapter, ...] = ()

    def chapter_at(self, seconds: float) -> str | None:
        """Title of the chapter playing at `seconds`, if the episode has chapters."""
        titles = [c.title for c in self.chapters if c.start <= seconds]
        return titles[-1] if titles else None


@dataclass(frozen=True)
class Utterance:
    """One timed cue of a transcript: what one speaker said between two instants (seconds)."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Segment:
    """A searchable window of one episode: several utterances' words, with time and speakers."""

    episode: Episode
    index: int
    start: float
    end: float
    text: str
    speakers: tuple[str, ...] = ()

    @property
    def point_id(self) -> str:
        return point_id(self.episode.episode_id, self.index)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def payload(self, episode_fingerprint: str) -> SegmentPayload:
        """Episode metadata is denormalised into every segment: no join at query time."""
        ep = self.episode
        return SegmentPayload(
            episode_id=ep.episode_id,
            podcast=ep.podcast,
            episode_title=ep.title,
            published=ep.published.isoformat() if ep.published else None,
            url=ep.url,
            audio_url=ep.audio_url,
            segment_index=self.index,
            start=round(self.start, 2),
            end=round(self.end, 2),
            speakers=self.speakers,
            chapter=ep.chapter_at(self.start),
            text=self.text,
            content_hash=self.content_hash,
            episode_fingerprint=episode_fingerprint,
        )


@dataclass(frozen=True)
class SegmentPayload:
    """What the store keeps beside a segment's vectors: the one place that knows the keys.

    The field names are the stored JSON keys (the index format: renaming one is a schema change,
    see `index_meta.SCHEMA_VERSION`). `published` stays the ISO string the store indexes.
    """

    episode_id: str
    podcast: str
    episode_title: str
    published: str | None
    url: str | None
    audio_url: str | None
    segment_index: int
    start: float
    end: float
    speakers: tuple[str, ...]
    text: str
    content_hash: str
    episode_fingerprint: str
    chapter: str | None = None  # the chapter the segment starts in, when the feed has chapters
    ad: int = 0  # 1 on a sponsor/promo read (sponsors.py); set after writing, over the podcast

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the store, keys in field order."""
        return {**asdict(self), "speakers": list(self.speakers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentPayload:
        """Read a stored payload back (JSON stores may return 60.0 as 60, lists for tuples)."""
        return cls(
            episode_id=str(data["episode_id"]),
            podcast=str(data["podcast"]),
            episode_title=str(data["episode_title"]),
            published=data.get("published"),
            url=data.get("url"),
            audio_url=data.get("audio_url"),
            segment_index=int(data["segment_index"]),
            start=float(data["start"]),
            end=float(data["end"]),
            speakers=tuple(data.get("speakers") or ()),
            text=str(data["text"]),
            content_hash=str(data["content_hash"]),
            episode_fingerprint=str(data["episode_fingerprint"]),
            chapter=data.get("chapter"),
            ad=int(data.get("ad") or 0),
        )


@dataclass(frozen=True)
class SparseVector:
    """BM25 term weights: parallel lists of token ids and values."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class SegmentPoint:
    """A segment ready for the store: id, dense vector, BM25 vector and payload, and the same
    two vectors of its context (`segmenting.cut_episode`)."""

    id: str
    dense: list[float]
    sparse: SparseVector
    payload: SegmentPayload
    context_dense: list[float]
    context_sparse: SparseVector


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on which segments may be returned; empty tuples mean 'any'."""

    podcasts: tuple[str, ...] = ()
    episode_ids: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    published_after: datetime | None = None
    published_before: datetime | None = None
    include_ads: bool = False  # sponsor/promo reads (see sponsors.py) are left out by default
    phrases: tuple[str, ...] = ()  # each must be said word for word (case-insensitive)


class Passages(Enum):
    """The vector spaces a ranked query asks (`StoreQuery.passages`)."""

    segment = "segment"
    segment_and_context = "segment_and_context"
    context = "context"


@dataclass(frozen=True)
class StoreQuery:
    """One ranked query against the store: dense, sparse or both (then fused with RRF).

    `limit` hits come back, best first (ties by id); the API cuts its pages from them.
    """

    limit: int
    dense: list[float] | None = None
    sparse: SparseVector | None = None
    # A second dense branch: the question's topic without its template words (fused with both)
    dense_topic: list[float] | None = None
    keyword_weight: float = 1.0  # RRF weight of the BM25 branch against each dense one
    # Which passages' vectors rank: the segments' own, their contexts' (each vector above is
    # then asked of both), or the contexts' alone (`explain` asks each branch on its own)
    passages: Passages = Passages.segment
    filters: SearchFilters = field(default_factory=SearchFilters)
    rrf_k: int = 60
    score_threshold: float | None = None

    @property
    def prefetch_limit(self) -> int:
        """Each fused branch fetches half again `limit`: what fills `limit` from either side
        and what ranks low in one branch but high in another. The dense branch's cost grows
        with it (HNSW searches with ef = this limit); 1.5x answers the eval sets as 2x did
        (bench/RESULTS.md) for about three quarters of the engine's time, where 1x loses."""
        return max(50, 3 * self.limit // 2)


@dataclass(frozen=True)
class PodcastStats:
    episodes: int
    segments: int


class SegmentHit(NamedTuple):
    """A segment a ranked query returned: its score and where it sits, not what it says.

    Only the payload keys merging hits into moments needs are read (`plan.RANK_KEYS`): reading
    100 full payloads per page cost more than the search itself. The page's payloads are
    fetched by id afterwards (`SegmentReader.fetch`). A value (changed copies: `_replace`); a
    NamedTuple rather than a frozen dataclass because each query makes ~100 of them: 0.18 µs
    each against 0.54 (0.13 for a mutable slots dataclass).
    """

    id: str
    score: float
    episode_id: str
    segment_index: int
    start: float
    end: float
    speakers: tuple[str, ...] = ()
