"""The real all-MiniLM-L6-v2 backend, loaded once per session (about 3 s), an HTTP client over
the real app in-process, and a tiny INSTRUCTOR model built for the session (about 1 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from embedder.app import create_app
from embedder.backends import Backend
from embedder.instructor import InstructorBackend
from embedder.loading import load_backend
from embedder.settings import EmbedderServerSettings, InstructorSettings
from tests.embedder.tiny_instructor import TINY_MODEL_ID, build_tiny_instructor


@pytest.fixture(scope="session")
def minilm() -> Backend:
    return load_backend(EmbedderServerSettings())


@pytest.fixture
async def minilm_http(minilm: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """The app as `podsearch-embedder` serves it, minus the warm-up (tests warm it themselves)."""
    app = create_app(minilm, warm_up=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://embedder") as client:
        yield client


@pytest.fixture(scope="session")
def tiny_instructor_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny INSTRUCTOR folder built from nothing (tests/embedder/tiny_instructor.py)."""
    return build_tiny_instructor(tmp_path_factory.mktemp("models") / "tiny-instructor")


@pytest.fixture(scope="session")
def tiny_instructor(tiny_instructor_dir: Path) -> InstructorBackend:
    return InstructorBackend(tiny_instructor_dir, InstructorSettings(model_id=TINY_MODEL_ID))
