"""Qdrant server/cluster adapter through `qdrant-client`: the scale-out store.

One class serves both sides. Qdrant has no multi-operation transactions, so re-indexing an
episode writes its new segments as a new *version* (new point ids, payload `version`) with one
upsert, then deletes every other version. Between the two, or after a crash between them, an
episode has two complete versions; readers keep, per episode, only the newest version among
the hits they got, so no answer ever mixes an episode's old and new segments. `publish` has
nothing to do, except at the end of a `--rebuild` (see `qdrant_aliases`). The index metadata
lives in the collection's own metadata. Tests run it on qdrant-client's in-process local mode
(`url=":memory:"`), which speaks the same client API.
"""

from __future__ import annotations

import hashlib
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ApiException

from podsearch.errors import IndexMismatch, IndexNotReady, StoreUnavailable
from podsearch.index_meta import IndexMeta
from podsearch.models import (
    POINT_NAMESPACE,
    PodcastStats,
    SearchFilters,
    SegmentHit,
    SegmentPoint,
    SparseVector,
    StoreQuery,
    page_of,
)
from podsearch.settings import StoreSettings
from podsearch.stores import qdrant_aliases as aliases
from podsearch.stores.schema import DENSE, PAYLOAD_INDEXES, SPARSE, query_branches

_META_KEY = "podsearch"
_VERSION = "version"  # an episode's write time (ns): which of its versions readers keep
_SCHEMA_TYPES = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "datetime": models.PayloadSchemaType.DATETIME,
    "integer": models.PayloadSchemaType.INTEGER,
}


def _client(settings: StoreSettings) -> AsyncQdrantClient:
    if settings.url == ":memory:":
        return AsyncQdrantClient(location=":memory:")
    key = settings.api_key.get_secret_value() if settings.api_key else None
    # No version probe at construction: it runs in a background thread and only warns.
    return AsyncQdrantClient(
        url=settings.url,
        api_key=key,
        timeout=int(settings.timeout_s),
        check_compatibility=False,
    )


