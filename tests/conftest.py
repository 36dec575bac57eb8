"""Fixtures shared across the suite: small real data, no mocks of our own code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import CHANGELOG

if TYPE_CHECKING:
    from embedder.reranking import RerankBackend


@pytest.fixture
def changelog() -> Path:
    if not (CHANGELOG / "episodes.jsonl").exists():
        pytest.skip(f"the Changelog corpus is not at {CHANGELOG} (it lives in ../shared)")
    return CHANGELOG


@pytest.fixture(scope="session")
def tiny_reranker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT cross-encoder folder built from nothing (tests/embedder/tiny_cross_encoder)."""
    from tests.embedder.tiny_cross_encoder import build_tiny_cross_encoder

    return build_tiny_cross_encoder(tmp_path_factory.mktemp("models") / "tiny-cross-encoder")


@pytest.fixture(scope="session")
def tiny_reranker(tiny_reranker_dir: Path) -> RerankBackend:
    """The real cross-encoder backend over the tiny model (loaded once, about a second)."""
    from embedder.cross_encoder import CrossEncoderBackend
    from tests.embedder.tiny_cross_encoder import TINY_RERANKER_ID

    return CrossEncoderBackend(tiny_reranker_dir, model_id=TINY_RERANKER_ID, max_length=128)
