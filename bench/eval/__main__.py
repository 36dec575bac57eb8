"""`make eval`: MRR@10, Recall@10 and nDCG@10 per search mode over the golden questions.

python -m bench.eval                  # ~100 Changelog episodes (golden + distractors)
python -m bench.eval --full           # all 299 episodes (~25 min of embedding on 2 cores)
python -m bench.eval --window 60 --overlap 15
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import nullcontext
from pathlib import Path

from bench.eval.corpus import REPO, SAMPLE_CORPUS, changelog
from bench.eval.embedder_process import local_embedder
from bench.eval.metrics import K, Scores
from bench.eval.run import evaluate
from bench.report import machine, table
from podsearch.index_meta import ChunkerConfig
from search_api.schemas import SearchMode


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    corpus = parser.add_mutually_exclusive_group()
    corpus.add_argument("--full", action="store_true", help="all Changelog episodes")
    corpus.add_argument("--episodes", type=int, default=100, help="Changelog subset size")
    corpus.add_argument("--sample", action="store_true", help="the repo's sample corpus")
    parser.add_argument("--window", type=int, default=ChunkerConfig().window_words)
    parser.add_argument("--overlap", type=int, default=ChunkerConfig().overlap_words)
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "eval")
    parser.add_argument("--embedder-url", help="use this embedder instead of starting one")
    parser.add_argument(
        "--include-ads", action="store_true", help="keep sponsor/promo reads in the results"
    )
    return parser.parse_args()


def scores_table(scores: dict[SearchMode, dict[str, Scores]]) -> str:
    headers = ["mode", "questions", f"MRR@{K}", f"Recall@{K}", f"nDCG@{K}", f"episode MRR@{K}"]
    rows = []
    for mode, by_style in scores.items():
        for style, s in by_style.items():
            name = mode if style == "all" else f"  {mode}/{style}"
            rows.append([name, s.questions, s.mrr, s.recall, s.ndcg, s.episode_mrr])
    return table(headers, rows)


def main() -> None:
    args = arguments()
    corpus = SAMPLE_CORPUS if args.sample else changelog(None if args.full else args.episodes)
    chunker = ChunkerConfig(window_words=args.window, overlap_words=args.overlap)
    log = args.cache / "embedder.log"
    with nullcontext(args.embedder_url) if args.embedder_url else local_embedder(log) as url:
        scores = asyncio.run(
            evaluate(corpus, chunker, args.cache, url, include_ads=args.include_ads)
        )
    ads = " | sponsor reads included" if args.include_ads else ""
    print(f"{corpus.label(chunker)}{ads} | {machine()}")
    print(scores_table(scores))


if __name__ == "__main__":
    main()
