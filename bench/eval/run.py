"""Golden questions through `SearchService`, exactly as the API answers them, beside the naive
reference pipeline; across the corpus and within the judged episode (an `episode_id` filter)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bench.eval.build import prepare_index
from bench.eval.corpus import Corpus, Question, read_questions
from bench.eval.embed_cache import CachedEmbedder
from bench.eval.metrics import K, Scores, Span, score
from bench.eval.naive import NaiveIndex
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SearchFilters
from podsearch.ports import Embedder, Reranker
from podsearch.remote_embedder import RemoteEmbedder, open_embedder
from podsearch.settings import EmbedderClientSettings
from podsearch.stores.edge import EdgeReader
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService
from search_api.settings import ApiOptions, ApiSettings

Results = list[list[Span]]  # per question, the top-K moments
SCOPES = ("across", "within")  # the whole corpus, or only the judged episode
NAIVE = "naive"
# (scope, system) -> style ("all" or a question style) -> scores; a system is a mode or
# "naive <mode>".
Evaluation = dict[tuple[str, str], dict[str, Scores]]

# Quality, not latency, is measured: a slow (busy) embedder must not degrade a search.
OPTIONS = ApiOptions(embed_deadline_s=120)


@asynccontextmanager
async def eval_embedder(url: str, cache: Path) -> AsyncIterator[Embedder]:
    """The embedder at `url` behind the on-disk vector cache of `cache`."""
    async with open_embedder(EmbedderClientSettings(url=url, read_timeout_s=600)) as http:
        cached = CachedEmbedder(http, cache / "embeddings.sqlite")
        try:
            yield cached
        finally:
            cached.close()


@asynccontextmanager
async def eval_reranker(url: str | None) -> AsyncIterator[RemoteEmbedder | None]:
    """The reranker at `url` (its token from the environment's embedder settings), if any."""
    if url is None:
        yield None
        return
    settings = ApiSettings().embedder.model_copy(update={"url": url, "read_timeout_s": 600})
    async with open_embedder(settings) as reranker:
        yield reranker


@asynccontextmanager
async def open_service(
    index: Path,
    embedder: Embedder,
    reranker: Reranker | None = None,
    rerank_depth: int = 0,
    **options: object,
) -> AsyncIterator[SearchService]:
    """The service as the API runs it; with `reranker`, its rerank stage on `rerank_depth`
    moments; `options` change its `ApiOptions`."""
    reader = EdgeReader(index)
    depth = rerank_depth if reranker is not None else 0
    changed = {**options, "rerank_depth": depth, "rerank_deadline_s": 600}
    try:
        yield SearchService(embedder, reader, OPTIONS.model_copy(update=changed), reranker=reranker)
    finally:
        await reader.close()


async def ask(
    service: SearchService,
    question: Question,
    mode: SearchMode,
    rrf_k: int | None = None,
    within: bool = False,
    include_ads: bool = False,
) -> list[Span]:
    episodes = (question.episode_id,) if within else ()
    filters = SearchFilters(episode_ids=episodes, include_ads=include_ads)
    params = SearchParams(query=question.text, mode=mode, limit=K, rrf_k=rrf_k, filters=filters)
    response = await service.search(params)
    if response["degraded"]:
        raise RuntimeError(f"search degraded to keyword: {response['degraded_reason']}")
    if response["rerank"] is not None and not response["rerank"]["applied"]:
        raise RuntimeError(f"search not reranked: {response['rerank']['reason']}")
    return [Span(m["episode_id"], m["start"], m["end"]) for m in response["results"]]


async def run_questions(
    service: SearchService,
    questions: Sequence[Question],
    mode: SearchMode,
    rrf_k: int | None = None,
    within: bool = False,
    include_ads: bool = False,
) -> Results:
    return [await ask(service, q, mode, rrf_k, within, include_ads) for q in questions]


def scores_by_style(questions: Sequence[Question], results: Results) -> dict[str, Scores]:
    """Scores over all questions ("all") and over each question style."""
    pairs = [(res, list(q.answers)) for q, res in zip(questions, results, strict=True)]
    by_style = {"all": score(pairs)}
    for style in sorted({q.style for q in questions} - {"any"}):
        chosen = [p for q, p in zip(questions, pairs, strict=True) if q.style == style]
        by_style[style] = score(chosen)
    return by_style


async def evaluate(
    corpus: Corpus,
    chunker: ChunkerConfig,
    cache: Path,
    embedder: Embedder,
    modes: Sequence[SearchMode] = tuple(SearchMode),
    scopes: Sequence[str] = ("across",),
    naive: bool = False,
    include_ads: bool = False,
    reranker: Reranker | None = None,
    rerank_depth: int = 0,
) -> Evaluation:
    """Build (or reuse) the corpus's index, ask every question in every mode and scope, score;
    with `naive`, the naive pipeline's answers too; with `reranker`, the rerank stage on."""
    index = await prepare_index(corpus, chunker, cache, embedder)
    questions = read_questions(corpus.questions)
    out: Evaluation = {}
    async with open_service(index, embedder, reranker, rerank_depth) as service:
        for scope in scopes:
            for mode in modes:
                results = await run_questions(
                    service, questions, mode, within=scope == "within", include_ads=include_ads
                )
                out[scope, mode.value] = scores_by_style(questions, results)
    if naive:
        reference = NaiveIndex(cache / f"{corpus.stem}-naive", embedder)
        try:
            await reference.build(index.parent / "episodes.jsonl")
            for scope in scopes:
                for mode in modes:
                    results = [
                        await reference.search(
                            q.text, mode, q.episode_id if scope == "within" else None
                        )
                        for q in questions
                    ]
                    out[scope, f"{NAIVE} {mode.value}"] = scores_by_style(questions, results)
        finally:
            reference.close()
    return out
