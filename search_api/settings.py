"""API settings: `PODSEARCH_STORE__*`, `PODSEARCH_EMBEDDER__*`, `PODSEARCH_API__*`."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings

from podsearch.settings import ENV_CONFIG, EmbedderClientSettings, StoreSettings


class ApiOptions(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_query_chars: int = Field(512, ge=1)
    max_limit: int = Field(50, ge=1, le=1000)
    max_offset: int = Field(1000, ge=0)
    rrf_k: int = Field(60, ge=1, description="RRF constant: larger flattens rank differences.")
    embed_deadline_s: float = Field(
        10.0, gt=0, description="Upper bound on a query embedding, retries included."
    )


class ApiSettings(BaseSettings):
    model_config = ENV_CONFIG

    api: ApiOptions = Field(default_factory=ApiOptions)
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedder: EmbedderClientSettings = Field(
        default_factory=lambda: EmbedderClientSettings(retries=1, read_timeout_s=8.0)
    )
