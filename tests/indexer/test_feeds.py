"""Feed and OPML parsing: Podcasting 2.0 fields, both namespace URIs, hostile XML refused."""

from __future__ import annotations

import pytest

from indexer.catalogue import parse_chapters
from indexer.feeds import PODCAST_NAMESPACES, parse_feed, parse_opml
from podsearch.errors import FeedError
from podsearch.models import Chapter
from tests.support import utc

ITEM = """<item>
  <title> Episode 3 - The Future </title>
  <link>/podcast/ep0003</link>
  <guid isPermaLink="true">https://example.com/ep0003</guid>
  <pubDate>Fri, 09 Oct 2020 04:30:38 GMT</pubDate>
  <podcast:chapters url="https://example.com/ep3_chapters.json" type="application/json"/>
  <podcast:transcript url="https://example.com/ep3/transcript.txt" type="text/plain" />
  <podcast:transcript url="/ep3/transcript.vtt" type="text/VTT" language="en" />
  <podcast:person name="Adam Curry" href="https://example.com/adam" />
  <podcast:person role="guest">Dave  Jones</podcast:person>
  <podcast:person role="guest">Dave Jones</podcast:person>
  <enclosure url="https://example.com/ep3.mp3" length="76606111" type="audio/mpeg"/>
</item>"""


def feed(items: str, namespace: str = PODCAST_NAMESPACES[0]) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0" xmlns:podcast="{namespace}">'
        f"<channel><title>Podcasting 2.0 Example</title>{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize("namespace", PODCAST_NAMESPACES)
def test_an_item_keeps_what_indexing_needs_under_either_namespace(namespace: str) -> None:
    parsed = parse_feed(feed(ITEM, namespace), "https://example.com/feed.xml")
    assert parsed.title == "Podcasting 2.0 Example"
    (item,) = parsed.items
    assert item.guid == "https://example.com/ep0003"
    assert item.title == "Episode 3 - The Future"
    assert item.published == utc("2020-10-09T04:30:38")
    assert item.link == "https://example.com/podcast/ep0003"
    assert item.audio_url == "https://example.com/ep3.mp3"
    assert [(t.url, t.type) for t in item.transcripts] == [
        ("https://example.com/ep3/transcript.txt", "text/plain"),
        ("https://example.com/ep3/transcript.vtt", "text/vtt"),
    ]
    assert item.people == ("Adam Curry", "Dave Jones")
    assert item.chapters_url == "https://example.com/ep3_chapters.json"


def test_an_item_without_guid_is_identified_by_its_enclosure_or_skipped() -> None:
    items = (
        '<item><title>a</title><enclosure url="https://x.test/a.mp3" type="audio/mpeg"/></item>'
        "<item><title>b</title><pubDate>not a date</pubDate></item>"
    )
    parsed = parse_feed(feed(items), "https://x.test/feed")
    assert [i.guid for i in parsed.items] == ["https://x.test/a.mp3"]
    assert len(parsed.skipped) == 1 and "item 2" in parsed.skipped[0]


def test_entity_expansion_is_refused_not_performed() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<rss><channel><title>&b;</title></channel></rss>"
    )
    with pytest.raises(FeedError, match="unsafe XML"):
        parse_feed(laughs, "evil.xml")


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"<rss><channel>", "not well-formed"), (b"<feed/>", "no <channel>")],
)
def test_broken_feeds_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_feed(data, "bad.xml")


def test_opml_lists_every_feed_once_in_nested_outlines() -> None:
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head/><body>
      <outline text="Tech"><outline type="rss" text="A" xmlUrl="https://a.test/feed"/>
      <outline type="rss" text="B" xmlUrl=" https://b.test/rss "/></outline>
      <outline type="rss" text="A again" xmlUrl="https://a.test/feed"/>
      <outline text="no url"/></body></opml>"""
    assert parse_opml(opml, "subs.opml") == ["https://a.test/feed", "https://b.test/rss"]
    with pytest.raises(FeedError, match="not an OPML"):
        parse_opml(feed(""), "subs.opml")


def test_chapters_are_sorted_and_bad_entries_dropped() -> None:
    doc = (
        b'{"version": "1.2.0", "chapters": [{"startTime": 90.5, "title": "Second"},'
        b'{"startTime": 0, "title": "First"}, {"startTime": -1, "title": "x"}, {"title": "y"}]}'
    )
    assert parse_chapters(doc, "c.json") == (Chapter(0, "First"), Chapter(90.5, "Second"))
    with pytest.raises(FeedError, match="no 'chapters'"):
        parse_chapters(b"[]", "c.json")
