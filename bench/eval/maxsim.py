"""Sentence-level late interaction, measured offline: does MaxSim over a candidate's sentences
rank the right moment higher than the window's single vector?

    python -m bench.eval.maxsim --corpus qmsum
    python -m bench.eval.maxsim --corpus changelog --episodes 49 --depth 10

Every question is asked through `SearchService` as the API asks it (across the corpus and within
its episode); its candidate segments (the store's ranked hits, speaker boost applied) are then
re-scored here: each segment's text is cut into sentences (`sentences`), each sentence embedded
as a document, and a segment's MaxSim is the best cosine between the query and its sentences.
Variants fuse that with the served ranking before moments are merged exactly as the API does.
Only candidates' sentences are embedded (the eval cache keeps them for the next run).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from bench.eval.build import prepare_index
from bench.eval.corpus import Question, read_questions
from bench.eval.metrics import K, Span, gains, reciprocal_rank, score
from bench.eval.run import eval_embedder, open_service
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.report import machine, table
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SearchFilters, SegmentHit
from search_api.moments import merge_moments
from search_api.ranking import boost_named_speakers
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService

MIN_WORDS = 8  # shorter sentences ("Yeah.", "OK, right.") join the next one
MAX_WORDS = 40  # longer ones (or unpunctuated talk) are cut into pieces of about SPLIT_WORDS
SPLIT_WORDS = 25
DEPTH = 30  # candidates re-scored (best served first); the rest keep their place behind them
HEADERS = ["system", f"MRR@{K}", f"Recall@{K}", f"nDCG@{K}", "episode MRR", "RR up", "RR down"]
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")

# (candidates in served order, their MaxSim scores, the RRF k) -> the candidates re-scored.
Rescore = Callable[[Sequence[SegmentHit], Sequence[float], int], list[SegmentHit]]


def sentences(text: str) -> list[str]:
    """The segment's sentences, short ones joined to the next and long ones cut."""
    pieces: list[str] = []
    pending: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        pending += sentence.split()
        if len(pending) < MIN_WORDS:
            continue
        parts = max(1, math.ceil(len(pending) / SPLIT_WORDS)) if len(pending) > MAX_WORDS else 1
        size = math.ceil(len(pending) / parts)
        pieces += [" ".join(pending[i : i + size]) for i in range(0, len(pending), size)]
        pending = []
    if pending:
        if pieces and len(pending) < MIN_WORDS:
            pieces[-1] += " " + " ".join(pending)
        else:
            pieces.append(" ".join(pending))
    return pieces


def _with_scores(hits: Sequence[SegmentHit], scores: Sequence[float]) -> list[SegmentHit]:
    return [h._replace(score=s) for h, s in zip(hits, scores, strict=True)]


