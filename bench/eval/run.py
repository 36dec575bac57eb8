"""Golden questions through `SearchService`, exactly as the API answers them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bench.eval.build import prepare_index
from bench.eval.corpus import Corpus, Question, read_questions
from bench.eval.metrics import K, Scores, Span, score
from podsearch.index_meta import ChunkerConfig
from podsearch.remote_embedder import open_embedder
from podsearch.settings import EmbedderClientSettings
from podsearch.stores.edge import EdgeReader
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService
from search_api.settings import ApiOptions

Results = list[list[Span]]  # per question, the top-K moments


# Quality, not latency, is measured: a slow (busy) embedder must not degrade a search.
OPTIONS = ApiOptions(embed_deadline_s=120)


@asynccontextmanager
async def open_service(index: Path, embedder_url: str) -> AsyncIterator[SearchService]:
    reader = EdgeReader(index)
    try:
        async with open_embedder(EmbedderClientSettings(url=embedder_url)) as embedder:
            yield SearchService(embedder, reader, OPTIONS)
    finally:
        await reader.close()


async def ask(
    service: SearchService, question: str, mode: SearchMode, rrf_k: int | None = None
) -> list[Span]:
    params = SearchParams(query=question, mode=mode, limit=K, rrf_k=rrf_k)
    response = await service.search(params)
    if response["degraded"]:
        raise RuntimeError(f"search degraded to keyword: {response['degraded_reason']}")
    return [Span(m["episode_id"], m["start"], m["end"]) for m in response["results"]]


async def run_questions(
    service: SearchService,
    questions: Sequence[Question],
    mode: SearchMode,
    rrf_k: int | None = None,
) -> Results:
    return [await ask(service, q.text, mode, rrf_k) for q in questions]


def scores_by_style(questions: Sequence[Question], results: Results) -> dict[str, Scores]:
    """Scores over all questions ("all") and over each question style."""
    pairs = [(res, [q.answer]) for q, res in zip(questions, results, strict=True)]
    by_style = {"all": score(pairs)}
    for style in sorted({q.style for q in questions} - {"any"}):
        chosen = [p for q, p in zip(questions, pairs, strict=True) if q.style == style]
        by_style[style] = score(chosen)
    return by_style


async def evaluate(
    corpus: Corpus,
    chunker: ChunkerConfig,
    cache: Path,
    embedder_url: str,
    modes: Sequence[SearchMode] = tuple(SearchMode),
) -> dict[SearchMode, dict[str, Scores]]:
    """Build (or reuse) the corpus's index, ask every question in every mode, score."""
    index = await prepare_index(corpus, chunker, cache, embedder_url)
    questions = read_questions(corpus.questions)
    async with open_service(index, embedder_url) as service:
        return {
            mode: scores_by_style(questions, await run_questions(service, questions, mode))
            for mode in modes
        }
