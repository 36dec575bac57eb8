"""The Modal classes and functions run in-process with `.local()` on the tiny model: what each
answers, and what it refuses."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

import embedder.modal_app as modal_app
from podsearch.contract import EmbeddingRecipe, ModalAnswer
from tests.embedder.tiny_instructor import POISON, TINY_DIMENSION, TINY_MODEL_ID
from tests.modal.conftest import REVISION

pytestmark = pytest.mark.filterwarnings("ignore:The .* function is executing locally:UserWarning")


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def test_the_query_method_answers_each_text_with_its_own_instruction(
    container_env: Callable[[Path], None], volume: Path
) -> None:
    container_env(volume)
    texts = ["on-call burnout", "on-call burnout", "seed round"]

    raw = modal_app.QueryEmbedder().embed.local(texts, ["query", "document", "query"])

    answers = [ModalAnswer.model_validate(a) for a in raw]
    assert [a.error for a in answers] == [None] * 3
    vectors = [a.embeddings[0] for a in answers]
    assert all(len(v) == TINY_DIMENSION and math.isclose(norm(v), 1, abs_tol=1e-5) for v in vectors)
    assert vectors[0] != vectors[1]  # same text, other instruction
    assert answers[0].tokens[0] > 0 and answers[0].truncated == [False]
    assert answers[0].server["device"] == "cpu" and "torch" in answers[0].server


def test_a_nan_fails_only_its_own_item_of_a_batch(
    container_env: Callable[[Path], None], poisoned_volume: Path
) -> None:
    container_env(poisoned_volume)

    raw = modal_app.QueryEmbedder().embed.local(
        ["fine", f"bad {POISON}", "also fine"], ["query"] * 3
    )

    answers = [ModalAnswer.model_validate(a) for a in raw]
    assert answers[1].code == "invalid_embedding" and "non-finite" in (answers[1].error or "")
    assert not answers[1].embeddings
    assert answers[0].error is None and answers[2].error is None


def test_the_bulk_method_answers_a_batch_or_refuses_it_whole(
    container_env: Callable[[Path], None],
    volume: Path,
    poisoned_volume: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container_env(volume)
    texts = [f"segment {i} about pricing" for i in range(40)]

    answer = ModalAnswer.model_validate(modal_app.BulkEmbedder().embed.local(texts, "document"))

    assert answer.error is None and len(answer.embeddings) == len(answer.tokens) == 40
    container_env(poisoned_volume)
    poisoned = modal_app.BulkEmbedder().embed.local(["ok", f"x {POISON}"], "document")
    assert poisoned["code"] == "invalid_embedding" and not poisoned["embeddings"]
    monkeypatch.setenv("PODSEARCH_MODAL__BULK_MAX_INPUTS", "10")
    too_many = modal_app.BulkEmbedder().embed.local(texts, "document")
    assert too_many["code"] == "invalid_request"


def test_the_recipe_function_reads_the_volume_and_matches_the_loaded_model(
    container_env: Callable[[Path], None], volume: Path
) -> None:
    container_env(volume)

    recipe = EmbeddingRecipe.model_validate(modal_app.recipe.local())

    assert recipe == modal_app.load_instructor().recipe  # what the GPU classes load at enter
    assert (recipe.model_id, recipe.revision, recipe.dimension) == (
        TINY_MODEL_ID,
        REVISION,
        TINY_DIMENSION,
    )


def test_the_web_function_builds_the_app_and_refuses_to_serve_without_auth(
    container_env: Callable[[Path], None], volume: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container_env(volume)
    assert {r.path for r in modal_app.web.local().routes} >= {"/v1/embeddings", "/health"}  # type: ignore[attr-defined]

    monkeypatch.delenv("PODSEARCH_EMBEDDER_SERVER__TOKEN")
    with pytest.raises(RuntimeError, match="refusing to serve"):
        modal_app.web.local()
    monkeypatch.setenv("PODSEARCH_MODAL__PROXY_AUTH", "true")
    assert modal_app.web.local() is not None  # Modal's proxy auth guards it instead
