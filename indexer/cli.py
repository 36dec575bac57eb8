"""`podsearch-index [MANIFEST] [--feed URL ...] [--opml FILE ...]`: index (or re-index) episodes.

`podsearch-index rollback` makes the previously published index live again.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from indexer.catalogue import Catalogue, read_catalogue
from indexer.fetch import Fetcher
from indexer.pipeline import Batching, Indexer, IndexReport
from indexer.report import Progress, report_json, write_report
from indexer.settings import IndexerSettings
from podsearch.errors import IndexMismatch, PodsearchError
from podsearch.manifest import read_manifest
from podsearch.models import Episode
from podsearch.remote_embedder import open_embedder
from podsearch.settings import settings_or_exit
from podsearch.stores import open_writer

log = logging.getLogger("podsearch.indexer")
EXIT_REBUILD = 3  # the index was built differently (another recipe, cut or layout): --rebuild


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="podsearch-index", description=__doc__)
    parser.add_argument(
        "manifest", type=Path, nargs="?", help="episodes JSONL (transcript paths relative)"
    )
    parser.add_argument(
        "--feed",
        action="append",
        default=[],
        metavar="URL_OR_FILE",
        help="a podcast RSS feed (Podcasting 2.0 transcripts); repeatable",
    )
    parser.add_argument(
        "--opml", action="append", default=[], type=Path, help="an OPML list of feeds; repeatable"
    )
    parser.add_argument("--report", type=Path, help="write what the run did to this JSON file")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="build a new index from scratch; readers switch to it only once it is complete",
    )
    parser.add_argument(
        "--prune", action="store_true", help="delete indexed episodes the sources no longer list"
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
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or lines")
    args = parser.parse_args(argv)
    if args.manifest is None and not args.feed and not args.opml:
        parser.error("give a MANIFEST, --feed or --opml")
    return args


async def _catalogue(settings: IndexerSettings, args: argparse.Namespace) -> Catalogue:
    feeds = settings.feeds
    cache = feeds.cache_dir or settings.store.path / "fetched"
    fetcher = Fetcher(feeds.fetch, cache)
    try:
        return await read_catalogue(
            args.feed, args.opml, feeds, fetcher, settings.max_transcript_bytes
        )
    finally:
        await fetcher.aclose()


async def run(
    settings: IndexerSettings, episodes: list[Episode], args: argparse.Namespace
) -> IndexReport:
    progress = Progress(len(episodes), enabled=not args.no_progress)
    embedder = open_embedder(settings.embedder)
    writer = open_writer(settings.store, rebuild=args.rebuild)
    try:
        indexer = Indexer(
            embedder,
            writer,
            settings.chunker,
            concurrency=settings.concurrency,
            publish_every_s=settings.publish_every_s,
            on_episode=progress.advance,
            limits=settings.limits,
            prune_max_share=settings.prune_max_share,
            batching=Batching(
                settings.batch_tokens, settings.embedder.batch_size, settings.embed_in_flight
            ),
        )
        return await indexer.run(episodes, prune=args.prune, force=args.force)
    finally:
        progress.close()
        await writer.close()
        await embedder.aclose()


async def _rollback(settings: IndexerSettings) -> str:
    writer = open_writer(settings.store)
    try:
        return await writer.rollback()
    finally:
        await writer.close()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["rollback"]:
        try:
            settings = settings_or_exit(IndexerSettings, "podsearch-index")
            print(f"rolled back: {asyncio.run(_rollback(settings))} is live")
        except PodsearchError as exc:
            sys.exit(f"podsearch-index: {exc}")
        return
    args = _arguments(argv)
    settings = settings_or_exit(IndexerSettings, "podsearch-index")
    catalogue: Catalogue | None = None
    try:
        episodes = read_manifest(args.manifest, args.allow_outside) if args.manifest else []
        if args.feed or args.opml:
            catalogue = asyncio.run(_catalogue(settings, args))
            episodes += catalogue.episodes
            if args.prune and catalogue.failures:
                # An unreadable feed lists none of its episodes: pruning would delete them all.
                log.warning("--prune skipped: %d sources failed", len(catalogue.failures))
                args.prune = False
        report = asyncio.run(run(settings, episodes[: args.limit], args))
    except IndexMismatch as exc:
        print(f"podsearch-index: {exc}", file=sys.stderr)
        sys.exit(EXIT_REBUILD)
    except PodsearchError as exc:
        sys.exit(f"podsearch-index: {exc}")
    print(report.summary())
    if catalogue is not None:
        print(catalogue.summary())
    if args.report:
        write_report(args.report, report_json(report, catalogue))
    if report.failures or (catalogue and catalogue.failures):
        sys.exit(2)
