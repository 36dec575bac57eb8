"""The Edge lock, solved: the indexer publishes generations while readers keep serving."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from podsearch.errors import IndexerBusy, IndexMismatch, IndexNotReady
from podsearch.index_meta import IndexMeta
from podsearch.models import StoreQuery
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.generations import GenerationDir
from tests.stores.test_store_adapters import episode, points, topic_vector
from tests.support import tiny_meta

NIGHT = episode("ns-1", "Night Shift", "2025-02-11")
SOIL = episode("ss-1", "Seed & Soil", "2024-09-18")


async def count(reader: EdgeReader) -> int:
    return len(await reader.search(StoreQuery(limit=50, dense=topic_vector("dns"))))


async def test_readers_see_nothing_until_the_writer_publishes(tmp_path: Path) -> None:
    writer, reader = EdgeWriter(tmp_path), EdgeReader(tmp_path)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager", "dns"]))
    with pytest.raises(IndexNotReady):
        await count(reader)
    await writer.publish()
    assert await count(reader) == 2
    await writer.close()
    await reader.close()


async def test_a_serving_reader_switches_to_each_new_generation(tmp_path: Path) -> None:
    writer, reader = EdgeWriter(tmp_path), EdgeReader(tmp_path)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager", "dns"]))
    await writer.publish()
    assert await count(reader) == 2
    await writer.replace_episode("ss-1", "v1", points(SOIL, ["compost", "tomato", "bees"]))
    assert await count(reader) == 2  # written, not yet published
    await writer.publish()
    assert await count(reader) == 5
    await writer.replace_episode("ss-1", "v1", points(SOIL, ["bees"]))
    await writer.publish()
    assert await count(reader) == 3
    generations = [p for p in (tmp_path / "generations").iterdir()]
    assert len(generations) == 2  # older ones are pruned
    await writer.close()
    await reader.close()


async def test_queries_in_flight_finish_on_the_generation_they_started_on(
    tmp_path: Path,
) -> None:
    """Ranking queries run in worker threads: a switch must not close a shard under them.
    One worker thread, held busy, keeps the queries waiting (on the old shard) past the switch."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
    writer, reader = EdgeWriter(tmp_path), EdgeReader(tmp_path)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager", "dns"]))
    await writer.publish()
    assert await count(reader) == 2
    held = threading.Event()
    busy = loop.run_in_executor(None, held.wait)
    in_flight = [asyncio.create_task(count(reader)) for _ in range(4)]
    await asyncio.sleep(0.05)  # the queries have taken the old shard and wait for the thread
    await writer.replace_episode("ss-1", "v1", points(SOIL, ["compost", "tomato", "bees"]))
    await writer.publish()
    await reader.generation()  # the reader switches now
    held.set()
    await busy
    assert await asyncio.gather(*in_flight) == [2] * 4
    assert await count(reader) == 5
    await writer.close()
    await reader.close()


async def test_only_one_indexer_may_write(tmp_path: Path) -> None:
    first, second = EdgeWriter(tmp_path), EdgeWriter(tmp_path)
    await first.prepare(tiny_meta())
    with pytest.raises(IndexerBusy):
        await second.prepare(tiny_meta())
    await first.close()
    await second.prepare(tiny_meta())
    await second.close()


async def test_a_restarted_indexer_remembers_finished_episodes(tmp_path: Path) -> None:
    writer = EdgeWriter(tmp_path)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "fp-1", points(NIGHT, ["pager"], tag="fp-1"))
    await writer.close()  # crash-like: never published
    again = EdgeWriter(tmp_path)
    await again.prepare(tiny_meta())
    assert await again.fingerprints() == {"ns-1": "fp-1"}
    await again.publish()  # the first publication happens on the resumed run
    reader = EdgeReader(tmp_path)
    assert await count(reader) == 1
    await again.close()
    await reader.close()


async def test_rebuild_starts_from_an_empty_staging_shard(tmp_path: Path) -> None:
    writer = EdgeWriter(tmp_path)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager"]))
    await writer.close()
    rebuilt = EdgeWriter(tmp_path, rebuild=True)
    await rebuilt.prepare(tiny_meta(dimension=16))
    assert await rebuilt.fingerprints() == {}
    await rebuilt.close()


async def test_several_processes_can_read_one_generation(tmp_path: Path) -> None:
    writer, reader = EdgeWriter(tmp_path), EdgeReader(tmp_path)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager", "dns"]))
    await writer.publish()
    assert await count(reader) == 2  # this process holds the generation open
    script = (
        "import asyncio, sys\n"
        "from podsearch.stores.edge import EdgeReader\n"
        "print(asyncio.run(EdgeReader(__import__('pathlib').Path(sys.argv[1])).generation()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == await reader.generation()
    await writer.close()
    await reader.close()


async def test_episodes_written_after_the_last_publication_are_published_on_resume(
    tmp_path: Path,
) -> None:
    writer = EdgeWriter(tmp_path)
    await writer.prepare(tiny_meta())
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager"]))
    await writer.publish()
    await writer.replace_episode("ss-1", "v1", points(SOIL, ["bees"]))
    await writer.close()  # crash-like: the second episode was never published
    again = EdgeWriter(tmp_path)
    await again.prepare(tiny_meta())
    await again.publish()
    reader = EdgeReader(tmp_path)
    assert set(await reader.podcasts()) == {"Night Shift", "Seed & Soil"}
    await again.close()
    await reader.close()


async def published(root: Path, meta: IndexMeta, rebuild: bool = False) -> Path:
    writer = EdgeWriter(root, rebuild)
    await writer.prepare(meta)
    await writer.replace_episode("ns-1", "v1", points(NIGHT, ["pager", "dns"]))
    await writer.publish(final=True)
    await writer.close()
    return GenerationDir(root).current()  # type: ignore[return-value]


async def test_a_refused_generation_is_not_opened_again_until_the_pointer_moves(
    tmp_path: Path,
) -> None:
    """Its meta is read before its shard is loaded, and the refusal is remembered: each request
    on a refused index costs a stat, not a shard load."""
    reader = EdgeReader(tmp_path)
    old = await published(tmp_path, tiny_meta().model_copy(update={"schema_version": 1}))
    shutil.rmtree(old / "shard")  # were it loaded, the answer would be "cannot open"
    with pytest.raises(IndexMismatch, match="schema_version 1"):
        await count(reader)
    (old / "meta.json").unlink()  # were it read again, the answer would be "cannot read"
    with pytest.raises(IndexMismatch, match="schema_version 1"):
        await count(reader)
    await published(tmp_path, tiny_meta(), rebuild=True)
    assert await count(reader) == 2
    await reader.close()


async def test_a_meta_without_a_schema_version_reads_as_the_oldest_layout(tmp_path: Path) -> None:
    meta = await published(tmp_path, tiny_meta()) / "meta.json"
    written = json.loads(meta.read_text())
    del written["schema_version"]
    meta.write_text(json.dumps(written))
    reader = EdgeReader(tmp_path)
    with pytest.raises(IndexMismatch, match="schema_version 1"):
        await count(reader)
    await reader.close()
