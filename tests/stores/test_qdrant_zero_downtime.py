"""Qdrant server mode without downtime, on qdrant-client's local mode (same client API):
rebuilds behind an alias, rollback, and re-indexed episodes never mixed for readers.

Unverified here (needs a real server): that `update_collection_aliases` is atomic under
concurrent queries, and the timing of a rebuild of a large collection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from qdrant_client import AsyncQdrantClient

from podsearch.errors import IndexMismatch, IndexNotReady, StoreUnavailable
from podsearch.index_meta import SCHEMA_VERSION
from podsearch.models import StoreQuery, point_id
from podsearch.settings import StoreSettings
from podsearch.stores import qdrant_aliases
from podsearch.stores.qdrant_server import QdrantServerStore
from tests.stores.test_store_adapters import episode, points, topic_vector
from tests.support import tiny_meta

SETTINGS = StoreSettings(backend="qdrant", url=":memory:", collection="podsearch")
NIGHT = episode("ns-1", "Night Shift", "2025-02-11")
SOIL = episode("ss-1", "Seed & Soil", "2024-09-18")


class FlakyServer(AsyncQdrantClient):
    """Qdrant that goes away at the next delete: the indexer dies mid re-index."""

    fail_delete = False

    async def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.fail_delete:
            raise ConnectionError("server gone")
        return await super().delete(*args, **kwargs)


@pytest.fixture
async def client() -> AsyncIterator[FlakyServer]:
    client = FlakyServer(location=":memory:")
    yield client
    await client.close()


async def rebuild(client: AsyncQdrantClient, episodes: dict[str, list[str]]) -> QdrantServerStore:
    writer = QdrantServerStore(SETTINGS, client, rebuild=True)
    await writer.prepare(tiny_meta())
    for ep in (NIGHT, SOIL):
        if ep.episode_id in episodes:
            await writer.replace_episode(ep.episode_id, "v1", points(ep, episodes[ep.episode_id]))
    return writer


async def seen(client: AsyncQdrantClient) -> set[str]:
    reader = QdrantServerStore(SETTINGS, client)
    hits = await reader.search(StoreQuery(limit=50, dense=topic_vector("dns")))
    return {f"{h.episode_id}#{h.segment_index}" for h in hits}


async def test_a_rebuild_goes_live_only_when_complete_and_keeps_one_for_rollback(
    client: FlakyServer,
) -> None:
    first = await rebuild(client, {"ns-1": ["pager", "dns"]})
    await first.publish(final=True)
    assert await seen(client) == {"ns-1#0", "ns-1#1"}

    second = await rebuild(client, {"ss-1": ["compost"]})
    await second.publish()  # a periodic publish mid-run: readers still see the old one
    assert await seen(client) == {"ns-1#0", "ns-1#1"}
    await second.publish(final=True)
    assert await seen(client) == {"ss-1#0"}

    third = await rebuild(client, {"ns-1": ["dns"]})
    await third.publish(final=True)
    assert await seen(client) == {"ns-1#0"}
    assert len(await qdrant_aliases.built_collections(client, "podsearch")) == 2

    assert await third.rollback() == second._collection
    assert await seen(client) == {"ss-1#0"}
    assert len(await qdrant_aliases.built_collections(client, "podsearch")) == 1
    with pytest.raises(IndexNotReady, match="no earlier collection"):
        await third.rollback()


async def test_an_empty_rebuild_fails_its_smoke_query_and_switches_nothing(
    client: FlakyServer,
) -> None:
    await (await rebuild(client, {"ns-1": ["pager"]})).publish(final=True)
    empty = await rebuild(client, {})
    with pytest.raises(IndexNotReady, match="empty"):
        await empty.publish(final=True)
    assert await seen(client) == {"ns-1#0"}


async def test_a_rebuild_refuses_a_name_that_is_a_collection_not_an_alias(
    client: FlakyServer,
) -> None:
    plain = QdrantServerStore(SETTINGS, client)
    await plain.prepare(tiny_meta())
    with pytest.raises(StoreUnavailable, match=r"is a collection.*PODSEARCH_STORE__COLLECTION"):
        await rebuild(client, {})


async def test_an_older_schema_in_a_collection_is_rebuilt_under_a_new_name(
    client: FlakyServer,
) -> None:
    """A first run without `--rebuild` made `podsearch` a collection, which `--rebuild` cannot
    replace: both sides tell how to upgrade instead, and that way works."""
    await QdrantServerStore(SETTINGS, client).prepare(
        tiny_meta().model_copy(update={"schema_version": SCHEMA_VERSION - 1})
    )
    new_name = r"schema_version.*set PODSEARCH_STORE__COLLECTION to a new name.*--rebuild"
    with pytest.raises(IndexMismatch, match=new_name):
        await QdrantServerStore(SETTINGS, client).prepare(tiny_meta())
    with pytest.raises(IndexMismatch, match=new_name):
        await QdrantServerStore(SETTINGS, client).meta()
    renamed = SETTINGS.model_copy(update={"collection": "podsearch2"})
    writer = QdrantServerStore(renamed, client, rebuild=True)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager", "dns"]))
    await writer.publish(final=True)
    assert (await QdrantServerStore(renamed, client).meta()).schema_version == SCHEMA_VERSION


async def test_a_reindex_cut_between_its_two_writes_never_shows_a_mix(client: FlakyServer) -> None:
    store = QdrantServerStore(SETTINGS, client)
    await store.prepare(tiny_meta())
    old = points(NIGHT, ["pager", "dns", "database"], "Ann", "old")
    await store.replace_episode("ns-1", "old", old)
    client.fail_delete = True
    with pytest.raises(ConnectionError):  # new version written, old one not yet dropped
        await store.replace_episode("ns-1", "new", points(NIGHT, ["dns", "budget"], "Ann", "new"))
    client.fail_delete = False

    hits = await store.search(StoreQuery(limit=50, dense=topic_vector("dns")))
    fetched = await store.fetch([h.id for h in hits])
    assert {p.episode_fingerprint for p in fetched.values()} == {"new"}
    assert len(hits) == 2
    context = await store.fetch([point_id("ns-1", i) for i in (0, 1, 2)])
    assert sorted(p.segment_index for p in context.values()) == [0, 1]
    assert {p.episode_fingerprint for p in context.values()} == {"new"}
    assert await store.fingerprints() == {"ns-1": "new"}

    await store.replace_episode("ns-1", "newer", points(NIGHT, ["pager"], "Ann", "newer"))
    assert (await client.count(SETTINGS.collection)).count == 1  # every older version is gone


async def test_a_failed_rebuild_is_cleared_by_the_next_and_never_rolled_back_to(
    client: FlakyServer,
) -> None:
    await (await rebuild(client, {"ns-1": ["pager"]})).publish(final=True)
    await (await rebuild(client, {"ss-1": ["compost"]})).publish(final=True)
    await rebuild(client, {"ns-1": ["dns"]})  # crashed: never published
    last = await rebuild(client, {"ss-1": ["bees"]})
    await last.publish(final=True)
    assert len(await qdrant_aliases.built_collections(client, "podsearch")) == 2
    await last.rollback()
    reader = QdrantServerStore(SETTINGS, client)
    hits = await reader.search(StoreQuery(limit=5, dense=topic_vector("compost")))
    texts = [p.text for p in (await reader.fetch([h.id for h in hits])).values()]
    assert texts == ["we talk about compost here"]  # not the crashed one
