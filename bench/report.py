"""What every benchmark prints: the machine it ran on, and Markdown tables for RESULTS.md."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from statistics import quantiles


def machine() -> str:
    """One line: when, on what CPU, how many cores, how loaded (other jobs skew timings)."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        names = [ln.split(":", 1)[1] for ln in lscpu.splitlines() if ln.startswith("Model name")]
        model = names[0].strip() if names else platform.processor()
    except (OSError, subprocess.CalledProcessError):
        model = platform.processor()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{now} | {model} | nproc={os.cpu_count()} | load avg {load} | no GPU"


def percentile(samples: Sequence[float], p: int) -> float:
    """The p-th percentile (1..99) of at least two samples."""
    return quantiles(samples, n=100, method="inclusive")[p - 1]


def ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x" if baseline else "n/a"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: text left-aligned, numbers right-aligned, floats to three decimals."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[object], texts: Sequence[str]) -> str:
        padded = [
            t.ljust(w) if isinstance(v, str) else t.rjust(w)
            for v, t, w in zip(values, texts, widths, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [line(row, texts) for row, texts in zip(rows, cells, strict=True)]
    return "\n".join([line(headers, headers), rule, *body])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
