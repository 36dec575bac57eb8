"""The evaluation subset: golden episodes first, then the same distractors every time."""

from __future__ import annotations

import json
from pathlib import Path

from bench.eval.corpus import Question, subset_manifest
from bench.eval.metrics import Span


def test_the_subset_keeps_judged_episodes_and_picks_distractors_deterministically(
    tmp_path: Path,
) -> None:
    source = tmp_path / "corpus" / "episodes.jsonl"
    source.parent.mkdir()
    source.write_text(
        "".join(
            json.dumps({"episode_id": f"ep-{i}", "transcript": f"t/{i}.vtt"}) + "\n"
            for i in range(6)
        )
    )
    questions = [Question("why?", (Span("ep-4", 0, 10),))]

    first = tmp_path / "a.jsonl"
    assert subset_manifest(source, questions, 3, first) == 3
    second = tmp_path / "b.jsonl"
    subset_manifest(source, questions, 3, second)
    assert first.read_text() == second.read_text()

    chosen = [json.loads(line) for line in first.read_text().splitlines()]
    assert chosen[0]["episode_id"] == "ep-4"
    assert chosen[0]["transcript"] == str(source.parent / "t" / "4.vtt")
    assert subset_manifest(source, questions, None, tmp_path / "all.jsonl") == 6
