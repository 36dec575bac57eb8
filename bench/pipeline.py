"""Indexer throughput: the whole pipeline against the model's raw `encode`, same texts, same run.

    python -m bench.pipeline --quick          # 3 Changelog episodes
    python -m bench.pipeline --episodes 12

Baseline: the embedder's own backend (bundled MiniLM, CPU) loaded in this process, encoding
every segment text of the chosen episodes in one `encode` call. Then the indexer pipeline
(`Indexer`: parse, segment, embed through `podsearch-embedder` over HTTP, BM25, write to a
fresh Edge index, publish) on the same episodes, whose segments are exactly those texts.
Overhead = pipeline seconds / encode seconds - 1 (target: at most 10%).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

from bench.eval.corpus import CHANGELOG
from bench.eval.embedder_process import local_embedder
from bench.report import machine, table
from embedder.backends import load_backend
from embedder.settings import EmbedderServerSettings
from indexer.pipeline import Indexer, IndexReport
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import Episode
from podsearch.remote_embedder import open_embedder
from podsearch.segmenting import segment_episode
from podsearch.settings import EmbedderClientSettings
from podsearch.stores.edge import EdgeWriter
from podsearch.transcripts import parse_transcript


def segment_texts(episodes: list[Episode], chunker: ChunkerConfig) -> list[str]:
    return [
        s.text
        for e in episodes
        for s in segment_episode(e, parse_transcript(e.transcript), chunker)
    ]


def raw_encode_seconds(texts: list[str]) -> float:
    backend = load_backend(EmbedderServerSettings())
    backend.encode(texts[:8], "document")  # warm up
    started = time.perf_counter()
    backend.encode(texts, "document")
    seconds = time.perf_counter() - started
    del backend
    gc.collect()
    return seconds


async def pipeline(episodes: list[Episode], url: str, root: Path) -> IndexReport:
    embedder = open_embedder(EmbedderClientSettings(url=url, read_timeout_s=300))
    writer = EdgeWriter(root)
    try:
        await embedder.embed(["warm up"], "document")
        return await Indexer(embedder, writer, ChunkerConfig()).run(episodes)
    finally:
        await writer.close()
        await embedder.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 episodes")
    parser.add_argument("--episodes", type=int, default=12)
    args = parser.parse_args()
    count = 3 if args.quick else args.episodes
    episodes = read_manifest(CHANGELOG / "episodes.jsonl")[:count]
    texts = segment_texts(episodes, ChunkerConfig())
    print(f"{count} episodes, {len(texts)} segments", file=sys.stderr, flush=True)
    encode_s = raw_encode_seconds(texts)
    with (
        tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp,
        local_embedder(Path(tmp) / "embedder.log") as url,
    ):
        report = asyncio.run(pipeline(episodes, url, Path(tmp) / "index"))
    assert report.segments == len(texts) and not report.failures, report.summary()
    print(machine())
    rows = [
        ["raw encode (baseline)", len(texts), encode_s, len(texts) / encode_s, "", ""],
        [
            "pipeline",
            report.segments,
            report.wall_seconds,
            report.segments_per_second,
            f"{report.wall_seconds / encode_s - 1:+.1%}",
            f"{report.embedder_share:.1%}",
        ],
    ]
    headers = ["run", "segments", "seconds", "segments/s", "overhead", "embedder share"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
