"""Calibrate `explain`'s relevance label: which cosine makes a first moment a "strong" match?

python -m bench.eval.relevance                 # the ~100-episode Changelog subset of `make eval`
python -m bench.eval.relevance --episodes 60 --embedder-url http://127.0.0.1:8001
python -m bench.eval.relevance --episodes 60 --index data/eval/changelog-60-w120-o30/index

Every golden question is asked in hybrid mode with `explain=true`, as the API answers it. For
each first moment we keep the cosine of its best segment (the label's only input) and whether it
overlaps the judged answer. Each threshold is scored as a classifier of "the first moment is
right": accuracy, how often a `strong` first moment is right (precision), and how often a `weak`
one is indeed wrong (what a client saying "no good match" relies on). The best threshold by
accuracy is printed; set it as `PODSEARCH_API__STRONG_COSINE` (the default is calibrated for
the bundled MiniLM embedder: another model has another cosine scale).
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from bench.eval.build import prepare_index
from bench.eval.corpus import REPO, SAMPLE_CORPUS, Corpus, changelog, read_questions
from bench.eval.embedder_process import local_embedder
from bench.eval.metrics import Span
from bench.eval.run import open_service
from bench.report import machine, table
from podsearch.index_meta import ChunkerConfig
from search_api.schemas import SearchMode
from search_api.service import SearchParams

THRESHOLDS = [round(0.20 + 0.02 * i, 2) for i in range(31)]  # 0.20 .. 0.80


@dataclass(frozen=True)
class FirstMoment:
    cosine: float  # -1 when the moment's best segment is beyond the dense candidates
    right: bool


async def first_moments(
    corpus: Corpus, cache: Path, embedder_url: str, index: Path | None = None
) -> list[FirstMoment]:
    """`index`: an Edge index already built for `corpus` (else built or reused under `cache`)."""
    index = index or await prepare_index(corpus, ChunkerConfig(), cache, embedder_url)
    found = []
    async with open_service(index, embedder_url) as service:
        for question in read_questions(corpus.questions):
            params = SearchParams(question.text, SearchMode.hybrid, limit=1, explain=True)
            top = (await service.search(params)).results[0]
            assert top.explain is not None
            dense = top.explain.dense
            span = Span(top.episode_id, top.start, top.end)
            found.append(
                FirstMoment(dense.score if dense else -1.0, span.overlaps(question.answer))
            )
    return found


def sweep(moments: list[FirstMoment]) -> list[list[object]]:
    rows: list[list[object]] = []
    for threshold in THRESHOLDS:
        strong = [m for m in moments if m.cosine >= threshold]
        weak = [m for m in moments if m.cosine < threshold]
        correct = sum(m.right for m in strong) + sum(not m.right for m in weak)
        rows.append(
            [
                threshold,
                len(strong),
                correct / len(moments),
                sum(m.right for m in strong) / len(strong) if strong else float("nan"),
                sum(not m.right for m in weak) / len(weak) if weak else float("nan"),
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.eval.relevance", description=__doc__)
    corpus_choice = parser.add_mutually_exclusive_group()
    corpus_choice.add_argument("--episodes", type=int, default=100, help="Changelog subset size")
    corpus_choice.add_argument("--sample", action="store_true", help="the repo's sample corpus")
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "eval")
    parser.add_argument("--embedder-url", help="use this embedder instead of starting one")
    parser.add_argument("--index", type=Path, help="an Edge index already built for the corpus")
    args = parser.parse_args()
    corpus = SAMPLE_CORPUS if args.sample else changelog(args.episodes)
    log = args.cache / "embedder.log"
    with nullcontext(args.embedder_url) if args.embedder_url else local_embedder(log) as url:
        moments = asyncio.run(first_moments(corpus, args.cache, url, args.index))
    rows = sweep(moments)
    right = sum(m.right for m in moments)
    print(f"{corpus.label(ChunkerConfig())} | {machine()}")
    print(f"{len(moments)} questions, first moment right for {right}")
    headers = ["strong_cosine", "strong", "accuracy", "strong right", "weak wrong"]
    print(table(headers, rows))
    best = max(rows, key=lambda row: float(row[2]))  # type: ignore[arg-type]  # first: lowest
    print(f"best by accuracy: strong_cosine={best[0]}")


if __name__ == "__main__":
    main()
