"""A cross-encoder folder (e.g. cross-encoder/ms-marco-MiniLM-L-6-v2) through
`sentence_transformers.CrossEncoder`, loaded only from a local folder whose `model.safetensors`
was hashed first: nothing is ever downloaded. The revision is the commit pinned beside the weights
by whoever fetched them (`embedder.pins`), else the weights' sha256.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import sentence_transformers
import torch
import transformers
from sentence_transformers.cross_encoder import CrossEncoder

from embedder.pins import ModelVerificationError, read_pin, verify_weights
from embedder.reranking import ScoreResult

log = logging.getLogger(__name__)


class CrossEncoderBackend:
    """Scores (query, document) pairs with one model; a score is the model's sigmoid output,
    in (0, 1) for the ms-marco models (one label)."""

    name = "cross-encoder"

    def __init__(
        self,
        folder: Path,
        *,
        model_id: str | None = None,
        expected_sha256: str | None = None,
        max_length: int = 512,
        device: str = "cpu",
        batch_size: int = 32,
    ) -> None:
        started = time.perf_counter()
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise ModelVerificationError(f"{folder} is not a transformers model folder")
        digest = verify_weights(folder / "model.safetensors", expected_sha256)
        pin = read_pin(folder)
        self.model_id = model_id or (pin.model_id if pin else folder.name)
        self.revision = pin.revision if pin else f"sha256:{digest[:16]}"
        self._model = CrossEncoder(str(folder), max_length=max_length, device=device)
        if self._model.config.num_labels != 1:
            raise ModelVerificationError(f"{folder}: a reranker has one label, not several")
        self._max_length = max_length
        self._batch_size = batch_size
        self.device = device
        self.versions: dict[str, str] = {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence-transformers": sentence_transformers.__version__,
        }
        self.load_seconds = time.perf_counter() - started
        log.info("loaded reranker %s (%s) on %s", self.model_id, self.revision, device)

    def score(self, query: str, documents: Sequence[str]) -> ScoreResult:
        query = query.strip()
        pairs = [[query, d.strip()] for d in documents]
        # One token past the limit tells a truncated pair from a full one.
        encoded = self._model.tokenizer(
            [query] * len(pairs),
            [d for _, d in pairs],
            truncation="longest_first",
            max_length=self._max_length + 1,
        )
        lengths = [len(ids) for ids in encoded["input_ids"]]
        with torch.inference_mode():
            scores = self._model.predict(
                pairs, batch_size=self._batch_size, show_progress_bar=False
            )
        return ScoreResult(
            scores=[float(s) for s in scores],
            tokens=[min(n, self._max_length) for n in lengths],
            truncated=[n > self._max_length for n in lengths],
        )
