"""What an index records about how it was built, checked whenever it is opened."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from podsearch.contract import EmbeddingRecipe
from podsearch.errors import IndexMismatch

# 2: every segment point also holds its context's dense and BM25 vectors (`stores.schema`)
# 3: point ids are 64-bit integers (`models.point_number`), no longer UUIDs
SCHEMA_VERSION = 3
REBUILD = "re-index it with `podsearch-index --rebuild`"
NO_ROLLBACK = "the index before the live one cannot be served again; the live one stays"


class ChunkerConfig(BaseModel):
    """How transcripts were cut into segments; another cut means another index."""

    model_config = ConfigDict(frozen=True)

    version: int = 2  # 2: BM25 indexes who spoke (`segmenting.keyword_text`)
    window_words: int = 120
    overlap_words: int = 30
    context_words: int = Field(40, ge=0)  # a segment's context: this many more words a side


class IndexMeta(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = SCHEMA_VERSION
    recipe: EmbeddingRecipe
    chunker: ChunkerConfig

    @classmethod
    def stored(cls, raw: str | dict[str, Any]) -> IndexMeta:
        """A stored meta; one without `schema_version` reads as the oldest layout, never as
        this code's."""
        meta = cls.model_validate_json(raw) if isinstance(raw, str) else cls.model_validate(raw)
        if "schema_version" not in meta.model_fields_set:
            return meta.model_copy(update={"schema_version": 1})
        return meta

    def check_compatible(self, other: IndexMeta, remedy: str = REBUILD) -> None:
        """Raise IndexMismatch, naming every difference, unless `other` was built the same way."""
        problems = self.recipe.mismatch(other.recipe)
        if self.chunker != other.chunker:
            problems.append(f"chunker: {self.chunker!r} != {other.chunker!r}")
        if self.schema_version != other.schema_version:
            problems.append(f"schema_version: {self.schema_version} != {other.schema_version}")
        if problems:
            raise IndexMismatch(f"index was built differently: {'; '.join(problems)}; {remedy}")

    def check_schema(self, remedy: str = REBUILD) -> None:
        """Raise IndexMismatch unless this code reads the index's layout (its vector names)."""
        if self.schema_version != SCHEMA_VERSION:
            raise IndexMismatch(
                f"the index has schema_version {self.schema_version}, this podsearch reads "
                f"{SCHEMA_VERSION}: {remedy}"
            )

    def check_recipe(self, recipe: EmbeddingRecipe) -> None:
        """Raise IndexMismatch unless queries embedded with `recipe` can search this index."""
        problems = self.recipe.mismatch(recipe)
        if problems:
            raise IndexMismatch(
                "the embedder serves another recipe than the index was built with: "
                + "; ".join(problems)
                + ". Re-index with this embedder or point the API at the original one."
            )
