"""Fixtures for the static deployment checks: the parsed files and the apps' real routes."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from embedder.settings import EmbedderServiceSettings
from indexer.settings import IndexerSettings
from podsearch.contract import EmbeddingRecipe, InputType
from search_api.settings import ApiSettings
from tests.deploy.support import (
    Dockerfile,
    interpolate,
    load_compose,
    parse_dockerfile,
    service_environment,
)
from tests.fakes import FakeBackend
from tests.support import REPO

# The deployables: compose service -> the settings its console script reads.
SETTINGS: dict[str, type[BaseSettings]] = {
    "search_api": ApiSettings,
    "embedder": EmbedderServiceSettings,
    "indexer": IndexerSettings,
}
# The servers among them -> where in their settings the listen host and port are.
LISTEN: dict[str, tuple[str, ...]] = {"search_api": ("api",), "embedder": ("embedder_server",)}
_IDLE_RECIPE = EmbeddingRecipe(model_id="test/idle", dimension=4)


@dataclass
class IdleBackend(FakeBackend):
    """Lets the app be built for route introspection; never asked to encode."""

    recipe: EmbeddingRecipe = _IDLE_RECIPE

    def vectors(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        raise AssertionError("built for route introspection only")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


@pytest.fixture(scope="session")
def dockerfiles(services: dict[str, dict[str, Any]]) -> dict[str, Dockerfile]:
    """Service -> its parsed Dockerfile, for every service built from this repository."""
    found = {}
    for name, service in services.items():
        if "build" in service:
            build = service["build"]
            found[name] = parse_dockerfile(REPO / build["context"] / build["dockerfile"])
    return found


@pytest.fixture(scope="session")
def apps() -> dict[str, Any]:
    """Service -> its real FastAPI app, built by the app factory; no lifespan is run."""
    from embedder.app import create_app as create_embedder_app
    from search_api.app import create_app as create_api_app

    return {
        "search_api": create_api_app(ApiSettings(_env_file=None)),  # type: ignore[call-arg]
        "embedder": create_embedder_app(IdleBackend(), warm_up=False),
    }


@pytest.fixture
def effective_settings(
    monkeypatch: pytest.MonkeyPatch,
    services: dict[str, dict[str, Any]],
    dockerfiles: dict[str, Dockerfile],
) -> Callable[..., BaseSettings]:
    """The settings a service's process would build inside its container.

    Environment = the image's ENV, then (unless `compose=False`: a plain `docker run`, with
    `run_env` as its `-e` flags) the service's `environment`, interpolated, where a pass-through
    key takes its value from `dotenv` or stays unset, as Compose does.
    """

    def build(
        service: str,
        dotenv: Mapping[str, str] | None = None,
        compose: bool = True,
        run_env: Mapping[str, str] | None = None,
    ) -> BaseSettings:
        dotenv = dotenv or {}
        env = {**dockerfiles[service].final.env(), **(run_env or {})}
        for key, value in service_environment(services[service] if compose else {}).items():
            if value is not None:
                env[key] = interpolate(value, dotenv)
            elif key in dotenv:
                env[key] = dotenv[key]
        for key in [k for k in os.environ if k.upper().startswith("PODSEARCH_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            if key.upper().startswith("PODSEARCH_"):  # the image's PATH etc. stay out
                monkeypatch.setenv(key, value)
        return SETTINGS[service](_env_file=None)  # type: ignore[call-arg]

    return build
