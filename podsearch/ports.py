"""The seams of podsearch: what an embedder and a segment store must do.

Implementations: `RemoteEmbedder` (embedder and reranker; over HTTP: any OpenAI-compatible
service, our local server, Modal's web endpoint, TEI; or over the Modal SDK);
`EdgeStore` (Qdrant Edge in-process) and `QdrantServerStore` (qdrant-client).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from podsearch.contract import EmbeddingRecipe, InputType, RerankResponse
from podsearch.episodes import EpisodeRecord
from podsearch.index_meta import IndexMeta
from podsearch.models import PodcastStats, SegmentHit, SegmentPayload, SegmentPoint, StoreQuery
from podsearch.sponsors import StoredSegment


class Embedder(Protocol):
    """Turns texts into validated vectors of one recipe."""

    async def recipe(self) -> EmbeddingRecipe:
        """The recipe of the vectors this embedder produces (asks the service once)."""
        ...

    async def embed(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        """One vector per text, finite and of the recipe's dimension, or an EmbedderError."""
        ...

    @property
    def truncated_inputs(self) -> int:
        """How many texts so far the model read only in part (longer than its input length):
        their ends are not in their vectors. The indexer reports it per run."""
        ...


class Reranker(Protocol):
    """Scores candidates against the query with a cross-encoder: a search's optional second
    stage (`RemoteEmbedder`: the embedding service's `/v1/rerank`)."""

    async def rerank(
        self, query: str, documents: Sequence[str], *, top_n: int | None = None
    ) -> RerankResponse:
        """Results best first, or an EmbedderError (RerankUnavailable: no model there)."""
        ...


class SegmentReader(Protocol):
    """The search side of a store: sees only complete, published episodes."""

    async def meta(self) -> IndexMeta:
        """The published index's metadata; IndexNotReady when nothing is published."""
        ...

    async def search(self, query: StoreQuery) -> list[SegmentHit]:
        """Ranked hits, best first (ties by id), carrying only what merging them needs."""
        ...

    async def fetch(self, ids: Sequence[str]) -> dict[str, SegmentPayload]:
        """Full payloads by point id (the page's segments and their neighbours); ids not
        stored are absent."""
        ...

    async def generation(self) -> str:
        """Names the published index version; changes whenever the index does."""
        ...

    async def podcasts(self) -> dict[str, PodcastStats]:
        """Episode and segment counts per podcast."""
        ...

    async def episode_record(self, episode_id: str) -> EpisodeRecord | None:
        """The episode's utterances, speakers and chapters (None for an unknown episode)."""
        ...

    async def excerpt(
        self, episode_id: str, start: float, end: float, limit: int
    ) -> list[SegmentPayload]:
        """At most `limit` segments of one episode that overlap [start, end] seconds, in
        transcript order (an excerpt of the transcript)."""
        ...

    async def close(self) -> None: ...


class SegmentWriter(Protocol):
    """The indexer side of a store: one writer at a time, whole episodes at a time."""

    async def prepare(self, meta: IndexMeta) -> None:
        """Create the index for `meta`, or check an existing one was built the same way."""
        ...

    async def fingerprints(self) -> Mapping[str, str]:
        """episode_id -> fingerprint of every episode fully stored (to skip unchanged ones)."""
        ...

    async def replace_episode(
        self, episode_id: str, fingerprint: str, points: Sequence[SegmentPoint]
    ) -> None:
        """Store all of an episode's segments and drop any older ones it no longer has;
        `fingerprints()` reports `fingerprint` for it from then on."""
        ...

    async def replace_record(self, record: EpisodeRecord) -> None:
        """Store the episode's record, right after its segments (Edge publishes them together)."""
        ...

    async def podcast_segments(self, podcast: str) -> list[StoredSegment]:
        """Every stored segment of one podcast, with its text and sponsor flag."""
        ...

    async def set_ad_flags(self, flags: Mapping[str, bool]) -> None:
        """Set the sponsor flag of the given segments (a payload update, no re-embedding)."""
        ...

    async def delete_episode(self, episode_id: str) -> None: ...

    async def publish(self, final: bool = False) -> None:
        """Make everything written so far visible to readers, atomically. `final`: the run is
        complete; a rebuild goes live only then, never half-built."""
        ...

    async def rollback(self) -> str:
        """Make the previously published index live again; returns its name."""
        ...

    async def close(self) -> None: ...
