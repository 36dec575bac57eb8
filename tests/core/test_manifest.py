"""read_manifest: JSONL episodes with opaque ids, UTC dates and transcript paths resolved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from podsearch.errors import TranscriptError
from podsearch.manifest import read_manifest
from podsearch.models import Episode


def line(**fields: object) -> str:
    record: dict[str, object] = {
        "episode_id": "ep-1",
        "podcast": "The Changelog",
        "title": "Episode one",
        "published": "2024-01-24",
        "url": "https://changelog.com/podcast/1",
        "transcript": "transcripts/ep-1.vtt",
    }
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not ...})


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "corpus" / "episodes.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_episodes_in_order_with_transcripts_beside_the_manifest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        line(license="CC-BY-SA-4.0", source="github"),
        "",
        line(
            episode_id="substack:post:123",
            published="2024-02-01T10:30:00",
            audio_url="https://cdn/ep.mp3",
            transcript="b.json",
        ),
    )
    assert read_manifest(path) == [
        Episode(
            episode_id="ep-1",
            podcast="The Changelog",
            title="Episode one",
            transcript=tmp_path / "corpus" / "transcripts" / "ep-1.vtt",
            published=datetime(2024, 1, 24, tzinfo=UTC),
            url="https://changelog.com/podcast/1",
        ),
        Episode(
            episode_id="substack:post:123",
            podcast="The Changelog",
            title="Episode one",
            transcript=tmp_path / "corpus" / "b.json",
            published=datetime(2024, 2, 1, 10, 30, tzinfo=UTC),
            url="https://changelog.com/podcast/1",
            audio_url="https://cdn/ep.mp3",
        ),
    ]


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("2024-01-24", datetime(2024, 1, 24, tzinfo=UTC)),
        ("2024-01-24T08:00:00Z", datetime(2024, 1, 24, 8, tzinfo=UTC)),
        ("2024-01-24T08:00:00+02:00", datetime(2024, 1, 24, 6, tzinfo=UTC)),
        (None, None),
        (..., None),
    ],
)
def test_published_is_always_utc(
    tmp_path: Path, published: object, expected: datetime | None
) -> None:
    [episode] = read_manifest(write(tmp_path, line(published=published)))
    assert episode.published == expected


def test_episode_ids_are_opaque_strings(tmp_path: Path) -> None:
    ids = ["0d9f2c1e-5b7a-4a51-9c1e-2f0b7d8e6a11", "substack:post:123", "42", "ep 1 / é"]
    path = write(tmp_path, *(line(episode_id=i) for i in ids))
    assert [episode.episode_id for episode in read_manifest(path)] == ids


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"episode_id": "x",', "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (line(episode_id=...), "'episode_id' must be a non-empty string"),
        (line(episode_id=""), "'episode_id' must be a non-empty string"),
        (line(episode_id=7), "'episode_id' must be a non-empty string"),
        (line(podcast=None), "'podcast' must be a non-empty string"),
        (line(transcript=...), "'transcript' must be a non-empty string"),
        (line(audio_url=3), "'audio_url' must be a string or null"),
        (line(published="24/01/2024"), "not an ISO date"),
        (line(published=20240124), "not an ISO date"),
        (line(), "duplicate episode_id 'ep-1' (first on line 1)"),
    ],
)
def test_a_bad_line_raises_with_its_line_number(tmp_path: Path, bad: str, message: str) -> None:
    path = write(tmp_path, line(), line(episode_id="ep-2"), bad)
    with pytest.raises(TranscriptError) as caught:
        read_manifest(path)
    assert (caught.value.path, caught.value.line) == (path, 3)
    assert message in caught.value.reason


def test_non_utf8_manifest_raises_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "episodes.jsonl"
    path.write_bytes(line().encode() + b'\n{"title": "\xe9"}\n')
    with pytest.raises(TranscriptError) as caught:
        read_manifest(path)
    assert caught.value.line == 2


def test_an_empty_manifest_has_no_episodes(tmp_path: Path) -> None:
    assert read_manifest(write(tmp_path, "")) == []


@pytest.mark.changelog
def test_the_changelog_manifest_names_existing_transcripts(changelog: Path) -> None:
    episodes = read_manifest(changelog / "episodes.jsonl")
    assert len(episodes) == 299
    assert all(e.transcript.is_file() and e.published and e.published.tzinfo for e in episodes)
