"""Weighted hybrid search: at weights (1, 1) it answers exactly as `SearchService` does."""

from __future__ import annotations

from pathlib import Path

from bench.eval.corpus import SAMPLE_CORPUS, read_questions
from bench.eval.fusion import weighted_hybrid
from bench.eval.run import run_questions
from bench.shards import live_shard
from indexer.pipeline import Indexer
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.schema import Bm25Encoder
from search_api.schemas import SearchMode
from search_api.service import SearchService
from tests.fakes import HashEmbedder


async def test_equal_weights_reproduce_the_service_and_other_weights_reorder(
    tmp_path: Path,
) -> None:
    embedder = HashEmbedder()
    writer = EdgeWriter(tmp_path)
    await Indexer(embedder, writer, ChunkerConfig()).run(read_manifest(SAMPLE_CORPUS.manifest))
    await writer.close()
    questions = read_questions(SAMPLE_CORPUS.questions)
    reader = EdgeReader(tmp_path)
    served = await run_questions(SearchService(embedder, reader), questions, SearchMode.hybrid)
    await reader.close()

    shard = live_shard(tmp_path)
    bm25 = Bm25Encoder()

    def weighted(weights: tuple[float, float]) -> list[object]:
        return [
            weighted_hybrid(shard, embedder.vector(q.text), bm25.query(q.text), 60, weights)
            for q in questions
        ]

    try:
        equal = weighted((1.0, 1.0))
        same = sum(a == b for a, b in zip(equal, served, strict=True))
        # The sweep fetches its own candidate depth, so a moment's edge can differ where the
        # service merged one more neighbour; the ranking itself must match almost everywhere.
        assert same >= 0.9 * len(served), f"{same}/{len(served)}"
        assert weighted((5.0, 1.0)) != served
    finally:
        shard.close()
