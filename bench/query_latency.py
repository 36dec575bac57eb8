"""End-to-end query latency of a running podsearch API, per mode, cache miss vs cache hit.

Asks the golden Changelog questions twice: the first pass embeds each query (cache miss, a real
embedder call), the second hits the query-embedding cache; keyword mode never embeds. The ratio
printed is miss over hit, measured in the same run.

    python -m bench.query_latency --url http://127.0.0.1:8000 [--limit 10]
    python -m bench.query_latency --questions ../shared/data/qmsum-val/queries.jsonl  # QMSum's
    python -m bench.query_latency --within  # each search filtered to its question's episode

`--within` asks what a listener searching inside one episode asks: a hybrid search then also
ranks each segment's context (`query_understanding.passages`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import httpx

GOLDEN = Path(__file__).resolve().parent / "golden" / "changelog.jsonl"


def timed(client: httpx.Client, params: dict[str, object]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    response = client.get("/search", params=params)
    response.raise_for_status()
    return time.perf_counter() - started, response.json()


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--questions", type=Path, default=GOLDEN, help="golden or QMSum JSONL")
    parser.add_argument("--modes", default="keyword,semantic,hybrid")
    parser.add_argument("--first", type=int, help="only the first N questions")
    parser.add_argument("--within", action="store_true", help="filter to the judged episode")
    args = parser.parse_args()
    lines = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    questions = [q.get("question") or q["query"] for q in lines][: args.first]
    scopes = [{"episode_id": q["episode_id"]} if args.within else {} for q in lines]
    with httpx.Client(base_url=args.url, timeout=60) as client:
        print(f"{len(questions)} questions against {args.url}{' within' if args.within else ''}")
        for mode in args.modes.split(","):
            runs: dict[str, list[float]] = {"miss": [], "hit": []}
            degraded = 0
            for label in ("miss", "hit"):
                for q, scope in zip(questions, scopes, strict=False):
                    params = {
                        "q": q if mode == "keyword" else f"{q} ({mode})",  # unseen by the cache
                        "mode": mode,
                        "limit": args.limit,
                        **scope,
                    }
                    seconds, body = timed(client, params)
                    runs[label].append(seconds)
                    degraded += bool(body["degraded"])
            miss, hit = statistics.median(runs["miss"]), statistics.median(runs["hit"])
            print(
                f"{mode:8s} first ask p50 {p(runs['miss'], 0.5):7.1f} ms "
                f"p99 {p(runs['miss'], 0.99):7.1f}"
                f" | repeat p50 {p(runs['hit'], 0.5):6.1f} ms p99 {p(runs['hit'], 0.99):6.1f}"
                f" | ratio {miss / hit:5.2f}x | degraded answers {degraded}"
            )


if __name__ == "__main__":
    main()
