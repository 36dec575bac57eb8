"""Which weights are on disk: hashed before anything loads them, and pinned to the commit they
came from (a pin file written beside them by whoever fetched them, the Modal download)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

PIN_FILE = "podsearch-model.json"


class ModelVerificationError(RuntimeError):
    """The weights on disk are not the ones pinned: refuse to load them."""


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
