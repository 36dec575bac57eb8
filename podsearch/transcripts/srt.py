"""SubRip: numbered cues; a leading `Name:` on a line says who speaks from there on."""

from __future__ import annotations

import re
from pathlib import Path

from podsearch.errors import TranscriptError
from podsearch.models import Utterance
from podsearch.transcripts.cues import Voice, blocks, checked, parse_timing, timing_index

_LABEL = re.compile(r"^\s*([^\W\d_][^\s:]*(?: [^\W\d_][^\s:]*){0,3}):(?:\s+(.*))?$")
_TAG = re.compile(r"</?(?:b|i|u|font)(?:\s[^<>]*)?>", re.IGNORECASE)
_FIRST_CUE = re.compile(r"^\s*(?:\d+[ \t]*\n)?[^\n]*-->")


def looks_like(text: str) -> bool:
    """Whether the file opens with an SRT cue (for files whose name does not say)."""
    return _FIRST_CUE.match(text) is not None


def parse(text: str, path: Path) -> list[Utterance]:
    """Utterances of an SRT file, one per speaker of each cue."""
    utterances: list[Utterance] = []
    for first, block in blocks(text):
        at = timing_index(block)
        if at is None:
            raise TranscriptError(path, f"expected 'start --> end', got {block[0]!r}", line=first)
        start, end = parse_timing(block[at], path, first + at)
        voices = _voices([_TAG.sub("", line) for line in block[at + 1 :]])
        utterances.extend(checked(path, start, end, voices, line=first + at))
    return utterances


def _voices(lines: list[str]) -> list[Voice]:
    voices: list[Voice] = []
    for line in lines:
        label = _speaker(line)
        if label is not None:
            voices.append(label)
        elif voices:
            voices[-1] = (voices[-1][0], f"{voices[-1][1]} {line}")
        else:
            voices.append((None, line))
    return voices


def _speaker(line: str) -> Voice | None:
    """`Name: text` where Name is 1-4 capitalised words without digits, else None."""
    match = _LABEL.match(line)
    if match is None:
        return None
    name = match[1]
    if any(char.isdigit() for char in name) or not all(w[0].isupper() for w in name.split()):
        return None
    return name, match[2] or ""
