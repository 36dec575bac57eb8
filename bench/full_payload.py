"""The read path the API had before the slim ranking pass, kept only as a reference for the
equality test and `bench.api_overhead`: one ranked query returning every candidate's full
payload (the same query plan, only `with_payload=True`), the page's payloads taken from those
hits, and context neighbours from a full scan rather than one fetch by derived point id. It also
reads an index built before point ids were integers (`bench.api_overhead`'s baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from bench.shards import live_shard
from podsearch.episodes import RECORD_FIELD
from podsearch.models import SegmentHit, SegmentPayload, StoreQuery
from podsearch.stores import plan
from podsearch.stores.edge import EdgeReader, _filter, _request


def full_request(search: plan.SearchPlan) -> qe.QueryRequest:
    """podsearch's request for `search`, reading whole payloads and filtering the fusion too
    (the prefetches filter already), as it used to."""
    slim = _request(search)
    return qe.QueryRequest(
        query=slim.query,
        prefetches=slim.prefetches,
        limit=slim.limit,
        filter=_filter(search.where),
        score_threshold=slim.score_threshold,
        params=slim.params,
        with_payload=True,
    )


class FullPayloadReader:
    """The pre-slim read path (reference only): full payloads of all candidates, one query.
    `prefetch`: each fused branch's candidates as a multiple of the limit, when not this code's
    (`bench.api_overhead` asks the 2x of the API before it)."""

    def __init__(self, root: Path, prefetch: float | None = None) -> None:
        self._prefetch = prefetch
        self._reader = EdgeReader(root)
        self._shard = live_shard(root)
        self._seen: dict[str, SegmentPayload] = {}
        records, _ = self._shard.scroll(qe.ScrollRequest(limit=100_000, with_payload=True))
        self.stored = {
            plan.id_text(r.id): SegmentPayload.from_dict(r.payload)
            for r in records
            if r.payload and RECORD_FIELD not in r.payload  # episode records are not segments
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)  # meta, generation: unchanged

    async def search(self, query: StoreQuery) -> list[SegmentHit]:
        search = plan.plan_search(query)
        if search is None:
            return []
        if self._prefetch is not None:
            asked = max(50, int(self._prefetch * search.limit))  # `StoreQuery.prefetch_limit`
            search = replace(search, prefetch_limit=asked)
        points = self._shard.query(full_request(search))
        self._seen = {plan.id_text(p.id): SegmentPayload.from_dict(p.payload or {}) for p in points}
        return plan.ranked(plan.hit(p.id, p.score, p.payload) for p in points)

    async def fetch(self, ids: Sequence[str]) -> dict[str, SegmentPayload]:
        """Every stored payload, whichever ids were asked for (so the service's choice of ids
        is checked too); the query's own payloads win, as they did on the page."""
        return {**self.stored, **self._seen}

    async def close(self) -> None:
        self._shard.close()
        await self._reader.close()
