"""`podsearch-index --feed` as a user runs it daily: real processes, a loopback podcast host."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, environment
from tests.indexer.feedhost import changelog_feed, serving

pytestmark = [pytest.mark.slow, pytest.mark.changelog]


def index_feed(url: str, index: Path, embedder_url: str, report: Path) -> str:
    """Run the CLI off a terminal (stderr is a pipe): progress must be plain lines."""
    done = subprocess.run(
        [str(BIN / "podsearch-index"), "--feed", url, "--report", str(report)],
        # A generous read timeout: the CPU model shares a small machine with other tests.
        env=environment(
            store__path=str(index), embedder__url=embedder_url, embedder__read_timeout_s="120"
        ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "\r" not in done.stderr
    return done.stderr


def test_a_feed_is_indexed_then_a_daily_rerun_downloads_nothing(
    changelog: Path, tmp_path: Path, embedder_url: str
) -> None:
    with serving() as host:
        url, _ = changelog_feed(host, changelog, count=3)
        log = index_feed(url, tmp_path / "index", embedder_url, tmp_path / "first.json")
        first = json.loads((tmp_path / "first.json").read_text())
        host.reset_counts()
        index_feed(url, tmp_path / "index", embedder_url, tmp_path / "second.json")
        second = json.loads((tmp_path / "second.json").read_text())

    assert "indexed 3/3 episodes" in log and "segments/s, ETA" in log
    assert first["episodes"]["added"] == 3 and first["failed"] == []
    assert [e["episode_id"] for e in first["no_transcript"]] == [
        "changelog-html-only",
        "changelog-no-transcript",
    ]
    assert first["segments"] > 100 and 0 < first["embedder_share"] <= 1
    assert second["episodes"]["unchanged"] == 3 and second["segments"] == 0
    assert (second["fetch"]["not_modified"], second["fetch"]["downloaded"]) == (7, 0)
    assert set(host.statuses) == {304}