class QdrantServerStore:
    """Reader and writer over one collection of a Qdrant server or cluster."""

    def __init__(
        self,
        settings: StoreSettings,
        client: AsyncQdrantClient | None = None,
        rebuild: bool = False,
    ) -> None:
        self._settings = settings
        self._collection = settings.collection  # a collection, or an alias of one
        self._client = client or _client(settings)
        self._meta: IndexMeta | None = None
        self._rebuild = rebuild

    async def prepare(self, meta: IndexMeta) -> None:
        try:
            if self._rebuild:
                await aliases.check_alias_name(self._client, self._settings.collection)
                self._collection = aliases.new_collection(self._settings.collection)
            exists = await self._client.collection_exists(self._collection)
            if exists:
                (await self._read_meta()).check_compatible(meta)
                self._meta = meta
                return
            await self._create(meta)
        except (ApiException, OSError) as exc:
            raise StoreUnavailable(f"Qdrant at {self._settings.url}: {exc}") from exc
        self._meta = meta

    async def _create(self, meta: IndexMeta) -> None:
        await self._client.create_collection(
            self._collection,
            vectors_config={
                DENSE: models.VectorParams(
                    size=meta.recipe.dimension, distance=models.Distance.COSINE
                )
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            shard_number=self._settings.shard_number,
            replication_factor=self._settings.replication_factor,
            metadata={_META_KEY: meta.model_dump(mode="json")},
        )
        with warnings.catch_warnings():
            # Local mode warns that payload indexes do nothing there; a server builds them.
            warnings.simplefilter("ignore", UserWarning)
            for field, kind in PAYLOAD_INDEXES.items():
                await self._client.create_payload_index(
                    self._collection, field, _SCHEMA_TYPES[kind], wait=True
                )

    async def _read_meta(self) -> IndexMeta:
        info = await self._client.get_collection(self._collection)
        raw = (info.config.metadata or {}).get(_META_KEY)
        if raw is None:
            raise IndexMismatch(
                f"collection {self._collection!r} was not created by podsearch (no metadata)"
            )
        return IndexMeta.model_validate(raw)

    async def meta(self) -> IndexMeta:
        if self._meta is None:
            try:
                if not await self._client.collection_exists(self._collection):
                    raise IndexNotReady(f"collection {self._collection!r} does not exist yet")
                self._meta = await self._read_meta()
            except (ApiException, OSError) as exc:
                raise StoreUnavailable(f"Qdrant at {self._settings.url}: {exc}") from exc
        return self._meta

    async def fingerprints(self) -> Mapping[str, str]:
        """Read from each episode's first segment (written in the same upsert as the rest)."""
        found: dict[str, str] = {}
        newest: dict[str, int] = {}
        offset: Any = None
        first = models.Filter(
            must=[models.FieldCondition(key="segment_index", match=models.MatchValue(value=0))]
        )
        while True:
            records, offset = await self._client.scroll(
                self._collection,
                scroll_filter=first,
                limit=1000,
                offset=offset,
                with_payload=["episode_id", "episode_fingerprint", _VERSION],
            )
            for record in records:
                payload = record.payload or {}
                episode = str(payload["episode_id"])
                if payload.get(_VERSION, 0) >= newest.get(episode, 0):
                    newest[episode] = payload.get(_VERSION, 0)
                    found[episode] = str(payload["episode_fingerprint"])
            if offset is None:
                return found

    async def replace_episode(self, episode_id: str, points: Sequence[SegmentPoint]) -> None:
        """Write the new version whole, then drop the others (readers pick one version)."""
        version = time.time_ns()
        await self._client.upsert(
            self._collection,
            points=[
                models.PointStruct(
                    id=str(uuid.uuid5(POINT_NAMESPACE, f"{p.id}@{version}")),
                    vector={
                        DENSE: p.dense,
                        SPARSE: models.SparseVector(
                            indices=p.sparse.indices, values=p.sparse.values
                        ),
                    },
                    payload={**p.payload, _VERSION: version},
                )
                for p in points
            ],
            wait=True,
        )
        await self._delete(episode_id, keep_version=version)

    async def delete_episode(self, episode_id: str) -> None:
        await self._delete(episode_id, keep_version=None)

    async def _delete(self, episode_id: str, keep_version: int | None) -> None:
        kept: list[Any] = [] if keep_version is None else [_match(_VERSION, keep_version)]
        selector = models.Filter(must=[_match("episode_id", episode_id)], must_not=kept)
        await self._client.delete(
            self._collection, points_selector=models.FilterSelector(filter=selector), wait=True
        )

    async def publish(self, final: bool = False) -> None:
        """Every episode is visible whole once upserted; a complete rebuild goes live here."""
        if self._rebuild and final:
            await aliases.smoke_test(self._client, self._collection)
            await aliases.switch(self._client, self._settings.collection, self._collection)

    async def rollback(self) -> str:
        return await aliases.rollback(self._client, self._settings.collection)

    async def search(self, query: StoreQuery) -> list[SegmentHit]:
        await self.meta()
        branches = [(using, _vector(vector)) for using, vector in query_branches(query)]
        if not branches:
            return []
        flt = _filter(query.filters)
        common: dict[str, Any] = {
            "limit": query.depth,
            "query_filter": flt,
            "with_payload": True,
            "score_threshold": query.score_threshold,
        }
        try:
            if len(branches) == 1:
                using, vector = branches[0]
                response = await self._client.query_points(
                    self._collection, query=vector, using=using, **common
                )
            else:
                prefetch = [
                    models.Prefetch(query=v, using=u, limit=query.prefetch_limit, filter=flt)
                    for u, v in branches
                ]
                response = await self._client.query_points(
                    self._collection,
                    prefetch=prefetch,
                    query=models.RrfQuery(rrf=models.Rrf(k=query.rrf_k)),
                    **common,
                )
        except (ApiException, OSError) as exc:
            raise StoreUnavailable(f"Qdrant query failed: {exc}") from exc
        hits = [
            SegmentHit(id=str(p.id), score=p.score, payload=dict(p.payload or {}))
            for p in response.points
        ]
        return page_of(newest_versions(hits), query)

    async def generation(self) -> str:
        meta = await self.meta()
        digest = hashlib.sha256(meta.model_dump_json().encode()).hexdigest()[:12]
        return f"{self._collection}:{digest}"

    async def podcasts(self) -> dict[str, PodcastStats]:
        await self.meta()
        response = await self._client.facet(
            self._collection, key="podcast", limit=10_000, exact=True
        )
        stats = {}
        for hit in response.hits:
            firsts = models.Filter(must=[_match("podcast", hit.value), _match("segment_index", 0)])
            counted = await self._client.count(self._collection, count_filter=firsts, exact=True)
            stats[str(hit.value)] = PodcastStats(episodes=counted.count, segments=hit.count)
        return stats

    async def segments(self, episode_id: str, indexes: Sequence[int]) -> list[SegmentHit]:
        wanted = models.Filter(
            must=[
                _match("episode_id", episode_id),
                models.FieldCondition(
                    key="segment_index", match=models.MatchAny(any=list(indexes))
                ),
            ]
        )
        records, _ = await self._client.scroll(
            self._collection, scroll_filter=wanted, limit=2 * len(indexes), with_payload=True
        )
        return newest_versions(
            [SegmentHit(id=str(r.id), score=0.0, payload=dict(r.payload or {})) for r in records]
        )

    async def close(self) -> None:
        await self._client.close()


def newest_versions(hits: list[SegmentHit]) -> list[SegmentHit]:
    """Per episode, only the hits of the newest version present (see the module docstring)."""
    newest: dict[Any, int] = {}
    for hit in hits:
        episode = hit.payload.get("episode_id")
        newest[episode] = max(newest.get(episode, 0), hit.payload.get(_VERSION, 0))
    return [h for h in hits if h.payload.get(_VERSION, 0) == newest[h.payload.get("episode_id")]]


def _match(key: str, value: Any) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def _vector(vector: list[float] | SparseVector) -> Any:
    if isinstance(vector, SparseVector):
        return models.SparseVector(indices=vector.indices, values=vector.values)
    return vector


def _filter(filters: SearchFilters) -> models.Filter | None:
    must: list[Any] = [
        models.FieldCondition(key=key, match=models.MatchAny(any=values))
        for key, values in filters.any_of()
    ]
    if filters.dated:
        window = models.DatetimeRange(gte=filters.published_after, lte=filters.published_before)
        must.append(models.FieldCondition(key="published", range=window))
    return models.Filter(must=must) if must else None
