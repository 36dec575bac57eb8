"""Qdrant Edge adapters: the embedded default, the Qdrant engine in-process.

`EdgeWriter` (indexer) writes the private staging shard and publishes generations;
`EdgeReader` (API) follows the published pointer and switches generations between requests,
so the indexer can run while the API serves and the API never sees a half-written index.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import qdrant_edge as qe

from podsearch.episodes import EpisodeRecord, record_point_id
from podsearch.errors import IndexMismatch, IndexNotReady, StoreUnavailable
from podsearch.index_meta import NO_ROLLBACK, IndexMeta
from podsearch.models import (
    PodcastStats,
    SegmentHit,
    SegmentPayload,
    SegmentPoint,
    SparseVector,
    StoreQuery,
)
from podsearch.sponsors import AD_FIELD, StoredSegment
from podsearch.stores import plan
from podsearch.stores.generations import GenerationDir, WriterLock
from podsearch.stores.offload import Offload, query_kind
from podsearch.stores.places import PlaceTable
from podsearch.stores.schema import (
    CONTEXT_DENSE,
    CONTEXT_SPARSE,
    DENSE,
    PAYLOAD_INDEXES,
    SPARSE,
)

log = logging.getLogger(__name__)

_SHARD = "shard"
_META = "meta.json"
_EPISODES = "episodes.json"
_SCHEMA_TYPES: dict[str, qe.PayloadSchemaType | qe.TextIndexParams] = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "datetime": qe.PayloadSchemaType.Datetime,
    "integer": qe.PayloadSchemaType.Integer,
    "phrase": qe.TextIndexParams(
        tokenizer=qe.TokenizerType.Word, lowercase=True, phrase_matching=True
    ),
}


_INT8 = qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=0.99, memory=qe.Memory.Pinned)
# a walk over int8 vectors, its candidates rescored with the float ones (scores: float cosines)
_RESCORED = qe.QuantizationSearchParams(rescore=True)


def _write_json_atomically(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _shard_config(meta: IndexMeta) -> qe.EdgeConfig:
    """`max_search_threads=1`: a query's segments are searched one after the other on one
    thread. Handing sub-millisecond segment searches to a pool of threads costs more than
    running them in parallel saves, at one client and at several (bench/RESULTS.md); the
    answers are the same. It is kept in the shard's config, so a reader inherits it.

    The segments' dense vectors also get an int8 copy in RAM: the HNSW walk of a search across
    episodes compares a quarter of the bytes, and its candidates are rescored with the float
    vectors (`_params`). The contexts are searched within one episode only (a few hundred
    points, no graph walk): float only."""
    dimension, cosine = meta.recipe.dimension, qe.Distance.Cosine
    dense = qe.EdgeVectorParams(size=dimension, distance=cosine, quantization_config=_INT8)
    context = qe.EdgeVectorParams(size=dimension, distance=cosine)
    sparse = qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)
    return qe.EdgeConfig(
        vectors={DENSE: dense, CONTEXT_DENSE: context},
        sparse_vectors={SPARSE: sparse, CONTEXT_SPARSE: sparse},
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000),
        wal_enabled=False,
        max_search_threads=1,
    )


class EdgeWriter:
    """Writes whole episodes into the staging shard; `publish` makes them visible to readers."""

    def __init__(self, root: Path, rebuild: bool = False) -> None:
        self._dirs = GenerationDir(root)
        self._lock = WriterLock(root / "indexer.lock")
        self._rebuild = rebuild
        self._shard: qe.EdgeShard | None = None
        self._fingerprints: dict[str, str] = {}
        self._dirty = False

    async def prepare(self, meta: IndexMeta) -> None:
        self._lock.acquire()
        staging = self._dirs.staging
        if self._rebuild and staging.exists():
            shutil.rmtree(staging)
        if (staging / _META).exists():
            IndexMeta.stored((staging / _META).read_text()).check_compatible(meta)
            self._shard = qe.EdgeShard.load(str(staging / _SHARD))
            self._fingerprints = json.loads((staging / _EPISODES).read_text())
            added = _index_payload(self._shard)  # indexes added since it was created
            self._dirty = added or self._unpublished_changes()
            return
        staging.mkdir(parents=True, exist_ok=True)
        shard = qe.EdgeShard.create(str(staging / _SHARD), _shard_config(meta))
        _index_payload(shard)
        self._shard = shard
        _write_json_atomically(staging / _EPISODES, {})
        (staging / _META).write_text(meta.model_dump_json(indent=1))
        self._dirty = True

    def _unpublished_changes(self) -> bool:
        """True when staging holds episodes the live generation lacks (e.g. after a crash)."""
        live = self._dirs.current()
        if live is None or not (live / _EPISODES).exists():
            return True
        return bool(json.loads((live / _EPISODES).read_text()) != self._fingerprints)

    @property
    def _open_shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise StoreUnavailable("the writer is not prepared")
        return self._shard

    async def fingerprints(self) -> Mapping[str, str]:
        return dict(self._fingerprints)

    async def replace_episode(
        self, episode_id: str, fingerprint: str, points: Sequence[SegmentPoint]
    ) -> None:
        shard = self._open_shard
        ids = [p.id for p in points] + [record_point_id(episode_id)]
        held = shard.retrieve([int(i) for i in ids], with_payload=["episode_id"], with_vector=False)
        plan.check_new_ids(episode_id, ids, ((r.payload or {}).get("episode_id") for r in held))
        shard.update(qe.UpdateOperation.delete_points_by_filter(_episode_filter(episode_id)))
        shard.update(qe.UpdateOperation.upsert_points([_to_point(p) for p in points]))
        shard.flush()
        # Recorded only once the episode is flushed: a crash before this re-indexes it.
        self._fingerprints[episode_id] = fingerprint
        _write_json_atomically(self._dirs.staging / _EPISODES, self._fingerprints)
        self._dirty = True

    async def replace_record(self, record: EpisodeRecord) -> None:
        point_id = int(record_point_id(record.episode_id))
        point = qe.Point(id=point_id, vector={}, payload=record.payload())
        self._open_shard.update(qe.UpdateOperation.upsert_points([point]))
        self._open_shard.flush()
        self._dirty = True

    async def podcast_segments(self, podcast: str) -> list[StoredSegment]:
        shard = self._open_shard
        found: list[StoredSegment] = []
        offset: Any = None
        while True:
            records, offset = shard.scroll(
                qe.ScrollRequest(
                    offset=offset,
                    limit=1000,
                    filter=_must(plan.podcast_segments(podcast)),
                    with_payload=plan.STORED_KEYS,
                )
            )
            found += [plan.stored(r.id, r.payload) for r in records]
            if offset is None:
                return found

    async def set_ad_flags(self, flags: Mapping[str, bool]) -> None:
        if not flags:
            return
        shard = self._open_shard
        for value in (True, False):
            ids: list[Any] = [int(point_id) for point_id, flag in flags.items() if flag is value]
            if ids:
                shard.update(qe.UpdateOperation.set_payload(ids, {AD_FIELD: int(value)}))
        shard.flush()
        self._dirty = True

    async def delete_episode(self, episode_id: str) -> None:
        self._open_shard.update(
            qe.UpdateOperation.delete_points_by_filter(_episode_filter(episode_id))
        )
        self._open_shard.flush()
        self._fingerprints.pop(episode_id, None)
        _write_json_atomically(self._dirs.staging / _EPISODES, self._fingerprints)
        self._dirty = True

    async def publish(self, final: bool = False) -> None:
        """Build the HNSW graph, then link/copy the closed shard in as the live generation."""
        if not self._dirty or (self._rebuild and not final):
            return
        shard = self._open_shard
        shard.optimize()
        shard.close()
        self._shard = None
        try:
            done = self._dirs.publish(self._dirs.staging)
        finally:
            self._shard = qe.EdgeShard.load(str(self._dirs.staging / _SHARD))
        self._dirty = False
        log.info(
            "published generation %s in %.2f s: %d files copied (%.1f MB), %d linked (%.1f MB)",
            done.folder.name,
            done.seconds,
            done.copied_files,
            done.copied_bytes / 1e6,
            done.linked_files,
            done.linked_bytes / 1e6,
            extra={"publication": done},
        )

    async def rollback(self) -> str:
        """Serve the previous generation again; staging restarts from it. Needs the lock."""
        self._lock.acquire()
        try:
            _generation_meta(self._dirs.previous()).check_schema(NO_ROLLBACK)
            return self._dirs.rollback(self._dirs.staging).name
        finally:
            self._lock.release()

    async def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        self._lock.release()


class EdgeReader:
    """Serves queries from the live generation and follows the pointer to newer ones."""

    def __init__(self, root: Path) -> None:
        self._dirs = GenerationDir(root)
        self._stamp: int | None = None
        self._refused: tuple[int | None, str] | None = None  # a pointer stamp and why
        self._shard: qe.EdgeShard | None = None
        self._meta: IndexMeta | None = None
        self._folder: Path | None = None
        self._meta_file = ""  # the live generation's meta.json (a path, made once per switch)
        self._places = PlaceTable()
        self._offload = Offload()  # ranking queries: inline while short, else in worker threads
        self._retired: list[qe.EdgeShard] = []  # replaced shards, closed once no query runs

    def _live(self) -> tuple[qe.EdgeShard, IndexMeta]:
        """The live shard, reopened when the pointer moved (two stats per call). A deleted
        pointer or generation is noticed at once: the API answers 503, not stale results."""
        stamp = self._dirs.pointer_stamp()
        if stamp != self._stamp:
            self._follow(stamp)
        if self._shard is None or self._meta is None or self._folder is None:
            raise IndexNotReady("no index is published yet: run `podsearch-index` first")
        if not os.path.isfile(self._meta_file):
            self._drop()
            raise StoreUnavailable("the live index generation was deleted")
        return self._shard, self._meta

    def _follow(self, stamp: int | None) -> None:
        """Switch to the published generation; one it refuses stays refused, without opening
        it again, until the pointer moves."""
        if self._refused is not None and self._refused[0] == stamp:
            raise IndexMismatch(self._refused[1])
        try:
            self._switch(stamp)
        except IndexMismatch as exc:
            self._refused = (stamp, str(exc))
            raise

    def _switch(self, stamp: int | None) -> None:
        folder = self._dirs.current()
        if folder is None:
            self._drop()
            return
        meta = _generation_meta(folder)
        meta.check_schema()
        if self._meta is not None and self._meta != meta:
            raise IndexMismatch(f"generation {folder.name} was built with another recipe")
        try:
            shard = qe.EdgeShard.load(str(folder / _SHARD))
        except Exception as exc:  # the engine raises plain Exception, with paths in it
            raise StoreUnavailable(f"cannot open index generation {folder.name}") from exc
        old, self._shard, self._meta, self._stamp = self._shard, shard, meta, stamp
        self._folder, self._meta_file, self._places = folder, str(folder / _META), PlaceTable()
        self._offload.forget()
        self._retire(old)

    def _drop(self) -> None:
        """Forget the live shard, so the next request looks for an index again."""
        self._retire(self._shard)
        self._shard, self._folder, self._stamp = None, None, None

    def _retire(self, shard: qe.EdgeShard | None) -> None:
        """Close a replaced shard, but only once no worker thread queries it (closing it under
        a query fails that query). Runs on the event loop's thread only."""
        if shard is not None:
            self._retired.append(shard)
        if not self._offload.in_threads:
            for old in self._retired:
                old.close()
            self._retired = []

    async def meta(self) -> IndexMeta:
        return self._live()[1]

    async def search(self, query: StoreQuery) -> list[SegmentHit]:
        shard, _ = self._live()
        search = plan.plan_search(query)
        if search is None:
            return []
        # In a worker thread unless known to be short (`offload`): the query's cost grows with
        # the index, and the event loop keeps serving other requests meanwhile.
        request, places = _request(search), self._places
        try:
            return await self._offload.run(
                lambda: _rank(shard, places, request), query_kind(search)
            )
        finally:
            self._retire(None)

    async def fetch(self, ids: Sequence[str]) -> dict[str, SegmentPayload]:
        """Inline: a lookup by id costs tens of microseconds whatever the index size, less
        than handing it to a thread (measured in bench/RESULTS.md)."""
        shard, _ = self._live()
        records = shard.retrieve([int(i) for i in ids], with_payload=True, with_vector=False)
        return plan.payloads((r.id, r.payload) for r in records)

    async def generation(self) -> str:
        self._live()
        return self._folder.name if self._folder else ""

    async def podcasts(self) -> dict[str, PodcastStats]:
        shard, _ = self._live()

        def facet(where: plan.Where) -> list[tuple[Any, int]]:
            request = qe.FacetRequest(
                key=plan.PODCAST, limit=plan.FACET_LIMIT, exact=True, filter=_filter(where)
            )
            return [(hit.value, hit.count) for hit in shard.facet(request).hits]

        return plan.podcast_stats(facet(()), facet(plan.FIRST_SEGMENTS))

    async def episode_record(self, episode_id: str) -> EpisodeRecord | None:
        shard, _ = self._live()
        found = shard.retrieve([int(record_point_id(episode_id))], True, False)
        return EpisodeRecord.from_payload(dict(found[0].payload or {})) if found else None

    async def excerpt(
        self, episode_id: str, start: float, end: float, limit: int
    ) -> list[SegmentPayload]:
        shard, _ = self._live()
        request = qe.ScrollRequest(
            limit=limit,
            filter=_must(plan.excerpt(episode_id, start, end)),
            with_payload=True,
            order_by=qe.OrderBy(key=plan.EXCERPT_ORDER),
        )
        records, _ = shard.scroll(request)
        return [SegmentPayload.from_dict(r.payload or {}) for r in records]

    async def close(self) -> None:
        self._drop()
        for old in self._retired:  # the app is stopping: no query is left to wait for
            old.close()
        self._retired = []


