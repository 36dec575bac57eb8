"""Sponsor reads through the real pipeline and Edge store: flagged whatever the indexing order,
left out of searches by default, and a re-run writes nothing."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

from indexer.pipeline import Indexer
from podsearch.index_meta import ChunkerConfig
from podsearch.models import Episode, SearchFilters, StoreQuery
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.schema import Bm25Encoder
from tests.fakes import HashEmbedder

READ = (
    "This episode is brought to you by our friends at Acme Cloud. Acme Cloud is the fastest way "
    "to ship containers to every region on the planet, with zero config deploys, preview "
    "environments for every pull request, and a free tier that is actually generous. Teams move "
    "their staging and production workloads over in an afternoon, and their pager gets quiet. "
    "Head to acme.dev slash show to get a month of the team plan on us. Once again, that is "
    "acme.dev slash show. Thanks to Acme Cloud for supporting the show, and now back to the "
    "conversation."
)
VOCABULARY = (
    "parser rust tests queue backlog latency cache index deploy rollback schema migration "
    "incident budget review pairing editor terminal kernel network packet replica shard"
).split()


def talk(seed: int, words: int = 200) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)) + "."


def write_episode(folder: Path, n: int) -> Episode:
    """Talk, the sponsor read, more talk: a Podcasting 2.0 JSON transcript."""
    bodies = [talk(n), READ, talk(1000 + n)]
    cues = [
        {"speaker": "Host", "startTime": 100.0 * i, "endTime": 100.0 * i + 90, "body": body}
        for i, body in enumerate(bodies)
    ]
    path = folder / f"ep-{n}.json"
    path.write_text(json.dumps({"version": "1.0.0", "segments": cues}))
    return Episode(f"ep-{n}", "The Show", f"Episode {n}", path)


async def index(root: Path, episodes: Sequence[Episode]) -> None:
    writer = EdgeWriter(root)
    try:
        await Indexer(HashEmbedder(), writer, ChunkerConfig()).run(episodes)
    finally:
        await writer.close()


async def flagged(root: Path) -> set[tuple[str, int]]:
    """(episode, segment) of every stored segment flagged as a sponsor read."""
    reader = EdgeReader(root)
    try:
        hits = await reader.search(
            StoreQuery(
                limit=100,
                sparse=Bm25Encoder().query("acme parser rust"),
                filters=SearchFilters(include_ads=True),
            )
        )
        payloads = await reader.fetch([h.id for h in hits])
    finally:
        await reader.close()
    return {(p.episode_id, p.segment_index) for p in payloads.values() if p.ad}


async def test_an_episode_indexed_before_the_others_is_flagged_once_they_arrive(
    tmp_path: Path,
) -> None:
    episodes = [write_episode(tmp_path, n) for n in range(4)]
    await index(tmp_path / "a", episodes[:1])
    assert await flagged(tmp_path / "a") == set()  # one episode: nothing repeats yet
    await index(tmp_path / "a", episodes)
    found = await flagged(tmp_path / "a")
    assert {episode for episode, _ in found} == {"ep-0", "ep-1", "ep-2", "ep-3"}

    await index(tmp_path / "b", episodes[::-1])  # another order, one run
    assert await flagged(tmp_path / "b") == found


async def test_searches_leave_sponsor_reads_out_unless_asked_and_a_rerun_writes_nothing(
    tmp_path: Path,
) -> None:
    episodes = [write_episode(tmp_path, n) for n in range(3)]
    await index(tmp_path / "index", episodes)
    reader = EdgeReader(tmp_path / "index")
    try:
        generation = await reader.generation()
        query = Bm25Encoder().query("acme cloud containers")
        default = await reader.search(StoreQuery(limit=50, sparse=query))
        everything = await reader.search(
            StoreQuery(limit=50, sparse=query, filters=SearchFilters(include_ads=True))
        )
        assert any(p.ad for p in (await reader.fetch([h.id for h in everything])).values())
        assert not any(p.ad for p in (await reader.fetch([h.id for h in default])).values())
        assert len(default) < len(everything)
        await index(tmp_path / "index", episodes)
        assert await reader.generation() == generation  # nothing changed: nothing published
    finally:
        await reader.close()
