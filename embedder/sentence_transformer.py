"""Any sentence-transformers model folder, through the sentence-transformers package itself.

sentence-transformers is pinned at 2.2.2 (InstructorEmbedding needs it, docs/design-notes.md);
it loads the bundled all-MiniLM-L6-v2 as well. Weights load only from a local folder
whose `model.safetensors` sha256 was checked first: nothing is ever downloaded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import sentence_transformers
import torch
import transformers

from embedder.backends import EncodeResult
from embedder.pins import ModelVerificationError, verify_weights
from podsearch.contract import EmbeddingRecipe, InputType

log = logging.getLogger(__name__)


class SentenceTransformerBackend:
    """Encodes with one sentence-transformers folder; vectors are always L2-normalised."""

    name = "sentence-transformers"
    dtype = "float32"

    def __init__(
        self,
        folder: Path,
        *,
        model_id: str,
        expected_sha256: str | None,
        device: str = "cpu",
        threads: int | None = None,
        batch_size: int = 32,
    ) -> None:
        started = time.perf_counter()
        folder = Path(folder)
        if not (folder / "modules.json").exists():
            raise ModelVerificationError(f"{folder} is not a sentence-transformers model folder")
        digest = verify_weights(folder / "model.safetensors", expected_sha256)
        if threads is not None:
            torch.set_num_threads(threads)
        self._model = sentence_transformers.SentenceTransformer(str(folder), device=device)
        self._model.eval()
        self._batch_size = batch_size
        self._max_seq_length = int(self._model.max_seq_length)
        dimension = self._model.get_sentence_embedding_dimension()
        if not dimension:
            raise ModelVerificationError(f"{folder}: the model does not declare its dimension")
        self.device = device
        self.recipe = EmbeddingRecipe(
            model_id=model_id,
            revision=f"sha256:{digest[:16]}",
            dimension=int(dimension),
            normalized=True,
            max_seq_length=self._max_seq_length,
        )
        self.versions: dict[str, str] = {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence-transformers": sentence_transformers.__version__,
        }
        self.load_seconds = time.perf_counter() - started
        log.info("loaded %s (%s) on %s in %.1fs", model_id, digest[:12], device, self.load_seconds)

    def encode(self, texts: Sequence[str], input_type: InputType) -> EncodeResult:
        """`input_type` is ignored: these models have no instructions."""
        cleaned = [t.strip() for t in texts]
        limit = self._max_seq_length
        # One token past the limit tells a truncated input from a full one.
        encoded = self._model.tokenizer(cleaned, truncation=True, max_length=limit + 1)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        with torch.inference_mode():
            matrix = self._model.encode(
                cleaned,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return EncodeResult(
            vectors=matrix.astype("float32").tolist(),
            tokens=[min(n, limit) for n in lengths],
            truncated=[n > limit for n in lengths],
        )
