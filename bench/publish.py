"""Edge publish cost after a daily change: linked generations vs copying the whole shard.

    python -m bench.publish --quick              # 20k segments
    python -m bench.publish --sizes 20000,200000

Builds an index of synthetic segments (384-d random vectors, real payloads, 140 per episode)
through `EdgeWriter` and publishes it. Then, `--days` times, a "day" re-indexes one episode and
adds one, and publishes. Reported: the whole `EdgeWriter.publish()` (HNSW upkeep + generation),
the generation step alone (link unchanged files, copy the rest; from the writer's log record),
and the bytes copied and linked. The baseline, measured in the same run on the same staging
folder, is the generation step before this change: `shutil.copytree` of the whole shard.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.report import machine, ratio, table
from bench.synthetic import FINGERPRINT, Talk, Vectors, episodes
from podsearch.contract import EmbeddingRecipe
from podsearch.index_meta import ChunkerConfig, IndexMeta
from podsearch.models import SegmentPoint, point_id
from podsearch.stores.edge import EdgeWriter
from podsearch.stores.generations import Publication

DIM = 384


class Publications(logging.Handler):
    """Collects the `Publication` each `EdgeWriter.publish()` logs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[Publication] = []

    def emit(self, record: logging.LogRecord) -> None:
        publication = getattr(record, "publication", None)
        if isinstance(publication, Publication):
            self.seen.append(publication)


async def measure(root: Path, size: int, days: int) -> list[list[object]]:
    vectors = Vectors(DIM, "random")
    meta = IndexMeta(
        recipe=EmbeddingRecipe(model_id="bench/random", dimension=DIM), chunker=ChunkerConfig()
    )
    published = Publications()
    edge_log = logging.getLogger("podsearch.stores.edge")
    edge_log.addHandler(published)
    edge_log.setLevel(logging.INFO)
    writer = EdgeWriter(root)
    await writer.prepare(meta)
    rows: list[list[object]] = []
    try:
        stream = episodes(size + 140 * (2 * days + 1), vectors, Talk(distinct=1000))
        for _ in range(size // 140):
            episode_id, points = next(stream)
            await writer.replace_episode(episode_id, FINGERPRINT, points)
        started = time.perf_counter()
        await writer.publish()
        first_s = time.perf_counter() - started
        print(f"  {size}: built, first publish {first_s:.1f} s", file=sys.stderr, flush=True)
        for day in range(1, days + 1):
            _, points = next(stream)  # new vectors, used as an update of an existing episode
            changed = f"bench-{day * 7:06d}"
            updated = [_renamed(p, changed) for p in points]
            await writer.replace_episode(changed, FINGERPRINT, updated)
            episode_id, points = next(stream)
            await writer.replace_episode(episode_id, FINGERPRINT, points)
            started = time.perf_counter()
            await writer.publish()
            publish_s = time.perf_counter() - started
            done = published.seen[-1]
            baseline_s = _copytree_seconds(root / "staging", root / f"copy-{day}")
            total = done.copied_bytes + done.linked_bytes
            rows.append(
                [
                    size,
                    day,
                    publish_s,
                    done.seconds,
                    baseline_s,
                    ratio(done.seconds, baseline_s),
                    done.copied_bytes / 1e6,
                    total / 1e6,
                    f"{done.copied_bytes / total:.1%}",
                ]
            )
            print(f"  {size}: day {day}: {rows[-1]}", file=sys.stderr, flush=True)
    finally:
        await writer.close()
        edge_log.removeHandler(published)
    return rows


def _renamed(point: SegmentPoint, episode_id: str) -> SegmentPoint:
    """The same segment under another episode's id (an update of that episode)."""
    index = point.payload.segment_index
    return replace(
        point, id=point_id(episode_id, index), payload=replace(point.payload, episode_id=episode_id)
    )


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
        "publish() s",
        "generation s",
        "copy-all s (before)",
        "ratio",
        "copied MB",
        "shard MB",
        "copied share",
    ]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