def _generation_meta(folder: Path) -> IndexMeta:
    try:
        return IndexMeta.stored((folder / _META).read_text())
    except (OSError, ValueError) as exc:
        raise StoreUnavailable(f"cannot read index generation {folder.name}") from exc


def _rank(shard: qe.EdgeShard, places: PlaceTable, request: qe.QueryRequest) -> list[SegmentHit]:
    """Ids and scores from the engine, places from the table (read once per point). Point ids
    are integers (`models.point_number`): they key the table, which keeps each one's text."""
    points: list[Any] = shard.query(request)
    scored = [(p.id, p.score) for p in points]

    def read(keys: list[int]) -> list[tuple[int, str, Any]]:
        ids: list[Any] = keys  # the stub's list of any kind of id
        records = shard.retrieve(ids, with_payload=list(plan.RANK_KEYS), with_vector=False)
        return [(cast(int, r.id), plan.id_text(r.id), r.payload) for r in records]

    return plan.ranked(places.hits(scored, read))


def _index_payload(shard: qe.EdgeShard) -> bool:
    """Create the payload indexes the shard lacks; whether there were any."""
    missing = set(PAYLOAD_INDEXES) - set(shard.info().payload_schema)
    for field in missing:
        shard.update(
            qe.UpdateOperation.create_field_index(field, _SCHEMA_TYPES[PAYLOAD_INDEXES[field]])
        )
    shard.flush()
    return bool(missing)


