"""Where a search across episodes loses: which episode comes first, and what spreading the list
over more episodes does.

    python -m bench.eval.episode_choice --corpus qmsum
    python -m bench.eval.episode_choice --corpus changelog --episodes 49

Hybrid searches as served (`SearchService`, on the index `make eval` built, question vectors
from its cache). Two tables:

- spreading: the served list re-ordered so that an episode's later moments give way to other
  episodes' (a score decayed per moment of its episode already listed; at most c moments of an
  episode before every episode has had a turn; a rank penalty per moment already listed). A
  wrong first episode then holds fewer places above the right one, a right one fewer places
  for its second-best moment.
- by kind of episode, for each question: across MRR@10, within MRR@10 (the judged episode as a
  filter), and the bound across would reach with the within ranking and a perfect episode
  choice, except where the corpus makes the choice a guess: QMSum's AMI meetings are five teams
  doing the same four-stage design task with the same roles, so a question that names neither
  team nor people has five equally good meetings (the bound takes the mean reciprocal rank of a
  guess among five). The first episode of each wrong answer is counted by how it relates.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Callable, Sequence
from statistics import fmean

from bench.eval.corpus import Question, read_questions
from bench.eval.feedback import compared
from bench.eval.metrics import K, Span, gains, reciprocal_rank, score
from bench.eval.run import eval_embedder, open_service
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.report import machine, table
from podsearch.index_meta import ChunkerConfig
from podsearch.models import SearchFilters
from search_api.moments import MomentDraft
from search_api.schemas import SearchMode
from search_api.service import SearchParams, SearchService

Order = Callable[[Sequence[MomentDraft]], list[MomentDraft]]
AMI = re.compile(r"^qmsum-(?P<team>(?:ES|IS|TS|EN)\d{4})(?P<stage>[a-d])$")
TEAMS = 5  # AMI teams in qmsum-val: a guess among them ranks the right one 1..5 equally often
GUESS = fmean(1 / r for r in range(1, TEAMS + 1))


def decayed(factor: float) -> Order:
    """Each moment's score times `factor` per moment of its episode listed above it."""

    def order(moments: Sequence[MomentDraft]) -> list[MomentDraft]:
        keyed = [(m.score * factor**j, -i, m) for i, (m, j) in enumerate(_nth(moments))]
        return [m for *_, m in sorted(keyed, key=lambda t: (t[0], t[1]), reverse=True)]

    return order


def capped(most: int) -> Order:
    """At most `most` moments of an episode before the rest of the list, in order."""

    def order(moments: Sequence[MomentDraft]) -> list[MomentDraft]:
        nth = list(_nth(moments))
        return [m for m, j in nth if j < most] + [m for m, j in nth if j >= most]

    return order


def penalised(ranks: float) -> Order:
    """Each moment moved down `ranks` places per moment of its episode listed above it."""

    def order(moments: Sequence[MomentDraft]) -> list[MomentDraft]:
        keyed = sorted((i + ranks * j, i) for i, (_, j) in enumerate(_nth(moments)))
        return [moments[i] for _, i in keyed]

    return order


def _nth(moments: Sequence[MomentDraft]) -> list[tuple[MomentDraft, int]]:
    """Each moment with how many moments of its episode come before it."""
    seen: Counter[str] = Counter()
    out = []
    for m in moments:
        out.append((m, seen[m.episode_id]))
        seen[m.episode_id] += 1
    return out


ORDERS: dict[str, Order] = {"as served": list}
ORDERS |= {f"score x{f} per earlier moment of its episode": decayed(f) for f in (0.98, 0.95, 0.9)}
ORDERS |= {f"at most {c} moments of an episode first": capped(c) for c in (1, 2, 3)}
ORDERS |= {f"{p} places down per earlier moment": penalised(p) for p in (0.5, 1, 2, 4)}


def kind(episode_id: str) -> str:
    if AMI.match(episode_id):
        return "AMI"
    if episode_id.startswith("qmsum-B"):
        return "ICSI"
    return "committee" if episode_id.startswith("qmsum-") else "episode"


def relation(judged: str, first: str) -> str:
    """How the first episode of an answer relates to the judged one."""
    if first == judged:
        return "right episode"
    ours, theirs = AMI.match(judged), AMI.match(first)
    if ours and theirs:
        same = "team" if ours["team"] == theirs["team"] else "stage"
        if ours[same] == theirs[same]:
            return f"AMI, same {same}"
    if kind(judged) == "episode":
        return "other episode"
    return "same kind" if kind(judged) == kind(first) else "other kind"


async def _candidates(service: SearchService, q: Question, within: bool) -> list[MomentDraft]:
    """Every moment of the served search, in its order (the page is its first K)."""
    filters = SearchFilters(episode_ids=(q.episode_id,) if within else ())
    page = await service.run(SearchParams(q.text, SearchMode.hybrid, K, filters=filters))
    return page.candidates


def _rr(moments: Sequence[MomentDraft], q: Question) -> float:
    return reciprocal_rank(gains(_spans(moments), list(q.answers)))


def _spans(moments: Sequence[MomentDraft]) -> list[Span]:
    return [Span(m.episode_id, m.start, m.end) for m in moments[:K]]


def spreading(questions: Sequence[Question], across: Sequence[list[MomentDraft]]) -> str:
    rows, base = [], None
    for name, order in ORDERS.items():
        ordered = [order(c) for c in across]
        rr = [_rr(o, q) for o, q in zip(ordered, questions, strict=True)]
        base = base or rr
        s = score([(_spans(o), list(q.answers)) for o, q in zip(ordered, questions, strict=True)])
        rows.append([name, s.mrr, *compared(base, rr), s.recall, s.episode_mrr])
    headers = ["order", f"MRR@{K}", "change", "95% interval", "up", "down"]
    return table([*headers, f"Recall@{K}", "episode MRR"], rows)


def by_kind(
    questions: Sequence[Question], across: Sequence[list[MomentDraft]], within: Sequence[float]
) -> str:
    rows = []
    kinds = Counter(kind(q.episode_id) for q in questions)
    for name in [*sorted(kinds), "all"] if len(kinds) > 1 else ["all"]:
        chosen = [i for i, q in enumerate(questions) if name == "all" or kind(q.episode_id) == name]
        bound = [within[i] * (GUESS if AMI.match(questions[i].episode_id) else 1) for i in chosen]
        firsts = Counter(
            relation(questions[i].episode_id, across[i][0].episode_id if across[i] else "")
            for i in chosen
        )
        rows.append(
            [
                name,
                len(chosen),
                fmean(_rr(across[i], questions[i]) for i in chosen),
                fmean(within[i] for i in chosen),
                fmean(bound),
                ", ".join(f"{r} {n}" for r, n in firsts.most_common()),
            ]
        )
    headers = ["episodes", "questions", "across MRR@10", "within MRR@10", "bound", "first episode"]
    return table(headers, rows)


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    label = corpus.label(ChunkerConfig())
    questions = read_questions(corpus.questions)
    async with (
        eval_embedder(url, args.cache) as embedder,
        open_service(args.cache / label / "index", embedder) as service,
    ):
        across = [await _candidates(service, q, within=False) for q in questions]
        within = [_rr(await _candidates(service, q, within=True), q) for q in questions]
    print(f"\n{label}, hybrid, {len(questions)} questions | {machine()}")
    print("\nAcross, the served list spread over more episodes:\n" + spreading(questions, across))
    print("\nBy kind of episode:\n" + by_kind(questions, across, within), flush=True)


def main() -> None:
    parser = tool_parser("python -m bench.eval.episode_choice", __doc__, corpus="qmsum")
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
