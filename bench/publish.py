"""Edge publish cost after a daily change: linked generations vs copying the whole shard.

    python -m bench.publish --quick              # 20k segments
    python -m bench.publish --sizes 20000,200000

Builds an index of synthetic segments (384-d random vectors, real payloads, 140 per episode)
through `EdgeWriter` and publishes it. Then, `--days` times, a "day" re-indexes one episode and
adds one, and publishes: the time of `EdgeWriter.publish()` (HNSW upkeep + the generation), and
the bytes it copied and hard-linked. The baseline, measured in the same run on the same staging
folder, is what publishing cost before: `shutil.copytree` of the whole shard.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from bench.report import machine, ratio, table
from bench.synthetic import Talk, Vectors, episodes
from podsearch.contract import EmbeddingRecipe
from podsearch.index_meta import ChunkerConfig, IndexMeta
from podsearch.models import POINT_NAMESPACE, SegmentPoint
from podsearch.stores.edge import EdgeWriter
from podsearch.stores.generations import GenerationDir

DIM = 384


def linked_and_copied(generation: Path) -> tuple[int, int]:
    """Bytes of the generation shared with an older one (hard links) and bytes of its own."""
    linked = copied = 0
    for path in generation.rglob("*"):
        if path.is_file():
            st = path.stat()
            if st.st_nlink > 1:
                linked += st.st_size
            else:
                copied += st.st_size
    return linked, copied


async def measure(root: Path, size: int, days: int) -> list[list[object]]:
    vectors = Vectors(DIM, "random")
    meta = IndexMeta(
        recipe=EmbeddingRecipe(model_id="bench/random", dimension=DIM), chunker=ChunkerConfig()
    )
    writer = EdgeWriter(root)
    await writer.prepare(meta)
    rows: list[list[object]] = []
    try:
        stream = episodes(size + 140 * (days + 1), vectors, Talk(distinct=1000))
        for _ in range(size // 140):
            episode_id, points = next(stream)
            await writer.replace_episode(episode_id, points)
        started = time.perf_counter()
        await writer.publish()
        first_s = time.perf_counter() - started
        print(f"  {size}: built, first publish {first_s:.1f} s", file=sys.stderr, flush=True)
        for day in range(1, days + 1):
            _, points = next(stream)  # new vectors, re-used as an existing episode's update
            changed = f"bench-{day * 7:06d}"
            await writer.replace_episode(changed, [_renamed(p, changed) for p in points])
            episode_id, points = next(stream)
            await writer.replace_episode(episode_id, points)
            started = time.perf_counter()
            await writer.publish()
            publish_s = time.perf_counter() - started
            live = GenerationDir(root).current()
            assert live is not None
            linked, copied = linked_and_copied(live)
            baseline_s = _copytree_seconds(root / "staging", root / f"copy-{day}")
            rows.append(
                [
                    size,
                    day,
                    publish_s,
                    baseline_s,
                    ratio(publish_s, baseline_s),
                    copied / 1e6,
                    linked / 1e6,
                    f"{copied / (copied + linked):.1%}",
                ]
            )
            print(f"  {size}: day {day}: {rows[-1]}", file=sys.stderr, flush=True)
    finally:
        await writer.close()
    return rows


def _renamed(point: SegmentPoint, episode_id: str) -> SegmentPoint:
    """The same segment under another episode's id (an update of that episode)."""
    index = point.payload["segment_index"]
    new_id = str(uuid.uuid5(POINT_NAMESPACE, f"{episode_id}:{index}"))
    return replace(point, id=new_id, payload={**point.payload, "episode_id": episode_id})


def _copytree_seconds(source: Path, target: Path) -> float:
    started = time.perf_counter()
    shutil.copytree(source, target)
    seconds = time.perf_counter() - started
    shutil.rmtree(target)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20k segments only")
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--days", type=int, default=3, help="daily changes to publish")
    args = parser.parse_args()
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
            rows += asyncio.run(measure(Path(tmp), size, args.days))
    print(machine())
    headers = [
        "segments",
        "day",
        "publish s",
        "copy-all s (before)",
        "ratio",
        "copied MB",
        "linked MB",
        "copied share",
    ]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
