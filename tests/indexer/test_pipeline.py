"""The indexing pipeline over real transcripts, a real Edge store and a counting embedder."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.pipeline import Indexer, fingerprint
from podsearch.contract import InputType
from podsearch.errors import EmbedderResponseInvalid, IndexMismatch, IndexNotReady
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import Episode, Passages, SearchFilters, StoreQuery
from podsearch.segmenting import cut_episode
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.schema import Bm25Encoder
from podsearch.transcripts import parse_transcript
from tests.fakes import HashEmbedder
from tests.support import REPO

SAMPLE = REPO / "sample"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the sample corpus, so tests may edit or break transcripts."""
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE, target)
    return target


async def index(root: Path, episodes: Sequence[Episode], embedder: HashEmbedder, **kw: bool):  # type: ignore[no-untyped-def]
    writer = EdgeWriter(root / "index")
    try:
        return await Indexer(embedder, writer, ChunkerConfig()).run(episodes, **kw)
    finally:
        await writer.close()


async def stored_episodes(root: Path) -> dict[str, int]:
    reader = EdgeReader(root / "index")
    try:
        hits = await reader.search(StoreQuery(limit=1000, dense=HashEmbedder().vector("the")))
    finally:
        await reader.close()
    counts: dict[str, int] = {}
    for hit in hits:
        counts[hit.episode_id] = counts.get(hit.episode_id, 0) + 1
    return counts


async def test_the_sample_corpus_is_indexed_whole(corpus: Path, tmp_path: Path) -> None:
    episodes = read_manifest(corpus / "episodes.jsonl")
    embedder = HashEmbedder()
    report = await index(tmp_path, episodes, embedder)
    assert report.failures == []
    assert report.indexed == len(episodes) >= 4
    assert report.audio_seconds > 15 * 60 * len(episodes)
    counts = await stored_episodes(tmp_path)
    assert set(counts) == {e.episode_id for e in episodes}
    assert sum(counts.values()) == report.segments
    assert all(kind == "document" for _, kind in embedder.calls)


async def test_a_rerun_skips_unchanged_episodes_and_redoes_changed_ones(
    corpus: Path, tmp_path: Path
) -> None:
    episodes = read_manifest(corpus / "episodes.jsonl")
    await index(tmp_path, episodes, HashEmbedder())
    again = HashEmbedder()
    report = await index(tmp_path, episodes, again)
    assert (report.indexed, report.unchanged, again.calls) == (0, len(episodes), [])

    changed = episodes[0].transcript
    changed.write_text(changed.read_text().replace("Welcome", "Hello there"))
    report = await index(tmp_path, episodes, HashEmbedder())
    assert (report.indexed, report.unchanged) == (1, len(episodes) - 1)


async def test_a_malformed_transcript_is_reported_and_nothing_of_it_stored(
    corpus: Path, tmp_path: Path
) -> None:
    episodes = read_manifest(corpus / "episodes.jsonl")
    broken = next(e for e in episodes if e.transcript.suffix == ".srt")
    lines = broken.transcript.read_text().splitlines()
    lines[1] = "00:00:03,000 --> soon"
    broken.transcript.write_text("\n".join(lines))
    report = await index(tmp_path, episodes, HashEmbedder())
    assert len(report.failures) == 1
    assert broken.episode_id in report.failures[0] and ":2:" in report.failures[0]
    assert broken.episode_id not in await stored_episodes(tmp_path)
    assert report.indexed == len(episodes) - 1


