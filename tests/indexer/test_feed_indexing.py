"""Feeds end to end over a real loopback HTTP host: fetch, pick, index, re-run with 304s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.catalogue import Catalogue, FeedSettings, read_catalogue
from indexer.fetch import Fetcher, FetchSettings
from indexer.pipeline import Indexer, IndexReport
from indexer.report import report_json
from podsearch.errors import FeedError
from podsearch.index_meta import ChunkerConfig
from podsearch.models import Chapter, point_id
from podsearch.stores.edge import EdgeReader, EdgeWriter
from tests.fakes import HashEmbedder
from tests.indexer.feedhost import CHAPTERS, Host, changelog_feed, serving

FAST = FetchSettings(timeout_s=5, retries=2, backoff_s=0.01)

pytestmark = pytest.mark.changelog


@pytest.fixture
def host() -> Iterator[Host]:
    with serving() as host:
        yield host


async def catalogue_of(feeds: list[str], cache: Path, **settings: object) -> Catalogue:
    config = FeedSettings.model_validate({"fetch": FAST, **settings})
    fetcher = Fetcher(config.fetch, cache)
    try:
        return await read_catalogue(feeds, [], config, fetcher, max_file_bytes=10**7)
    finally:
        await fetcher.aclose()


async def index_feed(url: str, root: Path) -> tuple[Catalogue, IndexReport]:
    catalogue = await catalogue_of([url], root / "index" / "fetched")
    writer = EdgeWriter(root / "index")
    try:
        report = await Indexer(HashEmbedder(), writer, ChunkerConfig()).run(catalogue.episodes)
    finally:
        await writer.close()
    return catalogue, report


async def test_a_feed_is_indexed_by_guid_with_the_best_transcript_people_and_chapters(
    changelog: Path, host: Host, tmp_path: Path
) -> None:
    url, chosen = changelog_feed(host, changelog, count=3)
    catalogue, report = await index_feed(url, tmp_path)

    assert [e.episode_id for e in catalogue.episodes] == [r["episode_id"] for r in chosen]
    assert {e.transcript.suffix for e in catalogue.episodes} == {".json", ".vtt", ".srt"}
    assert not any(path.endswith(".html") for path in host.requests)  # never the untimed one
    assert [n["episode_id"] for n in catalogue.no_transcript] == [
        "changelog-html-only",
        "changelog-no-transcript",
    ]
    assert "text/html" in catalogue.no_transcript[0]["reason"]
    assert catalogue.failures == [] and report.failures == []
    assert (report.added, report.updated) == (3, 0)
    episode = catalogue.episodes[0]
    assert episode.podcast.startswith("The Changelog")
    assert episode.people == ("Jerod Santo", "Adam Stacoviak")
    assert episode.chapters == tuple(Chapter(c["startTime"], c["title"]) for c in CHAPTERS)

    reader = EdgeReader(tmp_path / "index")
    try:
        found = await reader.fetch([point_id(episode.episode_id, i) for i in range(40)])
    finally:
        await reader.close()
    chapters = {p.chapter for p in found.values()}
    assert chapters == {"Intro", "Main topic"}
    assert all(p.speakers for p in found.values())  # the transcript's own speakers


async def test_a_daily_rerun_downloads_nothing_unchanged(
    changelog: Path, host: Host, tmp_path: Path
) -> None:
    url, _ = changelog_feed(host, changelog, count=3)
    first, _ = await index_feed(url, tmp_path)
    assert first.fetch.downloaded == first.fetch.requests == 7  # feed + 3 transcripts + 3 chapters
    host.reset_counts()

    again, report = await index_feed(url, tmp_path)
    assert (again.fetch.requests, again.fetch.not_modified, again.fetch.downloaded) == (7, 7, 0)
    assert set(host.statuses) == {304}
    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)

    # The host edits one transcript: only that one is downloaded and re-indexed.
    path = next(p for p in host.files if p.endswith(".vtt"))
    kind, body = host.files[path]
    host.files[path] = (kind, body.replace(b"the", b"THE", 5))
    host.reset_counts()
    third, report = await index_feed(url, tmp_path)
    assert (third.fetch.downloaded, third.fetch.not_modified) == (1, 6)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)


async def test_transient_errors_are_retried_and_a_dead_transcript_falls_back(
    changelog: Path, host: Host, tmp_path: Path
) -> None:
    url, chosen = changelog_feed(host, changelog, count=1)
    host.fail_next["/podcast/feed"] = [503, 500]
    json_path = f"/transcripts/{chosen[0]['episode_id']}.json"
    host.fail_next[json_path] = [404]
    # A second, less preferred transcript for the same episode: it is used instead.
    vtt = host.put(json_path.replace(".json", ".vtt"), "text/vtt", b"WEBVTT\n\n")
    feed_type, feed = host.files["/podcast/feed"]
    host.files["/podcast/feed"] = (
        feed_type,
        feed.replace(
            b"</item>", f'<podcast:transcript url="{vtt}" type="text/vtt"/></item>'.encode(), 1
        ),
    )
    catalogue = await catalogue_of([url], tmp_path / "cache")
    assert host.requests["/podcast/feed"] == 3 and catalogue.fetch.retries == 2
    (episode,) = catalogue.episodes
    assert episode.transcript.suffix == ".vtt"
    assert catalogue.failures == []


async def test_refused_downloads_are_reported_not_fatal(host: Host, tmp_path: Path) -> None:
    host.put("/big", "application/json", b"x" * 2000)
    host.put("/page", "text/html", b"<html>login</html>")
    fetcher = Fetcher(FAST, tmp_path)
    accept = frozenset({"application/json"})
    try:
        with pytest.raises(FeedError, match="too large"):
            await fetcher.fetch(host.base + "/big", accept, max_bytes=1000)
        with pytest.raises(FeedError, match="unexpected content type 'text/html'"):
            await fetcher.fetch(host.base + "/page", accept, max_bytes=1000)
        with pytest.raises(FeedError, match="only http"):
            await fetcher.fetch("file:///etc/passwd", accept, max_bytes=1000)
        with pytest.raises(FeedError, match="invalid URL"):
            await fetcher.fetch("http://[::1", accept, max_bytes=1000)
        with pytest.raises(FeedError, match="HTTP 404"):
            await fetcher.fetch(host.base + "/missing", accept, max_bytes=1000)
    finally:
        await fetcher.aclose()
    assert list(tmp_path.iterdir()) == []  # nothing refused was cached

    catalogue = await catalogue_of([host.base + "/missing", str(tmp_path / "nope.xml")], tmp_path)
    reasons = sorted(reason for _, reason in catalogue.failures)
    assert reasons == ["HTTP 404", "cannot read file: No such file or directory"]


async def test_the_report_lists_every_outcome(changelog: Path, host: Host, tmp_path: Path) -> None:
    url, _ = changelog_feed(host, changelog, count=2)
    catalogue, report = await index_feed(url, tmp_path)
    document = report_json(report, catalogue)
    assert document["episodes"] == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "failed": 0,
        "no_transcript": 2,
    }
    assert document["segments"] == report.segments > 0
    assert 0 < document["embedder_share"] <= 1
    assert document["fetch"]["requests"] == 5
