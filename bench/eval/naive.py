"""The reference every quality table is read against: a naive pipeline a new user would write.

Fixed passages of whole speaker turns (about PASSAGE_WORDS words, no overlap, a turn longer than
that cut into pieces), each written "Speaker: words" so BM25 sees who spoke; the same embedder,
Qdrant's BM25 with IDF, RRF k=60, passages returned as they are (no moment merging).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from bench.eval.metrics import K, Span
from podsearch.manifest import read_manifest
from podsearch.models import Utterance
from podsearch.ports import Embedder
from podsearch.stores.schema import DENSE, SPARSE, Bm25Encoder
from podsearch.transcripts import parse_transcript
from search_api.schemas import SearchMode

PASSAGE_WORDS = 120
RRF_K = 60
PREFETCH = 50
_DONE = "complete.json"


@dataclass(frozen=True)
class Passage:
    episode_id: str
    start: float
    end: float
    text: str


def turns(utterances: Sequence[Utterance]) -> list[Utterance]:
    """Consecutive cues of one speaker joined into one turn."""
    out: list[Utterance] = []
    for u in sorted(utterances, key=lambda u: u.start):
        if out and out[-1].speaker == u.speaker:
            last = out[-1]
            out[-1] = Utterance(
                last.start, max(last.end, u.end), f"{last.text} {u.text}", u.speaker
            )
        else:
            out.append(u)
    return out


def passages(episode_id: str, utterances: Sequence[Utterance]) -> list[Passage]:
    """Whole turns gathered until a passage holds PASSAGE_WORDS words."""
    pieces: list[tuple[float, float, str, int]] = []  # start, end, "Speaker: words", words
    for turn in turns(utterances):
        words = turn.text.split()
        step = (turn.end - turn.start) / max(1, len(words))
        for i in range(0, len(words), PASSAGE_WORDS):
            chunk = words[i : i + PASSAGE_WORDS]
            text = f"{turn.speaker}: {' '.join(chunk)}" if turn.speaker else " ".join(chunk)
            start = turn.start + i * step
            pieces.append((start, start + len(chunk) * step, text, len(chunk)))
    out: list[Passage] = []
    group: list[tuple[float, float, str, int]] = []
    for piece in pieces:
        group.append(piece)
        if sum(p[3] for p in group) >= PASSAGE_WORDS:
            out.append(_passage(episode_id, group))
            group = []
    if group:
        out.append(_passage(episode_id, group))
    return out


def _passage(episode_id: str, group: list[tuple[float, float, str, int]]) -> Passage:
    return Passage(episode_id, group[0][0], group[-1][1], "\n".join(p[2] for p in group))


class NaiveIndex:
    """The naive pipeline's own Edge shard, built once per corpus under the eval cache."""

    def __init__(self, folder: Path, embedder: Embedder) -> None:
        self._folder = folder
        self._embedder = embedder
        self._bm25 = Bm25Encoder()
        self._shard: qe.EdgeShard | None = None

    async def build(self, manifest: Path) -> None:
        shard_dir = self._folder / "shard"
        if (self._folder / _DONE).exists():
            self._shard = qe.EdgeShard.load(str(shard_dir))
            return
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder.mkdir(parents=True)
        recipe = await self._embedder.recipe()
        config = qe.EdgeConfig(
            vectors={
                DENSE: qe.EdgeVectorParams(size=recipe.dimension, distance=qe.Distance.Cosine)
            },
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            wal_enabled=False,
        )
        shard = qe.EdgeShard.create(str(shard_dir), config)
        shard.update(
            qe.UpdateOperation.create_field_index("episode_id", qe.PayloadSchemaType.Keyword)
        )
        count = 0
        # The eval's manifests name transcripts by absolute path into the corpus.
        for episode in read_manifest(manifest, allow_outside=True):
            found = passages(episode.episode_id, parse_transcript(episode.transcript))
            vectors = await self._embedder.embed([p.text for p in found], "document")
            points = [
                qe.Point(
                    id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{p.episode_id}:{i}")),
                    vector={DENSE: v, SPARSE: _sparse(self._bm25.document(p.text))},
                    payload={"episode_id": p.episode_id, "start": p.start, "end": p.end},
                )
                for i, (p, v) in enumerate(zip(found, vectors, strict=True))
            ]
            shard.update(qe.UpdateOperation.upsert_points(points))
            count += len(points)
        shard.optimize()
        shard.flush()
        self._shard = shard
        (self._folder / _DONE).write_text(json.dumps({"passages": count}))

    async def search(self, query: str, mode: SearchMode, episode_id: str | None) -> list[Span]:
        assert self._shard is not None, "build() first"
        flt = None
        if episode_id is not None:
            flt = qe.Filter(
                must=[qe.FieldCondition(key="episode_id", match=qe.MatchValue(episode_id))]
            )
        branches: list[tuple[str, Any]] = []
        if mode is not SearchMode.keyword:
            branches.append((DENSE, (await self._embedder.embed([query], "query"))[0]))
        sparse = self._bm25.query(query)
        if mode is not SearchMode.semantic and sparse.indices:
            branches.append((SPARSE, _sparse(sparse)))
        if not branches:
            return []
        if len(branches) == 1:
            query_: Any = qe.Query.Nearest(branches[0][1], using=branches[0][0])
            request = qe.QueryRequest(query=query_, filter=flt, limit=K, with_payload=True)
        else:
            prefetches = [
                qe.Prefetch(limit=PREFETCH, query=qe.Query.Nearest(v, using=u), filter=flt)
                for u, v in branches
            ]
            fusion: Any = qe.Fusion.Rrf(k=RRF_K)
            request = qe.QueryRequest(
                query=fusion, prefetches=prefetches, filter=flt, limit=K, with_payload=True
            )
        return [
            Span(str(p.payload["episode_id"]), float(p.payload["start"]), float(p.payload["end"]))
            for p in self._shard.query(request)
            if p.payload
        ]

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None


def _sparse(vector: Any) -> qe.SparseVector:
    return qe.SparseVector(indices=vector.indices, values=vector.values)