def _to_point(point: SegmentPoint) -> qe.Point:
    return qe.Point(
        id=int(point.id),
        vector={
            DENSE: point.dense,
            SPARSE: _vector(point.sparse),
            CONTEXT_DENSE: point.context_dense,
            CONTEXT_SPARSE: _vector(point.context_sparse),
        },
        payload=point.payload.to_dict(),
    )


def _episode_filter(episode_id: str) -> qe.Filter:
    return _must(plan.episode_segments(episode_id))


def _condition(condition: plan.Condition) -> qe.FieldCondition:
    match condition:
        case plan.Match(key, value) | plan.Unless(key, value):
            return qe.FieldCondition(key=key, match=qe.MatchValue(value))
        case plan.AnyOf(key, values):
            return qe.FieldCondition(key=key, match=qe.MatchAny(any=values))
        case plan.AtLeast(key, value):
            return qe.FieldCondition(key=key, range=qe.RangeFloat(gte=value))
        case plan.AtMost(key, value):
            return qe.FieldCondition(key=key, range=qe.RangeFloat(lte=value))
        case plan.Phrase(key, phrase):
            return qe.FieldCondition(key=key, match=qe.MatchPhrase(phrase))
        case plan.Between(key, after, before):
            window = qe.RangeDateTime(
                gte=after.isoformat() if after else None,
                lte=before.isoformat() if before else None,
            )
            return qe.FieldCondition(key=key, range=window)


