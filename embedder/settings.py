"""Settings of the embedding service (`podsearch-embedder`).

Environment: `PODSEARCH_EMBEDDER_SERVER__PORT=8001`, `PODSEARCH_EMBEDDER_SERVER__TOKEN=...`,
and so on for every field of `EmbedderServerSettings`. The clients' side of the same service is
`PODSEARCH_EMBEDDER__...` (`podsearch.settings.EmbedderClientSettings`), so both fit one `.env`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings

from podsearch.settings import ENV_CONFIG


class EmbedderServerSettings(BaseModel):
    """What the service loads and how it listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    backend: Literal["minilm"] = Field(
        default="minilm", description="minilm: the bundled all-MiniLM-L6-v2 on CPU (384-d)."
    )
    model_path: Path | None = Field(
        default=None, description="Another copy of the backend's model folder (default: bundled)."
    )
    model_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="Expected sha256 of model.safetensors (default: the backend's pinned one).",
    )
    token: SecretStr | None = Field(default=None, description="Bearer token for /v1/embeddings.")
    device: str = "cpu"
    max_batch: int = Field(default=256, ge=1, le=2048, description="Most inputs per request.")
    threads: int | None = Field(default=None, ge=1, description="torch intra-op threads.")


class EmbedderServiceSettings(BaseSettings):
    """The service's whole configuration; reads the environment only when instantiated."""

    model_config = ENV_CONFIG

    embedder_server: EmbedderServerSettings = EmbedderServerSettings()
