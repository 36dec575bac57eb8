"""`make eval`: MRR@10, Recall@10, nDCG@10 and mean moment length per search mode, on the
Changelog golden questions and on qmsum-val, across the corpus and within the judged episode,
each table beside the naive reference pipeline measured in the same run (`eval/naive.py`).

python -m bench.eval                  # ~100 Changelog episodes + all 35 qmsum-val meetings
python -m bench.eval --corpus qmsum   # one set only
python -m bench.eval --full           # all 299 Changelog episodes (~25 min of embedding)
python -m bench.eval --window 60 --overlap 15
python -m bench.eval --rerank-url URL  # the rerank stage on, scored by URL's /v1/rerank
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import nullcontext
from pathlib import Path

from bench.eval.corpus import REPO, SAMPLE_CORPUS, Corpus, changelog, qmsum
from bench.eval.embedder_process import local_embedder
from bench.eval.metrics import K
from bench.eval.run import SCOPES, Evaluation, eval_embedder, eval_reranker, evaluate
from bench.report import machine, table
from podsearch.index_meta import ChunkerConfig

HEADERS = ["system", "questions", f"MRR@{K}", f"Recall@{K}", f"nDCG@{K}", f"episode MRR@{K}"]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", default="changelog,qmsum", help="changelog,qmsum,sample")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="all Changelog episodes")
    size.add_argument("--episodes", type=int, default=100, help="Changelog subset size")
    parser.add_argument("--window", type=int, default=ChunkerConfig().window_words)
    parser.add_argument("--overlap", type=int, default=ChunkerConfig().overlap_words)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive reference")
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "eval")
    parser.add_argument("--embedder-url", help="use this embedder instead of starting one")
    parser.add_argument(
        "--include-ads", action="store_true", help="keep sponsor/promo reads in the results"
    )
    parser.add_argument(
        "--rerank-url",
        help="rerank with this service's /v1/rerank (token: PODSEARCH_EMBEDDER__TOKEN)",
    )
    parser.add_argument("--rerank-depth", type=int, default=20, help="moments reranked")
    return parser.parse_args()


def corpora(args: argparse.Namespace) -> list[Corpus]:
    named = {
        "changelog": changelog(None if args.full else args.episodes),
        "qmsum": qmsum(),
        "sample": SAMPLE_CORPUS,
    }
    return [named[name] for name in args.corpus.split(",")]


def scores_tables(evaluation: Evaluation) -> str:
    """One table per scope: the modes, their per-style rows, then the naive reference."""
    out = []
    for scope in SCOPES:
        rows = []
        for (where, system), by_style in evaluation.items():
            if where != scope:
                continue
            for style, s in by_style.items():
                name = system if style == "all" else f"  {system}/{style}"
                rows.append([name, s.questions, s.mrr, s.recall, s.ndcg, s.episode_mrr, s.moment_s])
        if rows:
            out.append(f"{scope}:\n" + table([*HEADERS, "mean moment s"], rows))
    return "\n\n".join(out)


async def run(args: argparse.Namespace, url: str) -> None:
    chunker = ChunkerConfig(window_words=args.window, overlap_words=args.overlap)
    async with (
        eval_embedder(url, args.cache) as embedder,
        eval_reranker(args.rerank_url) as reranker,
    ):
        for corpus in corpora(args):
            evaluation = await evaluate(
                corpus,
                chunker,
                args.cache,
                embedder,
                scopes=SCOPES,
                naive=not args.no_naive,
                include_ads=args.include_ads,
                reranker=reranker,
                rerank_depth=args.rerank_depth,
            )
            ads = " | sponsor reads included" if args.include_ads else ""
            reranked = f" | reranked: {args.rerank_depth} by {args.rerank_url}" if reranker else ""
            print(f"\n{corpus.label(chunker)}{ads}{reranked} | {machine()}")
            print(scores_tables(evaluation), flush=True)


def main() -> None:
    args = arguments()
    log = args.cache / "embedder.log"
    with nullcontext(args.embedder_url) if args.embedder_url else local_embedder(log) as url:
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
