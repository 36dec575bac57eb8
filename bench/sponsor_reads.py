"""How many segments the sponsor/promo detection flags in a corpus, and samples to check by hand.

python -m bench.sponsor_reads                      # the Changelog corpus, all 299 episodes
python -m bench.sponsor_reads MANIFEST --sample 50 --seed 14

Segments exactly as the indexer cuts them (default chunker), flags computed per podcast exactly
as the indexer does before publishing (`podsearch.sponsors.flag_ads`), no embedding. Prints the
flagged counts per podcast, then `--sample` flagged and unflagged segments (seeded) to read.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path

from bench.eval.corpus import CHANGELOG
from bench.report import table
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.segmenting import segment_episode
from podsearch.sponsors import StoredSegment, flag_ads
from podsearch.transcripts import parse_transcript


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sponsor_reads", description=__doc__)
    parser.add_argument("manifest", type=Path, nargs="?", default=CHANGELOG / "episodes.jsonl")
    parser.add_argument("--sample", type=int, default=0, help="segments of each kind to print")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    by_podcast: defaultdict[str, list[StoredSegment]] = defaultdict(list)
    for episode in read_manifest(args.manifest):
        utterances = parse_transcript(episode.transcript)
        for s in segment_episode(episode, utterances, ChunkerConfig()):
            by_podcast[episode.podcast].append(
                StoredSegment(s.point_id, episode.episode_id, s.text)
            )
    flagged, unflagged, rows = [], [], []
    for podcast, segments in sorted(by_podcast.items()):
        flags = flag_ads(segments)
        flagged += [s for s in segments if flags[s.id]]
        unflagged += [s for s in segments if not flags[s.id]]
        rows.append([podcast, len(segments), sum(flags.values())])
    rows.append(["all", len(flagged) + len(unflagged), len(flagged)])
    print(table(["podcast", "segments", "flagged"], rows))
    rng = random.Random(args.seed)
    for name, pool in (("flagged", flagged), ("unflagged", unflagged)):
        for s in rng.sample(pool, min(args.sample, len(pool))):
            print(f"[{name}] {s.episode_id}: {s.text}\n")


if __name__ == "__main__":
    main()
