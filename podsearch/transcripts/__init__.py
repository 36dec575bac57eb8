"""Transcript parsers: one module per format, chosen here from the file's content or its name.

Every parser returns utterances in file order with normalised whitespace and no empty text;
anything malformed raises `TranscriptError(path, message, line=...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from podsearch.errors import TranscriptError
from podsearch.models import Utterance
from podsearch.transcripts import jsondoc, podcasting20, srt, webvtt, whisper
from podsearch.transcripts.reading import DEFAULT_LIMITS, ReadLimits, check_text, read_text

__all__ = ["DEFAULT_LIMITS", "ReadLimits", "parse_transcript", "read_text"]

FORMATS = "Podcasting 2.0 JSON, WebVTT, SRT or Whisper JSON"


def parse_transcript(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> list[Utterance]:
    """Read one transcript in any supported format; raise TranscriptError saying where it is bad."""
    text = read_text(path, limits)
    if not text.strip():
        raise TranscriptError(path, "empty file: no utterances")
    utterances = _dispatch(text, path)
    if not utterances:
        raise TranscriptError(path, "empty transcript: no utterances with text")
    for index, utterance in enumerate(utterances):
        check_text(utterance.text, path, f"utterance {index}", limits)
        check_text(utterance.speaker or "", path, f"utterance {index} speaker", limits)
    return utterances


def _dispatch(text: str, path: Path) -> list[Utterance]:
    """Content decides when it is unmistakable; otherwise the extension does."""
    head = text.lstrip()
    suffix = path.suffix.lower()
    if head.startswith("WEBVTT") or suffix == ".vtt":
        return webvtt.parse(text, path)
    if head.startswith(("{", "[")) or suffix == ".json":
        doc = jsondoc.load(text, path)
        return _json_format(doc, path)(doc, path)
    if suffix == ".srt" or srt.looks_like(head):
        return srt.parse(text, path)
    raise TranscriptError(path, f"unknown transcript format: expected {FORMATS}")


def _json_format(doc: Any, path: Path) -> Callable[[Any, Path], list[Utterance]]:
    """Podcasting 2.0 has `version` and `startTime`; Whisper has `start` and `text`."""
    segments = jsondoc.segments(doc, path)
    first = segments[0] if segments else {}
    if "version" in doc or "startTime" in first or "body" in first:
        return podcasting20.parse
    if "start" in first or "text" in doc:
        return whisper.parse
    raise TranscriptError(path, f"unknown JSON transcript: expected {FORMATS}")
