"""Fetch a model once, pin its commit, and keep its weights as safetensors only.

The Modal app runs `fetch_weights` into its Volume. The Hugging Face Hub is reached through one
function (`download`, injectable: tests pass a local copy), the commit it resolved is written
beside the weights (`embedder.pins.PIN_FILE`) and becomes the recipe's revision. Pickled
transformer weights (`pytorch_model*.bin`) are converted to `model.safetensors` and deleted; the
small `2_Dense/pytorch_model.bin` stays (sentence-transformers 2.2.2 reads no other format) and
torch >= 2.6 loads it with `weights_only=True`.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from embedder.pins import ModelPin, ModelVerificationError, read_pin, write_pin

log = logging.getLogger(__name__)

# (model_id, revision or None for the default branch, target folder) -> the commit fetched
Download = Callable[[str, str | None, Path], str]
_SKIP = ["*.h5", "*.msgpack", "*.onnx", "*.ot", "flax_model*", "tf_model*", "rust_model*"]
_SKIP += ["onnx/*", "openvino/*"]  # exported copies some repositories carry beside the weights


def hub_download(model_id: str, revision: str | None, target: Path) -> str:
    """Resolve the revision to a commit first, so the files and the pin cannot disagree."""
    from huggingface_hub import HfApi, snapshot_download

    commit = HfApi().model_info(model_id, revision=revision or "main").sha
    if not commit:
        raise ModelVerificationError(f"the Hub named no commit for {model_id}@{revision}")
    snapshot_download(model_id, revision=commit, local_dir=target, ignore_patterns=_SKIP)
    return str(commit)


def convert_to_safetensors(folder: Path) -> None:
    """Rewrite a T5 encoder's pickled weights as `model.safetensors` (loaded with torch's
    `weights_only`), then delete the pickles."""
    pickles = sorted(folder.glob("pytorch_model*.bin")) + sorted(folder.glob("pytorch_model*.json"))
    if not (folder / "model.safetensors").is_file():
        if not pickles:
            raise ModelVerificationError(f"{folder} holds neither model.safetensors nor pickles")
        model_type = json.loads((folder / "config.json").read_text()).get("model_type")
        if model_type != "t5":
            raise ModelVerificationError(f"{folder}: expected a T5 encoder, found {model_type}")
        from transformers import T5EncoderModel

        model = T5EncoderModel.from_pretrained(folder)
        model.save_pretrained(folder, safe_serialization=True)
        log.info("converted %s to safetensors", [p.name for p in pickles])
    for pickle in pickles:
        pickle.unlink()


def fetch_weights(
    folder: Path,
    model_id: str,
    revision: str | None,
    *,
    download: Download = hub_download,
    force: bool = False,
) -> ModelPin:
    """Make `folder` hold `model_id` (at `revision`, else the commit first fetched); a no-op
    when it already does. Fetched into a staging folder, moved into place when complete."""
    pin = read_pin(folder)
    if (
        not force
        and pin is not None
        and pin.model_id == model_id
        and revision in (None, pin.revision)
        and (folder / "model.safetensors").is_file()
    ):
        return pin
    staging = folder.parent / f".{folder.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    commit = download(model_id, revision, staging)
    convert_to_safetensors(staging)
    pin = ModelPin(model_id=model_id, revision=commit)
    write_pin(staging, pin)
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    log.info("%s@%s is in %s", model_id, commit, folder)
    return pin
