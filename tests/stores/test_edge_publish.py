"""Publishing costs what changed: unchanged files are hard-linked, and that is safe because the
engine's in-place writes can only ever reach staging, never a published generation."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podsearch.errors import IndexNotReady, StoreUnavailable
from podsearch.models import Segment, SegmentPoint, StoreQuery
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.generations import GenerationDir
from tests.stores.test_store_adapters import BM25, episode
from tests.support import tiny_meta


def noisy_points(episode_id: str, count: int, seed: int) -> list[SegmentPoint]:
    rng = random.Random(seed)
    ep = episode(episode_id, "Night Shift", "2025-02-11")
    out = []
    for i in range(count):
        seg = Segment(ep, i, 10.0 * i, 10.0 * i + 9, f"segment {i} of {episode_id}", ("Ann",))
        vector = [rng.uniform(-1, 1) for _ in range(8)]
        sparse = BM25.document(seg.text)
        out.append(SegmentPoint(seg.point_id, vector, sparse, seg.payload("v"), vector, sparse))
    return out


def contents(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in folder.rglob("*")
        if p.is_file()
    }


async def episodes_seen(root: Path) -> set[str]:
    reader = EdgeReader(root)
    try:
        hits = await reader.search(StoreQuery(limit=1000, dense=[1.0] * 8))
    finally:
        await reader.close()
    return {h.episode_id for h in hits}


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[EdgeWriter]:
    writer = EdgeWriter(tmp_path)
    await writer.prepare(tiny_meta())
    for number in range(12):
        await writer.replace_episode(f"ep-{number}", "v", noisy_points(f"ep-{number}", 250, number))
    await writer.publish()
    yield writer
    await writer.close()  # idempotent: tests may have closed it


async def test_generations_share_unchanged_files_and_never_change_after_publication(
    writer: EdgeWriter, tmp_path: Path
) -> None:
    dirs = GenerationDir(tmp_path)
    first = dirs.current()
    assert first is not None
    first_files = contents(first)

    await writer.replace_episode("ep-3", "v", noisy_points("ep-3", 100, 99))  # in place, in staging
    await writer.delete_episode("ep-5")
    await writer.replace_episode("ep-new", "v", noisy_points("ep-new", 50, 7))
    await writer.publish()
    second = dirs.current()
    assert second is not None and second != first
    second_files = contents(second)
    assert contents(first) == first_files  # the older generation is byte-for-byte intact
    shared = [k for k, (ino, _) in second_files.items() if first_files.get(k, (0,))[0] == ino]
    assert shared and len(shared) < len(second_files)  # linked what did not change, not more

    await writer.replace_episode("ep-1", "v", noisy_points("ep-1", 30, 5))  # unpublished writes
    await writer.delete_episode("ep-2")
    staging_inodes = {ino for ino, _ in contents(tmp_path / "staging").values()}
    assert contents(second) == second_files
    assert not staging_inodes & {ino for ino, _ in second_files.values()}
    assert not staging_inodes & {ino for ino, _ in first_files.values()}
    seen = await episodes_seen(tmp_path)
    assert "ep-new" in seen and "ep-5" not in seen and "ep-2" in seen
    await writer.close()


async def test_rollback_serves_the_previous_generation_and_staging_restarts_from_it(
    writer: EdgeWriter, tmp_path: Path
) -> None:
    await writer.replace_episode("ep-new", "v", noisy_points("ep-new", 50, 7))
    await writer.delete_episode("ep-0")
    await writer.publish()
    await writer.close()
    assert "ep-new" in await episodes_seen(tmp_path)

    assert await EdgeWriter(tmp_path).rollback()
    seen = await episodes_seen(tmp_path)
    assert "ep-new" not in seen and "ep-0" in seen
    assert len(list((tmp_path / "generations").iterdir())) == 1  # the bad one is gone

    again = EdgeWriter(tmp_path)
    await again.prepare(tiny_meta())
    assert "ep-new" not in await again.fingerprints()  # a re-run redoes it, from the old state
    await again.replace_episode("ep-new", "v", noisy_points("ep-new", 50, 7))
    await again.publish()
    await again.close()
    assert "ep-new" in await episodes_seen(tmp_path)

    await EdgeWriter(tmp_path).rollback()
    with pytest.raises(IndexNotReady, match="no earlier generation"):
        await EdgeWriter(tmp_path).rollback()


async def test_a_rollback_target_that_cannot_be_read_is_refused_and_nothing_moves(
    writer: EdgeWriter, tmp_path: Path
) -> None:
    await writer.replace_episode("ep-new", "v", noisy_points("ep-new", 5, 7))
    await writer.publish()
    await writer.close()
    dirs = GenerationDir(tmp_path)
    live = dirs.current()
    (dirs.previous() / "meta.json").unlink()
    with pytest.raises(StoreUnavailable, match="cannot read index generation"):
        await EdgeWriter(tmp_path).rollback()
    assert dirs.current() == live and "ep-new" in await episodes_seen(tmp_path)


async def test_an_edge_rebuild_publishes_nothing_until_it_is_complete(
    writer: EdgeWriter, tmp_path: Path
) -> None:
    await writer.close()
    rebuilt = EdgeWriter(tmp_path, rebuild=True)
    await rebuilt.prepare(tiny_meta())
    await rebuilt.replace_episode("ep-new", "v", noisy_points("ep-new", 20, 1))
    await rebuilt.publish()  # periodic, mid-run
    assert "ep-new" not in await episodes_seen(tmp_path)
    await rebuilt.publish(final=True)
    assert await episodes_seen(tmp_path) == {"ep-new"}
    await rebuilt.close()
