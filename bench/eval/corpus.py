"""The evaluation corpus: golden questions, and the episodes an index is built from.

By default a deterministic subset: every episode a golden question points at, plus distractor
episodes (chosen by a hash of their id, so the choice never changes) up to `episodes` in all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.eval.metrics import Span
from podsearch.index_meta import SCHEMA_VERSION, ChunkerConfig

REPO = Path(__file__).resolve().parents[2]
CHANGELOG = REPO.parent / "shared" / "data" / "changelog"
QMSUM = REPO.parent / "shared" / "data" / "qmsum-val"
GOLDEN = REPO / "bench" / "golden" / "changelog.jsonl"
SAMPLE_QUESTIONS = REPO / "tests" / "e2e" / "sample_questions.jsonl"


@dataclass(frozen=True)
class Corpus:
    """Episodes to index and questions to ask; `episodes=None` indexes the whole manifest."""

    name: str
    manifest: Path
    questions: Path
    episodes: int | None = None

    @property
    def stem(self) -> str:
        return f"{self.name}-{'all' if self.episodes is None else self.episodes}"

    def label(self, chunker: ChunkerConfig) -> str:
        """The cache folder of this corpus's index: the writer refuses an index of another
        chunker or schema (`IndexMeta.check_compatible`), so a new one is built beside the old
        (from the embedding cache: no text is embedded twice)."""
        w, o, v, c = (
            chunker.window_words,
            chunker.overlap_words,
            chunker.version,
            chunker.context_words,
        )
        return f"{self.stem}-w{w}-o{o}-v{v}-c{c}-s{SCHEMA_VERSION}"


def changelog(episodes: int | None = 100) -> Corpus:
    return Corpus("changelog", CHANGELOG / "episodes.jsonl", GOLDEN, episodes)


def qmsum() -> Corpus:
    """35 meetings (one turn per cue, 10 s per turn) and 237 judged question/summary queries."""
    return Corpus("qmsum", QMSUM / "episodes.jsonl", QMSUM / "queries.jsonl")


SAMPLE_CORPUS = Corpus("sample", REPO / "sample" / "episodes.jsonl", SAMPLE_QUESTIONS)


@dataclass(frozen=True)
class Question:
    """A query and its judged spans, all in one episode."""

    text: str
    answers: tuple[Span, ...]
    style: str = "any"

    @property
    def episode_id(self) -> str:
        return self.answers[0].episode_id


def read_questions(path: Path) -> list[Question]:
    """Golden-set lines (`question`, `start`, `end`) or QMSum lines (`query`,
    `relevant_time_ranges`)."""
    questions = []
    for q in _jsonl(path):
        ranges = q.get("relevant_time_ranges") or [(q["start"], q["end"])]
        answers = tuple(Span(q["episode_id"], float(a), float(b)) for a, b in ranges)
        questions.append(Question(q.get("question") or q["query"], answers, q.get("style", "any")))
    return questions


def subset_manifest(
    source: Path, questions: list[Question], episodes: int | None, target: Path
) -> int:
    """Write a manifest of the chosen episodes (absolute transcript paths); return its size."""
    records = _jsonl(source)
    if episodes is not None:
        judged = {q.episode_id for q in questions}
        golden = [r for r in records if r["episode_id"] in judged]
        others = sorted(
            (r for r in records if r["episode_id"] not in judged),
            key=lambda r: hashlib.sha256(r["episode_id"].encode()).hexdigest(),
        )
        records = golden + others[: max(0, episodes - len(golden))]
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({**r, "transcript": str((source.parent / r["transcript"]).resolve())})
        for r in records
    ]
    text = "".join(line + "\n" for line in lines)
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return len(records)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
