"""`POST /v1/rerank` is the same contract on the local server and on Modal's web endpoint: the
web app forwards to the reranker class (`.local()` here, on the tiny cross-encoder baked into a
stand-in of its image), and both answer the same scores, model and revision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

import embedder.modal_app as modal_app
from embedder.app import create_app
from embedder.cross_encoder import CrossEncoderBackend
from tests.embedder.tiny_cross_encoder import TINY_RERANKER_ID
from tests.loopback import HashBackend
from tests.modal.conftest import RERANK_REVISION, TOKEN

pytestmark = pytest.mark.filterwarnings("ignore:The .* function is executing locally:UserWarning")

BODY = {
    "query": "how do they handle on-call burnout",
    "documents": ["we rotate the pager weekly", "tomatoes need water", "the seed round closed"],
    "top_n": 2,
}
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


async def rerank(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        return await client.post("/v1/rerank", json=BODY, headers=headers)


async def test_the_web_endpoint_and_the_local_server_answer_alike(
    modal_web_app: Callable[[Path], FastAPI], volume: Path, baked_reranker: Path
) -> None:
    local = create_app(
        HashBackend(),
        token=SecretStr(TOKEN),
        warm_up=False,
        reranker=CrossEncoderBackend(baked_reranker),
    )
    web = modal_web_app(volume)

    served, expected = await rerank(web, HEADERS), await rerank(local, HEADERS)

    assert served.status_code == expected.status_code == 200
    assert served.json() == expected.json()
    assert (served.json()["model"], served.json()["revision"]) == (
        TINY_RERANKER_ID,
        RERANK_REVISION,
    )
    assert (await rerank(web, {})).status_code == 401


def test_the_class_scores_on_its_device_and_says_what_it_cannot_score(
    container_env: Callable[[Path], None], volume: Path
) -> None:
    container_env(volume)
    reranker = modal_app.Reranker()

    fine = reranker.rerank.local("on-call", ["pager", "tomatoes"])
    empty = reranker.rerank.local("on-call", [])

    assert len(fine["scores"]) == 2 and fine["error"] is None
    assert fine["server"]["device"] == "cpu"
    assert empty["code"] == "rerank_failed"  # nothing to score is the caller's mistake