def _ranks(values: Sequence[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0] * len(values)
    for rank, i in enumerate(order):
        ranks[i] = rank
    return ranks


def rrf_with_maxsim(k: int, weight: float) -> Rescore:
    """RRF of the served rank and the MaxSim rank (MaxSim's term times `weight`)."""

    def rescore(hits: Sequence[SegmentHit], maxsim: Sequence[float], _: int) -> list[SegmentHit]:
        m = _ranks(maxsim)
        return _with_scores(hits, [1 / (k + i) + weight / (k + m[i]) for i in range(len(hits))])

    return rescore


def third_branch(weight: float) -> Rescore:
    """MaxSim as a third RRF branch (times `weight`) added to the served dense + BM25 score."""

    def rescore(hits: Sequence[SegmentHit], maxsim: Sequence[float], k: int) -> list[SegmentHit]:
        m = _ranks(maxsim)
        return _with_scores(hits, [h.score + weight / (k + m[i]) for i, h in enumerate(hits)])

    return rescore


def maxsim_only(hits: Sequence[SegmentHit], maxsim: Sequence[float], _: int) -> list[SegmentHit]:
    """The candidates re-sorted by MaxSim alone (the served ranking only picks them)."""
    return _with_scores(hits, list(maxsim))


def best(cosines: Sequence[float]) -> float:
    """Late interaction proper: the segment's best sentence."""
    return max(cosines)


def best_two(cosines: Sequence[float]) -> float:
    """The mean of the segment's two best sentences: an answer often spans two."""
    top = sorted(cosines, reverse=True)[:2]
    return sum(top) / len(top)


# How a segment's sentence cosines become one score, and how that score meets the served rank.
AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {"max": best, "top-2 mean": best_two}
VARIANTS: dict[str, Rescore] = {
    "RRF(served, MaxSim x0.5)": rrf_with_maxsim(60, 0.5),
    "3rd branch": third_branch(1.0),
    "3rd branch x0.5": third_branch(0.5),
    "only": maxsim_only,
}


async def _candidates(
    service: SearchService, question: Question, within: bool, depth: int
) -> tuple[list[Span], list[SegmentHit], list[list[float]]]:
    """The served top-K moments, the ranked candidate segments behind them, and the cosines
    between the query and each of the first `depth` candidates' sentences."""
    filters = SearchFilters(episode_ids=(question.episode_id,) if within else ())
    params = SearchParams(query=question.text, mode=SearchMode.hybrid, limit=K, filters=filters)
    page = await service.run(params)
    served = [Span(m.episode_id, m.start, m.end) for m in page.moments]
    hits = boost_named_speakers(question.text, await service.reader.search(page.store_query))
    texts = await service.reader.fetch([h.id for h in hits])
    split = [sentences(texts[h.id].text) for h in hits[:depth]]
    flat = list(dict.fromkeys(s for parts in split for s in parts))
    matrix = np.asarray(await service.embedder.embed(flat, "document"))
    assert page.store_query.dense is not None
    query = np.asarray(page.store_query.dense)
    cosines = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    row = {s: float(c) for s, c in zip(flat, cosines, strict=True)}
    return served, hits, [[row[s] for s in parts] for parts in split]


def _spans(hits: Sequence[SegmentHit]) -> list[Span]:
    return [Span(m.episode_id, m.start, m.end) for m in merge_moments(hits)[:K]]


def _rescored(
    hits: list[SegmentHit], maxsim: list[float], rescore: Rescore, rrf_k: int
) -> list[SegmentHit]:
    """The re-scored first hits in their new order, then the rest as served; scores say the
    order."""
    depth = len(maxsim)
    head = sorted(rescore(hits[:depth], maxsim, rrf_k), key=lambda h: (-h.score, h.id))
    return [h._replace(score=-rank) for rank, h in enumerate([*head, *hits[depth:]])]


def _rr(results: list[Span], question: Question) -> float:
    return reciprocal_rank(gains(results, question.answers))


async def compare(
    service: SearchService, questions: list[Question], within: bool, depth: int
) -> list[list]:
    """One row per system: scores, and questions whose reciprocal rank rose / fell."""
    runs: dict[str, list[list[Span]]] = {"served (hybrid)": [], "replayed": []}
    rrf_k = service.options.rrf_k
    for question in questions:
        served, hits, cosines = await _candidates(service, question, within, depth)
        runs["served (hybrid)"].append(served)
        runs["replayed"].append(_spans(hits))
        for aggregate, of in AGGREGATES.items():
            maxsim = [of(c) for c in cosines]
            for name, rescore in VARIANTS.items():
                ranked = _rescored(hits, maxsim, rescore, rrf_k)
                runs.setdefault(f"{aggregate}: {name}", []).append(_spans(ranked))
    base = [_rr(r, q) for r, q in zip(runs["served (hybrid)"], questions, strict=True)]
    rows = []
    for name, results in runs.items():
        s = score([(r, list(q.answers)) for r, q in zip(results, questions, strict=True)])
        rr = [_rr(r, q) for r, q in zip(results, questions, strict=True)]
        up = sum(a > b for a, b in zip(rr, base, strict=True))
        down = sum(a < b for a, b in zip(rr, base, strict=True))
        rows.append([name, s.mrr, s.recall, s.ndcg, s.episode_mrr, up, down])
    return rows


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    chunker = ChunkerConfig()
    questions = read_questions(corpus.questions)
    async with eval_embedder(url, args.cache) as embedder:
        index = await prepare_index(corpus, chunker, args.cache, embedder)
        async with open_service(index, embedder) as service:
            for scope in ("across", "within"):
                rows = await compare(service, questions, scope == "within", args.depth)
                print(f"\n{corpus.label(chunker)}, {scope}, {len(questions)} questions")
                print(table(HEADERS, rows), flush=True)
    print(machine())


def main() -> None:
    parser = tool_parser("python -m bench.eval.maxsim", __doc__, corpus="qmsum")
    parser.add_argument("--depth", type=int, default=DEPTH, help="candidates re-scored")
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
