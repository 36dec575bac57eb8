"""Today's eval index copied, point for point, with context vectors added beside each segment's.

A segment's context is a wider passage around it: its words with `width` more on each side
(`segmenting.cut_episode`, which the served index holds at its own width; embedded as a
document, and its BM25 with the speakers first, as `keyword_text` writes it), or, at no
embedding cost, the normalised mean of its own vector and its neighbours' (`ctx_mean`). The
copy keeps each point's served segment vectors and adds these. Same point ids as today's
index, so the engine's RRF fuses the extra branches with today's and moments merge as they do
now. The granularities tool asks the widths the copy records.

    python -m bench.eval.context_shard --corpus qmsum --widths 20,40   # embeds, in the cache
    python -m bench.eval.context_shard --corpus changelog --episodes 49 --widths 20,40
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from bench.eval.corpus import Corpus
from bench.eval.run import eval_embedder
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.shards import live_shard
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import SparseVector
from podsearch.ports import Embedder
from podsearch.segmenting import cut_episode, keyword_text
from podsearch.sponsors import AD_FIELD
from podsearch.stores.plan import id_text
from podsearch.stores.schema import DENSE, SPARSE, Bm25Encoder
from podsearch.transcripts import parse_transcript

MEAN = "ctx_mean"
WIDTHS = "widths.json"
BATCH = 128  # texts per embedder call: the cache commits after each


def ctx_dense(width: int) -> str:
    return f"ctx{width}"


def ctx_sparse(width: int) -> str:
    return f"ctx{width}_bm25"


def contexts(corpus: Corpus, cache: Path, width: int) -> dict[str, tuple[str, str]]:
    """point id -> (context text, its BM25 text) for every segment of today's eval index, cut
    as the indexer cuts them (`segmenting.cut_episode`, `keyword_text`) but `width` words a
    side."""
    out: dict[str, tuple[str, str]] = {}
    manifest = cache / corpus.label(ChunkerConfig()) / "episodes.jsonl"
    widened = ChunkerConfig(context_words=width)
    for episode in read_manifest(manifest, allow_outside=True):
        for cut in cut_episode(episode, parse_transcript(episode.transcript), widened):
            out[cut.segment.point_id] = (cut.context, keyword_text(cut.segment, cut.context))
    return out


async def embed_contexts(embedder: Embedder, texts: Sequence[str], label: str) -> list[list[float]]:
    vectors: list[list[float]] = []
    for start in range(0, len(texts), BATCH):
        vectors += await embedder.embed(list(texts[start : start + BATCH]), "document")
        print(f"  {label}: {len(vectors)}/{len(texts)} embedded", file=sys.stderr, flush=True)
    return vectors


def _points(shard: qe.EdgeShard) -> list[Any]:
    """Every segment point of the shard with its vectors and payload (episode records left out)."""
    found: list[Any] = []
    offset: Any = None
    while True:
        request = qe.ScrollRequest(offset=offset, limit=1000, with_payload=True, with_vector=True)
        records, offset = shard.scroll(request)
        found += [r for r in records if isinstance(r.vector, dict) and DENSE in r.vector]
        if offset is None:
            return found


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _neighbour_means(points: Sequence[Any]) -> dict[str, list[float]]:
    """The normalised mean of a segment's vector and those of the segments either side of it."""
    by_place = {(p.payload["episode_id"], p.payload["segment_index"]): p for p in points}
    means = {}
    for (episode, index), p in by_place.items():
        near = [by_place.get((episode, index + d)) for d in (-1, 0, 1)]
        rows = _unit(np.array([n.vector[DENSE] for n in near if n is not None]))
        means[id_text(p.id)] = _unit(rows.mean(axis=0, keepdims=True))[0].tolist()
    return means


async def build(corpus: Corpus, cache: Path, embedder: Embedder, widths: Sequence[int]) -> Path:
    """The copied shard under the cache (rebuilt each time: seconds), with every context vector."""
    label = corpus.label(ChunkerConfig())
    today = live_shard(cache / label / "index")
    points = _points(today)
    today.close()
    extra: dict[str, dict[str, Any]] = {MEAN: _neighbour_means(points)}
    bm25 = Bm25Encoder()
    for width in widths:
        texts = contexts(corpus, cache, width)
        ids = [id_text(p.id) for p in points]
        missing = set(ids) - texts.keys()
        if missing:
            raise RuntimeError(f"{len(missing)} indexed segments not re-cut, e.g. {min(missing)}")
        dense = await embed_contexts(embedder, [texts[i][0] for i in ids], f"{label} +{width}")
        extra[ctx_dense(width)] = dict(zip(ids, dense, strict=True))
        extra[ctx_sparse(width)] = {i: bm25.document(texts[i][1]) for i in ids}
    root = cache / f"{label}-context"
    shutil.rmtree(root, ignore_errors=True)
    folder = root / "shard"
    folder.mkdir(parents=True)
    size = len(points[0].vector[DENSE])
    dense_names = [DENSE, MEAN, *map(ctx_dense, widths)]
    sparse_names = [SPARSE, *map(ctx_sparse, widths)]
    config = qe.EdgeConfig(
        vectors={
            n: qe.EdgeVectorParams(size=size, distance=qe.Distance.Cosine) for n in dense_names
        },
        sparse_vectors={
            n: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf) for n in sparse_names
        },
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000),
        wal_enabled=False,
    )
    shard = qe.EdgeShard.create(str(folder), config)
    for field, kind in (("episode_id", "Keyword"), (AD_FIELD, "Integer")):  # what queries filter
        index = qe.UpdateOperation.create_field_index(field, getattr(qe.PayloadSchemaType, kind))
        shard.update(index)
    copied = []
    for p in points:
        vectors = {name: p.vector[name] for name in (DENSE, SPARSE)}  # the served ones
        for name, table in extra.items():
            v = table[id_text(p.id)]
            sparse = isinstance(v, SparseVector)
            vectors[name] = qe.SparseVector(indices=v.indices, values=v.values) if sparse else v
        copied.append(qe.Point(id=p.id, vector=vectors, payload=p.payload))
    for start in range(0, len(copied), 500):
        shard.update(qe.UpdateOperation.upsert_points(copied[start : start + 500]))
    shard.flush()
    shard.optimize()
    shard.close()
    (root / WIDTHS).write_text(json.dumps(list(widths)))
    return folder


def open_context_shard(root: Path) -> tuple[qe.EdgeShard, list[int]]:
    """The shard `build` wrote under `root`, and the context widths it holds."""
    widths = json.loads((root / WIDTHS).read_text())
    return qe.EdgeShard.load(str(root / "shard")), [int(w) for w in widths]


async def run(args: argparse.Namespace, url: str) -> None:
    corpus = chosen_corpus(args)
    widths = [int(w) for w in args.widths.split(",") if w]
    async with eval_embedder(url, args.cache) as embedder:
        folder = await build(corpus, args.cache, embedder, widths)
    print(f"{folder}: {', '.join([MEAN, *map(ctx_dense, widths), *map(ctx_sparse, widths)])}")


def main() -> None:
    parser = tool_parser("python -m bench.eval.context_shard", __doc__, corpus="qmsum")
    parser.add_argument("--widths", default="20", help="context words added on each side")
    run_tool(parser.parse_args(), run)


if __name__ == "__main__":
    main()
