"""An episode's own record beside its segments: timed utterances, speakers, duration, chapters.

Segments are overlapping word windows, good for ranking but not for reading along; the episode
view needs each utterance with its time and speaker. The indexer stores them as ONE payload-only
point per episode (no vectors, so no query ever returns it) in the same index as the segments:
Edge and a Qdrant server both keep it, it is written with the episode (Edge publishes both
together), replaced when the episode is re-indexed and deleted with it. It carries no `podcast`
or `segment_index` field, so podcast counts and segment lookups never see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podsearch.models import Chapter, Utterance, point_number, point_text

RECORD_FIELD = "episode_record"  # marks the record point (value: format version)


@dataclass(frozen=True)
class EpisodeRecord:
    episode_id: str
    utterances: tuple[Utterance, ...]
    chapters: tuple[Chapter, ...] = ()

    @property
    def duration(self) -> float:
        return max((u.end for u in self.utterances), default=0.0)

    @property
    def speakers(self) -> list[str]:
        """Distinct speakers in order of first appearance."""
        return list(dict.fromkeys(u.speaker for u in self.utterances if u.speaker))

    def payload(self) -> dict[str, Any]:
        """Compact: each utterance is [start, end, speaker number or null, text]."""
        speakers = self.speakers
        number = {name: i for i, name in enumerate(speakers)}
        return {
            RECORD_FIELD: 1,
            "episode_id": self.episode_id,
            "speaker_names": speakers,
            "chapters": [[c.start, c.title] for c in self.chapters],
            "utterances": [
                [round(u.start, 2), round(u.end, 2), number.get(u.speaker or ""), u.text]
                for u in self.utterances
            ],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> EpisodeRecord:
        names = payload["speaker_names"]
        return cls(
            episode_id=str(payload["episode_id"]),
            utterances=tuple(
                Utterance(start, end, text, names[speaker] if speaker is not None else None)
                for start, end, speaker, text in payload["utterances"]
            ),
            chapters=tuple(Chapter(float(s), str(t)) for s, t in payload["chapters"]),
        )

    def between(self, start: float, end: float | None) -> list[Utterance]:
        """Utterances that overlap [start, end), in time order."""
        return [u for u in self.utterances if u.end > start and (end is None or u.start < end)]


def record_point_id(episode_id: str) -> str:
    """Deterministic, from a key no segment's id is cut from (those end in a number)."""
    return point_text(point_number(f"{episode_id}:record"))


def build_record(
    episode_id: str, utterances: Sequence[Utterance], chapters: Sequence[Chapter] = ()
) -> EpisodeRecord:
    spoken = sorted((u for u in utterances if u.text.strip()), key=lambda u: u.start)
    return EpisodeRecord(episode_id, tuple(spoken), tuple(sorted(chapters, key=lambda c: c.start)))
