"""What ranked above the right moment: the golden questions whose first relevant moment is not
first, each with the moments down to it, their branch ranks (`explain=true`) and their words.

    python -m bench.eval.failures --corpus changelog --episodes 49 --limit 10
    python -m bench.eval.failures --corpus qmsum --scope within --limit 10

The search is `SearchService`'s hybrid search, as the API answers it, over an index `make eval`
built (questions whose answer is missing from the top 10 end with where it ranks at all).
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.eval.build import prepare_index
from bench.eval.corpus import Question, read_questions
from bench.eval.metrics import K, Span, gains
from bench.eval.run import eval_embedder, open_service
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SearchFilters
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService

DEEP = 50  # how far down a missing answer is looked for
EXCERPT = 240  # characters of each moment's words


def describe(rank: int, moment: dict[str, Any], right: bool) -> str:
    why = moment["explain"]
    branches = " ".join(
        f"{name} #{why[key]['rank']}" if why.get(key) else f"{name} -"
        for name, key in (("dense", "dense"), ("BM25", "keyword"), ("topic", "topic"))
        if key != "topic" or why.get(key)  # a templated question's topic branch, when it has one
    )
    head = f"{rank:3d} {'RIGHT' if right else '     '} {moment['episode_id']} "
    head += f"{moment['start']:.0f}-{moment['end']:.0f} s  fused {moment['score']:.4f}  {branches}"
    words = " ".join(moment["text"].split())[:EXCERPT]
    return f"{head}  {', '.join(moment['speakers'])}\n      {words}"


async def ranked(
    service: SearchService, question: Question, within: bool, limit: int
) -> tuple[list[dict[str, Any]], list[int]]:
    """The moments of the hybrid search as the API pages them, and which are right."""
    filters = SearchFilters(episode_ids=(question.episode_id,) if within else ())
    params = SearchParams(question.text, SearchMode.hybrid, limit, filters=filters, explain=True)
    moments = (await service.search(params))["results"]
    spans = [Span(m["episode_id"], m["start"], m["end"]) for m in moments]
    return moments, gains(spans, list(question.answers), k=limit)


async def explain_failure(service: SearchService, question: Question, within: bool) -> str | None:
    """None when the first moment is right; else the moments down to the first right one."""
    moments, right = await ranked(service, question, within, K)  # as `make eval` asks
    if right[:1] == [1]:
        return None
    judged = ", ".join(f"{a.episode_id} {a.start:.0f}-{a.end:.0f} s" for a in question.answers)
    first = right.index(1) if 1 in right else None
    where = f"rank {first + 1}" if first is not None else "not in the top 10"
    lines = [f"=== {question.text!r}: judged {judged}; first right moment {where}"]
    shown = moments if first is None else moments[: first + 1]
    lines += [describe(i + 1, m, bool(right[i])) for i, m in enumerate(shown)]
    if first is None:
        deeper, found = await ranked(service, question, within, DEEP)
        if 1 in found:
            at = found.index(1)
            lines.append(describe(at + 1, deeper[at], True) + f" (asked {DEEP} deep)")
        else:
            lines.append(f"    (no moment of the top {DEEP} overlaps the judged span)")
    return "\n".join(lines)


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    async with eval_embedder(url, args.cache) as embedder:
        index = await prepare_index(corpus, ChunkerConfig(), args.cache, embedder)
        async with open_service(index, embedder) as service:
            shown = 0
            for question in read_questions(corpus.questions):
                report = await explain_failure(service, question, args.scope == "within")
                if report is not None and shown < args.limit:
                    print(report, end="\n\n", flush=True)
                    shown += 1


def main() -> None:
    parser = tool_parser("python -m bench.eval.failures", __doc__, "changelog")
    parser.add_argument("--scope", choices=("across", "within"), default="across")
    parser.add_argument("--limit", type=int, default=10, help="failures printed at most")
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
