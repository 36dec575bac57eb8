"""Hypothesis over transcripts and manifests, every format: small valid seeds, then random bytes,
mutated bytes and random JSON documents. Whatever the input, the answer is utterances we can store
or a `TranscriptError` for that file (never another exception); through the indexer, a file that
fails leaves the index as it was."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.pipeline import Indexer
from podsearch.errors import TranscriptError
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import Episode
from podsearch.stores.edge import EdgeWriter
from podsearch.transcripts import parse_transcript
from tests.fakes import HashEmbedder

SEEDS: dict[str, bytes] = {
    ".vtt": b"WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.500\n<v Ana>Seed rounds, explained.\n\n"
    b"00:00:02.500 --> 00:00:05.000\n<v Ben>And liquidation preferences.\n",
    ".srt": b"1\n00:00:00,000 --> 00:00:02,500\nSeed rounds, explained.\n\n"
    b"2\n00:00:02,500 --> 00:00:05,000\nAnd liquidation preferences.\n",
    ".json": json.dumps(
        {
            "version": "1.0.0",
            "segments": [
                {"speaker": "Ana", "startTime": 0, "endTime": 2.5, "body": "Seed rounds."},
                {"speaker": "Ben", "startTime": 2.5, "endTime": 5, "body": "Preferences."},
            ],
        }
    ).encode(),
    ".whisper.json": json.dumps(
        {
            "text": " Seed rounds. Preferences.",
            "segments": [
                {"id": 0, "start": 0.0, "end": 2.5, "text": " Seed rounds."},
                {"id": 1, "start": 2.5, "end": 5.0, "text": " Preferences.", "speaker": "B"},
            ],
        }
    ).encode(),
}
MANIFEST = (
    b'{"episode_id": "ep-1", "podcast": "P", "title": "T", "published": "2025-01-31", '
    b'"url": "https://x.example/1", "transcript": "ep-1.vtt"}\n'
    b'{"episode_id": "ep-2", "podcast": "P", "title": "T2", "transcript": "ep-2.srt"}\n'
)
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))

# Bytes that matter to our parsers, mixed into mutations more often than chance would.
TOKENS = [
    b"-->",
    b"\n\n",
    b"WEBVTT",
    b"<v ",
    b">",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b"\\u",
    b"\\ud800",
]
TOKENS += [
    b"\xff",
    b"\x00",
    b"\r",
    b"99:99:99.999",
    b"-1",
    b"1e999",
    b"NaN",
    b"null",
    b"\xef\xbb\xbf",
]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few random insertions, deletions and overwrites."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        chunk = draw(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8)))
        match draw(st.sampled_from(["insert", "delete", "overwrite"])):
            case "insert":
                data[at:at] = chunk
            case "delete":
                del data[at : at + draw(st.integers(1, 16))]
            case "overwrite":
                data[at : at + len(chunk)] = chunk
    return bytes(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
SEGMENT_KEYS = ["startTime", "endTime", "body", "speaker", "start", "end", "text", "id"]


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    """Documents shaped like our JSON formats, with values of any type."""
    segment = st.dictionaries(st.sampled_from(SEGMENT_KEYS), JSON_VALUES, max_size=5)
    doc: dict[str, Any] = {"segments": draw(st.lists(segment, max_size=4))}
    if draw(st.booleans()):
        doc["version"] = draw(JSON_VALUES)
    return json.dumps(doc).encode()


def transcripts() -> st.SearchStrategy[tuple[str, bytes]]:
    suffixes = st.sampled_from(list(SEEDS))
    return st.one_of(
        suffixes.flatmap(lambda s: st.tuples(st.just(s), mutated(SEEDS[s]))),
        st.tuples(suffixes, st.binary(max_size=200)),
        st.tuples(st.just(".json"), json_documents()),
    )


def assert_parsed_or_refused(path: Path) -> None:
    try:
        utterances = parse_transcript(path)
    except TranscriptError as exc:
        assert exc.path == path
        return
    assert utterances and all(u.text.strip() for u in utterances)
    for u in utterances:
        (u.text + (u.speaker or "")).encode("utf-8")  # storable
        assert u.start <= u.end


@settings(FUZZ, max_examples=300)
@given(transcripts())
def test_any_transcript_parses_or_is_refused_with_a_transcript_error(
    sample: tuple[str, bytes],
) -> None:
    suffix, data = sample
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"episode{suffix}"
        path.write_bytes(data)
        assert_parsed_or_refused(path)


@settings(FUZZ, max_examples=200)
@given(st.one_of(mutated(MANIFEST), st.binary(max_size=200)))
def test_any_manifest_reads_or_is_refused_with_a_transcript_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "episodes.jsonl"
        path.write_bytes(data)
        try:
            episodes = read_manifest(path)
        except TranscriptError as exc:
            assert exc.path == path
            return
        for episode in episodes:
            assert episode.transcript.resolve().is_relative_to(Path(folder).resolve())


def test_through_the_indexer_a_bad_file_fails_alone_and_the_index_is_unchanged(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.vtt"
    good.write_bytes(SEEDS[".vtt"])

    async def index(episodes: list[Episode], drop: str | None = None) -> tuple[Any, dict[str, str]]:
        writer = EdgeWriter(tmp_path / "index")
        try:
            report = await Indexer(HashEmbedder(), writer, ChunkerConfig()).run(episodes)
            if drop:
                await writer.delete_episode(drop)
            return report, dict(await writer.fingerprints())
        finally:
            await writer.close()

    first = Episode("good", "P", "T", good)
    _, before = asyncio.run(index([first]))
    refused = []

    @settings(FUZZ, max_examples=12)
    @given(transcripts())
    def one(sample: tuple[str, bytes]) -> None:
        suffix, data = sample
        fuzzed = tmp_path / f"fuzzed{suffix}"
        fuzzed.write_bytes(data)
        episodes = [first, Episode("fuzzed", "P", "T", fuzzed)]
        report, after = asyncio.run(index(episodes, drop="fuzzed"))
        fuzzed.unlink()
        refused.append(bool(report.failures))
        assert after == before  # good unchanged; fuzzed refused, or indexed then dropped
        if report.failures:
            assert len(report.failures) == 1 and report.failures[0].startswith("fuzzed")
            assert report.unchanged == 1 and report.indexed == 0
        else:
            assert (report.unchanged, report.indexed) == (1, 1)

    one()
    assert any(refused), "no generated transcript was refused: the strategies lost their teeth"
