"""Qdrant server/cluster adapter through `qdrant-client`: the scale-out store.

One class serves both sides. Qdrant has no multi-operation transactions, so re-indexing an
episode writes its new segments as a new *version* (new point ids, payload `version`) with one
upsert, then deletes every other version. Between the two, or after a crash between them, an
episode has two complete versions; readers keep, per episode, only the newest version among
the points they got, so no answer ever mixes an episode's old and new segments. Payload `point`
keeps podsearch's own id of a segment (episode + index), so ranked hits and fetches by id speak
that id whatever the version. `publish` has nothing to do, except at the end of a `--rebuild`
(see `qdrant_aliases`). The index metadata lives in the collection's own metadata. Tests run it
on qdrant-client's in-process local mode (`url=":memory:"`), which speaks the same client API.
"""

from __future__ import annotations

import hashlib
import time
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ApiException

from podsearch.episodes import EpisodeRecord, record_point_id
from podsearch.errors import IndexMismatch, IndexNotReady, StoreUnavailable
from podsearch.index_meta import NO_ROLLBACK, REBUILD, IndexMeta
from podsearch.models import (
    POINT_NAMESPACE,
    PodcastStats,
    SegmentHit,
    SegmentPayload,
    SegmentPoint,
    SparseVector,
    StoreQuery,
)
from podsearch.settings import StoreSettings
from podsearch.sponsors import AD_FIELD, StoredSegment
from podsearch.stores import plan
from podsearch.stores import qdrant_aliases as aliases
from podsearch.stores.schema import (
    CONTEXT_DENSE,
    CONTEXT_SPARSE,
    DENSE,
    PAYLOAD_INDEXES,
    SPARSE,
)

_META_KEY = "podsearch"
_VERSION = "version"  # an episode's write time (ns): which of its versions readers keep
_POINT = "point"  # podsearch's point id (episode + index), the same in every version
_SCHEMA_TYPES: dict[str, models.PayloadSchemaType | models.TextIndexParams] = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "datetime": models.PayloadSchemaType.DATETIME,
    "integer": models.PayloadSchemaType.INTEGER,
    "phrase": models.TextIndexParams(
        type=models.TextIndexType.TEXT,
        tokenizer=models.TokenizerType.WORD,
        lowercase=True,
        phrase_matching=True,
    ),
}


LOCAL_MODE = ":memory:"  # qdrant-client in-process: exact search, the same client API


