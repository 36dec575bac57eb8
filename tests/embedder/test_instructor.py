"""The instructor backend on a tiny INSTRUCTOR model: InstructorEmbedding's own vectors, the
recipe they belong to, precision, truncation, and the weights it refuses."""

from __future__ import annotations

import math
import shutil
import socket
from pathlib import Path

import httpx
import pytest
from InstructorEmbedding import INSTRUCTOR
from pydantic import ValidationError

from embedder.app import create_app
from embedder.instructor import InstructorBackend
from embedder.loading import load_backend
from embedder.pins import ModelPin, ModelVerificationError, write_pin
from embedder.settings import (
    DOCUMENT_INSTRUCTION,
    QUERY_INSTRUCTION,
    EmbedderServerSettings,
    InstructorSettings,
)
from tests.embedder.tiny_instructor import (
    POISON,
    TINY_DIMENSION,
    TINY_MODEL_ID,
    poison_unknown_token,
)

TEXTS = ["how do they handle on-call burnout", "raising a seed round", "tomato plants"]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def settings(**overrides: object) -> InstructorSettings:
    return InstructorSettings.model_validate({"model_id": TINY_MODEL_ID, **overrides})


@pytest.fixture
def model_copy(tiny_instructor_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_instructor_dir, tmp_path / "model"))


# ## Vectors


def test_vectors_are_instructor_embeddings_own_with_the_instruction_of_the_input_type(
    tiny_instructor: InstructorBackend, tiny_instructor_dir: Path
) -> None:
    reference = INSTRUCTOR(str(tiny_instructor_dir), device="cpu")

    for input_type, instruction in (
        ("query", QUERY_INSTRUCTION),
        ("document", DOCUMENT_INSTRUCTION),
    ):
        ours = tiny_instructor.encode(TEXTS, input_type).vectors
        theirs = reference.encode([[instruction, t] for t in TEXTS], normalize_embeddings=True)
        for a, b in zip(ours, theirs.tolist(), strict=True):
            assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-6


def test_vectors_are_normalised_finite_and_of_the_recipe_dimension(
    tiny_instructor: InstructorBackend,
) -> None:
    result = tiny_instructor.encode(TEXTS, "document")

    assert len(result.vectors) == len(TEXTS)
    for vector in result.vectors:
        assert len(vector) == TINY_DIMENSION == tiny_instructor.recipe.dimension
        assert all(map(math.isfinite, vector))
        assert math.isclose(cosine(vector, vector), 1.0, abs_tol=1e-5)


def test_query_and_document_instructions_give_different_vectors(
    tiny_instructor: InstructorBackend,
) -> None:
    query = tiny_instructor.encode(TEXTS[:1], "query").vectors[0]
    document = tiny_instructor.encode(TEXTS[:1], "document").vectors[0]

    assert cosine(query, document) < 0.9999


def test_the_recipe_records_model_instructions_length_and_pinned_revision(
    model_copy: Path,
) -> None:
    write_pin(model_copy, ModelPin(model_id=TINY_MODEL_ID, revision="0123abcd"))
    custom = settings(query_instruction="Represent the question:", max_seq_length=128)

    recipe = InstructorBackend(model_copy, custom).recipe

    assert recipe.model_id == TINY_MODEL_ID and recipe.revision == "0123abcd"
    assert recipe.query_instruction == "Represent the question:"
    assert recipe.document_instruction == DOCUMENT_INSTRUCTION
    assert (recipe.dimension, recipe.max_seq_length, recipe.normalized) == (16, 128, True)


def test_without_a_pin_the_revision_is_the_weights_digest(
    tiny_instructor: InstructorBackend,
) -> None:
    assert tiny_instructor.recipe.revision.startswith("sha256:")


def test_truncation_is_counted_per_input(model_copy: Path) -> None:
    backend = InstructorBackend(model_copy, settings(max_seq_length=100))

    result = backend.encode(["short", "word " * 200], "query")

    assert result.truncated == [False, True]
    assert result.tokens[0] < 100 and result.tokens[1] == 100
    assert (result.prompt_tokens, result.truncated_inputs) == (sum(result.tokens), 1)


