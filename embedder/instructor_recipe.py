"""The recipe an INSTRUCTOR folder produces, read from its files without loading the model.

No torch here: the Modal web endpoint answers /health with it from a CPU image, and the GPU
containers check the loaded model against it.
"""

from __future__ import annotations

import json
from pathlib import Path

from embedder.pins import ModelVerificationError, read_pin, verify_weights
from embedder.settings import InstructorSettings
from podsearch.contract import EmbeddingRecipe


def instructor_recipe(folder: Path, settings: InstructorSettings) -> EmbeddingRecipe:
    """Refuse a folder pinned to another model or commit; unpinned, the weights' hash is the
    revision."""
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
