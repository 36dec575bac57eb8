"""What a model backend must do: the interface the app serves, whatever model is behind it.

Implementations: `sentence_transformer` and `instructor` (torch), `modal_bridge.ForwardingBackend`
(forwards to Modal's GPU classes); `loading.load_backend` picks and loads one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from podsearch.contract import EmbeddingRecipe, InputType


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
