"""Query variants: `service` answers as `SearchService` does, across and within an episode."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.eval.corpus import SAMPLE_CORPUS, read_questions
from bench.eval.query_variants import VARIANTS, ask_all
from bench.eval.run import run_questions
from bench.shards import live_shard
from indexer.pipeline import Indexer
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.stores.edge import EdgeReader, EdgeWriter
from search_api.schemas import SearchMode
from search_api.service import SearchService
from tests.fakes import HashEmbedder


async def test_the_service_variant_reproduces_the_service(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    writer = EdgeWriter(tmp_path)
    await Indexer(embedder, writer, ChunkerConfig()).run(read_manifest(SAMPLE_CORPUS.manifest))
    await writer.close()
    # the sample questions, and templated ones (a topic branch) and one-word ones (weights)
    sample = read_questions(SAMPLE_CORPUS.questions)[:12]
    asked = [
        "Summarize the discussion about the pager",
        "compost",
        "What did Maya say about sleep?",
    ]
    questions = sample + [replace(q, text=t) for q, t in zip(sample, asked, strict=False)]
    reader = EdgeReader(tmp_path)
    service = SearchService(embedder, reader)
    shard = live_shard(tmp_path)
    try:
        answers = {}
        for within in (False, True):
            served = await run_questions(service, questions, SearchMode.hybrid, within=within)
            got = await ask_all(shard, embedder.vector, questions, VARIANTS["service"], within)
            answers[within] = got
            same = sum(a == b for a, b in zip(got, served, strict=True))
            # its own candidate depth: a moment's edge may differ where the service merged one
            # more neighbour; the ranking itself must match almost everywhere
            assert same >= 0.9 * len(served), f"{same}/{len(served)}"
        question_only = await ask_all(
            shard, embedder.vector, questions, VARIANTS["question-only"], False
        )
        assert question_only != answers[False]  # the topic and weights change some answers
    finally:
        shard.close()
        await reader.close()
