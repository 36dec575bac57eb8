"""instructor-xl (or any INSTRUCTOR folder) through InstructorEmbedding 1.0.1 itself.

The stack is pinned (sentence-transformers 2.2.2, transformers 4.48.3, docs/design-notes.md
says why); modern sentence-transformers with `prompt=` gives other vectors, so this is the only
way we embed with instructor. Each text is paired with the instruction of its input type; the
instructions belong to the recipe recorded with the index.

Precision: float32 by default. bfloat16 casts the T5 encoder only (pooling, the 768-d projection
and normalisation stay float32). float16 is refused: T5 overflows in it and answers NaN, the
failure of the system this one replaces. Weights load from `model.safetensors` only; nothing is
downloaded (the Modal app fetches and converts the weights once, into a Volume).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import sentence_transformers
import torch
import transformers
from InstructorEmbedding import INSTRUCTOR

from embedder.backends import EncodeResult
from embedder.instructor_recipe import instructor_recipe
from embedder.pins import ModelVerificationError, verify_weights
from embedder.settings import InstructorSettings
from podsearch.contract import InputType

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


class InstructorBackend:
    """Encodes `[instruction, text]` pairs; vectors are always L2-normalised."""

    name = "instructor"

    def __init__(
        self,
        folder: Path,
        settings: InstructorSettings,
        *,
        expected_sha256: str | None = None,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        started = time.perf_counter()
        folder = Path(folder)
        if settings.dtype not in _DTYPES:
            raise ValueError(f"dtype {settings.dtype!r}: use float32 or bfloat16, never float16")
        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise ModelVerificationError(
                f"{weights} not found: convert the weights to safetensors first "
                "(pickled weights are not loaded)"
            )
        if expected_sha256 is not None:
            verify_weights(weights, expected_sha256)
        recipe = instructor_recipe(folder, settings)
        if threads is not None:
            torch.set_num_threads(threads)
        chatter = io.StringIO()  # InstructorEmbedding print()s while loading
        with contextlib.redirect_stdout(chatter):
            self._model = INSTRUCTOR(str(folder), device=device)
        log.debug("InstructorEmbedding said: %s", chatter.getvalue().strip())
        self._model.eval()
        transformer = self._model[0]
        transformer.max_seq_length = settings.max_seq_length
        transformer.auto_model.to(_DTYPES[settings.dtype])
        self._tokenizer = transformer.tokenizer
        self._batch_size = settings.encode_batch_size
        self._instructions: dict[str, str] = {
            "query": settings.query_instruction,
            "document": settings.document_instruction,
        }
        for input_type, instruction in self._instructions.items():
            if len(self._tokenizer(instruction)["input_ids"]) >= settings.max_seq_length // 2:
                raise ModelVerificationError(
                    f"the {input_type} instruction takes half of max_seq_length or more"
                )
        dimension = self._model.get_sentence_embedding_dimension()
        if dimension != recipe.dimension:
            raise ModelVerificationError(
                f"{folder}: the model embeds {dimension}-d vectors, its files say "
                f"{recipe.dimension}"
            )
        self.recipe = recipe
        self.dtype = settings.dtype
        self.device = device
        if device.startswith("cuda"):
            self.device = f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
        self.versions: dict[str, str] = {
            "torch": torch.__version__,
            "cuda": torch.version.cuda or "none",
            "transformers": transformers.__version__,
            "sentence-transformers": sentence_transformers.__version__,
            "InstructorEmbedding": importlib.metadata.version("InstructorEmbedding"),
        }
        self.load_seconds = time.perf_counter() - started
        log.info(
            "loaded %s@%s (%s) on %s in %.1fs",
            recipe.model_id,
            recipe.revision,
            self.dtype,
            self.device,
            self.load_seconds,
        )

    def encode(self, texts: Sequence[str], input_type: InputType) -> EncodeResult:
        instruction = self._instructions[input_type]
        cleaned = [t.strip() for t in texts]
        limit = self.recipe.max_seq_length or 512
        # INSTRUCTOR tokenises instruction + text as one string; one token past the limit tells
        # a truncated input from a full one.
        encoded = self._tokenizer(
            [instruction + t for t in cleaned], truncation=True, max_length=limit + 1
        )
        lengths = [len(ids) for ids in encoded["input_ids"]]
        with torch.inference_mode():
            matrix = self._model.encode(
                [[instruction, t] for t in cleaned],
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        return EncodeResult(
            vectors=matrix.float().cpu().tolist(),
            tokens=[min(n, limit) for n in lengths],
            truncated=[n > limit for n in lengths],
        )
