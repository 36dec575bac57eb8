"""openai-whisper JSON output; whisperX's optional per-segment `speaker` is honoured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podsearch.models import Utterance
from podsearch.transcripts import jsondoc
from podsearch.transcripts.cues import checked


def parse(doc: Any, path: Path) -> list[Utterance]:
    """Utterances of a decoded Whisper (or whisperX) result."""
    utterances: list[Utterance] = []
    for index, segment in enumerate(jsondoc.segments(doc, path)):
        where = f"segments[{index}]"
        start = jsondoc.number(segment, "start", path, where)
        end = jsondoc.number(segment, "end", path, where)
        speaker = jsondoc.speaker(segment, "speaker", path, where)
        voice = (speaker, jsondoc.string(segment, "text", path, where))
        utterances.extend(checked(path, start, end, [voice], where=where))
    return utterances
