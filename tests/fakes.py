"""Real implementations for tests, not mocks: a deterministic embedder that counts its calls."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

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
