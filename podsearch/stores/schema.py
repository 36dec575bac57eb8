"""The index schema both store adapters share: vector names, payload indexes, BM25 encoding.

BM25 sparse vectors are computed with `qdrant_edge.Bm25` in both modes (embedded and server), so
an index built by either adapter scores keyword queries the same way.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from qdrant_edge import Bm25, Bm25Config

from podsearch.models import SparseVector
from podsearch.sponsors import AD_FIELD

DENSE = "dense"
SPARSE = "bm25"
# The same two of each segment's context, the segment widened (`segmenting.cut_episode`)
CONTEXT_DENSE = "context"
CONTEXT_SPARSE = "context_bm25"

PayloadKind = Literal["keyword", "datetime", "integer", "phrase"]

# Fields that filters and facets touch; indexed so filtered queries stay in the HNSW path.
PAYLOAD_INDEXES: dict[str, PayloadKind] = {
    "podcast": "keyword",
    "episode_id": "keyword",
    "speakers": "keyword",
    "published": "datetime",
    "segment_index": "integer",
    AD_FIELD: "integer",  # 0/1: Edge's Python binding reads MatchValue(True) as the integer 1
    # Full text with word positions: a quoted phrase filters by it. Indexes built before it
    # answer the same, by reading every candidate's text.
    "text": "phrase",
}


class Bm25Encoder:
    """Tokenises, stems and hashes text into BM25 term weights (IDF is applied by the store)."""

    def __init__(self, avg_len: float = 60.0) -> None:
        self._avg_len = avg_len

    @cached_property
    def _model(self) -> Bm25:
        return Bm25(Bm25Config(avg_len=self._avg_len, language="english"))

    def document(self, text: str) -> SparseVector:
        vector = self._model.embed_document(text)
        return SparseVector(indices=list(vector.indices), values=list(vector.values))

    def query(self, text: str) -> SparseVector:
        vector = self._model.embed_query(text)
        return SparseVector(indices=list(vector.indices), values=list(vector.values))
