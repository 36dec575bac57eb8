"""parse -> segment -> embed -> upsert, one whole episode at a time.

An episode is stored whole or not at all: it is parsed, segmented and embedded in memory, then
written with one `replace_episode`. Its fingerprint (transcript bytes + metadata + chunker +
embedding recipe) is recorded with it, so a re-run skips unchanged episodes and a crashed run
resumes where it stopped. Whatever goes wrong with one episode (a malformed, oversized or
unreadable transcript, an input the embedder refuses, an embedding that times out) is reported
for that episode and the run goes on; what would fail every episode alike (an embedder that
refuses our token, or whose circuit opened because it kept failing; a broken store) stops the
run once, after publishing what is complete.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from podsearch.contract import EmbeddingRecipe
from podsearch.errors import (
    CircuitOpen,
    EmbedderAuthFailed,
    IndexerBusy,
    PodsearchError,
    PruneRefused,
    StoreError,
    TranscriptError,
)
from podsearch.index_meta import ChunkerConfig, IndexMeta
from podsearch.models import Episode, Segment, SegmentPoint
from podsearch.ports import Embedder, SegmentWriter
from podsearch.segmenting import keyword_text, segment_episode
from podsearch.stores.schema import Bm25Encoder
from podsearch.transcripts import DEFAULT_LIMITS, ReadLimits, parse_transcript
from podsearch.transcripts.reading import read_bytes

# Errors that would fail every episode alike: they stop the run instead of being counted.
FATAL = (CircuitOpen, EmbedderAuthFailed, StoreError, IndexerBusy)


@dataclass
class IndexReport:
    """What a run did; printed as the summary and returned to tests."""

    indexed: int = 0
    unchanged: int = 0
    deleted: int = 0
    segments: int = 0
    audio_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    wall_seconds: float = 0.0

    @property
    def segments_per_second(self) -> float:
        return self.segments / self.wall_seconds if self.wall_seconds else 0.0

    def summary(self) -> str:
        lines = [
            f"episodes: {self.indexed} indexed, {self.unchanged} unchanged, "
            f"{len(self.failures)} failed, {self.deleted} deleted",
            f"segments: {self.segments} ({self.audio_seconds / 3600:.1f} h of audio) "
            f"in {self.wall_seconds:.1f} s = {self.segments_per_second:.1f} segments/s",
        ]
        lines += [f"  failed: {failure}" for failure in self.failures]
        return "\n".join(lines)


def fingerprint(episode: Episode, meta: IndexMeta, limits: ReadLimits = DEFAULT_LIMITS) -> str:
    """Changes whenever anything that shapes the episode's stored points changes."""
    digest = hashlib.sha256(read_bytes(episode.transcript, limits))
    described = {
        "episode": {k: str(v) for k, v in vars(episode).items() if k != "transcript"},
        "meta": meta.model_dump(mode="json"),
    }
    digest.update(json.dumps(described, sort_keys=True).encode())
    return digest.hexdigest()[:32]


