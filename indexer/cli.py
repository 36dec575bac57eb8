"""`podsearch-index MANIFEST`: index (or re-index) the episodes a manifest lists."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from indexer.pipeline import Indexer, IndexReport
from indexer.settings import IndexerSettings
from podsearch.errors import PodsearchError
from podsearch.manifest import read_manifest
from podsearch.models import Episode
from podsearch.remote_embedder import open_embedder
from podsearch.settings import settings_or_exit
from podsearch.stores import open_writer


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="podsearch-index", description=__doc__)
    parser.add_argument("manifest", type=Path, help="episodes JSONL (transcript paths relative)")
    parser.add_argument("--rebuild", action="store_true", help="Edge: start from an empty index")
    parser.add_argument(
        "--prune", action="store_true", help="delete indexed episodes the manifest no longer lists"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="let --prune delete more than PODSEARCH_PRUNE_MAX_SHARE of the index",
    )
    parser.add_argument(
        "--allow-outside",
        action="store_true",
        help="read transcripts outside the manifest's folder (absolute paths, '..', symlinks)",
    )
    parser.add_argument("--limit", type=int, help="index only the first N episodes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


async def run(
    settings: IndexerSettings, episodes: list[Episode], args: argparse.Namespace
) -> IndexReport:
    bar = tqdm(total=len(episodes), unit="episode", disable=args.no_progress, file=sys.stderr)
    segments = 0

    def advance(episode: Episode, count: int) -> None:
        nonlocal segments
        segments += count
        bar.set_postfix(segments=segments, refresh=False)
        bar.update(1)

    embedder = open_embedder(settings.embedder)
    writer = open_writer(settings.store, rebuild=args.rebuild)
    try:
        indexer = Indexer(
            embedder,
            writer,
            settings.chunker,
            concurrency=settings.concurrency,
            publish_every_s=settings.publish_every_s,
            on_episode=advance,
            limits=settings.limits,
            prune_max_share=settings.prune_max_share,
        )
        return await indexer.run(episodes, prune=args.prune, force=args.force)
    finally:
        bar.close()
        await writer.close()
        await embedder.aclose()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    args = _arguments(argv)
    settings = settings_or_exit(IndexerSettings, "podsearch-index")
    try:
        episodes = read_manifest(args.manifest, args.allow_outside)[: args.limit]
        report = asyncio.run(run(settings, episodes, args))
    except PodsearchError as exc:
        sys.exit(f"podsearch-index: {exc}")
    print(report.summary())
    if report.failures:
        sys.exit(2)
