"""Direct, read-only access to a published podsearch Edge shard, for what the adapters do not
expose (exact search, quantization search parameters, fusion weights). Published shards have no
WAL, so this can open one while an `EdgeReader` has it open too."""

from __future__ import annotations

from pathlib import Path

import qdrant_edge as qe

from podsearch.stores.generations import GenerationDir


def live_shard(root: Path) -> qe.EdgeShard:
    """The shard of the generation `CURRENT` points at (`EdgeWriter` layout)."""
    folder = GenerationDir(root).current()
    if folder is None:
        raise FileNotFoundError(f"no index generation published under {root}")
    return qe.EdgeShard.load(str(folder / "shard"))
