"""Index a manifest the way `podsearch-index` does (same pipeline, same Edge writer), resumably.

The indexer records a fingerprint per episode, so an interrupted build picks up where it
stopped and a finished one costs a few file reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.eval.corpus import Corpus, read_questions, subset_manifest
from indexer.pipeline import Indexer, IndexReport
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import Episode
from podsearch.ports import Embedder
from podsearch.stores.edge import EdgeWriter


async def build_index(
    manifest: Path, index: Path, embedder: Embedder, chunker: ChunkerConfig
) -> IndexReport:
    episodes = read_manifest(manifest, allow_outside=True)  # absolute paths into the corpus
    done = 0

    def progress(episode: Episode, segments: int) -> None:
        nonlocal done
        done += 1
        if segments and done % 10 == 0:
            print(f"  {index.parent.name}: {done}/{len(episodes)} episodes", file=sys.stderr)

    writer = EdgeWriter(index)
    try:
        indexer = Indexer(embedder, writer, chunker, on_episode=progress)
        report = await indexer.run(episodes)
    finally:
        await writer.close()
    if report.failures:
        raise RuntimeError(f"indexing {manifest} failed: {report.summary()}")
    return report


async def prepare_index(
    corpus: Corpus, chunker: ChunkerConfig, cache: Path, embedder: Embedder
) -> Path:
    """The corpus's index for this chunker under `cache`, built or completed as needed."""
    folder = cache / corpus.label(chunker)
    manifest = folder / "episodes.jsonl"
    subset_manifest(corpus.manifest, read_questions(corpus.questions), corpus.episodes, manifest)
    report = await build_index(manifest, folder / "index", embedder, chunker)
    if report.indexed:
        print(f"  {folder.name}: {report.summary()}", file=sys.stderr)
    return folder / "index"
