"""Fetching weights once: pickles become safetensors, the commit is pinned, repeats are no-ops.
The Hugging Face Hub is the one thing faked: a download that copies a local folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from transformers import T5EncoderModel

from embedder.instructor import InstructorBackend
from embedder.pins import ModelVerificationError, read_pin
from embedder.settings import InstructorSettings
from embedder.weights import fetch_weights
from tests.embedder.tiny_instructor import TINY_MODEL_ID


class FakeHub:
    """Serves one folder, as the Hub would serve a repository whose weights are pickled."""

    def __init__(self, source: Path, commit: str = "c0ffee") -> None:
        self.source, self.commit, self.calls = source, commit, 0

    def __call__(self, model_id: str, revision: str | None, target: Path) -> str:
        self.calls += 1
        shutil.copytree(self.source, target, dirs_exist_ok=True)
        return revision or self.commit


@pytest.fixture
def pickled_repo(tiny_instructor_dir: Path, tmp_path: Path) -> Path:
    """The tiny model as an old repository ships it: `pytorch_model.bin`, no safetensors."""
    repo = Path(shutil.copytree(tiny_instructor_dir, tmp_path / "repo"))
    model = T5EncoderModel.from_pretrained(repo)
    (repo / "model.safetensors").unlink()
    model.save_pretrained(repo, safe_serialization=False)
    assert (repo / "pytorch_model.bin").is_file()
    return repo


def test_pickled_weights_are_converted_and_the_commit_pinned(
    pickled_repo: Path, tmp_path: Path, tiny_instructor: InstructorBackend
) -> None:
    folder = tmp_path / "volume" / "test--tiny"
    hub = FakeHub(pickled_repo)

    pin = fetch_weights(folder, TINY_MODEL_ID, None, download=hub)

    assert (
        (pin.model_id, pin.revision)
        == (TINY_MODEL_ID, "c0ffee")
        == tuple(vars(read_pin(folder)).values())
    )
    assert (folder / "model.safetensors").is_file()
    assert not list(folder.glob("pytorch_model*"))
    assert (folder / "2_Dense" / "pytorch_model.bin").is_file()  # 2.2.2 reads nothing else
    assert not (folder.parent / ".test--tiny.partial").exists()
    backend = InstructorBackend(folder, InstructorSettings(model_id=TINY_MODEL_ID))
    assert backend.recipe.revision == "c0ffee"
    converted = backend.encode(["on-call burnout"], "query").vectors[0]
    original = tiny_instructor.encode(["on-call burnout"], "query").vectors[0]
    assert max(abs(a - b) for a, b in zip(converted, original, strict=True)) < 1e-6


def test_a_second_fetch_is_a_no_op_unless_forced_or_another_revision_is_pinned(
    pickled_repo: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    hub = FakeHub(pickled_repo)

    fetch_weights(folder, TINY_MODEL_ID, None, download=hub)
    fetch_weights(folder, TINY_MODEL_ID, None, download=hub)
    fetch_weights(folder, TINY_MODEL_ID, "c0ffee", download=hub)
    assert hub.calls == 1

    assert fetch_weights(folder, TINY_MODEL_ID, "beef", download=hub).revision == "beef"
    fetch_weights(folder, TINY_MODEL_ID, None, download=hub, force=True)
    assert hub.calls == 3


def test_a_model_that_is_not_a_t5_encoder_is_refused(pickled_repo: Path, tmp_path: Path) -> None:
    config = json.loads((pickled_repo / "config.json").read_text())
    (pickled_repo / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))

    with pytest.raises(ModelVerificationError, match="expected a T5 encoder"):
        fetch_weights(tmp_path / "m", TINY_MODEL_ID, None, download=FakeHub(pickled_repo))
    assert not (tmp_path / "m").exists()
