"""Reading podcast feeds: RSS 2.0 with the Podcasting 2.0 namespace, and OPML subscription lists.

Feeds come from strangers, so XML is parsed with `defusedxml` (no entity expansion, no external
entities: a "billion laughs" feed is an error, not a memory blow-up). Only what indexing needs
is kept: the episode's `<guid>` (its stable id), title, date, link, enclosure, every
`<podcast:transcript>`, the `<podcast:person>` names and the `<podcast:chapters>` link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from podsearch.errors import FeedError

# Clients must recognise both the current namespace URI and the original one.
PODCAST_NAMESPACES = (
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
)


@dataclass(frozen=True)
class TranscriptLink:
    url: str
    type: str
    language: str | None = None


@dataclass(frozen=True)
class FeedItem:
    """One `<item>` of a feed, as far as indexing needs it."""

    guid: str
    title: str
    published: datetime | None
    link: str | None
    audio_url: str | None
    transcripts: tuple[TranscriptLink, ...]
    people: tuple[str, ...]
    chapters_url: str | None


@dataclass(frozen=True)
class Feed:
    title: str
    items: tuple[FeedItem, ...]
    skipped: tuple[str, ...]  # items without any usable id, described for the report


def _root(data: bytes, source: str) -> Element:
    try:
        root: Element = fromstring(data)
    except DefusedXmlException as exc:
        raise FeedError(source, f"refused unsafe XML ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise FeedError(source, f"not well-formed XML: {exc}") from exc
    return root


def parse_feed(data: bytes, source: str) -> Feed:
    """A feed's items in document order; relative links are resolved against `source`."""
    channel = _root(data, source).find("channel")
    if channel is None:
        raise FeedError(source, "not an RSS 2.0 feed (no <channel>)")
    title = _text(channel, "title") or source
    items: list[FeedItem] = []
    skipped: list[str] = []
    for number, item in enumerate(channel.iter("item"), 1):
        parsed = _item(item, source)
        if parsed is None:
            skipped.append(f"{source} item {number}: no <guid> and no <enclosure> to identify it")
        else:
            items.append(parsed)
    return Feed(title=title, items=tuple(items), skipped=tuple(skipped))


def _item(item: Element, source: str) -> FeedItem | None:
    enclosure = item.find("enclosure")
    audio = _link(source, enclosure.get("url") if enclosure is not None else None)
    # RSS makes <guid> optional; the enclosure URL is the conventional stand-in.
    guid = _text(item, "guid") or audio
    if not guid:
        return None
    chapters = next(_podcast(item, "chapters"), None)
    return FeedItem(
        guid=guid,
        title=_text(item, "title") or guid,
        published=_date(_text(item, "pubDate")),
        link=_link(source, _text(item, "link")),
        audio_url=audio,
        transcripts=tuple(
            TranscriptLink(url, (t.get("type") or "").strip().lower(), t.get("language"))
            for t in _podcast(item, "transcript")
            if (url := _link(source, t.get("url")))
        ),
        people=tuple(dict.fromkeys(name for p in _podcast(item, "person") if (name := _name(p)))),
        chapters_url=_link(source, chapters.get("url")) if chapters is not None else None,
    )


def parse_opml(data: bytes, source: str) -> list[str]:
    """The feed URLs of an OPML subscription list (every outline with an `xmlUrl`), deduplicated."""
    root = _root(data, source)
    if root.tag != "opml":
        raise FeedError(source, "not an OPML document")
    urls = (outline.get("xmlUrl", "").strip() for outline in root.iter("outline"))
    return list(dict.fromkeys(url for url in urls if url))


def _podcast(element: Element, tag: str) -> Iterator[Element]:
    for namespace in PODCAST_NAMESPACES:
        yield from element.iter(f"{{{namespace}}}{tag}")


def _text(element: Element, tag: str) -> str | None:
    found = element.find(tag)
    text = " ".join((found.text or "").split()) if found is not None else ""
    return text or None


def _name(person: Element) -> str:
    """The spec puts the name in the element's text; some feeds use a `name` attribute."""
    return " ".join((person.text or person.get("name") or "").split())


def _link(base: str, url: str | None) -> str | None:
    url = (url or "").strip()
    return urljoin(base, url) if url else None


def _date(value: str | None) -> datetime | None:
    """RFC 822 `pubDate`; an unreadable date is dropped rather than failing the episode."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
