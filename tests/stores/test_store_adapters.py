"""One behaviour suite, run against both store adapters (Qdrant Edge and qdrant-client)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from qdrant_client import AsyncQdrantClient

from podsearch.episodes import EpisodeRecord
from podsearch.errors import IndexMismatch, IndexNotReady
from podsearch.index_meta import SCHEMA_VERSION, IndexMeta
from podsearch.models import (
    Chapter,
    Episode,
    Passages,
    PodcastStats,
    SearchFilters,
    Segment,
    SegmentHit,
    SegmentPoint,
    StoreQuery,
    Utterance,
    point_id,
)
from podsearch.ports import SegmentReader, SegmentWriter
from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.stores.qdrant_server import QdrantServerStore
from podsearch.stores.schema import Bm25Encoder
from tests.support import tiny_meta, utc

BM25 = Bm25Encoder()
TOPICS = ["pager", "compost", "funding", "tomato", "database", "budget", "bees", "dns"]


def topic_vector(topic: str) -> list[float]:
    """One axis per topic, a little of every other: cosine ranks by topic."""
    return [1.0 if t == topic else 0.05 for t in TOPICS]


def episode(episode_id: str, podcast: str, day: str) -> Episode:
    return Episode(episode_id, podcast, f"Title {episode_id}", Path("x.json"), utc(day))


def points(
    ep: Episode, topics: Sequence[str], speaker: str = "Ann", tag: str = "v1"
) -> list[SegmentPoint]:
    """A segment's context reaches into the next one: its vector is the next segment's topic
    (the last segment's, its own), its words both topics."""
    out = []
    for i, topic in enumerate(topics):
        seg = Segment(ep, i, 60.0 * i, 60.0 * i + 55, f"we talk about {topic} here", (speaker,))
        after = topics[min(i + 1, len(topics) - 1)]
        context = BM25.document(f"we talk about {topic} and then {after}")
        out.append(
            SegmentPoint(
                seg.point_id,
                topic_vector(topic),
                BM25.document(seg.text),
                seg.payload(tag),
                topic_vector(after),
                context,
            )
        )
    return out


@dataclass
class Pair:
    writer: SegmentWriter
    reader: SegmentReader
    kind: str
    opener: Callable[[bool], tuple[SegmentWriter, SegmentReader]]  # (rebuild) -> a new pair

    async def reopen(self, rebuild: bool = False) -> SegmentWriter:
        """A new writer and reader on the same index, as a new indexer run and a restarted
        API open it (the Edge ones are closed first: the writer holds a lock)."""
        if self.kind == "edge":
            await self.writer.close()
            await self.reader.close()
        self.writer, self.reader = self.opener(rebuild)
        return self.writer


@pytest.fixture(params=["edge", "qdrant-local"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    if request.param == "edge":

        def edge(rebuild: bool) -> tuple[SegmentWriter, SegmentReader]:
            return EdgeWriter(tmp_path, rebuild), EdgeReader(tmp_path)

        pair = Pair(*edge(False), "edge", edge)
    else:
        client = AsyncQdrantClient(location=":memory:")  # one server for every pair

        def server(rebuild: bool) -> tuple[SegmentWriter, SegmentReader]:
            settings = StoreSettings(backend="qdrant", url=":memory:")
            return QdrantServerStore(settings, client, rebuild), QdrantServerStore(settings, client)

        pair = Pair(*server(False), "qdrant-local", server)
    yield pair
    await pair.writer.close()
    if pair.reader is not pair.writer:
        await pair.reader.close()


async def filled(store: Pair) -> Pair:
    await store.writer.prepare(tiny_meta())
    night = episode("ns-1", "Night Shift", "2025-02-11")
    soil = episode("substack:post:42", "Seed & Soil", "2024-09-18")
    await store.writer.replace_episode(
        night.episode_id, "v1", points(night, ["pager", "dns", "database"])
    )
    await store.writer.replace_episode(
        soil.episode_id, "v1", points(soil, ["compost", "tomato", "bees"], speaker="Bo")
    )
    await store.writer.publish()
    return store


def ids(hits: Sequence[SegmentHit]) -> list[str]:
    return [f"{h.episode_id}#{h.segment_index}" for h in hits]


async def test_an_unbuilt_index_is_not_ready(store: Pair) -> None:
    with pytest.raises(IndexNotReady):
        await store.reader.meta()


async def test_dense_search_ranks_the_nearest_segment_first(store: Pair) -> None:
    await filled(store)
    hits = await store.reader.search(StoreQuery(limit=3, dense=topic_vector("tomato")))
    assert ids(hits)[0] == "substack:post:42#1"
    assert hits[0].start == 60.0
    payload = (await store.reader.fetch([hits[0].id]))[hits[0].id]
    assert (payload.podcast, payload.segment_index, payload.start) == ("Seed & Soil", 1, 60.0)


async def test_keyword_search_matches_the_exact_word(store: Pair) -> None:
    await filled(store)
    hits = await store.reader.search(StoreQuery(limit=5, sparse=BM25.query("DNS")))
    assert ids(hits) == ["ns-1#1"]


async def test_a_query_of_stopwords_only_finds_nothing_by_keyword(store: Pair) -> None:
    await filled(store)
    assert await store.reader.search(StoreQuery(limit=5, sparse=BM25.query("the and of"))) == []


async def test_hybrid_fuses_both_branches(store: Pair) -> None:
    await filled(store)
    query = StoreQuery(limit=6, dense=topic_vector("bees"), sparse=BM25.query("database"))
    top_two = set(ids(await store.reader.search(query))[:2])
    assert top_two == {"substack:post:42#2", "ns-1#2"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(podcasts=("Night Shift",)), {"ns-1"}),
        (SearchFilters(episode_ids=("substack:post:42",)), {"substack:post:42"}),
        (SearchFilters(speakers=("Bo",)), {"substack:post:42"}),
        (SearchFilters(published_after=utc("2025-01-01")), {"ns-1"}),
        (SearchFilters(published_before=utc("2025-01-01")), {"substack:post:42"}),
        (SearchFilters(podcasts=("Night Shift", "Seed & Soil")), {"ns-1", "substack:post:42"}),
        (SearchFilters(podcasts=("Nope",)), set()),
    ],
)
async def test_filters_restrict_every_mode(
    store: Pair, filters: SearchFilters, expected: set[str]
) -> None:
    await filled(store)
    for query in (
        StoreQuery(limit=10, dense=topic_vector("dns"), filters=filters),
        StoreQuery(
            limit=10, dense=topic_vector("dns"), sparse=BM25.query("about"), filters=filters
        ),
    ):
        found = {h.episode_id for h in await store.reader.search(query)}
        assert found == expected


@pytest.mark.parametrize(
    ("phrase", "podcasts", "expected"),
    [
        ("talk about compost", (), ["substack:post:42#0"]),  # any case, word for word
        ("ABOUT DNS here", (), ["ns-1#1"]),
        ("about here", (), []),  # both words said, but not one after the other
        ("talk about", ("Night Shift",), ["ns-1#0", "ns-1#1", "ns-1#2"]),  # with other filters
    ],
)
async def test_a_phrase_filter_keeps_the_segments_that_say_it_word_for_word(
    store: Pair, phrase: str, podcasts: tuple[str, ...], expected: list[str]
) -> None:
    await filled(store)
    filters = SearchFilters(podcasts=podcasts, phrases=(phrase,))
    dense = topic_vector("dns")
    for query in (
        StoreQuery(limit=10, dense=dense, filters=filters),
        StoreQuery(limit=10, dense=dense, sparse=BM25.query(phrase), filters=filters),
    ):
        assert sorted(ids(await store.reader.search(query))) == expected


async def test_a_topic_branch_is_fused_beside_the_question_and_its_keywords(store: Pair) -> None:
    await filled(store)
    query = StoreQuery(
        limit=6,
        dense=topic_vector("bees"),
        dense_topic=topic_vector("pager"),
        sparse=BM25.query("database"),
    )
    fused = ids(await store.reader.search(query))
    assert {"substack:post:42#2", "ns-1#2"} <= set(fused[:3])  # the question's and BM25's best
    without = ids(await store.reader.search(replace(query, dense_topic=None)))
    assert without.index("ns-1#0") > fused.index("ns-1#0")  # the topic's best rises


async def test_a_keyword_weight_counts_bm25_ranks_that_many_times(store: Pair) -> None:
    await filled(store)
    query = StoreQuery(limit=3, dense=topic_vector("database"), sparse=BM25.query("database"))
    for weight, score in ((1.0, 2 / 60), (3.0, 1 / 60 + 1 / (1 / 3 + 59))):
        (top, *_) = await store.reader.search(replace(query, keyword_weight=weight))
        assert ids([top]) == ["ns-1#2"]  # first in both branches
        assert top.score == pytest.approx(score, rel=1e-5)


async def test_equal_scores_come_back_in_id_order(store: Pair) -> None:
    await store.writer.prepare(tiny_meta())
    for episode_id in ("c", "a", "b"):
        ep = episode(episode_id, "Night Shift", "2025-02-11")
        await store.writer.replace_episode(episode_id, "v1", points(ep, ["dns"]))
    await store.writer.publish()
    hits = await store.reader.search(StoreQuery(limit=3, dense=topic_vector("dns")))
    assert len({h.score for h in hits}) == 1
    assert [h.id for h in hits] == sorted(h.id for h in hits)


async def test_replacing_an_episode_drops_its_old_tail(store: Pair) -> None:
    await filled(store)
    night = episode("ns-1", "Night Shift", "2025-02-11")
    await store.writer.replace_episode(night.episode_id, "v2", points(night, ["budget"], tag="v2"))
    await store.writer.publish()
    hits = await store.reader.search(
        StoreQuery(
            limit=10, dense=topic_vector("dns"), filters=SearchFilters(episode_ids=("ns-1",))
        )
    )
    assert ids(hits) == ["ns-1#0"]
    assert [h.id for h in hits] == [point_id("ns-1", 0)]  # one id per segment, across versions
    fetched = await store.reader.fetch([point_id("ns-1", 0), point_id("ns-1", 1)])
    assert [p.text for p in fetched.values()] == ["we talk about budget here"]
    assert (await store.writer.fingerprints())["ns-1"] == "v2"
    assert await store.reader.podcasts() == {
        "Night Shift": PodcastStats(episodes=1, segments=1),
        "Seed & Soil": PodcastStats(episodes=1, segments=3),
    }


async def test_deleting_an_episode_removes_it_everywhere(store: Pair) -> None:
    await filled(store)
    await store.writer.delete_episode("ns-1")
    await store.writer.publish()
    assert "ns-1" not in await store.writer.fingerprints()
    assert await store.reader.podcasts() == {"Seed & Soil": PodcastStats(episodes=1, segments=3)}


async def test_an_index_refuses_another_recipe(store: Pair) -> None:
    await filled(store)
    with pytest.raises(IndexMismatch, match="dimension"):
        await (await store.reopen()).prepare(tiny_meta(dimension=16))
    assert (await store.reader.meta()).recipe.dimension == 8


async def test_each_segments_context_vectors_are_stored_and_ranked_by_name(store: Pair) -> None:
    await filled(store)
    night = SearchFilters(episode_ids=("ns-1",))  # pager, dns, database
    by_context = StoreQuery(
        limit=3, dense=topic_vector("dns"), filters=night, passages=Passages.context
    )
    assert ids(await store.reader.search(by_context))[0] == "ns-1#0"  # its context: dns
    assert ids(await store.reader.search(replace(by_context, passages=Passages.segment)))[0] == (
        "ns-1#1"
    )
    words = StoreQuery(limit=3, sparse=BM25.query("database"), filters=night)
    assert ids(await store.reader.search(words)) == ["ns-1#2"]
    in_context = await store.reader.search(replace(words, passages=Passages.context))
    assert sorted(ids(in_context)) == ["ns-1#1", "ns-1#2"]
    both = replace(by_context, sparse=BM25.query("dns"), passages=Passages.segment_and_context)
    assert ids(await store.reader.search(both))[:2] == ["ns-1#1", "ns-1#0"]


OLDER_SCHEMA = tiny_meta().model_copy(update={"schema_version": SCHEMA_VERSION - 1})
NIGHT = episode("ns-1", "Night Shift", "2025-02-11")


async def rebuilt(store: Pair, meta: IndexMeta) -> None:
    """A complete `--rebuild` run: the index (the server's alias) goes live when it ends."""
    writer = await store.reopen(rebuild=True)
    await writer.prepare(meta)
    await writer.replace_episode(NIGHT.episode_id, "v1", points(NIGHT, ["pager", "dns"]))
    await writer.publish(final=True)


async def test_an_index_of_an_older_schema_is_refused_until_rebuilt(store: Pair) -> None:
    """Its points lack what this code reads (vectors, ids): the writer and the reader refuse it."""
    await rebuilt(store, OLDER_SCHEMA)
    with pytest.raises(IndexMismatch, match=r"schema_version.*--rebuild"):
        await (await store.reopen()).prepare(tiny_meta())
    query = StoreQuery(limit=3, sparse=BM25.query("dns"))
    with pytest.raises(IndexMismatch, match=rf"schema_version {SCHEMA_VERSION - 1}.*--rebuild"):
        await store.reader.search(query)
    await rebuilt(store, tiny_meta())
    assert ids(await store.reader.search(query)) == ["ns-1#1"]


async def test_a_rollback_never_goes_back_to_an_older_schema(store: Pair) -> None:
    """After the upgrade's rebuild, the index before it is one this code cannot serve."""
    await rebuilt(store, OLDER_SCHEMA)
    await rebuilt(store, tiny_meta())
    live = await store.reader.generation()
    older = rf"schema_version {SCHEMA_VERSION - 1}.*cannot be served again"
    with pytest.raises(IndexMismatch, match=older):
        await (await store.reopen()).rollback()
    assert await store.reader.generation() == live
    await store.reopen()  # and a restarted API serves it too
    assert await store.reader.generation() == live


async def test_segments_are_fetched_by_id_and_missing_ids_are_absent(store: Pair) -> None:
    await filled(store)
    wanted = [point_id("ns-1", i) for i in (0, 2, 7)]
    found = await store.reader.fetch(wanted)
    assert sorted(found) == sorted(wanted[:2])
    assert [found[i].segment_index for i in wanted[:2]] == [0, 2]
    assert {p.episode_id for p in found.values()} == {"ns-1"}


async def test_an_excerpt_holds_the_segments_overlapping_a_time_range_in_order(
    store: Pair,
) -> None:
    await filled(store)  # ns-1's segments span 0-55, 60-115 and 120-175 seconds
    found = await store.reader.excerpt("ns-1", 100.0, 130.0, limit=10)
    assert [(p.episode_id, p.segment_index) for p in found] == [("ns-1", 1), ("ns-1", 2)]
    for first in range(3):  # the limit cuts in transcript order, whatever the point ids
        start = 60.0 * first
        found = await store.reader.excerpt("ns-1", start, 1000.0, limit=2)
        assert [p.segment_index for p in found] == list(range(first, min(first + 2, 3)))
    assert await store.reader.excerpt("ns-1", 500.0, 600.0, limit=10) == []
    assert await store.reader.excerpt("nobody", 0.0, 1000.0, limit=10) == []


async def test_the_generation_changes_when_the_index_is_republished(store: Pair) -> None:
    await filled(store)
    first = await store.reader.generation()
    assert first
    night = episode("ns-1", "Night Shift", "2025-02-11")
    await store.writer.replace_episode(night.episode_id, "v2", points(night, ["budget"], tag="v2"))
    await store.writer.publish()
    if store.kind == "edge":  # a server collection is updated in place; its name stays
        assert await store.reader.generation() != first


async def test_flagged_sponsor_reads_are_left_out_unless_asked_for(store: Pair) -> None:
    await filled(store)
    stored = await store.writer.podcast_segments("Night Shift")
    assert sorted((s.episode_id, s.ad) for s in stored) == [("ns-1", False)] * 3
    dns = next(s.id for s in stored if "dns" in s.text)
    await store.writer.set_ad_flags({dns: True})
    await store.writer.publish()
    assert {s.id for s in await store.writer.podcast_segments("Night Shift") if s.ad} == {dns}
    for include_ads, expected in (
        (False, ["ns-1#0", "ns-1#2"]),
        (True, ["ns-1#0", "ns-1#1", "ns-1#2"]),
    ):
        filters = SearchFilters(episode_ids=("ns-1",), include_ads=include_ads)
        for query in (
            StoreQuery(limit=10, dense=topic_vector("dns"), filters=filters),
            StoreQuery(limit=10, sparse=BM25.query("talk"), filters=filters),
        ):
            assert sorted(ids(await store.reader.search(query))) == expected


async def test_an_episode_record_is_kept_beside_its_segments_and_deleted_with_them(
    store: Pair,
) -> None:
    await filled(store)
    said = (Utterance(0.0, 4.0, "hello pager", "Ann"), Utterance(4.0, 9.5, "hi", None))
    await store.writer.replace_record(EpisodeRecord("ns-1", said, (Chapter(0.0, "Intro"),)))
    await store.writer.publish()
    record = await store.reader.episode_record("ns-1")
    assert record is not None and record.utterances == said
    assert (record.speakers, record.duration, record.chapters) == (
        ["Ann"],
        9.5,
        (Chapter(0.0, "Intro"),),
    )
    assert await store.reader.episode_record("substack:post:42") is None
    assert (await store.reader.podcasts())["Night Shift"] == PodcastStats(episodes=1, segments=3)
    everything = await store.reader.search(StoreQuery(limit=50, dense=topic_vector("pager")))
    assert len(everything) == 6  # the record has no vector: no query returns it
    await store.writer.delete_episode("ns-1")
    await store.writer.publish()
    assert await store.reader.episode_record("ns-1") is None