def _client(settings: StoreSettings) -> AsyncQdrantClient:
    if settings.url == LOCAL_MODE:
        return AsyncQdrantClient(location=LOCAL_MODE)
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
                (await self._read_meta()).check_compatible(meta, await self._remedy())
                info = await self._client.get_collection(self._collection)
                await self._index_payload(set(info.payload_schema))  # those added since
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
                name: models.VectorParams(
                    size=meta.recipe.dimension, distance=models.Distance.COSINE
                )
                for name in (DENSE, CONTEXT_DENSE)
            },
            sparse_vectors_config={
                name: models.SparseVectorParams(modifier=models.Modifier.IDF)
                for name in (SPARSE, CONTEXT_SPARSE)
            },
            shard_number=self._settings.shard_number,
            replication_factor=self._settings.replication_factor,
            metadata={_META_KEY: meta.model_dump(mode="json")},
        )
        await self._index_payload(set())

    async def _index_payload(self, existing: set[str]) -> None:
        """Create the payload indexes the collection lacks."""
        with warnings.catch_warnings():
            # Local mode warns that payload indexes do nothing there; a server builds them.
            warnings.simplefilter("ignore", UserWarning)
            for field, kind in {**PAYLOAD_INDEXES, _POINT: "keyword"}.items():
                if field not in existing:
                    await self._client.create_payload_index(
                        self._collection, field, _SCHEMA_TYPES[kind], wait=True
                    )

    async def _read_meta(self, collection: str | None = None) -> IndexMeta:
        collection = collection or self._collection
        info = await self._client.get_collection(collection)
        raw = (info.config.metadata or {}).get(_META_KEY)
        if raw is None:
            raise IndexMismatch(
                f"collection {collection!r} was not created by podsearch (no metadata)"
            )
        return IndexMeta.stored(raw)

    async def _remedy(self) -> str:
        """How to rebuild: `--rebuild` is refused where the configured name is a collection."""
        if await aliases.is_collection(self._client, self._settings.collection):
            return aliases.use_a_new_name(self._settings.collection)
        return REBUILD

    async def meta(self) -> IndexMeta:
        if self._meta is None:
            try:
                if not await self._client.collection_exists(self._collection):
                    raise IndexNotReady(f"collection {self._collection!r} does not exist yet")
                meta = await self._read_meta()
                meta.check_schema(await self._remedy())
                self._meta = meta
            except (ApiException, OSError) as exc:
                raise StoreUnavailable(f"Qdrant at {self._settings.url}: {exc}") from exc
        return self._meta

    async def fingerprints(self) -> Mapping[str, str]:
        """Read from each episode's first segment (written in the same upsert as the rest)."""
        firsts: list[Any] = []
        offset: Any = None
        episode_key, fingerprint_key = plan.FINGERPRINT_KEYS
        while True:
            records, offset = await self._client.scroll(
                self._collection,
                scroll_filter=_filter(plan.FIRST_SEGMENTS),
                limit=1000,
                offset=offset,
                with_payload=[*plan.FINGERPRINT_KEYS, _VERSION],
            )
            firsts += records
            if offset is None:
                break
        return {
            str(payload[episode_key]): str(payload[fingerprint_key])
            for payload in (r.payload or {} for r in _newest_versions(firsts))
        }

    async def replace_episode(
        self, episode_id: str, fingerprint: str, points: Sequence[SegmentPoint]
    ) -> None:
        """Write the new version whole, then drop the others (readers pick one version). The
        fingerprint travels in every segment's payload; `fingerprints` reads it back."""
        version = time.time_ns()
        await self._check_new_ids(episode_id, [p.id for p in points])
        await self._client.upsert(
            self._collection,
            points=[
                models.PointStruct(
                    id=str(uuid.uuid5(POINT_NAMESPACE, f"{p.id}@{version}")),
                    vector={
                        DENSE: p.dense,
                        SPARSE: _vector(p.sparse),
                        CONTEXT_DENSE: p.context_dense,
                        CONTEXT_SPARSE: _vector(p.context_sparse),
                    },
                    payload={**p.payload.to_dict(), _VERSION: version, _POINT: p.id},
                )
                for p in points
            ],
            wait=True,
        )
        await self._delete(episode_id, keep_version=version)

    async def _check_new_ids(self, episode_id: str, ids: list[str]) -> None:
        """Segments are found by `point`, which another episode's point may share (64-bit
        hashes, `plan.check_new_ids`); their own ids are versioned UUIDs, never shared."""
        others = (plan.AnyOf(_POINT, ids), plan.Unless("episode_id", episode_id))
        records, _ = await self._client.scroll(
            self._collection, scroll_filter=_must(others), limit=1, with_payload=["episode_id"]
        )
        plan.check_new_ids(episode_id, ids, ((r.payload or {}).get("episode_id") for r in records))

    async def delete_episode(self, episode_id: str) -> None:
        """Its segments and its record (all points with its episode_id)."""
        await self._delete(episode_id, keep_version=None)

    async def replace_record(self, record: EpisodeRecord) -> None:
        point = models.PointStruct(
            id=int(record_point_id(record.episode_id)), vector={}, payload=record.payload()
        )
        await self._client.upsert(self._collection, points=[point], wait=True)

    async def podcast_segments(self, podcast: str) -> list[StoredSegment]:
        found: list[StoredSegment] = []
        offset: Any = None
        while True:
            records, offset = await self._client.scroll(
                self._collection,
                scroll_filter=_filter(plan.podcast_segments(podcast)),
                limit=1000,
                offset=offset,
                with_payload=plan.STORED_KEYS,
            )
            found += [plan.stored(r.id, r.payload) for r in records]
            if offset is None:
                return found

    async def set_ad_flags(self, flags: Mapping[str, bool]) -> None:
        for value in (True, False):
            ids: list[Any] = [point_id for point_id, flag in flags.items() if flag is value]
            if ids:
                await self._client.set_payload(
                    self._collection, {AD_FIELD: int(value)}, points=ids, wait=True
                )

    async def _delete(self, episode_id: str, keep_version: int | None) -> None:
        selector = _must(plan.episode_segments(episode_id))
        if keep_version is not None:
            selector.must_not = [_condition(plan.Match(_VERSION, keep_version))]
        await self._client.delete(
            self._collection, points_selector=models.FilterSelector(filter=selector), wait=True
        )

    async def publish(self, final: bool = False) -> None:
        """Every episode is visible whole once upserted; a complete rebuild goes live here."""
        if self._rebuild and final:
            await aliases.smoke_test(self._client, self._collection)
            await aliases.switch(self._client, self._settings.collection, self._collection)

    async def rollback(self) -> str:
        async def servable(collection: str) -> None:
            (await self._read_meta(collection)).check_schema(NO_ROLLBACK)

        return await aliases.rollback(self._client, self._settings.collection, servable)

    async def search(self, query: StoreQuery) -> list[SegmentHit]:
        await self.meta()
        search = plan.plan_search(query)
        if search is None:
            return []
        flt = _filter(search.where)
        common: dict[str, Any] = {
            "limit": search.limit,
            "query_filter": flt,
            "with_payload": [*plan.RANK_KEYS, _VERSION, _POINT],
            "score_threshold": search.score_threshold,
        }
        try:
            if not search.fused:
                branch = search.branches[0]
                response = await self._client.query_points(
                    self._collection,
                    query=_vector(branch.vector),
                    using=branch.using,
                    search_params=self._walk(branch, search),
                    **common,
                )
            else:
                prefetch = [
                    models.Prefetch(
                        query=_vector(b.vector),
                        using=b.using,
                        limit=search.prefetch_limit,
                        filter=flt,
                        params=self._walk(b, search),
                    )
                    for b in search.branches
                ]
                response = await self._client.query_points(
                    self._collection,
                    prefetch=prefetch,
                    query=models.RrfQuery(rrf=models.Rrf(k=search.rrf_k, weights=search.weights)),
                    **common,
                )
        except (ApiException, OSError) as exc:
            raise StoreUnavailable(f"Qdrant query failed: {exc}") from exc
        points = _newest_versions(response.points)
        return plan.ranked(plan.hit(p.payload[_POINT], p.score, p.payload) for p in points)

    def _walk(self, branch: plan.Branch, search: plan.SearchPlan) -> models.SearchParams | None:
        """A segments' dense branch walks the HNSW graph `search.hnsw_ef` wide. Local mode
        (`LOCAL_MODE`) searches exactly, and warns at any search parameter: none there."""
        if branch.using != DENSE or self._settings.url == LOCAL_MODE:
            return None
        return models.SearchParams(hnsw_ef=search.hnsw_ef)

    async def generation(self) -> str:
        meta = await self.meta()
        digest = hashlib.sha256(meta.model_dump_json().encode()).hexdigest()[:12]
        return f"{self._collection}:{digest}"

    async def podcasts(self) -> dict[str, PodcastStats]:
        await self.meta()

        async def facet(where: plan.Where) -> list[tuple[Any, int]]:
            response = await self._client.facet(
                self._collection,
                key=plan.PODCAST,
                facet_filter=_filter(where),
                limit=plan.FACET_LIMIT,
                exact=True,
            )
            return [(hit.value, hit.count) for hit in response.hits]

        return plan.podcast_stats(await facet(()), await facet(plan.FIRST_SEGMENTS))

    async def fetch(self, ids: Sequence[str]) -> dict[str, SegmentPayload]:
        """By podsearch's point ids (stored as `point`): at most two versions of each exist."""
        await self.meta()
        try:
            records, _ = await self._client.scroll(
                self._collection,
                scroll_filter=_must((plan.AnyOf(_POINT, list(ids)),)),
                limit=2 * len(ids),
                with_payload=True,
            )
        except (ApiException, OSError) as exc:
            raise StoreUnavailable(f"Qdrant scroll failed: {exc}") from exc
        return plan.payloads((r.payload[_POINT], r.payload) for r in _newest_versions(records))

    async def episode_record(self, episode_id: str) -> EpisodeRecord | None:
        await self.meta()
        try:
            found = await self._client.retrieve(
                self._collection, [int(record_point_id(episode_id))], with_payload=True
            )
        except (ApiException, OSError) as exc:
            raise StoreUnavailable(f"Qdrant retrieve failed: {exc}") from exc
        return EpisodeRecord.from_payload(dict(found[0].payload or {})) if found else None

    async def excerpt(
        self, episode_id: str, start: float, end: float, limit: int
    ) -> list[SegmentPayload]:
        try:
            records, _ = await self._client.scroll(
                self._collection,
                scroll_filter=_must(plan.excerpt(episode_id, start, end)),
                limit=limit,
                with_payload=True,
                order_by=models.OrderBy(key=plan.EXCERPT_ORDER),
            )
        except (ApiException, OSError) as exc:
            raise StoreUnavailable(f"Qdrant scroll failed: {exc}") from exc
        return [SegmentPayload.from_dict(r.payload or {}) for r in _newest_versions(records)]

    async def close(self) -> None:
        await self._client.close()


