"""What a run shows while it works (progress) and leaves behind (`--report` JSON).

On a terminal the progress is a bar with segments/s and an ETA; in a log (cron, CI, a container)
it is a plain line every few seconds, because a bar's carriage returns make a log unreadable.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from indexer.catalogue import Catalogue
from indexer.pipeline import IndexReport
from podsearch.models import Episode


class Progress:
    """Counts finished episodes and their segments; `advance` is the pipeline's `on_episode`."""

    def __init__(
        self, total: int, enabled: bool = True, stream: IO[str] = sys.stderr, every_s: float = 5.0
    ) -> None:
        self._total = total
        self._stream = stream
        self._every_s = every_s
        self._started = self._logged = time.monotonic()
        self._done = 0
        self.segments = 0
        interactive = enabled and stream.isatty()
        self._bar = tqdm(total=total, unit="episode", file=stream) if interactive else None
        self._log = enabled and not interactive

    def advance(self, episode: Episode, segments: int) -> None:
        self._done += 1
        self.segments += segments
        now = time.monotonic()
        rate = self.segments / max(now - self._started, 1e-9)
        if self._bar is not None:
            self._bar.set_postfix_str(f"{self.segments} segments, {rate:.0f} segments/s", False)
            self._bar.update(1)
        elif self._log and (now - self._logged >= self._every_s or self._done == self._total):
            self._logged = now
            print(self.line(now, rate), file=self._stream, flush=True)

    def line(self, now: float, rate: float) -> str:
        elapsed = now - self._started
        left = (self._total - self._done) * elapsed / self._done if self._done else 0.0
        return (
            f"indexed {self._done}/{self._total} episodes, {self.segments} segments, "
            f"{rate:.1f} segments/s, ETA {_clock(left)}"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def report_json(report: IndexReport, catalogue: Catalogue | None) -> dict[str, Any]:
    """The `--report` document: counts, reasons and rates a scheduler or a person can read."""
    failed = [_failure(text) for text in report.failures]
    if catalogue is not None:
        failed = [{"episode_id": s, "reason": r} for s, r in catalogue.failures] + failed
    return {
        "episodes": {
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "deleted": report.deleted,
            "failed": len(failed),
            "no_transcript": len(catalogue.no_transcript) if catalogue else 0,
        },
        "failed": failed,
        "no_transcript": catalogue.no_transcript if catalogue else [],
        "warnings": catalogue.warnings if catalogue else [],
        "segments": report.segments,
        "audio_hours": round(report.audio_seconds / 3600, 2),
        "seconds": round(report.wall_seconds, 3),
        "segments_per_second": round(report.segments_per_second, 2),
        "embedder_share": round(report.embedder_share, 3),
        "embedded_texts": report.embedded_texts,
        "truncated_inputs": report.truncated_inputs,
        "fetch": asdict(catalogue.fetch) if catalogue else None,
    }


def write_report(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n")


def _failure(text: str) -> dict[str, str]:
    """Pipeline failures are 'episode_id: reason' (ids never contain ': ' in practice)."""
    episode_id, _, reason = text.partition(": ")
    return {"episode_id": episode_id, "reason": reason}


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
