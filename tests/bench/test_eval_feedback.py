"""The feedback and moment-scoring lab: its pieces on plain data, then the lab over a real Edge
index of the sample corpus, where its baseline must answer as `SearchService` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.eval.corpus import SAMPLE_CORPUS, read_questions
from bench.eval.feedback import Lab, Variant, compared, expand, ranked_moments, rocchio
from bench.eval.run import run_questions
from bench.shards import live_shard
from indexer.pipeline import Indexer
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import SparseVector
from podsearch.stores.edge import EdgeReader, EdgeWriter
from search_api.schemas import SearchMode
from search_api.service import SearchService
from tests.fakes import HashEmbedder
from tests.search_api.test_moments import hit

QUESTION = SparseVector(indices=[1, 2], values=[1.0, 1.0])


def test_the_terms_the_feedback_weighs_most_join_the_query_below_its_own_words() -> None:
    feedback = [
        SparseVector(indices=[1, 7, 8, 9], values=[1.0, 2.0, 1.0, 0.5]),
        SparseVector(indices=[7, 9], values=[1.0, 1.0]),
    ]
    widened = expand(QUESTION, feedback, terms=2, weight=0.6)
    # pooled shares: 7 -> 2/4.5 + 1/2, 9 -> 0.5/4.5 + 1/2, 8 -> 1/4.5; term 1 is asked already
    assert widened.indices == [1, 2, 7, 9]
    assert widened.values[:3] == [1.0, 1.0, pytest.approx(0.6)]
    assert widened.values[3] == pytest.approx(0.6 * (0.5 / 4.5 + 0.5) / (2 / 4.5 + 0.5))
    assert expand(QUESTION, [SparseVector(indices=[2], values=[3.0])], 10, 0.6) == QUESTION


def test_rocchio_moves_the_query_towards_the_feedback_and_keeps_unit_length() -> None:
    moved = rocchio([1.0, 0.0], [[0.0, 1.0], [0.0, 3.0]], alpha=1.0)
    assert moved == pytest.approx([2**-0.5, 2**-0.5])
    assert rocchio([1.0, 0.0], [[0.0, 1.0]], alpha=0.5)[1] == pytest.approx(0.5 / 1.25**0.5)


def test_a_moment_can_be_ranked_by_the_sum_of_its_segments() -> None:
    hits = [hit("a", 0, 0.9), hit("b", 0, 0.8), hit("b", 1, 0.7)]
    assert [m.episode_id for m in ranked_moments(hits, None)] == ["a", "b"]
    assert [m.episode_id for m in ranked_moments(hits, sum)] == ["b", "a"]


def test_changes_are_paired_per_question() -> None:
    change, interval, up, down = compared([1.0, 0.5, 0.0, 1.0], [1.0, 1.0, 0.5, 0.5])
    assert change == pytest.approx(0.125) and (up, down) == (2, 1)
    assert interval.startswith("[") and interval.endswith("]")


async def test_the_lab_baseline_answers_as_the_service_and_feedback_changes_answers(
    tmp_path: Path,
) -> None:
    embedder = HashEmbedder()
    writer = EdgeWriter(tmp_path)
    await Indexer(embedder, writer, ChunkerConfig()).run(read_manifest(SAMPLE_CORPUS.manifest))
    await writer.close()
    questions = read_questions(SAMPLE_CORPUS.questions)
    reader, shard = EdgeReader(tmp_path), live_shard(tmp_path)
    try:
        service = SearchService(embedder, reader)
        served = await run_questions(service, questions, SearchMode.hybrid)
        lab = Lab(service, shard)

        async def answers(variant: Variant) -> list[object]:
            return [await lab.answer(q, embedder.vector(q.text), False, variant) for q in questions]

        assert await answers(Variant("baseline")) == served
        assert await answers(Variant("RM3", 5, terms=10)) != served
        assert await answers(Variant("Rocchio", 5, alpha=1.0)) != served
    finally:
        shard.close()
        await reader.close()
