"""The episode view's JSON endpoints over the sample index: metadata, transcript pages, errors."""

from __future__ import annotations

import json

import httpx
import pytest

from podsearch.episodes import build_record
from podsearch.manifest import read_manifest
from podsearch.models import Chapter
from podsearch.transcripts import parse_transcript
from tests.support import REPO

JSON = {"Accept": "application/json"}
SAMPLE = read_manifest(REPO / "sample" / "episodes.jsonl")


async def test_an_episode_has_its_metadata_speakers_and_duration(client: httpx.AsyncClient) -> None:
    episode = SAMPLE[0]
    said = parse_transcript(episode.transcript)
    answer = await client.get(f"/episodes/{episode.episode_id}", headers=JSON)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["title"], body["podcast"], body["audio_url"]) == (
        episode.title,
        episode.podcast,
        episode.audio_url,
    )
    assert body["duration"] == pytest.approx(max(u.end for u in said), abs=0.01)
    assert body["speakers"] == list(dict.fromkeys(u.speaker for u in said if u.speaker))
    assert body["chapters"] == [] and body["transcript"] is True


async def test_the_transcript_comes_in_time_ranges_and_pages(client: httpx.AsyncClient) -> None:
    episode = SAMPLE[0]
    said = sorted(parse_transcript(episode.transcript), key=lambda u: u.start)
    url = f"/episodes/{episode.episode_id}/utterances"
    window = (await client.get(url, params={"start": 120, "end": 240})).json()
    assert window["utterances"] and window["next_start"] is None
    assert all(u["end"] > 120 and u["start"] < 240 for u in window["utterances"])
    assert {u["text"] for u in window["utterances"]} == {
        u.text for u in said if u.end > 120 and u.start < 240
    }
    pages, start = [], 0.0
    while start is not None:
        page = (await client.get(url, params={"start": start, "limit": 7})).json()
        assert len(page["utterances"]) <= 7
        pages += page["utterances"]
        start = page["next_start"]
    assert [u["text"] for u in pages] == [u.text for u in said]
    assert pages[0]["speaker"] == said[0].speaker


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/episodes/nope", {}, 404, "episode_not_found"),
        ("/episodes/nope/utterances", {}, 404, "episode_not_found"),
        (
            "/episodes/night-shift-012/utterances",
            {"start": 50, "end": 10},
            422,
            "invalid_time_range",
        ),
        ("/episodes/night-shift-012/utterances", {"start": -1}, 422, "invalid_request"),
        ("/episodes/night-shift-012/utterances", {"limit": 100000}, 422, "invalid_request"),
    ],
)
async def test_bad_episode_requests_get_a_clear_error(
    client: httpx.AsyncClient, path: str, params: dict[str, object], status: int, code: str
) -> None:
    answer = await client.get(path, params=params, headers=JSON)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


async def test_a_browser_gets_the_episode_page(client: httpx.AsyncClient) -> None:
    answer = await client.get("/episodes/night-shift-012", headers={"Accept": "text/html,*/*"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "episode.js" in answer.text


def test_a_record_round_trips_through_its_payload_with_chapters_in_order() -> None:
    said = parse_transcript(SAMPLE[0].transcript)
    record = build_record("ep", said, (Chapter(90.0, "Budgets"), Chapter(0.0, "Intro")))
    assert record.chapters == (Chapter(0.0, "Intro"), Chapter(90.0, "Budgets"))
    again = type(record).from_payload(json.loads(json.dumps(record.payload())))
    assert again.utterances == tuple(
        type(u)(round(u.start, 2), round(u.end, 2), u.text, u.speaker) for u in record.utterances
    )
    assert again.chapters == record.chapters
