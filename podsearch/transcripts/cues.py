"""What every format shares: checked, normalised utterances, and the cue blocks of VTT and SRT."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from podsearch.errors import TranscriptError
from podsearch.models import Utterance

_TIMING = re.compile(r"^\s*(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t].*)?$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})$")

Voice = tuple[str | None, str]


def blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Blank-line separated blocks, each with the 1-based line number of its first line."""
    block: list[str] = []
    first = 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            first = first if block else number
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def timing_index(block: Sequence[str]) -> int | None:
    """Where the 'start --> end' line is: first, or after an optional cue identifier."""
    for index in range(min(2, len(block))):
        if "-->" in block[index]:
            return index
    return None


def parse_timing(line: str, path: Path, number: int) -> tuple[float, float]:
    """Start and end seconds of a cue timing line; cue settings after the end time are ignored."""
    match = _TIMING.match(line)
    if match is None:
        raise TranscriptError(path, f"bad cue timing {line.strip()!r}", line=number)
    return _clock(match[1], path, number), _clock(match[2], path, number)


def _clock(stamp: str, path: Path, number: int) -> float:
    match = _CLOCK.match(stamp)
    if match is None or int(match[2]) >= 60 or int(match[3]) >= 60:
        raise TranscriptError(path, f"bad timestamp {stamp!r}", line=number)
    hours, minutes, seconds, millis = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def checked(
    path: Path,
    start: float,
    end: float,
    voices: Sequence[Voice],
    *,
    line: int | None = None,
    where: str = "cue",
) -> list[Utterance]:
    """Validate a cue's times, then give each voice in it a share of the time by word count."""
    if not (math.isfinite(start) and math.isfinite(end)):
        raise TranscriptError(path, f"{where}: times must be finite", line=line)
    if start < 0:
        raise TranscriptError(path, f"{where}: negative start time {start}", line=line)
    if end < start:
        raise TranscriptError(path, f"{where}: ends ({end}) before it starts ({start})", line=line)
    texts = [" ".join(text.split()) for _, text in voices]
    total = sum(len(text.split()) for text in texts)
    utterances: list[Utterance] = []
    done = 0
    for (speaker, _), text in zip(voices, texts, strict=True):
        if not text:
            continue
        begin = start + (end - start) * done / total
        done += len(text.split())
        who = " ".join(speaker.split()) if speaker else ""
        utterances.append(Utterance(begin, start + (end - start) * done / total, text, who or None))
    return utterances
