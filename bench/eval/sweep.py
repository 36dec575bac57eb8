"""Choose segment length, overlap and fusion: the golden questions over a grid of settings.

    python -m bench.eval.sweep                       # default grid on the ~100-episode subset
    python -m bench.eval.sweep --chunkers 120:30 --rrf-k 10,60

Each chunker config is its own index (cached and resumable under data/eval/, each costs a full
embedding pass); RRF k and dense/BM25 weights only re-query the index.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import nullcontext
from pathlib import Path

import qdrant_edge as qe

from bench.eval.build import prepare_index
from bench.eval.corpus import REPO, Corpus, Question, changelog, read_questions
from bench.eval.embedder_process import local_embedder
from bench.eval.fusion import weighted_hybrid
from bench.eval.metrics import K, Span, score
from bench.eval.run import eval_embedder, open_service, run_questions
from bench.report import machine, table
from bench.shards import live_shard
from podsearch.index_meta import ChunkerConfig
from podsearch.ports import Embedder
from podsearch.stores.schema import Bm25Encoder
from search_api.schemas import SearchMode
from search_api.service import SearchService

# Longer moments overlap a judged span more easily, so their mean length is shown beside.
METRICS = [f"MRR@{K}", f"Recall@{K}", f"nDCG@{K}", f"episode MRR@{K}", "mean moment s"]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.eval.sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--episodes", type=int, default=100, help="Changelog subset size")
    parser.add_argument("--chunkers", default="60:15,120:30,200:40", help="window:overlap,...")
    parser.add_argument("--rrf-k", default="2,5,10,20,40,60,100")
    parser.add_argument("--dense-weights", default="0.5,1,2,3", help="BM25 weight is 1")
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "eval")
    parser.add_argument("--embedder-url", help="use this embedder instead of starting one")
    return parser.parse_args()


def _row(label: list[object], results: list[list[Span]], questions: list[Question]) -> list[object]:
    s = score([(r, list(q.answers)) for r, q in zip(results, questions, strict=True)])
    return [*label, s.mrr, s.recall, s.ndcg, s.episode_mrr, s.moment_s]


async def fusion_rows(
    service: SearchService,
    shard: qe.EdgeShard,
    questions: list[Question],
    ks: list[int],
    weights: list[float],
) -> list[list[object]]:
    """Hybrid scores per RRF k and dense weight; weight 1 is checked against the service."""
    dense = [(await service.embedder.embed([q.text], "query"))[0] for q in questions]
    bm25 = Bm25Encoder()
    sparse = [bm25.query(q.text) for q in questions]
    rows, same, compared = [], 0, 0
    for k in ks:
        served = await run_questions(service, questions, SearchMode.hybrid, rrf_k=k)
        for w in weights:
            results = [
                weighted_hybrid(shard, d, s, k, (w, 1.0))
                for d, s in zip(dense, sparse, strict=True)
            ]
            if w == 1:
                same += sum(a == b for a, b in zip(results, served, strict=True))
                compared += len(questions)
            rows.append(_row([k, w], results, questions))
    print(f"weights (1, 1) reproduced SearchService's hybrid answers in {same}/{compared} cases")
    return rows


async def sweep(args: argparse.Namespace, corpus: Corpus, embedder_url: str) -> None:
    async with eval_embedder(embedder_url, args.cache) as embedder:
        await _sweep(args, corpus, embedder)


async def _sweep(args: argparse.Namespace, corpus: Corpus, embedder: Embedder) -> None:
    questions = read_questions(corpus.questions)
    modes_rows: list[list[object]] = []
    for spec in args.chunkers.split(","):
        window, overlap = (int(x) for x in spec.split(":"))
        chunker = ChunkerConfig(window_words=window, overlap_words=overlap)
        index = await prepare_index(corpus, chunker, args.cache, embedder)
        async with open_service(index, embedder) as service:
            segments = sum(s.segments for s in (await service.reader.podcasts()).values())
            for mode in SearchMode:
                results = await run_questions(service, questions, mode)
                modes_rows.append(_row([spec, segments, mode], results, questions))
            ks = [int(k) for k in args.rrf_k.split(",")]
            weights = [float(w) for w in args.dense_weights.split(",")]
            shard = live_shard(index)
            try:
                fusion = await fusion_rows(service, shard, questions, ks, weights)
            finally:
                shard.close()
        print(f"\nfusion, chunker {spec} (hybrid; BM25 weight 1):")
        print(table(["RRF k", "dense weight", *METRICS], fusion))
    print(f"\nchunkers: {corpus.name}, {corpus.episodes} episodes, {len(questions)} questions")
    print(machine())
    print(table(["window:overlap", "segments", "mode", *METRICS], modes_rows))


def main() -> None:
    args = arguments()
    corpus = changelog(args.episodes)
    log = args.cache / "embedder.log"
    with nullcontext(args.embedder_url) if args.embedder_url else local_embedder(log) as url:
        asyncio.run(sweep(args, corpus, url))


if __name__ == "__main__":
    main()
