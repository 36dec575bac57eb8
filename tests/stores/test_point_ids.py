"""Integer point ids: derived from (episode, segment index) as before, ordered as the UUIDs
they are cut from, and never written over another point when two keys share one."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from podsearch.errors import PointIdCollision
from podsearch.models import POINT_NAMESPACE, StoreQuery, point_id, point_number
from tests.stores.test_store_adapters import Pair, episode, filled, ids, points, store, topic_vector

__all__ = ["store"]  # the adapters' fixture, run here on both adapters too


def test_ids_are_deterministic_and_ordered_like_the_uuids_they_come_from() -> None:
    keys = [("ns-1", i) for i in range(200)] + [("substack:post:42", i) for i in range(200)]
    texts = [point_id(e, i) for e, i in keys]
    assert texts == [point_id(e, i) for e, i in keys]
    assert all(len(t) == 20 and t.isdigit() and int(t) < 2**64 for t in texts)
    uuids = [str(uuid.uuid5(POINT_NAMESPACE, f"{e}:{i}")) for e, i in keys]
    assert sorted(range(len(keys)), key=texts.__getitem__) == sorted(
        range(len(keys)), key=uuids.__getitem__
    )
    assert len(set(texts)) == len(texts)
    assert point_number("ns-1:0") == int(point_id("ns-1", 0))


async def test_a_point_with_another_episodes_id_is_refused_and_nothing_is_overwritten(
    store: Pair,
) -> None:
    await filled(store)
    taken = point_id("ns-1", 1)  # as if "ep-9:0" hashed to the id of ns-1's second segment
    colliding = [
        replace(p, id=taken) if p.payload.segment_index == 0 else p
        for p in points(episode("ep-9", "Night Shift", "2025-03-01"), ["bees", "budget"])
    ]
    with pytest.raises(PointIdCollision, match=r"'ep-9'.*'ns-1'"):
        await store.writer.replace_episode("ep-9", "v1", colliding)
    await store.writer.publish()
    assert "ep-9" not in await store.writer.fingerprints()
    hits = await store.reader.search(StoreQuery(limit=1, dense=topic_vector("dns")))
    assert ids(hits) == ["ns-1#1"]
    assert (await store.reader.fetch([taken]))[taken].episode_id == "ns-1"


async def test_two_points_of_one_episode_with_one_id_are_refused(store: Pair) -> None:
    await filled(store)
    twice = points(episode("ep-9", "Night Shift", "2025-03-01"), ["bees", "budget"])
    twice[1] = replace(twice[1], id=twice[0].id)
    with pytest.raises(PointIdCollision, match="share one id"):
        await store.writer.replace_episode("ep-9", "v1", twice)


async def test_re_indexing_an_episode_reuses_its_own_ids(store: Pair) -> None:
    await filled(store)
    night = episode("ns-1", "Night Shift", "2025-02-11")
    await store.writer.replace_episode("ns-1", "v2", points(night, ["budget", "dns"], tag="v2"))
    await store.writer.publish()
    assert (await store.writer.fingerprints())["ns-1"] == "v2"
