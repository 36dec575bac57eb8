"""API settings: `PODSEARCH_STORE__*`, `PODSEARCH_EMBEDDER__*`, `PODSEARCH_API__*`."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings

from podsearch.settings import ENV_CONFIG, EmbedderClientSettings, StoreSettings


class ApiOptions(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_query_chars: int = Field(512, ge=1)
    max_limit: int = Field(50, ge=1, le=1000)
    max_offset: int = Field(1000, ge=0)
    per_episode: int = Field(3, ge=1, le=20, description="group_by=episode: moments per episode.")
    rrf_k: int = Field(60, ge=1, description="RRF constant: larger flattens rank differences.")
    embed_deadline_s: float = Field(
        3.0, gt=0, description="Bound on a query embedding, retries included; then keyword only."
    )
    ready_deadline_s: float = Field(
        2.0, gt=0, description="/ready and start-up: bound on asking the store and embedder."
    )
    cache_size: int = Field(2048, ge=0, description="Query embeddings kept in memory.")
    rate_limit_per_minute: float = Field(600, ge=0, description="Per client; 0 turns it off.")
    rate_limit_burst: int = Field(60, ge=1)
    trust_forwarded_for: bool = Field(
        False, description="Key rate limits by X-Forwarded-For (only behind a trusted proxy)."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    json_logs: bool = True
    cursor_secret: SecretStr | None = Field(
        None,
        description="Signs pagination cursors; unset: random per process (cursors then do not "
        "survive a restart or move between replicas).",
    )


class ApiEmbedderSettings(EmbedderClientSettings):
    """The API's embedder client: a search waits for one query, not a batch, so it gives up
    sooner. Defaults of a class, not of a factory, so setting any `PODSEARCH_EMBEDDER__*`
    variable (every deployment sets the URL) keeps the others."""

    read_timeout_s: float = Field(8.0, gt=0)
    retries: int = Field(1, ge=0, le=10)


class ApiSettings(BaseSettings):
    model_config = ENV_CONFIG

    api: ApiOptions = Field(default_factory=ApiOptions)
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedder: ApiEmbedderSettings = Field(default_factory=ApiEmbedderSettings)
