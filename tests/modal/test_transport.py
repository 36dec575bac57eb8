"""`RemoteEmbedder` over `ModalTransport`, with only Modal's cloud faked: first a stand-in for
the `modal` module that finds the app's real classes by name, as `modal.Cls.from_name` would in
a deployment, and runs their methods in this process (`.local()`); then a scripted one for the
failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import modal.exception
import pytest

import embedder.modal_app as modal_app
from embedder.cross_encoder import CrossEncoderBackend
from embedder.instructor import InstructorBackend
from embedder.modal_client import ModalTransport
from embedder.settings import InstructorSettings
from podsearch.circuit import CircuitBreaker
from podsearch.contract import EmbeddingRecipe
from podsearch.errors import (
    EmbedderError,
    EmbedderResponseInvalid,
    EmbedderUnavailable,
    RerankUnavailable,
)
from podsearch.remote_embedder import RemoteEmbedder, open_embedder
from podsearch.settings import EmbedderClientSettings
from tests.embedder.tiny_cross_encoder import TINY_RERANKER_ID
from tests.embedder.tiny_instructor import POISON, TINY_MODEL_ID
from tests.modal.conftest import FOLDER_NAME, RERANK_REVISION

pytestmark = pytest.mark.filterwarnings("ignore:The .* function is executing locally:UserWarning")


class Remote:
    """`.remote.aio(...)`: the call runs in a worker thread, as Modal's would elsewhere."""

    def __init__(self, run: Callable[..., Any], log: list[str], name: str) -> None:
        self._run, self._log, self._name = run, log, name

    async def aio(self, *args: Any) -> Any:
        self._log.append(self._name)
        return await asyncio.to_thread(self._run, *args)


