"""The phrase index on segment text: an Edge index built before it gets it on the next indexer
run, and answers phrase filters the same before (by reading every candidate's text) and after."""

from __future__ import annotations

from pathlib import Path

import qdrant_edge as qe

from bench.shards import live_shard
from podsearch.models import SearchFilters, StoreQuery
from podsearch.stores.edge import EdgeReader, EdgeWriter
from tests.stores.test_store_adapters import episode, points, topic_vector
from tests.support import tiny_meta


def text_indexed(root: Path) -> bool:
    shard = live_shard(root)
    try:
        return "text" in shard.info().payload_schema
    finally:
        shard.close()


async def phrase_hits(root: Path, phrase: str) -> list[int]:
    reader = EdgeReader(root)
    try:
        filters = SearchFilters(phrases=(phrase,))
        hits = await reader.search(StoreQuery(limit=10, dense=topic_vector("dns"), filters=filters))
        return sorted(h.segment_index for h in hits)
    finally:
        await reader.close()


async def test_an_index_without_the_phrase_index_gets_it_on_the_next_run(tmp_path: Path) -> None:
    writer = EdgeWriter(tmp_path)
    await writer.prepare(tiny_meta())
    night = episode("ns-1", "Night Shift", "2025-02-11")
    await writer.replace_episode("ns-1", "v1", points(night, ["pager", "dns", "database"]))
    await writer.publish()
    await writer.close()
    for shard in (qe.EdgeShard.load(str(tmp_path / "staging" / "shard")), live_shard(tmp_path)):
        shard.update(qe.UpdateOperation.delete_field_index("text"))  # as built before it
        shard.flush()
        shard.close()
    assert not text_indexed(tmp_path)
    assert await phrase_hits(tmp_path, "about DNS") == [1]

    writer = EdgeWriter(tmp_path)
    await writer.prepare(tiny_meta())  # no episode changed: this publication is for the index
    await writer.publish()
    await writer.close()
    assert text_indexed(tmp_path)
    assert await phrase_hits(tmp_path, "about DNS") == [1]
