"""An Edge index of the sample corpus, built once per module with the counting HashEmbedder,
and an HTTP client over the real API app."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from podsearch.index_meta import IndexMeta
from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader
from podsearch.stores.generations import GenerationDir
from search_api.app import create_app
from search_api.settings import ApiOptions, ApiSettings
from tests.fakes import HashEmbedder
from tests.support import index_sample


@pytest.fixture(scope="module")
def index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_sample(tmp_path_factory.mktemp("index"))


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder()


@asynccontextmanager
async def api_client(
    index_root: Path, embedder: HashEmbedder, options: ApiOptions | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client over the real app on `index_root`, with `options` (the defaults if none)."""
    settings = ApiSettings(store=StoreSettings(path=index_root), api=options or ApiOptions())
    app = create_app(settings, embedder=embedder, reader=EdgeReader(index_root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
async def client(index_root: Path, embedder: HashEmbedder) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(index_root, embedder) as client:
        yield client


@pytest.fixture
def older_schema_index(index_root: Path, tmp_path: Path) -> Path:
    """A copy of the sample index whose meta says it was built with schema 1."""
    old = tmp_path / "index"
    shutil.copytree(index_root, old)
    meta = GenerationDir(old).current() / "meta.json"  # type: ignore[operator]
    built = IndexMeta.stored(meta.read_text())
    meta.write_text(built.model_copy(update={"schema_version": 1}).model_dump_json())
    return old
