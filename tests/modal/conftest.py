"""The Modal app in-process: its classes through `.local()`, its web app through ASGI, on a
tiny INSTRUCTOR model in a folder that stands in for the Volume. No GPU, no Modal account.

The containers' environment is what `ModalSettings.container_env()` and the token Secret give
them; here the same variables point at the tiny model.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

import embedder.modal_app as modal_app
from embedder.app import create_app
from embedder.instructor import InstructorBackend
from embedder.pins import ModelPin, write_pin
from embedder.settings import InstructorSettings
from tests.embedder.tiny_cross_encoder import TINY_RERANKER_ID, build_tiny_cross_encoder
from tests.embedder.tiny_instructor import (
    TINY_MODEL_ID,
    build_tiny_instructor,
    poison_unknown_token,
)

TOKEN = "s3cret"
REVISION = "tiny-commit"
RERANK_REVISION = "tiny-rerank-commit"
FOLDER_NAME = TINY_MODEL_ID.replace("/", "--")


@pytest.fixture(scope="session")
def volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Volume after `download_weights`: the model folder and its pin."""
    root = tmp_path_factory.mktemp("volume")
    folder = build_tiny_instructor(root / FOLDER_NAME)
    write_pin(folder, ModelPin(model_id=TINY_MODEL_ID, revision=REVISION))
    return root


@pytest.fixture(scope="session")
def baked_reranker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reranker image's folder after `bake_reranker`: a tiny cross-encoder and its pin."""
    folder = build_tiny_cross_encoder(tmp_path_factory.mktemp("image") / "reranker")
    write_pin(folder, ModelPin(model_id=TINY_RERANKER_ID, revision=RERANK_REVISION))
    return folder


@pytest.fixture(scope="session")
def poisoned_volume(volume: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model with a NaN embedding for unknown characters (tiny_instructor.POISON)."""
    root = tmp_path_factory.mktemp("poisoned")
    poison_unknown_token(Path(shutil.copytree(volume / FOLDER_NAME, root / FOLDER_NAME)))
    return root


ServiceFactory = Callable[[Path], FastAPI]


@pytest.fixture
def container_env(monkeypatch: pytest.MonkeyPatch, baked_reranker: Path) -> Callable[[Path], None]:
    """Point the Modal settings at a stand-in Volume and reranker image folder, with the token
    Secret set."""

    def point_at(root: Path) -> None:
        monkeypatch.setenv("PODSEARCH_MODAL__MODELS_DIR", str(root))
        monkeypatch.setenv("PODSEARCH_MODAL__RERANK_DIR", str(baked_reranker))
        monkeypatch.setenv("PODSEARCH_MODAL__RERANK_MODEL_ID", TINY_RERANKER_ID)
        monkeypatch.setenv("PODSEARCH_MODAL__INSTRUCTOR__MODEL_ID", TINY_MODEL_ID)
        monkeypatch.setenv("PODSEARCH_EMBEDDER_SERVER__TOKEN", TOKEN)

    return point_at


@pytest.fixture
def local_app() -> ServiceFactory:
    """`podsearch-embedder --backend instructor` as the CLI builds it."""

    def build(root: Path) -> FastAPI:
        backend = InstructorBackend(root / FOLDER_NAME, InstructorSettings(model_id=TINY_MODEL_ID))
        return create_app(backend, token=SecretStr(TOKEN), warm_up=False)

    return build


@pytest.fixture
def modal_web_app(container_env: Callable[[Path], None]) -> ServiceFactory:
    """`modal_app.web` with `.local()` calls where Modal would make remote ones."""

    def build(root: Path) -> FastAPI:
        container_env(root)
        queries, bulk = modal_app.QueryEmbedder(), modal_app.BulkEmbedder()
        reranker = modal_app.Reranker()
        queries.embed.local(["load before serving"], ["query"])  # enter() once, not per thread
        bulk.embed.local(["load before serving"], "document")
        reranker.rerank.local("load before serving", ["a passage"])
        return modal_app.serve(
            lambda texts, input_types: queries.embed.local(texts, input_types),
            lambda texts, input_type: bulk.embed.local(texts, input_type),
            lambda query, documents: reranker.rerank.local(query, documents),
        )

    return build
