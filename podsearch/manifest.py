"""The episode manifest: one JSON object per line saying what each transcript is and where.

Transcript paths are relative to the manifest's folder and must stay inside it (after `..` and
symlinks are resolved), so a manifest cannot make `/etc/passwd` searchable; `allow_outside`
lifts that for an operator who means it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podsearch.errors import TranscriptError
from podsearch.models import Episode
from podsearch.transcripts.reading import check_text, read_text

REQUIRED = ("episode_id", "podcast", "title", "transcript")
OPTIONAL = ("url", "audio_url")


def read_manifest(path: Path, allow_outside: bool = False) -> list[Episode]:
    """Episodes in file order; a bad or duplicate line raises TranscriptError with its number."""
    episodes: list[Episode] = []
    seen: dict[str, int] = {}
    folder = None if allow_outside else path.parent.resolve()
    for number, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        episode = _episode(_record(line, path, number), path, number)
        if folder is not None and not _inside(episode.transcript, folder):
            message = "'transcript' points outside the manifest's folder"
            raise TranscriptError(path, message, line=number)
        key = episode.episode_id
        if key in seen:
            message = f"duplicate episode_id {key!r} (first on line {seen[key]})"
            raise TranscriptError(path, message, line=number)
        seen[key] = number
        episodes.append(episode)
    return episodes


def _inside(transcript: Path, folder: Path) -> bool:
    try:
        return transcript.resolve().is_relative_to(folder)
    except (OSError, ValueError):  # a symlink loop, a NUL byte
        return False


def _record(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TranscriptError(path, f"invalid JSON: {exc.msg}", line=number) from exc
    except RecursionError as exc:
        raise TranscriptError(path, "invalid JSON: nested too deeply", line=number) from exc
    if not isinstance(record, dict):
        raise TranscriptError(path, "expected a JSON object", line=number)
    return record


def _episode(record: dict[str, Any], path: Path, number: int) -> Episode:
    """Build one Episode; the transcript path is relative to the manifest's folder."""
    for key in REQUIRED:
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            raise TranscriptError(path, f"{key!r} must be a non-empty string", line=number)
        check_text(value, path, repr(key), line=number)
    for key in OPTIONAL:
        if not isinstance(record.get(key), str | None):
            raise TranscriptError(path, f"{key!r} must be a string or null", line=number)
        check_text(record.get(key) or "", path, repr(key), line=number)
    return Episode(
        episode_id=record["episode_id"],
        podcast=record["podcast"],
        title=record["title"],
        transcript=path.parent / record["transcript"],
        published=_published(record.get("published"), path, number),
        url=record.get("url"),
        audio_url=record.get("audio_url"),
    )


def _published(value: Any, path: Path, number: int) -> datetime | None:
    """A date or ISO datetime, always timezone-aware (naive means UTC) so filters compare."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise TranscriptError(path, f"'published' is not an ISO date: {value!r}", line=number)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