class Indexer:
    """Drives one indexing run over a list of episodes."""

    def __init__(
        self,
        embedder: Embedder,
        writer: SegmentWriter,
        chunker: ChunkerConfig,
        concurrency: int = 2,
        publish_every_s: float = 60.0,
        on_episode: Callable[[Episode, int], None] | None = None,
        limits: ReadLimits = DEFAULT_LIMITS,
        prune_max_share: float = 0.5,
    ) -> None:
        self._embedder = embedder
        self._writer = writer
        self._chunker = chunker
        self._concurrency = concurrency
        self._publish_every_s = publish_every_s
        self._on_episode = on_episode or (lambda episode, segments: None)
        self._limits = limits
        self._prune_max_share = prune_max_share
        self._bm25 = Bm25Encoder()
        self._write_lock = asyncio.Lock()
        self._last_publish = time.monotonic()

    async def meta(self) -> IndexMeta:
        recipe: EmbeddingRecipe = await self._embedder.recipe()
        return IndexMeta(recipe=recipe, chunker=self._chunker)

    async def run(
        self, episodes: Sequence[Episode], prune: bool = False, force: bool = False
    ) -> IndexReport:
        """Index `episodes`; with `prune`, delete the others (refused beyond `prune_max_share`
        of the index unless `force`: an empty or truncated manifest must not empty it)."""
        report = IndexReport()
        meta = await self.meta()
        await self._writer.prepare(meta)
        done = await self._writer.fingerprints()
        if prune and not force:
            self._check_prune(done, {e.episode_id for e in episodes})
        todo: list[tuple[Episode, str]] = []
        for episode in episodes:
            try:
                fp = await asyncio.to_thread(fingerprint, episode, meta, self._limits)
            except TranscriptError as exc:
                report.failures.append(f"{episode.episode_id}: {exc}")
                self._on_episode(episode, 0)
                continue
            if done.get(episode.episode_id) == fp:
                report.unchanged += 1
                self._on_episode(episode, 0)
            else:
                todo.append((episode, fp))
        try:
            await self._index_all(todo, report)
            if prune:
                report.deleted = await self._prune(done, {e.episode_id for e in episodes})
        finally:
            await self._writer.publish()
            report.wall_seconds = time.perf_counter() - report.started
        return report

    async def _index_all(self, todo: list[tuple[Episode, str]], report: IndexReport) -> None:
        slots = asyncio.Semaphore(self._concurrency)

        async def one(episode: Episode, fp: str) -> None:
            async with slots:
                await self._index_episode(episode, fp, report)

        try:
            async with asyncio.TaskGroup() as group:
                for episode, fp in todo:
                    group.create_task(one(episode, fp))
        except* PodsearchError as failed:  # only FATAL errors leave `_index_episode`
            raise failed.exceptions[0] from None

    async def _index_episode(self, episode: Episode, fp: str, report: IndexReport) -> None:
        try:
            utterances = await asyncio.to_thread(parse_transcript, episode.transcript, self._limits)
            segments = segment_episode(episode, utterances, self._chunker)
            if not segments:
                raise TranscriptError(episode.transcript, "no words to index")
            points = await self._points(segments, fp)
        except FATAL:
            raise
        except Exception as exc:  # this episode's problem only: report it, index the others
            reason = str(exc) if isinstance(exc, PodsearchError) else f"{type(exc).__name__}: {exc}"
            report.failures.append(f"{episode.episode_id}: {reason}")
            self._on_episode(episode, 0)
            return
        async with self._write_lock:
            await self._writer.replace_episode(episode.episode_id, fp, points)
            report.indexed += 1
            report.segments += len(points)
            report.audio_seconds += segments[-1].end - segments[0].start
            self._on_episode(episode, len(points))
            if time.monotonic() - self._last_publish >= self._publish_every_s:
                await self._writer.publish()
                self._last_publish = time.monotonic()

    async def _points(self, segments: Sequence[Segment], fp: str) -> list[SegmentPoint]:
        vectors = await self._embedder.embed([s.text for s in segments], "document")
        return [
            SegmentPoint(s.point_id, vector, self._bm25.document(keyword_text(s)), s.payload(fp))
            for s, vector in zip(segments, vectors, strict=True)
        ]

    def _check_prune(self, stored: Mapping[str, str], wanted: set[str]) -> None:
        gone = sum(episode_id not in wanted for episode_id in stored)
        if gone and gone > self._prune_max_share * len(stored):
            raise PruneRefused(
                f"--prune would delete {gone} of {len(stored)} indexed episodes (more than "
                f"{self._prune_max_share:.0%}); check the manifest, or add --force"
            )

    async def _prune(self, stored: Mapping[str, str], wanted: set[str]) -> int:
        gone = [episode_id for episode_id in stored if episode_id not in wanted]
        async with self._write_lock:
            for episode_id in gone:
                await self._writer.delete_episode(episode_id)
        return len(gone)
