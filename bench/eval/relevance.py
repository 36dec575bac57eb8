"""Calibrate `explain`'s relevance label: which cosine makes a first moment a "strong" match?

python -m bench.eval.relevance                 # the ~100-episode Changelog subset of `make eval`
python -m bench.eval.relevance --episodes 60 --embedder-url http://127.0.0.1:8001
python -m bench.eval.relevance --episodes 60 --index data/eval/changelog-60-w120-o30/index
python -m bench.eval.relevance --qmsum         # the 35 QMSum validation meetings, 237 queries

Every golden question is asked twice in hybrid mode with `explain=true`, as the API answers it:
over the whole index (its answer is there), and restricted to the other episodes (its judged
answer is absent: the "no good match" case a label must catch). For each first moment we keep
the cosine of its best segment (the label's only input) and whether it overlaps the judged
answer (never, when the answer is absent). Each threshold is scored as a classifier of "the
first moment is right": accuracy, how often a `strong` first moment is right (precision), and
how often a `weak` one is indeed wrong (what a client saying "no good match" relies on). The
best threshold by accuracy is printed; set it as `PODSEARCH_API__STRONG_COSINE` (the default is
calibrated for the bundled MiniLM embedder: another model has another cosine scale).
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from bench.eval.build import prepare_index
from bench.eval.corpus import (
    REPO,
    SAMPLE_CORPUS,
    Corpus,
    Question,
    changelog,
    qmsum,
    read_questions,
)
from bench.eval.embedder_process import local_embedder
from bench.eval.metrics import Span
from bench.eval.run import eval_embedder, open_service
from bench.report import machine, table
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import SearchFilters
from podsearch.ports import Embedder
from search_api.schemas import SearchMode
from search_api.service import SearchParams

THRESHOLDS = [round(0.20 + 0.02 * i, 2) for i in range(31)]  # 0.20 .. 0.80


@dataclass(frozen=True)
class FirstMoment:
    cosine: float  # -1 when the moment's best segment is beyond the dense candidates
    right: bool
    answerable: bool = True  # False: asked with the judged episodes filtered out


async def first_moments(
    questions: list[Question], index: Path, embedder: Embedder, manifest: Path
) -> list[FirstMoment]:
    episodes = [e.episode_id for e in read_manifest(manifest, allow_outside=True)]
    found = []
    async with open_service(index, embedder) as service:
        for question in questions:
            judged = {answer.episode_id for answer in question.answers}
            elsewhere = SearchFilters(episode_ids=tuple(e for e in episodes if e not in judged))
            for filters in (SearchFilters(), elsewhere):
                params = SearchParams(
                    question.text, SearchMode.hybrid, limit=1, filters=filters, explain=True
                )
                results = (await service.search(params)).results
                if not results:
                    continue
                top = results[0]
                assert top.explain is not None
                dense = top.explain.dense
                span = Span(top.episode_id, top.start, top.end)
                right = any(span.overlaps(answer) for answer in question.answers)
                cosine = dense.score if dense else -1.0
                found.append(FirstMoment(cosine, right, answerable=filters is not elsewhere))
    return found


async def calibrate(args: argparse.Namespace, url: str) -> tuple[str, list[FirstMoment]]:
    """The corpus's label and its first moments; the index is built (or reused) unless given."""
    corpus: Corpus = (
        qmsum() if args.qmsum else SAMPLE_CORPUS if args.sample else changelog(args.episodes)
    )
    chunker = ChunkerConfig()
    async with eval_embedder(url, args.cache) as embedder:
        index = args.index or await prepare_index(corpus, chunker, args.cache, embedder)
        manifest = index.parent / "episodes.jsonl"  # the (subset) manifest it was built from
        questions = read_questions(corpus.questions)
        return corpus.label(chunker), await first_moments(questions, index, embedder, manifest)


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
    corpus_choice.add_argument("--qmsum", action="store_true", help="the QMSum validation meetings")
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "eval")
    parser.add_argument("--embedder-url", help="use this embedder instead of starting one")
    parser.add_argument("--index", type=Path, help="an Edge index already built for the corpus")
    args = parser.parse_args()
    log = args.cache / "embedder.log"
    with nullcontext(args.embedder_url) if args.embedder_url else local_embedder(log) as url:
        label, moments = asyncio.run(calibrate(args, url))
    rows = sweep(moments)
    present = [m for m in moments if m.answerable]
    right = sum(m.right for m in present)
    print(f"{label} | {machine()}")
    print(
        f"{len(present)} questions with their answer in the index (first moment right for "
        f"{right}), {len(moments) - len(present)} asked with the judged episodes filtered out"
    )
    headers = ["strong_cosine", "strong", "accuracy", "strong right", "weak wrong"]
    print(table(headers, rows))
    best = max(rows, key=lambda row: float(row[2]))  # type: ignore[arg-type]  # first: lowest
    print(f"best by accuracy: strong_cosine={best[0]}")


if __name__ == "__main__":
    main()
