"""Why the naive reference's semantic branch beats ours on Changelog, measured on both sets.

    python -m bench.eval.speaker_text --corpus changelog --episodes 49
    python -m bench.eval.speaker_text --corpus qmsum

The naive pipeline differs from ours in three ways; the cheap two are measured here, each beside
the served search on the same index and questions, across the corpus and within the episode:

- `unmerged`: our own index's hits (dense, or dense + BM25 fused as the API fuses them) returned
  as they are, not merged into moments; no re-embedding.
- `names`: our windows (same cuts, same BM25, same payloads) embedded with the speakers' names
  inline, one "Name: words" line per turn as the naive passages are written, served by the real
  `SearchService`. The index is built by the real indexer through an embedder that swaps each
  window's words for that form (only the embedded text changes), cached under the eval cache.
- `naive unnamed`: the naive reference's own passages embedded without their "Name: " prefixes
  (its BM25 text and passage cuts unchanged), beside the naive reference itself.

The third difference, the passage itself (~160 words from a turn start vs 120-word windows), is
measured with `python -m bench.eval --window 160 --overlap 40`. Figures: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import qdrant_edge as qe

from bench.eval.build import build_index, prepare_index
from bench.eval.corpus import Corpus, Question, read_questions
from bench.eval.fusion import weighted_request
from bench.eval.metrics import K, Span, score
from bench.eval.naive import NaiveIndex, passages
from bench.eval.run import eval_embedder, open_service, run_questions
from bench.eval.tool import chosen_corpus, run_tool, tool_parser
from bench.report import machine, table
from bench.shards import live_shard
from podsearch.contract import EmbeddingRecipe, InputType
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import SparseVector
from podsearch.ports import Embedder
from podsearch.segmenting import _Timeline, _windows
from podsearch.stores.schema import DENSE, Bm25Encoder
from podsearch.transcripts import parse_transcript
from search_api.schemas import SearchMode
from search_api.settings import ApiOptions

HEADERS = ["scope", "system", f"MRR@{K}", f"Recall@{K}", f"nDCG@{K}", "episode MRR", "moment s"]


def named_windows(manifest: Path, chunker: ChunkerConfig) -> dict[str, str]:
    """Each window's words (as the indexer embeds them) -> the same words, one line per turn
    starting "Speaker: " (the naive passages' form)."""
    out: dict[str, str] = {}
    for episode in read_manifest(manifest, allow_outside=True):
        timeline = _Timeline.of(parse_transcript(episode.transcript))
        words = timeline.words
        for a, b in _windows(words, chunker.window_words, chunker.overlap_words):
            lines: list[tuple[str, list[str]]] = []
            for w in range(a, b):
                speaker = timeline.utterances[timeline._locate(w)[0]].speaker or ""
                if lines and lines[-1][0] == speaker:
                    lines[-1][1].append(words[w])
                else:
                    lines.append((speaker, [words[w]]))
            out[" ".join(words[a:b])] = "\n".join(
                f"{s}: {' '.join(ws)}" if s else " ".join(ws) for s, ws in lines
            )
    return out


class RenamingEmbedder:
    """Embeds documents in their named form; queries as they are."""

    def __init__(self, inner: Embedder, named: dict[str, str]) -> None:
        self._inner = inner
        self._named = named

    async def recipe(self) -> EmbeddingRecipe:
        return await self._inner.recipe()

    @property
    def truncated_inputs(self) -> int:
        return self._inner.truncated_inputs

    async def embed(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        if input_type == "document":
            texts = [self._named[t] for t in texts]
        return await self._inner.embed(texts, input_type)


def unmerged(
    shard: qe.EdgeShard, dense: list[float], sparse: SparseVector, within: str | None, hybrid: bool
) -> list[Span]:
    """Top-K segments of the engine, not merged into moments."""
    flt = None
    if within is not None:
        flt = qe.Filter(must=[qe.FieldCondition(key="episode_id", match=qe.MatchValue(within))])
    if hybrid:
        request = weighted_request(dense, sparse, ApiOptions().rrf_k, (1.0, 1.0))
        request = qe.QueryRequest(
            query=request.query,
            prefetches=[
                qe.Prefetch(limit=p.limit, query=p.query, filter=flt) for p in request.prefetches
            ],
            filter=flt,
            limit=K,
            with_payload=True,
        )
    else:
        request = qe.QueryRequest(
            query=qe.Query.Nearest(dense, using=DENSE), filter=flt, limit=K, with_payload=True
        )
    return [
        Span(str(p.payload["episode_id"]), float(p.payload["start"]), float(p.payload["end"]))
        for p in shard.query(request)
        if p.payload and "start" in p.payload
    ]


def plain_passages(manifest: Path) -> dict[str, str]:
    """Each naive passage's text -> the same passage without its "Speaker: " prefixes."""
    out: dict[str, str] = {}
    for episode in read_manifest(manifest, allow_outside=True):
        utterances = parse_transcript(episode.transcript)
        names = {f"{u.speaker}: " for u in utterances if u.speaker}
        for p in passages(episode.episode_id, utterances):
            lines = []
            for line in p.text.split("\n"):
                prefix = next((n for n in names if line.startswith(n)), "")
                lines.append(line[len(prefix) :])
            out[p.text] = "\n".join(lines)
    return out


async def naive_rows(
    corpus: Corpus, manifest: Path, cache: Path, embedder: Embedder, qs: list[Question]
) -> list[list[object]]:
    """The naive reference as it is, and with its passages embedded without speaker names (its
    BM25 text and passage cuts unchanged)."""
    rows = []
    variants = [
        ("naive", cache / f"{corpus.stem}-naive", embedder),
        (
            "naive unnamed",
            cache / f"{corpus.stem}-naive-unnamed",
            RenamingEmbedder(embedder, plain_passages(manifest)),
        ),
    ]
    for tag, folder, used in variants:
        reference = NaiveIndex(folder, used)
        try:
            await reference.build(manifest)
            for scope in ("across", "within"):
                for mode in (SearchMode.semantic, SearchMode.hybrid):
                    res = [
                        await reference.search(
                            q.text, mode, q.episode_id if scope == "within" else None
                        )
                        for q in qs
                    ]
                    rows.append(_row(scope, f"{tag} {mode.value}", res, qs))
        finally:
            reference.close()
    return rows


def _row(scope: str, name: str, results: list[list[Span]], qs: list[Question]) -> list[object]:
    s = score([(r, list(q.answers)) for r, q in zip(results, qs, strict=True)])
    return [scope, name, s.mrr, s.recall, s.ndcg, s.episode_mrr, s.moment_s]


async def served_rows(
    index: Path, embedder: Embedder, qs: list[Question], tag: str
) -> list[list[object]]:
    rows = []
    async with open_service(index, embedder) as service:
        for scope in ("across", "within"):
            for mode in (SearchMode.semantic, SearchMode.hybrid):
                res = await run_questions(service, qs, mode, within=scope == "within")
                rows.append(_row(scope, f"{tag} {mode.value}", res, qs))
    return rows


async def experiment(
    corpus: Corpus, chunker: ChunkerConfig, cache: Path, embedder: Embedder
) -> None:
    index = await prepare_index(corpus, chunker, cache, embedder)
    qs = read_questions(corpus.questions)
    rows = await served_rows(index, embedder, qs, "served")
    shard = live_shard(index)
    dense = [(await embedder.embed([q.text], "query"))[0] for q in qs]
    bm25 = Bm25Encoder()
    for scope in ("across", "within"):
        for hybrid in (False, True):
            res = [
                unmerged(
                    shard,
                    d,
                    bm25.query(q.text),
                    q.episode_id if scope == "within" else None,
                    hybrid,
                )
                for q, d in zip(qs, dense, strict=True)
            ]
            rows.append(_row(scope, f"unmerged {'hybrid' if hybrid else 'semantic'}", res, qs))
    shard.close()
    print(table(HEADERS, rows), flush=True)
    manifest = index.parent / "episodes.jsonl"
    named = RenamingEmbedder(embedder, named_windows(manifest, chunker))
    folder = cache / f"{corpus.label(chunker)}-names"
    await build_index(manifest, folder / "index", named, chunker)
    rows += await served_rows(folder / "index", embedder, qs, "names")
    rows += await naive_rows(corpus, manifest, cache, embedder, qs)
    print(f"\n{corpus.label(chunker)} | {machine()}")
    print(table(HEADERS, rows), flush=True)


async def run(args: argparse.Namespace, url: str) -> None:
    async with eval_embedder(url, args.cache) as embedder:
        await experiment(chosen_corpus(args), ChunkerConfig(), args.cache, embedder)


def main() -> None:
    run_tool(
        tool_parser("python -m bench.eval.speaker_text", __doc__, "changelog").parse_args(), run
    )


if __name__ == "__main__":
    main()
