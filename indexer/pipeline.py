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

from indexer.batching import BatchEmbedder
from podsearch.contract import EmbeddingRecipe
from podsearch.episodes import EpisodeRecord, build_record
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
from podsearch.models import Episode, Segment, SegmentPoint, SparseVector
from podsearch.ports import Embedder, SegmentWriter
from podsearch.segmenting import cut_episode, keyword_text
from podsearch.sponsors import changed_flags
from podsearch.stores.schema import Bm25Encoder
from podsearch.transcripts import DEFAULT_LIMITS, ReadLimits, parse_transcript
from podsearch.transcripts.reading import read_bytes

# Errors that would fail every episode alike: they stop the run instead of being counted.
FATAL = (CircuitOpen, EmbedderAuthFailed, StoreError, IndexerBusy)


@dataclass
class IndexReport:
    """What a run did; printed as the summary, written by `--report`, returned to tests."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    segments: int = 0
    audio_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)  # "episode_id: reason"
    started: float = field(default_factory=time.perf_counter)
    wall_seconds: float = 0.0
    embedder_seconds: float = 0.0  # wall time with at least one embedding call in flight
    embedded_texts: int = 0  # segments and their contexts
    truncated_inputs: int = 0  # of those, read only in part: longer than the model's input

    @property
    def indexed(self) -> int:
        return self.added + self.updated

    @property
    def segments_per_second(self) -> float:
        return self.segments / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def embedder_share(self) -> float:
        return self.embedder_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def summary(self) -> str:
        lines = [
            f"episodes: {self.indexed} indexed, {self.unchanged} unchanged, "
            f"{len(self.failures)} failed, {self.deleted} deleted "
            f"({self.added} added, {self.updated} updated)",
            f"segments: {self.segments} ({self.audio_seconds / 3600:.1f} h of audio) "
            f"in {self.wall_seconds:.1f} s = {self.segments_per_second:.1f} segments/s",
        ]
        if self.truncated_inputs:
            lines.append(
                f"embedder: {self.truncated_inputs} of {self.embedded_texts} texts longer than "
                "its model reads (their ends are not in their vectors)"
            )
        lines += [f"  failed: {failure}" for failure in self.failures]
        return "\n".join(lines)


@dataclass(frozen=True)
class Parsed:
    """One episode cut up, before embedding: its segments and their contexts, each with its
    BM25 vector, and the episode's record."""

    segments: list[Segment]
    sparse: list[SparseVector]
    contexts: list[str]
    context_sparse: list[SparseVector]
    record: EpisodeRecord


@dataclass(frozen=True)
class Batching:
    """How documents go to the embedder: token budget and text cap per call, calls in flight."""

    max_tokens: int = 8192
    max_texts: int = 64
    in_flight: int = 2


