"""API settings: `PODSEARCH_STORE__*`, `PODSEARCH_EMBEDDER__*`, `PODSEARCH_API__*`,
`PODSEARCH_LLM__*` (answers) and `PODSEARCH_MCP__*` (the MCP server)."""

from __future__ import annotations

from typing import Literal

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
    refilled_episodes: int = Field(
        0,
        ge=0,
        le=10,
        description="Hybrid searches across episodes: the first N episodes' places take the "
        "moments a search of that episode alone ranks (one more store query each); 0: off.",
    )
    embed_deadline_s: float = Field(
        3.0, gt=0, description="Bound on a query embedding, retries included; then keyword only."
    )
    ready_deadline_s: float = Field(
        2.0, gt=0, description="/ready and start-up: bound on asking the store and embedder."
    )
    strong_cosine: float = Field(
        0.66, description="explain: a moment this similar to the question is a `strong` match."
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
    max_transcript_s: float = Field(
        1800, gt=0, description="Longest transcript excerpt one request may ask for, in seconds."
    )
    rerank_depth: int = Field(
        0,
        ge=0,
        le=64,
        description="Moments rescored by the embedder's cross-encoder (/v1/rerank); 0: off.",
    )
    rerank_deadline_s: float = Field(
        2.0, gt=0, description="Bound on the rerank call, retries included; then the store's order."
    )


class LlmSettings(BaseModel):
    """The chat model behind `/answer`: any OpenAI-compatible `POST /chat/completions` (vLLM,
    TGI, a local server, a hosted API). No URL: `/answer` returns moments with `answer: null`."""

    url: str | None = Field(
        None, description="Base URL that `/chat/completions` is appended to, e.g. .../v1."
    )
    model: str = Field("podsearch-answers", description="Sent as `model`.")
    api_key: SecretStr | None = Field(None, description="Bearer token, if the endpoint wants one.")
    moments: int = Field(6, ge=1, le=20, description="Moments retrieved and shown to the model.")
    max_tokens: int = Field(400, ge=16, le=4096)
    temperature: float = Field(0.2, ge=0, le=2)
    connect_timeout_s: float = Field(3.0, gt=0)
    token_timeout_s: float = Field(
        20.0, gt=0, description="Longest wait for the first or the next token."
    )
    deadline_s: float = Field(60.0, gt=0, description="Bound on one whole answer.")


class McpSettings(BaseModel):
    """`podsearch-mcp`: where its searches go and how clients reach it."""

    transport: Literal["stdio", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=1, le=65535)
    api_url: str | None = Field(
        None,
        description="A running search API to call over HTTP; unset: search in-process "
        "(the store and embedder settings above).",
    )
    timeout_s: float = Field(15.0, gt=0, description="HTTP mode: bound on one API call.")


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
    llm: LlmSettings = Field(default_factory=LlmSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
