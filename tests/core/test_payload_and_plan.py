"""The typed segment payload (the stored keys) and the store-neutral query plan, on plain data."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from podsearch.models import (
    Episode,
    Passages,
    SearchFilters,
    Segment,
    SegmentPayload,
    SparseVector,
    StoreQuery,
)
from podsearch.stores import plan
from podsearch.stores.schema import CONTEXT_DENSE, CONTEXT_SPARSE, DENSE, PAYLOAD_INDEXES, SPARSE
from tests.support import utc

EPISODE = Episode("e1", "Night Shift", "Pager duty", Path("x.json"), utc("2025-02-11"), None, "a")
SEGMENT = Segment(EPISODE, 3, 12.345, 20.0, "we talk about dns", ("Ann", "Bo"))
STORED_KEYS = [
    "episode_id",
    "podcast",
    "episode_title",
    "published",
    "url",
    "audio_url",
    "segment_index",
    "start",
    "end",
    "speakers",
    "text",
    "content_hash",
    "episode_fingerprint",
    "chapter",  # optional, added without a schema bump: payloads stored before it read as None
    "ad",  # added without a version bump: older payloads lack it and read back as 0
]


def test_the_stored_payload_keeps_its_keys_and_reads_back_equal() -> None:
    payload = SEGMENT.payload("fp")
    stored = payload.to_dict()
    assert list(stored) == STORED_KEYS  # the index format: changing it is a schema version bump
    assert stored["speakers"] == ["Ann", "Bo"] and stored["start"] == 12.35
    assert stored["published"] == "2025-02-11T00:00:00+00:00"
    assert SegmentPayload.from_dict(stored) == payload
    older = {k: v for k, v in stored.items() if k not in ("chapter", "ad")}
    assert SegmentPayload.from_dict(older) == payload  # no chapters, not a sponsor read


def test_a_stored_payload_is_read_with_json_number_types() -> None:
    stored = {**SEGMENT.payload("fp").to_dict(), "start": 12, "segment_index": 3.0}
    payload = SegmentPayload.from_dict(stored)
    assert payload.start == 12.0 and isinstance(payload.start, float)
    assert payload.segment_index == 3 and isinstance(payload.segment_index, int)


def test_every_key_the_stores_index_or_the_plan_reads_is_a_payload_field() -> None:
    names = {f.name for f in fields(SegmentPayload)}
    assert set(PAYLOAD_INDEXES) <= names
    assert {plan.PODCAST, *plan.FINGERPRINT_KEYS} <= names
    filters = SearchFilters(("P",), ("e1",), ("Ann",), utc("2024-01-01"), None)
    assert {c.key for c in plan.filter_conditions(filters)} <= names


def test_the_plan_keeps_only_branches_that_can_rank() -> None:
    stop_words_only = SparseVector(indices=[], values=[])
    assert plan.plan_search(StoreQuery(limit=5, sparse=stop_words_only)) is None
    hybrid = plan.plan_search(
        StoreQuery(limit=300, dense=[1.0], sparse=SparseVector([1], [0.5]), rrf_k=7)
    )
    assert hybrid is not None and hybrid.fused
    assert [b.using for b in hybrid.branches] == [DENSE, SPARSE]
    assert (hybrid.limit, hybrid.prefetch_limit, hybrid.rrf_k) == (300, 450, 7)
    semantic = plan.plan_search(StoreQuery(limit=5, dense=[1.0], sparse=stop_words_only))
    assert semantic is not None and not semantic.fused and semantic.where == (plan.Unless("ad", 1),)


def test_with_the_contexts_every_vector_is_asked_of_both_passages_alone_of_the_contexts() -> None:
    question = StoreQuery(
        limit=10,
        dense=[1.0],
        dense_topic=[0.5],
        sparse=SparseVector([1], [0.5]),
        keyword_weight=3.0,
        passages=Passages.segment_and_context,
    )
    both = plan.plan_search(question)
    assert both is not None
    assert [(b.using, b.vector, b.weight) for b in both.branches] == [
        (DENSE, [1.0], 1.0),
        (DENSE, [0.5], 1.0),
        (SPARSE, SparseVector([1], [0.5]), 3.0),
        (CONTEXT_DENSE, [1.0], 1.0),
        (CONTEXT_DENSE, [0.5], 1.0),
        (CONTEXT_SPARSE, SparseVector([1], [0.5]), 3.0),
    ]
    alone = plan.plan_search(replace(question, dense_topic=None, passages=Passages.context))
    assert alone is not None
    assert [b.using for b in alone.branches] == [CONTEXT_DENSE, CONTEXT_SPARSE]


def test_filters_become_one_condition_per_restricted_field() -> None:
    filters = SearchFilters(podcasts=("A", "B"), published_before=utc("2025-01-01"))
    assert plan.filter_conditions(filters) == (
        plan.AnyOf("podcast", ["A", "B"]),
        plan.Between("published", None, utc("2025-01-01")),
        plan.Unless("ad", 1),  # sponsor reads stay out unless asked for
    )
    assert plan.filter_conditions(SearchFilters(include_ads=True)) == ()
    assert plan.episode_segments("e1", from_index=4) == (
        plan.Match("episode_id", "e1"),
        plan.AtLeast("segment_index", 4),
    )


def test_podcast_stats_join_the_two_facets() -> None:
    stats = plan.podcast_stats([("A", 10), ("B", 3)], [("A", 2)])
    assert {name: (s.episodes, s.segments) for name, s in stats.items()} == {
        "A": (2, 10),
        "B": (0, 3),
    }
