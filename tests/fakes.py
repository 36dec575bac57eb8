"""Real implementations for tests, not mocks: the two things tests stand in for a model.

`HashEmbedder` is a `podsearch.ports.Embedder` (what the indexer and the API call);
`FakeBackend` is an `embedder.backends.Backend` (what the embedding service runs). Tests
subclass them to misbehave in one way each; nothing else is faked.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from embedder.backends import EncodeResult
from podsearch.contract import EmbeddingRecipe, InputType
from podsearch.errors import EmbedderUnavailable

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be but by for from i in is it of on or so that the this to was we "
    "with you".split()
)


class HashEmbedder:
    """Bag of words (minus stop words) hashed into buckets: lexical similarity, no model."""

    def __init__(self, dimension: int = 256, model_id: str = "test/hash-bow") -> None:
        self._recipe = EmbeddingRecipe(model_id=model_id, dimension=dimension)
        self.calls: list[tuple[int, InputType]] = []
        self.down = False
        self.truncated_inputs = 0  # a bag of words reads every word

    async def recipe(self) -> EmbeddingRecipe:
        if self.down:
            raise EmbedderUnavailable("the test embedder is switched off")
        return self._recipe

    async def embed(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        if self.down:
            raise EmbedderUnavailable("the test embedder is switched off")
        self.calls.append((len(texts), input_type))
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        dim = self._recipe.dimension
        vector = [0.0] * dim
        for word in _WORD.findall(text.lower()):
            if word in _STOP:
                continue
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % dim] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector] if any(vector) else [1.0 / math.sqrt(dim)] * dim


def digest_vector(key: str, dimension: int = 8) -> list[float]:
    """A deterministic, non-zero vector of `key` (different keys, different vectors)."""
    digest = hashlib.sha256(key.encode()).digest()
    return [b / 255 + 0.01 for b in digest[:dimension]]


FAKE_RECIPE = EmbeddingRecipe(model_id="test/fake", dimension=8)


@dataclass
class FakeBackend:
    """A model backend without a model: `digest_vector` of (input type, text) per text; records
    every encode call and how many ran at once. Subclasses override `vectors` to misbehave."""

    recipe: EmbeddingRecipe = FAKE_RECIPE
    name: str = "fake"
    device: str = "cpu"
    dtype: str = "float32"
    load_seconds: float | None = None
    versions: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[InputType, int]] = field(default_factory=list)
    running: int = 0
    most_running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def encode(self, texts: Sequence[str], input_type: InputType) -> EncodeResult:
        with self._lock:
            self.calls.append((input_type, len(texts)))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            vectors = self.vectors(texts, input_type)
            return EncodeResult(vectors, [len(t) for t in texts], [False] * len(texts))
        finally:
            with self._lock:
                self.running -= 1

    def vectors(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        return [digest_vector(f"{input_type}:{t}", self.recipe.dimension) for t in texts]
