"""Progress and the command line: plain lines off a terminal, arguments checked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from indexer.cli import _arguments, main
from indexer.report import Progress
from podsearch.models import Episode

EPISODE = Episode("ep", "Show", "Ep", Path("ep.vtt"))


def test_off_a_terminal_progress_is_plain_lines_with_rate_and_eta() -> None:
    log = io.StringIO()
    progress = Progress(total=3, stream=log, every_s=0.0)
    for segments in (10, 0, 5):
        progress.advance(EPISODE, segments)
    progress.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in log.getvalue()
    assert lines[0].startswith("indexed 1/3 episodes, 10 segments, ")
    assert "segments/s, ETA " in lines[0]
    assert lines[-1].startswith("indexed 3/3 episodes, 15 segments") and lines[-1].endswith(
        "ETA 0:00:00"
    )


def test_disabled_progress_prints_nothing() -> None:
    log = io.StringIO()
    Progress(total=1, enabled=False, stream=log).advance(EPISODE, 3)
    assert log.getvalue() == ""


def test_feeds_and_opml_lists_repeat_and_something_must_be_given() -> None:
    args = _arguments(["--feed", "https://a.test/f", "--feed", "b.xml", "--opml", "subs.opml"])
    assert (args.manifest, args.feed, args.opml) == (
        None,
        ["https://a.test/f", "b.xml"],
        [Path("subs.opml")],
    )
    with pytest.raises(SystemExit):
        _arguments([])


def test_rollback_without_an_earlier_generation_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODSEARCH_STORE__PATH", str(tmp_path / "index"))
    with pytest.raises(SystemExit, match="no earlier generation"):
        main(["rollback"])
