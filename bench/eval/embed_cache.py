"""An `Embedder` that remembers every vector on disk, keyed by (recipe, input type, text).

Embedding is the whole cost of an eval on 2 cores; with this cache a re-run, or a new chunker
that keeps most segments unchanged, only embeds texts it has never seen.
"""

from __future__ import annotations

import hashlib
import sqlite3
from array import array
from collections.abc import Sequence
from pathlib import Path

from podsearch.contract import EmbeddingRecipe, InputType
from podsearch.ports import Embedder


class CachedEmbedder:
    """Wraps a real embedder; vectors it returned once are read back from a SQLite file."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self._inner = inner
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, v BLOB)")
        self._recipe: EmbeddingRecipe | None = None

    async def recipe(self) -> EmbeddingRecipe:
        if self._recipe is None:
            self._recipe = await self._inner.recipe()
        return self._recipe

    async def embed(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        recipe = (await self.recipe()).model_dump_json()
        keys = [_key(recipe, input_type, text) for text in texts]
        found = self._lookup(set(keys))
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        if missing:
            vectors = await self._inner.embed(missing, input_type)
            fresh = {_key(recipe, input_type, t): v for t, v in zip(missing, vectors, strict=True)}
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, array("f", v).tobytes()) for k, v in fresh.items()],
            )
            self._db.commit()
            found.update(fresh)
        return [found[k] for k in keys]

    @property
    def truncated_inputs(self) -> int:
        """Of the texts embedded, not read back: a cached vector was counted when first made."""
        return self._inner.truncated_inputs

    def _lookup(self, keys: set[bytes]) -> dict[bytes, list[float]]:
        found: dict[bytes, list[float]] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(
                f"SELECT key, v FROM vectors WHERE key IN ({marks})", chunk
            ):
                found[key] = array("f", blob).tolist()
        return found

    def close(self) -> None:
        self._db.close()


def _key(recipe: str, input_type: str, text: str) -> bytes:
    return hashlib.sha256(f"{recipe}\0{input_type}\0{text}".encode()).digest()
