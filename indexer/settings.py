"""Indexer settings: `PODSEARCH_STORE__*`, `PODSEARCH_EMBEDDER__*`, `PODSEARCH_CHUNKER__*`, ..."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from podsearch.index_meta import ChunkerConfig
from podsearch.settings import ENV_CONFIG, EmbedderClientSettings, StoreSettings
from podsearch.transcripts import ReadLimits


class IndexerSettings(BaseSettings):
    model_config = ENV_CONFIG

    store: StoreSettings = Field(default_factory=StoreSettings)
    embedder: EmbedderClientSettings = Field(default_factory=EmbedderClientSettings)
    chunker: ChunkerConfig = Field(default_factory=ChunkerConfig)
    concurrency: int = Field(2, ge=1, le=64, description="Episodes embedded at the same time.")
    publish_every_s: float = Field(
        60.0, gt=0, description="Edge: publish finished episodes at least this often."
    )
    max_transcript_bytes: int = Field(32 * 2**20, ge=1, description="Larger files are refused.")
    max_line_chars: int = Field(
        50_000, ge=1, description="Longest text of one line, cue or JSON segment."
    )
    prune_max_share: float = Field(
        0.5, ge=0, le=1, description="--prune refuses to delete more of the index without --force."
    )

    @property
    def limits(self) -> ReadLimits:
        return ReadLimits(self.max_transcript_bytes, self.max_line_chars)
