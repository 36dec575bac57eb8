"""Small builders shared by tests (plain functions, a test clock; fixtures: conftest.py)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from podsearch.contract import EmbeddingRecipe
from podsearch.index_meta import ChunkerConfig, IndexMeta

REPO = Path(__file__).resolve().parents[1]
CHANGELOG = REPO.parent / "shared" / "data" / "changelog"


def tiny_meta(dimension: int = 8, model_id: str = "test/tiny") -> IndexMeta:
    return IndexMeta(
        recipe=EmbeddingRecipe(model_id=model_id, dimension=dimension),
        chunker=ChunkerConfig(),
    )


def utc(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def index_sample(root: Path, episodes: int | None = None) -> Path:
    """An Edge index of the sample corpus (its first `episodes`) with the HashEmbedder's vectors."""
    import asyncio

    from indexer.pipeline import Indexer
    from podsearch.manifest import read_manifest
    from podsearch.stores.edge import EdgeWriter
    from tests.fakes import HashEmbedder

    async def build() -> None:
        writer = EdgeWriter(root)
        chosen = read_manifest(REPO / "sample" / "episodes.jsonl")[:episodes]
        await Indexer(HashEmbedder(), writer, ChunkerConfig()).run(chosen)
        await writer.close()

    asyncio.run(build())
    return root


def free_port() -> int:
    """A loopback port nothing listens on (for a server to take, or a client to find closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clock:
    """A clock that moves only when a test moves it (`clock.now += 30`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