def _must(where: plan.Where) -> qe.Filter:
    return qe.Filter(
        must=[_condition(c) for c in where if not isinstance(c, plan.Unless)],
        must_not=[_condition(c) for c in where if isinstance(c, plan.Unless)],
    )


def _filter(where: plan.Where) -> qe.Filter | None:
    return _must(where) if where else None


def _vector(vector: list[float] | SparseVector) -> list[float] | qe.SparseVector:
    if isinstance(vector, SparseVector):
        return qe.SparseVector(indices=vector.indices, values=vector.values)
    return vector


def _nearest(branch: plan.Branch) -> Any:
    return qe.Query.Nearest(_vector(branch.vector), using=branch.using)


def _params(branch: plan.Branch, search: plan.SearchPlan) -> qe.SearchParams | None:
    """A segments' dense branch walks the int8 copy `search.hnsw_ef` wide, rescored; the other
    branches need nothing (BM25 has no graph; contexts are searched within one episode)."""
    return _dense_walk(search.hnsw_ef) if branch.using == DENSE else None


@functools.cache
def _dense_walk(hnsw_ef: int) -> qe.SearchParams:
    """Made once per width (a page depth's), not per request."""
    return qe.SearchParams(hnsw_ef=hnsw_ef, quantization=_RESCORED)


def _request(search: plan.SearchPlan) -> qe.QueryRequest:
    """A fused query filters only its prefetches: RRF ranks what they return, all of which
    passed the filter already, so the same filter again on the fusion only costs time."""
    flt = _filter(search.where)
    common: dict[str, Any] = {
        "limit": search.limit,
        "with_payload": False,  # places come from `PlaceTable`
        "score_threshold": search.score_threshold,
    }
    if not search.fused:
        branch = search.branches[0]
        params = _params(branch, search)
        return qe.QueryRequest(query=_nearest(branch), filter=flt, params=params, **common)
    prefetches = [
        qe.Prefetch(
            limit=search.prefetch_limit,
            query=_nearest(branch),
            filter=flt,
            params=_params(branch, search),
        )
        for branch in search.branches
    ]
    # the stub types Rrf apart from Fusion
    fusion: Any = qe.Fusion.Rrf(k=search.rrf_k, weights=search.weights)
    return qe.QueryRequest(query=fusion, prefetches=prefetches, **common)
