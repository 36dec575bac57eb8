"""Schemathesis against both OpenAPI schemas, in-process over ASGI (no sockets, no model):
valid and invalid requests alike never get a 5xx, and every error is our JSON shape.

`/search` and `/v1/embeddings` get 1,000 generated cases each; the parameterless operations
stop as soon as Hypothesis has nothing new to try.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode

from embedder.app import create_app as create_embedder
from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app as create_api
from search_api.settings import ApiOptions, ApiSettings
from tests.fakes import HashEmbedder
from tests.loopback import HashBackend
from tests.support import index_sample

CASES = 1_000
FUZZ = settings(
    max_examples=CASES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def check(response: schemathesis.Response) -> None:
    """No 5xx; every 4xx is `{"error": {"code": str, "message": str}}`."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_sample(tmp_path_factory.mktemp("fuzz-index"), episodes=2)


@pytest.fixture(scope="session")
def api_app(sample_index: Path):  # type: ignore[no-untyped-def]
    options = ApiOptions(rate_limit_per_minute=0)
    settings_ = ApiSettings(api=options, store=StoreSettings(path=sample_index))
    return create_api(settings_, embedder=HashEmbedder(), reader=EdgeReader(sample_index))


def fuzz(schema: schemathesis.schemas.BaseSchema) -> int:
    """Run `CASES` generated requests, valid and invalid; return how many were sent."""
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    sent = 0

    @FUZZ
    @given(cases)
    def one(case: schemathesis.Case) -> None:
        nonlocal sent
        check(case.call())
        sent += 1

    one()
    return sent


def test_the_search_api_never_answers_5xx(api_app) -> None:  # type: ignore[no-untyped-def]
    assert fuzz(schemathesis.openapi.from_asgi("/openapi.json", api_app)) >= CASES


def test_the_embedder_never_answers_5xx() -> None:
    app = create_embedder(HashBackend(), max_batch=64, warm_up=False)
    assert fuzz(schemathesis.openapi.from_asgi("/openapi.json", app)) >= CASES