def _newest_versions(points: Iterable[Any]) -> list[Any]:
    """Per episode, only the points of its newest version present (see the module docstring)."""
    listed = list(points)

    def version(point: Any) -> tuple[Any, int]:
        payload = point.payload or {}
        return payload.get("episode_id"), int(payload.get(_VERSION, 0))

    newest: dict[Any, int] = {}
    for episode, number in map(version, listed):
        newest[episode] = max(newest.get(episode, 0), number)
    return [p for p in listed if newest[version(p)[0]] == version(p)[1]]


def _vector(vector: list[float] | SparseVector) -> Any:
    if isinstance(vector, SparseVector):
        return models.SparseVector(indices=vector.indices, values=vector.values)
    return vector


def _condition(condition: plan.Condition) -> models.FieldCondition:
    match condition:
        case plan.Match(key, value) | plan.Unless(key, value):
            return models.FieldCondition(key=key, match=models.MatchValue(value=value))
        case plan.AnyOf(key, values):
            return models.FieldCondition(key=key, match=models.MatchAny(any=values))
        case plan.AtLeast(key, value):
            return models.FieldCondition(key=key, range=models.Range(gte=value))
        case plan.AtMost(key, value):
            return models.FieldCondition(key=key, range=models.Range(lte=value))
        case plan.Between(key, after, before):
            return models.FieldCondition(key=key, range=models.DatetimeRange(gte=after, lte=before))
        case plan.Phrase(key, phrase):
            return models.FieldCondition(key=key, match=models.MatchPhrase(phrase=phrase))


def _must(where: plan.Where) -> models.Filter:
    return models.Filter(
        must=[_condition(c) for c in where if not isinstance(c, plan.Unless)],
        must_not=[_condition(c) for c in where if isinstance(c, plan.Unless)],
    )


def _filter(where: plan.Where) -> models.Filter | None:
    return _must(where) if where else None
