"""From feed URLs to indexable episodes: fetch feeds, pick each episode's best transcript, fetch it.

An episode's id is its feed `<guid>`, so it survives title edits and feed moves. Its transcript is
the first of its `<podcast:transcript>` links, in the configured order of formats, that downloads
and is timed; HTML and plain-text transcripts have no times, and podsearch's answers are moments
to play, so an episode that offers only those is listed as having no usable transcript (as is
one that offers none) instead of being indexed with invented times.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from indexer.feeds import Feed, FeedItem, TranscriptLink, parse_feed, parse_opml
from indexer.fetch import Fetcher, FetchSettings, FetchStats
from podsearch.errors import FeedError
from podsearch.models import Chapter, Episode

log = logging.getLogger(__name__)

TimedFormat = Literal["json", "vtt", "srt"]
# MIME type (as feeds write it) -> format; the cached file gets the format as its suffix.
FORMATS: dict[str, str] = {
    "application/json": "json",
    "text/json": "json",
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "text/html": "html",
    "text/plain": "text",
}
_ACCEPT = {
    "json": frozenset({"application/json", "text/json"}),
    "vtt": frozenset({"text/vtt"}),
    "srt": frozenset({"application/x-subrip", "application/srt", "text/srt"}),
}
_XML = frozenset({"application/rss+xml", "application/xml", "text/xml", "text/x-opml"})
_CHAPTERS = frozenset({"application/json", "application/json+chapters", "text/json"})


class FeedSettings(BaseModel):
    """Which transcript an episode is indexed from, and how files are downloaded."""

    transcript_preference: list[TimedFormat] = Field(
        ["json", "vtt", "srt"],
        min_length=1,
        description="Transcript formats in order of preference; others are never used.",
    )
    cache_dir: Path | None = Field(
        None, description="Downloaded feeds/transcripts and their ETags; default <index>/fetched."
    )
    fetch: FetchSettings = Field(default_factory=FetchSettings)


@dataclass
class Catalogue:
    """What the feeds offered: episodes to index, and the ones that cannot be, with reasons."""

    episodes: list[Episode] = field(default_factory=list)
    no_transcript: list[dict[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (feed or episode, reason)
    warnings: list[str] = field(default_factory=list)
    fetch: FetchStats = field(default_factory=FetchStats)

    def summary(self) -> str:
        stats = self.fetch
        lines = [
            f"feeds: {len(self.episodes)} episodes with a transcript, "
            f"{len(self.no_transcript)} without, {len(self.failures)} failed; "
            f"{stats.requests} requests, {stats.not_modified} not modified, "
            f"{stats.downloaded} downloaded ({stats.bytes / 1e6:.1f} MB)"
        ]
        lines += [f"  failed: {source}: {reason}" for source, reason in self.failures]
        return "\n".join(lines)


async def read_catalogue(
    feeds: Sequence[str],
    opml_files: Sequence[Path],
    settings: FeedSettings,
    fetcher: Fetcher,
    max_file_bytes: int,
) -> Catalogue:
    """Every episode of every feed (OPML lists expanded), in feed order, ids unique.
    Transcripts and chapters files over `max_file_bytes` are refused."""
    catalogue = Catalogue(fetch=fetcher.stats)
    sources = list(feeds)
    for opml in opml_files:
        try:
            sources += parse_opml(_read_local(opml), str(opml))
        except FeedError as exc:
            catalogue.failures.append((exc.source, exc.reason))
    reader = _FeedReader(settings, fetcher, catalogue, max_file_bytes)
    for feed in await asyncio.gather(*(reader.feed(s) for s in dict.fromkeys(sources))):
        if feed is None:
            continue
        for episode in await asyncio.gather(*(reader.episode(feed, i) for i in feed.items)):
            if episode is not None:
                reader.add(episode)
    return catalogue


class _FeedReader:
    def __init__(
        self, settings: FeedSettings, fetcher: Fetcher, catalogue: Catalogue, max_file_bytes: int
    ) -> None:
        self._max_file_bytes = max_file_bytes
        self._settings = settings
        self._fetcher = fetcher
        self._catalogue = catalogue
        self._seen: dict[str, str] = {}  # episode id -> its feed's title

    async def feed(self, source: str) -> Feed | None:
        """A parsed feed from a URL or a local file; None (and a failure) if it is unusable."""
        try:
            if urlsplit(source).scheme in ("http", "https"):
                limit = self._settings.fetch.max_feed_bytes
                fetched = await self._fetcher.fetch(source, _XML, limit, suffix=".xml")
                data = fetched.path.read_bytes()
            else:
                data = _read_local(Path(source))
            feed = parse_feed(data, source)
        except FeedError as exc:
            self._catalogue.failures.append((exc.source, exc.reason))
            return None
        self._catalogue.warnings.extend(feed.skipped)
        return feed

    async def episode(self, feed: Feed, item: FeedItem) -> Episode | None:
        transcript = await self._transcript(feed, item)
        if transcript is None:
            return None
        return Episode(
            episode_id=item.guid,
            podcast=feed.title,
            title=item.title,
            transcript=transcript,
            published=item.published,
            url=item.link,
            audio_url=item.audio_url,
            people=item.people,
            chapters=await self._chapters(item),
        )

    def add(self, episode: Episode) -> None:
        first = self._seen.get(episode.episode_id)
        if first is not None:
            reason = f"duplicate guid (already taken by an episode of {first!r})"
            self._catalogue.failures.append((episode.episode_id, reason))
        else:
            self._seen[episode.episode_id] = episode.podcast
            self._catalogue.episodes.append(episode)

    async def _transcript(self, feed: Feed, item: FeedItem) -> Path | None:
        """The cached file of the most preferred timed transcript that downloads."""
        errors: list[str] = []
        for link in self._ranked(item.transcripts):
            fmt = FORMATS[link.type]
            try:
                fetched = await self._fetcher.fetch(
                    link.url, _ACCEPT[fmt], self._max_file_bytes, f".{fmt}"
                )
            except FeedError as exc:
                errors.append(str(exc))
                continue
            return fetched.path
        if errors:
            self._catalogue.failures.append((item.guid, "; ".join(errors)))
        else:
            self._catalogue.no_transcript.append(
                {"episode_id": item.guid, "podcast": feed.title, "title": item.title}
                | {"reason": _missing(item.transcripts)}
            )
        return None

    def _ranked(self, links: Sequence[TranscriptLink]) -> list[TranscriptLink]:
        order: list[str] = list(self._settings.transcript_preference)
        usable = [link for link in links if FORMATS.get(link.type) in order]
        return sorted(usable, key=lambda link: order.index(FORMATS[link.type]))

    async def _chapters(self, item: FeedItem) -> tuple[Chapter, ...]:
        """Chapters are a nicety: a broken chapters file is a warning, never a failed episode."""
        if item.chapters_url is None:
            return ()
        try:
            fetched = await self._fetcher.fetch(
                item.chapters_url, _CHAPTERS, self._max_file_bytes, ".json"
            )
            return parse_chapters(fetched.path.read_bytes(), item.chapters_url)
        except FeedError as exc:
            self._catalogue.warnings.append(f"{item.guid}: chapters skipped: {exc}")
            return ()


def parse_chapters(data: bytes, source: str) -> tuple[Chapter, ...]:
    """Podcasting 2.0 JSON chapters (`{"chapters": [{"startTime", "title"}]}`), by start time."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise FeedError(source, f"chapters are not JSON: {exc}") from exc
    entries = doc.get("chapters") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise FeedError(source, "chapters file has no 'chapters' list")
    chapters = [
        Chapter(float(entry["startTime"]), " ".join(str(entry["title"]).split()))
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("startTime"), int | float)
        and entry["startTime"] >= 0
        and isinstance(entry.get("title"), str)
        and entry["title"].strip()
    ]
    return tuple(sorted(chapters, key=lambda chapter: chapter.start))


def _missing(links: Sequence[TranscriptLink]) -> str:
    if not links:
        return "the feed lists no transcript"
    offered = ", ".join(sorted({link.type or "no type" for link in links}))
    return f"no transcript in a preferred timed format (offered: {offered})"


def _read_local(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FeedError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
