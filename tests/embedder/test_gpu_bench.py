"""bench/gpu_embedder.py is prepared for a lent GPU: its --tiny mode proves it runs end to end."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import REPO


def test_the_gpu_benchmark_runs_on_cpu_with_a_tiny_model() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(REPO / "bench" / "gpu_embedder.py"), "--tiny"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("float32: query") for line in lines)
    assert any(line.strip().startswith("bfloat16: query") for line in lines)
    figures = json.loads(lines[-1])
    for dtype in ("float32", "bfloat16"):
        assert figures[dtype]["non_finite"] == 0
        assert figures[dtype]["query_ms"] > 0 and figures[dtype]["segments_per_s"] > 0
    assert figures["bf16_min_cosine"] > 0.99
