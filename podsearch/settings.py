"""Settings pieces shared by the deployables; each deployable composes its own `BaseSettings`.

Settings are the only door to the environment: prefix `PODSEARCH_`, nesting with `__`
(`PODSEARCH_STORE__BACKEND=qdrant`), a `.env` file in the working directory is read too.
Nothing here is instantiated at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AnySettings = TypeVar("AnySettings", bound=BaseSettings)

ENV_CONFIG = SettingsConfigDict(
    env_prefix="PODSEARCH_",
    env_nested_delimiter="__",
    env_file=".env",
    extra="ignore",
    hide_input_in_errors=True,  # a validation error must never print a secret it was given
)


class StoreSettings(BaseModel):
    """Where segments live: Qdrant Edge in-process (default) or a Qdrant server/cluster."""

    backend: Literal["edge", "qdrant"] = "edge"
    path: Path = Field(Path("data/index"), description="Edge: folder of the index generations.")
    url: str | None = Field(None, description="Qdrant server URL, e.g. http://localhost:6333.")
    api_key: SecretStr | None = None
    collection: str = "podsearch"
    shard_number: int | None = Field(None, ge=1, description="Server: shards of a new collection.")
    replication_factor: int | None = Field(None, ge=1, description="Server: replicas per shard.")
    timeout_s: float = Field(5.0, gt=0)

    @model_validator(mode="after")
    def _server_needs_url(self) -> StoreSettings:
        if self.backend == "qdrant" and not self.url:
            raise ValueError("store.backend=qdrant needs store.url (or ':memory:' for tests)")
        return self


class EmbedderClientSettings(BaseModel):
    """How the API and the indexer reach the embedding service (`podsearch.remote_embedder`)."""

    transport: Literal["http", "modal"] = Field(
        "http",
        description="http: any OpenAI-compatible service at `url`; "
        "modal: the deployed Modal app `modal_app` through the Modal SDK.",
    )
    url: str = "http://127.0.0.1:8001"
    modal_app: str = Field("podsearch-embedder", description="modal: the deployed app's name.")
    token: SecretStr | None = Field(None, description="Bearer token, if the service wants one.")
    model: str | None = Field(None, description="Sent as `model`; for services hosting several.")
    connect_timeout_s: float = Field(2.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0, description="modal: bound on each call.")
    retries: int = Field(2, ge=0, le=10)
    batch_size: int = Field(64, ge=1, le=2048)


def settings_or_exit(settings_class: type[AnySettings], prog: str) -> AnySettings:
    """The settings from the environment, or exit with one line per problem: no traceback, and
    never a value (it may be a secret)."""
    try:
        return settings_class()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise SystemExit(f"{prog}: invalid settings: {problems}") from None
