"""Small builders shared by tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

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
