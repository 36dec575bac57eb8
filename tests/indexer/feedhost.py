"""A podcast host on loopback: a real HTTP server serving a feed, transcripts and chapters.

The feed is built at test time from Changelog episodes (real transcripts, CC BY-SA 4.0,
Changelog Media). Its structure follows real Podcasting 2.0 feeds: changelog.com's public feeds
(`<podcast:transcript>`, `<podcast:person>`, `<podcast:chapters>` per item) and the namespace's
own example feed (github.com/Podcastindex-org/podcast-namespace, example.xml): several transcript
formats per item, people with roles, a JSON chapters file, `<guid isPermaLink="false">`.
The server answers conditional GETs like a CDN (ETag + Last-Modified -> 304) and counts requests.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from tests.support import utc

TYPES = {".json": "application/json", ".vtt": "text/vtt", ".srt": "application/x-subrip"}
LAST_MODIFIED = "Mon, 02 Jun 2025 10:00:00 GMT"
CHAPTERS = [{"startTime": 0, "title": "Intro"}, {"startTime": 300, "title": "Main topic"}]


@dataclass
class Host:
    """What the server serves (path -> (content type, body)) and what it was asked."""

    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to send
    base: str = ""

    def put(self, path: str, content_type: str, body: bytes) -> str:
        self.files[path] = (content_type, body)
        return self.base + path

    def reset_counts(self) -> None:
        self.requests.clear()
        self.statuses.clear()


def _handler(host: Host) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.requests[self.path] += 1
            if host.fail_next.get(self.path):
                return self._send(host.fail_next[self.path].pop(0), b"", "text/plain")
            if self.path not in host.files:
                return self._send(404, b"not found", "text/plain")
            kind, body = host.files[self.path]
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", kind, etag)
            return self._send(200, body, kind, etag)

        def _send(self, status: int, body: bytes, kind: str, etag: str = "") -> None:
            host.statuses[status] += 1
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output stays readable."""

    return Handler


@contextmanager
def serving() -> Iterator[Host]:
    host = Host()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    host.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def changelog_feed(host: Host, corpus: Path, count: int) -> tuple[str, list[dict[str, Any]]]:
    """Publish a feed of `count` Changelog episodes (one per transcript format, in turn) plus
    one episode offering only an HTML transcript and one offering none; returns its URL."""
    records = [json.loads(line) for line in (corpus / "episodes.jsonl").read_text().splitlines()]
    by_format: dict[str, list[dict[str, Any]]] = {}
    # The shortest episodes of each format: the tests stay fast.
    for record in sorted(records, key=lambda r: (corpus / r["transcript"]).stat().st_size):
        by_format.setdefault(Path(record["transcript"]).suffix, []).append(record)
    chosen = [by_format[suffix][i // 3] for i, suffix in zip(range(count), _cycle(), strict=False)]
    items = [_item(host, corpus, record) for record in chosen]
    items.append(_bare_item("changelog-html-only", "text/html", host.base + "/ep/html-only.html"))
    items.append(_bare_item("changelog-no-transcript", None, None))
    feed = _FEED.format(items="\n".join(items)).encode()
    return host.put("/podcast/feed", "application/rss+xml; charset=utf-8", feed), chosen


def _cycle() -> Iterator[str]:
    while True:
        yield from (".json", ".vtt", ".srt")


def _item(host: Host, corpus: Path, record: dict[str, Any]) -> str:
    episode = record["episode_id"]
    suffix = Path(record["transcript"]).suffix
    body = (corpus / record["transcript"]).read_bytes()
    url = host.put(f"/transcripts/{episode}{suffix}", TYPES[suffix], body)
    chapters = json.dumps({"version": "1.2.0", "chapters": CHAPTERS}).encode()
    chapters_url = host.put(f"/chapters/{episode}.json", "application/json+chapters", chapters)
    published = format_datetime(utc(record["published"]))
    audio = quoteattr(f"{host.base}/audio/{episode}.mp3")
    return f"""    <item>
      <title>{escape(record["title"])}</title>
      <link>{escape(record["url"])}</link>
      <guid isPermaLink="false">{escape(episode)}</guid>
      <pubDate>{published}</pubDate>
      <enclosure url={audio} length="1" type="audio/mpeg"/>
      <podcast:transcript url={quoteattr(host.base + "/ep/" + episode + ".html")} type="text/html"/>
      <podcast:transcript url={quoteattr(url)} type="{TYPES[suffix]}" language="en-us"/>
      <podcast:chapters url={quoteattr(chapters_url)} type="application/json+chapters"/>
      <podcast:person role="host" href="https://changelog.com/jerod">Jerod Santo</podcast:person>
      <podcast:person role="host">Adam Stacoviak</podcast:person>
    </item>"""


def _bare_item(guid: str, kind: str | None, url: str | None) -> str:
    transcript = f'<podcast:transcript url="{url}" type="{kind}"/>' if url else ""
    return f"""    <item>
      <title>{guid}</title>
      <guid isPermaLink="false">{guid}</guid>
      <pubDate>Mon, 02 Jun 2025 10:00:00 GMT</pubDate>
      {transcript}
    </item>"""


_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>The Changelog: Software Development, Open Source</title>
    <link>https://changelog.com/podcast</link>
    <language>en-us</language>
    <podcast:guid>d2f6e3b8-bd2d-5a7a-b8a4-5f2d2b4a8f5e</podcast:guid>
{items}
  </channel>
</rss>
"""
