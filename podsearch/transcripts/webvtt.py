"""WebVTT: `<v Speaker>` voice tags name who speaks; NOTE, STYLE and REGION blocks are skipped."""

from __future__ import annotations

import html
import re
from pathlib import Path

from podsearch.errors import TranscriptError
from podsearch.models import Utterance
from podsearch.transcripts.cues import Voice, blocks, checked, parse_timing, timing_index

_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_SKIPPED = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t].*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
_TAG = re.compile(r"<[^>]*>")


def parse(text: str, path: Path) -> list[Utterance]:
    """Utterances of a WebVTT file, one per voice of each cue."""
    parsed = list(blocks(text))
    _check_header(parsed, path)
    utterances: list[Utterance] = []
    for first, block in parsed[1:]:
        if not _SKIPPED.match(block[0]):
            utterances.extend(_cue(block, first, path))
    return utterances


def _check_header(parsed: list[tuple[int, list[str]]], path: Path) -> None:
    """The header is 'WEBVTT' plus metadata lines; a cue glued to it would be silently lost."""
    first, header = parsed[0] if parsed else (1, [""])
    if not _HEADER.match(header[0]):
        raise TranscriptError(path, "missing 'WEBVTT' header", line=first)
    for offset, line in enumerate(header):
        if "-->" in line:
            raise TranscriptError(path, "blank line expected after the header", line=first + offset)


def _cue(block: list[str], first: int, path: Path) -> list[Utterance]:
    at = timing_index(block)
    if at is None:
        raise TranscriptError(path, f"expected 'start --> end', got {block[0]!r}", line=first)
    start, end = parse_timing(block[at], path, first + at)
    return checked(path, start, end, _voices(" ".join(block[at + 1 :])), line=first + at)


def _voices(payload: str) -> list[Voice]:
    """Split cue text at voice tags; other tags go, and character references are decoded."""
    pieces = _VOICE.split(payload)
    voices: list[Voice] = [(None, pieces[0])]
    voices += zip(pieces[1::2], pieces[2::2], strict=True)
    return [(_clean(who) if who else None, _clean(said)) for who, said in voices]


def _clean(text: str) -> str:
    return html.unescape(_TAG.sub("", text))