class PoisonedEmbedder(HashEmbedder):
    """Answers NaN for one episode's text, as the fp16 instructor-xl once did."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison

    async def embed(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        if any(self.poison in text for text in texts):
            raise EmbedderResponseInvalid("vector 0 contains a non-finite value (nan)")
        return await super().embed(texts, input_type)


async def test_an_episode_with_bad_vectors_is_never_stored(corpus: Path, tmp_path: Path) -> None:
    episodes = read_manifest(corpus / "episodes.jsonl")
    report = await index(tmp_path, episodes, PoisonedEmbedder("liquidation"))
    assert len(report.failures) >= 1 and "non-finite" in report.failures[0]
    stored = await stored_episodes(tmp_path)
    assert "ledger-lines-107" not in stored and len(stored) == len(episodes) - len(report.failures)


async def test_prune_deletes_episodes_the_manifest_dropped(corpus: Path, tmp_path: Path) -> None:
    episodes = read_manifest(corpus / "episodes.jsonl")
    await index(tmp_path, episodes, HashEmbedder())
    report = await index(tmp_path, episodes[1:], HashEmbedder(), prune=True)
    assert report.deleted == 1
    assert episodes[0].episode_id not in await stored_episodes(tmp_path)


async def test_segments_keep_time_speakers_and_a_playable_url(corpus: Path, tmp_path: Path) -> None:
    episodes = read_manifest(corpus / "episodes.jsonl")
    await index(tmp_path, episodes, HashEmbedder())
    reader = EdgeReader(tmp_path / "index")
    only = SearchFilters(episode_ids=(episodes[0].episode_id,))
    hits = await reader.search(
        StoreQuery(limit=1000, dense=HashEmbedder().vector("money"), filters=only)
    )
    by_id = await reader.fetch([h.id for h in hits])
    await reader.close()
    payloads = sorted(by_id.values(), key=lambda p: p.segment_index)
    assert [p.segment_index for p in payloads] == list(range(len(hits)))
    assert all(a.start <= b.start for a, b in itertools.pairwise(payloads))
    assert payloads[-1].end > 15 * 60
    assert all(p.speakers for p in payloads)
    assert (payloads[0].audio_url or "").endswith(".mp3")
    assert json.dumps(payloads[0].to_dict())  # payloads stay plain JSON


async def test_each_segment_is_stored_with_its_contexts_vectors_from_the_same_calls(
    corpus: Path, tmp_path: Path
) -> None:
    episode = read_manifest(corpus / "episodes.jsonl")[0]
    embedder = HashEmbedder()
    report = await index(tmp_path, [episode], embedder)
    assert sum(n for n, _ in embedder.calls) == 2 * report.segments  # a segment, its context
    assert len(embedder.calls) < report.segments / 10  # batched together, not one by one
    cuts = cut_episode(episode, parse_transcript(episode.transcript), ChunkerConfig())
    reader = EdgeReader(tmp_path / "index")
    only = SearchFilters(episode_ids=(episode.episode_id,))
    for cut in cuts[1::7]:
        by_context = StoreQuery(
            limit=3,
            dense=embedder.vector(cut.context),
            sparse=Bm25Encoder().query(cut.context),
            filters=only,
            passages=Passages.context,
        )
        hits = await reader.search(replace(by_context, sparse=None))
        assert hits[0].id == cut.segment.point_id and hits[0].score == pytest.approx(1.0)
        hits = await reader.search(replace(by_context, dense=None))
        assert hits[0].id == cut.segment.point_id  # its own words best match its words
    await reader.close()


async def test_the_context_width_is_recorded_and_another_width_is_refused(
    corpus: Path, tmp_path: Path
) -> None:
    episodes = read_manifest(corpus / "episodes.jsonl")[:1]
    await index(tmp_path, episodes, HashEmbedder())
    reader = EdgeReader(tmp_path / "index")
    built = await reader.meta()
    await reader.close()
    assert built.chunker.context_words == ChunkerConfig().context_words == 40
    wider = built.model_copy(update={"chunker": ChunkerConfig(context_words=60)})
    assert fingerprint(episodes[0], wider) != fingerprint(episodes[0], built)
    writer = EdgeWriter(tmp_path / "index")
    try:
        with pytest.raises(IndexMismatch, match="context_words=60"):
            await Indexer(HashEmbedder(), writer, wider.chunker).run(episodes)
    finally:
        await writer.close()


async def test_nothing_is_published_before_the_first_run(tmp_path: Path) -> None:
    with pytest.raises(IndexNotReady):
        await EdgeReader(tmp_path / "index").meta()