class DeployedApp:
    """What `modal.Cls.from_name` / `modal.Function.from_name` find once the app is deployed."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lookups: list[tuple[str, str]] = []
        self.Cls = SimpleNamespace(from_name=self._cls)
        self.Function = SimpleNamespace(from_name=self._function)

    def _cls(self, app_name: str, name: str) -> Callable[[], SimpleNamespace]:
        self.lookups.append((app_name, name))
        if name == "Reranker":
            reranker = modal_app.Reranker()
            remote = Remote(reranker.rerank.local, self.calls, name)
            return lambda: SimpleNamespace(rerank=SimpleNamespace(remote=remote))
        if name == "QueryEmbedder":
            queries = modal_app.QueryEmbedder()
            # One item per remote call; Modal would batch concurrent ones into one method call.
            run: Callable[..., Any] = lambda text, kind: queries.embed.local([text], [kind])[0]  # noqa: E731
        else:
            bulk = modal_app.BulkEmbedder()
            run = bulk.embed.local
        return lambda: SimpleNamespace(embed=SimpleNamespace(remote=Remote(run, self.calls, name)))

    def _function(self, app_name: str, name: str) -> SimpleNamespace:
        self.lookups.append((app_name, name))
        return SimpleNamespace(remote=Remote(modal_app.recipe.local, self.calls, name))


@pytest.fixture
def deployed(container_env: Callable[[Path], None], volume: Path) -> DeployedApp:
    container_env(volume)
    return DeployedApp()


def modal_client(settings: EmbedderClientSettings, modal_api: object) -> RemoteEmbedder:
    return RemoteEmbedder(settings, ModalTransport(settings, modal_api=modal_api), backoff_s=0.01)


def client(deployed: DeployedApp, batch_size: int = 64) -> RemoteEmbedder:
    return modal_client(EmbedderClientSettings(batch_size=batch_size, retries=2), deployed)


async def test_queries_and_documents_reach_the_right_classes_with_valid_vectors(
    deployed: DeployedApp, volume: Path
) -> None:
    embedder = client(deployed, batch_size=16)
    local = InstructorBackend(volume / FOLDER_NAME, InstructorSettings(model_id=TINY_MODEL_ID))
    questions = [f"question {i}" for i in range(5)]
    segments = [f"segment {i} on hiring" for i in range(40)]

    assert await embedder.recipe() == local.recipe
    queries = await embedder.embed(questions, "query")
    documents = await embedder.embed(segments, "document")

    for got, want in (
        (queries, local.encode(questions, "query").vectors),
        (documents, local.encode(segments, "document").vectors),
    ):
        for a, b in zip(got, want, strict=True):
            assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
    assert deployed.calls.count("QueryEmbedder") == 5
    assert deployed.calls.count("BulkEmbedder") == 3  # 40 texts in batches of 16
    assert deployed.calls.count("recipe") == 1
    assert sorted(set(deployed.lookups)) == [
        ("podsearch-embedder", "BulkEmbedder"),
        ("podsearch-embedder", "QueryEmbedder"),
        ("podsearch-embedder", "recipe"),
    ]


async def test_a_nan_vector_is_invalid_and_not_retried(
    container_env: Callable[[Path], None], poisoned_volume: Path
) -> None:
    container_env(poisoned_volume)
    deployed = DeployedApp()
    embedder = client(deployed)

    with pytest.raises(EmbedderResponseInvalid, match="non-finite"):
        await embedder.embed([f"bad {POISON}"], "query")
    with pytest.raises(EmbedderResponseInvalid, match="non-finite"):
        await embedder.embed(["fine", f"bad {POISON}"], "document")

    assert deployed.calls.count("QueryEmbedder") == 1
    assert deployed.calls.count("BulkEmbedder") == 1


# ## Failures, against a scripted stand-in for Modal's cloud

RECIPE = EmbeddingRecipe(model_id="test/scripted", dimension=8)
GOOD = [1.0] + [0.0] * 7


class ScriptedModal:
    """Stands in for the `modal` module: `Cls.from_name(app, cls)()` and
    `Function.from_name(app, "recipe")` answer what `script` says, one item per call."""

    def __init__(self, script: list[object]) -> None:
        self.script, self.calls = script, 0
        self.Cls = SimpleNamespace(from_name=lambda app, name: lambda: self._handle())
        self.Function = SimpleNamespace(
            from_name=lambda app, name: SimpleNamespace(remote=SimpleNamespace(aio=self._recipe))
        )

    async def _recipe(self) -> dict[str, object]:
        return RECIPE.model_dump()

    def _handle(self) -> SimpleNamespace:
        remote = SimpleNamespace(remote=SimpleNamespace(aio=self._embed))
        return SimpleNamespace(embed=remote, rerank=remote)

    async def _embed(self, *args: object) -> object:
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, BaseException):
            raise step
        if step == "hang":
            await asyncio.sleep(10)
        return step


def answer(vector: list[float] | None = None, **extra: object) -> dict[str, object]:
    return {"embeddings": [vector or GOOD], **extra}


def modal_embedder(
    script: list[object], **overrides: object
) -> tuple[RemoteEmbedder, ScriptedModal]:
    fake = ScriptedModal(script)
    settings = EmbedderClientSettings.model_validate({"retries": 2, **overrides})
    return modal_client(settings, fake), fake


async def test_modal_infrastructure_errors_are_retried() -> None:
    embedder, fake = modal_embedder(
        [modal.exception.ConnectionError("reset"), modal.exception.InternalFailure("x"), answer()]
    )

    assert await embedder.embed(["a"], "query") == [GOOD]
    assert fake.calls == 3


@pytest.mark.parametrize(
    "refusal",
    [modal.exception.NotFoundError("app not deployed"), modal.exception.AuthError("bad token")],
)
async def test_modal_refusals_are_not_retried(refusal: Exception) -> None:
    embedder, fake = modal_embedder([refusal])

    with pytest.raises(EmbedderError, match="Modal refused") as refused:
        await embedder.embed(["a"], "query")

    assert not isinstance(refused.value, EmbedderUnavailable)
    assert fake.calls == 1


@pytest.mark.parametrize(
    ("script", "error", "calls"),
    [
        ([answer([float("nan")] + [0.0] * 7)], EmbedderResponseInvalid, 1),
        ([answer([1.0] * 4)], EmbedderResponseInvalid, 1),
        ([{"error": "NaN", "code": "invalid_embedding"}], EmbedderResponseInvalid, 1),
        ([{"embeddings": "nope"}], EmbedderResponseInvalid, 1),
        ([{"error": "2000 texts, at most 1024", "code": "invalid_request"}], EmbedderError, 1),
        ([{"error": "CUDA error", "code": "embedding_failed"}], EmbedderUnavailable, 3),
        ([RuntimeError("container crashed")], EmbedderUnavailable, 3),
    ],
    ids=["nan", "wrong-dim", "invalid", "malformed", "refused", "model-failed", "crash"],
)
async def test_modal_answers_are_validated_and_only_failures_retried(
    script: list[object], error: type[Exception], calls: int
) -> None:
    embedder, fake = modal_embedder(script)

    with pytest.raises(error):
        await embedder.embed(["a"], "query")

    assert fake.calls == calls


async def test_a_hanging_modal_call_is_abandoned_at_the_deadline() -> None:
    embedder, _ = modal_embedder(["hang"], read_timeout_s=5.0)
    started = time.monotonic()

    with pytest.raises(EmbedderUnavailable):
        await embedder.embed(["a"], "query", deadline_s=0.3)

    assert time.monotonic() - started < 0.6


async def test_modal_documents_go_in_batches_to_the_bulk_class() -> None:
    embedder, fake = modal_embedder([{"embeddings": [GOOD] * 3}], batch_size=3)

    assert await embedder.embed(["a", "b", "c", "d", "e", "f"], "document") == [GOOD] * 6
    assert fake.calls == 2


async def test_the_modal_circuit_opens_too() -> None:
    embedder, fake = modal_embedder([modal.exception.ConnectionError("down")], retries=0)
    embedder.circuit = CircuitBreaker(failure_threshold=2, cooldown_s=60)

    for _ in range(2):
        with pytest.raises(EmbedderUnavailable, match="down"):
            await embedder.embed(["a"], "query")
    with pytest.raises(EmbedderUnavailable, match="circuit open"):
        await embedder.embed(["a"], "query")

    assert fake.calls == 2


async def test_a_rerank_reaches_the_reranker_class_and_comes_back_best_first(
    deployed: DeployedApp, baked_reranker: Path
) -> None:
    embedder = client(deployed, batch_size=3)
    local = CrossEncoderBackend(baked_reranker, max_length=512)
    passages = ["we rotate the pager weekly", "tomatoes need water", "the seed round", "hiring"]

    reranked = await embedder.rerank("on-call burnout", passages, top_n=3)

    scores = local.score("on-call burnout", passages).scores
    assert [r.index for r in reranked.results] == sorted(range(4), key=lambda i: -scores[i])[:3]
    assert (reranked.model, reranked.revision) == (TINY_RERANKER_ID, RERANK_REVISION)
    assert deployed.calls.count("Reranker") == 2  # 4 passages in batches of 3


@pytest.mark.parametrize(
    ("script", "error", "calls"),
    [
        ([{"error": "none here", "code": "rerank_unavailable"}], RerankUnavailable, 1),
        ([{"error": "NaN", "code": "rerank_failed"}], EmbedderResponseInvalid, 1),
        ([{"scores": [0.5, 0.4], "model": "m"}], EmbedderResponseInvalid, 1),  # 2 for 1
        ([{"scores": [float("nan")], "model": "m"}], EmbedderResponseInvalid, 1),
        ([RuntimeError("container crashed")], EmbedderUnavailable, 3),
    ],
    ids=["unavailable", "failed", "miscounted", "nan", "crash"],
)
async def test_modal_rerank_answers_are_validated_and_only_failures_retried(
    script: list[object], error: type[Exception], calls: int
) -> None:
    embedder, fake = modal_embedder(script)

    with pytest.raises(error):
        await embedder.rerank("q", ["a"])

    assert fake.calls == calls
    assert embedder.circuit.snapshot().consecutive_failures == 0  # the embedder's is untouched


def test_the_settings_choose_the_modal_transport() -> None:
    settings = EmbedderClientSettings(transport="modal", modal_app="my-embedder")

    embedder = open_embedder(settings)

    assert isinstance(embedder.transport, ModalTransport)
    assert embedder.transport.name == "Modal my-embedder"