def fingerprint(episode: Episode, meta: IndexMeta, limits: ReadLimits = DEFAULT_LIMITS) -> str:
    """Changes whenever anything that shapes the episode's stored points changes."""
    digest = hashlib.sha256(read_bytes(episode.transcript, limits))
    described = {
        # Empty people/chapters are left out, so manifests indexed before they existed match.
        "episode": {k: str(v) for k, v in vars(episode).items() if k != "transcript" and v != ()},
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
        batching: Batching = Batching(),
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
        self._batches = BatchEmbedder(
            embedder, batching.max_tokens, batching.max_texts, batching.in_flight
        )
        self._known: set[str] = set()  # episodes stored before this run: updated, not added
        self._touched: set[str] = set()  # podcasts whose sponsor flags must be recomputed

    async def meta(self) -> IndexMeta:
        recipe: EmbeddingRecipe = await self._embedder.recipe()
        return IndexMeta(recipe=recipe, chunker=self._chunker)

    async def run(
        self, episodes: Sequence[Episode], prune: bool = False, force: bool = False
    ) -> IndexReport:
        """Index `episodes`; with `prune`, delete the others (refused beyond `prune_max_share`
        of the index unless `force`: an empty or truncated manifest must not empty it)."""
        report = IndexReport()
        truncated_before = self._embedder.truncated_inputs
        meta = await self.meta()
        await self._writer.prepare(meta)
        done = await self._writer.fingerprints()
        self._known = set(done)
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
        # Every listed podcast, not only changed ones: flags of an index built before detection
        # existed (or with other thresholds) are brought up to date, and a re-run writes nothing.
        self._touched |= {episode.podcast for episode in episodes}
        complete = False
        try:
            await self._index_all(todo, report)
            if prune:
                report.deleted = await self._prune(done, {e.episode_id for e in episodes})
            complete = True
        finally:
            await self._publish(final=complete)
            report.wall_seconds = time.perf_counter() - report.started
            report.embedder_seconds = self._batches.busy.seconds
            report.embedded_texts = self._batches.texts
            report.truncated_inputs = self._embedder.truncated_inputs - truncated_before
        return report

    async def _index_all(self, todo: list[tuple[Episode, str]], report: IndexReport) -> None:
        """Two bounded stages: up to `concurrency` episodes are parsed and embedded while
        finished ones wait for the one writer; at most `concurrency` wait (back-pressure)."""
        preparing = asyncio.Semaphore(self._concurrency)
        admitted = asyncio.Semaphore(2 * self._concurrency)

        async def one(episode: Episode, fp: str) -> None:
            async with admitted:
                async with preparing:
                    prepared = await self._prepare(episode, fp, report)
                if prepared is not None:
                    await self._write(episode, fp, *prepared, report)

        try:
            async with asyncio.TaskGroup() as group:
                for episode, fp in todo:
                    group.create_task(one(episode, fp))
        except* PodsearchError as failed:  # only FATAL errors leave `_prepare` and `_write`
            raise failed.exceptions[0] from None

    async def _prepare(
        self, episode: Episode, fp: str, report: IndexReport
    ) -> tuple[list[SegmentPoint], EpisodeRecord] | None:
        """The episode's points and record, or None once its failure is reported."""
        try:
            parsed = await asyncio.to_thread(self._parse, episode)
            # Segments and their contexts in the same calls: one more text per segment, the
            # same batching, the same checks of every vector (`Embedder.embed`)
            vectors = await self._batches.embed([s.text for s in parsed.segments] + parsed.contexts)
        except FATAL:
            raise
        except Exception as exc:  # this episode's problem only: report it, index the others
            reason = str(exc) if isinstance(exc, PodsearchError) else f"{type(exc).__name__}: {exc}"
            report.failures.append(f"{episode.episode_id}: {reason}")
            self._on_episode(episode, 0)
            return None
        count = len(parsed.segments)
        points = [
            SegmentPoint(s.point_id, dense, sparse, s.payload(fp), context_dense, context_sparse)
            for s, dense, sparse, context_dense, context_sparse in zip(
                parsed.segments,
                vectors[:count],
                parsed.sparse,
                vectors[count:],
                parsed.context_sparse,
                strict=True,
            )
        ]
        return points, parsed.record

    def _parse(self, episode: Episode) -> Parsed:
        """The CPU-bound part, run in a thread: parse, cut into segments and their contexts,
        BM25 each (speakers' names included, see `keyword_text`), and the episode's record of
        utterances."""
        utterances = parse_transcript(episode.transcript, self._limits)
        cuts = cut_episode(episode, utterances, self._chunker)
        if not cuts:
            raise TranscriptError(episode.transcript, "no words to index")
        return Parsed(
            segments=[cut.segment for cut in cuts],
            sparse=[self._bm25.document(keyword_text(cut.segment)) for cut in cuts],
            contexts=[cut.context for cut in cuts],
            context_sparse=[
                self._bm25.document(keyword_text(cut.segment, cut.context)) for cut in cuts
            ],
            record=build_record(episode.episode_id, utterances, episode.chapters),
        )

    async def _write(
        self,
        episode: Episode,
        fp: str,
        points: list[SegmentPoint],
        record: EpisodeRecord,
        report: IndexReport,
    ) -> None:
        async with self._write_lock:
            await self._writer.replace_episode(episode.episode_id, fp, points)
            await self._writer.replace_record(record)  # after: replacing deletes the old one
            if episode.episode_id in self._known:
                report.updated += 1
            else:
                report.added += 1
            report.segments += len(points)
            report.audio_seconds += points[-1].payload.end - points[0].payload.start
            self._on_episode(episode, len(points))
            self._touched.add(episode.podcast)
            if time.monotonic() - self._last_publish >= self._publish_every_s:
                await self._publish()
                self._last_publish = time.monotonic()

    async def _publish(self, final: bool = False) -> None:
        """Recompute the sponsor flags of the podcasts that changed, then publish: readers never
        see a published episode whose repeated reads are not yet flagged (Edge)."""
        for podcast in sorted(self._touched):
            await self._writer.set_ad_flags(
                changed_flags(await self._writer.podcast_segments(podcast))
            )
        self._touched.clear()
        await self._writer.publish(final=final)

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
