"""Reading JSON transcripts: decode errors keep their line, fields are type-checked by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podsearch.errors import TranscriptError


def load(text: str, path: Path) -> Any:
    """The decoded document; invalid JSON is reported at its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} (column {exc.colno})"
        raise TranscriptError(path, message, line=exc.lineno) from exc
    except RecursionError as exc:
        raise TranscriptError(path, "invalid JSON: nested too deeply") from exc


def segments(doc: Any, path: Path) -> list[dict[str, Any]]:
    """The `segments` list of a transcript document, each item an object."""
    found = doc.get("segments") if isinstance(doc, dict) else None
    if not isinstance(found, list):
        raise TranscriptError(path, "expected an object with a 'segments' list")
    for index, segment in enumerate(found):
        if not isinstance(segment, dict):
            raise TranscriptError(path, f"segments[{index}]: expected an object")
    return found


def field(segment: dict[str, Any], key: str, path: Path, where: str) -> Any:
    """A required key, so a missing one is reported by name and segment index."""
    if key not in segment:
        raise TranscriptError(path, f"{where}: missing key {key!r}")
    return segment[key]


def number(segment: dict[str, Any], key: str, path: Path, where: str) -> float:
    value = field(segment, key, path, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranscriptError(path, f"{where}: {key!r} must be a number, got {value!r}")
    return float(value)


def string(segment: dict[str, Any], key: str, path: Path, where: str) -> str:
    value = field(segment, key, path, where)
    if not isinstance(value, str):
        raise TranscriptError(path, f"{where}: {key!r} must be a string, got {value!r}")
    return value


def speaker(segment: dict[str, Any], key: str, path: Path, where: str) -> str | None:
    """An optional speaker name: absent or null means unknown."""
    if segment.get(key) is None:
        return None
    return string(segment, key, path, where)