# ## Precision


def test_bfloat16_stays_close_to_float32_and_keeps_the_recipe(
    tiny_instructor: InstructorBackend, tiny_instructor_dir: Path
) -> None:
    bf16 = InstructorBackend(tiny_instructor_dir, settings(dtype="bf16"))

    assert (bf16.dtype, tiny_instructor.dtype) == ("bfloat16", "float32")
    assert bf16.recipe == tiny_instructor.recipe
    full, half = tiny_instructor.encode(TEXTS, "query"), bf16.encode(TEXTS, "query")
    for a, b in zip(full.vectors, half.vectors, strict=True):
        assert cosine(a, b) > 0.99
        assert math.isclose(cosine(b, b), 1.0, abs_tol=1e-4)


@pytest.mark.parametrize("dtype", ["float16", "fp16", "half", "FLOAT16"])
def test_float16_is_refused_with_the_reason(dtype: str) -> None:
    with pytest.raises(ValidationError, match="float16 overflows T5"):
        settings(dtype=dtype)


# ## Refusals


def test_pickled_weights_are_not_loaded(model_copy: Path) -> None:
    (model_copy / "model.safetensors").unlink()

    with pytest.raises(ModelVerificationError, match="convert the weights to safetensors"):
        InstructorBackend(model_copy, settings())


def test_a_folder_pinned_to_another_model_or_revision_is_refused(model_copy: Path) -> None:
    write_pin(model_copy, ModelPin(model_id="hkunlp/instructor-xl", revision="abc"))
    with pytest.raises(ModelVerificationError, match="holds hkunlp/instructor-xl"):
        InstructorBackend(model_copy, settings())

    write_pin(model_copy, ModelPin(model_id=TINY_MODEL_ID, revision="abc"))
    with pytest.raises(ModelVerificationError, match="holds revision abc"):
        InstructorBackend(model_copy, settings(revision="def"))


def test_an_instruction_that_leaves_no_room_for_the_text_is_refused(model_copy: Path) -> None:
    with pytest.raises(ModelVerificationError, match="half of max_seq_length"):
        InstructorBackend(model_copy, settings(max_seq_length=64))


def test_wrong_weights_digest_is_refused(model_copy: Path) -> None:
    with pytest.raises(ModelVerificationError, match="refusing to load"):
        InstructorBackend(model_copy, settings(), expected_sha256="0" * 64)


# ## Through the factory and the app


def test_the_factory_loads_it_offline(model_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError(f"the model loader tried to connect to {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    server = EmbedderServerSettings(
        backend="instructor", model_path=model_copy, instructor=settings()
    )

    backend = load_backend(server)

    assert backend.name == "instructor" and backend.recipe.model_id == TINY_MODEL_ID
    assert {"torch", "cuda", "transformers", "InstructorEmbedding"} <= backend.versions.keys()


def test_the_instructor_backend_needs_a_model_folder() -> None:
    with pytest.raises(ValidationError, match="needs model_path"):
        EmbedderServerSettings(backend="instructor")


async def test_a_nan_from_the_model_is_a_500_and_never_a_vector(model_copy: Path) -> None:
    poison_unknown_token(model_copy)
    backend = InstructorBackend(model_copy, settings())
    assert all(math.isnan(x) for x in backend.encode([f"x {POISON}"], "query").vectors[0])
    transport = httpx.ASGITransport(app=create_app(backend, warm_up=False))

    async with httpx.AsyncClient(transport=transport, base_url="http://e") as client:
        poisoned = await client.post("/v1/embeddings", json={"input": [f"why {POISON}"]})
        clean = await client.post("/v1/embeddings", json={"input": ["why not"]})

    assert poisoned.status_code == 500
    assert poisoned.json()["error"]["code"] == "invalid_embedding"
    assert "non-finite" in poisoned.json()["error"]["message"]
    assert clean.status_code == 200
