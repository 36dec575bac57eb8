"""Regression guard on retrieval quality: the eval harness over the repo's sample corpus.

Real embedder process, real indexer pipeline, real `SearchService`; only quality is asserted
(no timings). Floors sit a little below what all-MiniLM-L6-v2 measured (see the comments).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.eval.corpus import SAMPLE_CORPUS
from bench.eval.embedder_process import local_embedder
from bench.eval.run import eval_embedder, evaluate
from podsearch.index_meta import ChunkerConfig
from search_api.schemas import SearchMode

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# mode: (MRR@10, Recall@10, nDCG@10) floors; measured values in the comments.
FLOORS = {
    SearchMode.hybrid: (0.75, 0.95, 0.80),  # 0.760, 1.000, 0.819 (0.776 before chunker v2)
    SearchMode.semantic: (0.62, 0.95, 0.70),  # 0.679, 1.000, 0.758
    SearchMode.keyword: (0.75, 0.90, 0.80),  # 0.805, 0.969, 0.845
}


async def test_the_sample_corpus_stays_above_its_quality_floors(tmp_path: Path) -> None:
    with local_embedder(tmp_path / "embedder.log") as url:
        async with eval_embedder(url, tmp_path) as embedder:
            scores = await evaluate(SAMPLE_CORPUS, ChunkerConfig(), tmp_path, embedder)
    for mode, (mrr, recall, ndcg) in FLOORS.items():
        got = scores["across", mode.value]["all"]
        assert got.questions == 32
        assert got.mrr >= mrr and got.recall >= recall and got.ndcg >= ndcg, f"{mode}: {got}"
