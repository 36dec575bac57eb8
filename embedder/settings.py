"""Settings of the embedding service (`podsearch-embedder`) and of its Modal deployment.

Environment: `PODSEARCH_EMBEDDER_SERVER__PORT=8001`, `PODSEARCH_EMBEDDER_SERVER__TOKEN=...`,
`PODSEARCH_EMBEDDER_SERVER__INSTRUCTOR__DTYPE=bfloat16`, and so on for every field of
`EmbedderServerSettings`; the Modal app reads `PODSEARCH_MODAL__...` (`ModalSettings`). The
clients' side of the same service is `PODSEARCH_EMBEDDER__...`
(`podsearch.settings.EmbedderClientSettings`), so all of them fit one `.env`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from podsearch.settings import ENV_CONFIG

INSTRUCTOR_XL = "hkunlp/instructor-xl"
# The instructor template: "Represent the [domain] [text_type] for [task_objective]:".
DOCUMENT_INSTRUCTION = "Represent the podcast transcript passage for retrieval:"
QUERY_INSTRUCTION = (
    "Represent the podcast listener question for retrieving relevant transcript passages:"
)
RERANK_MODEL = "cross-encoder/ms-marco-MiniLM-L-6-v2"
Dtype = Literal["float32", "bfloat16"]
_DTYPE_ALIASES = {"fp32": "float32", "float": "float32", "bf16": "bfloat16"}
_FP16 = {"float16", "fp16", "half"}


def _dtype(value: object) -> object:
    """Accept common aliases; refuse float16 by name, with the reason."""
    if isinstance(value, str):
        value = value.strip().lower()
        if value in _FP16:
            raise ValueError(
                "float16 overflows T5 (instructor-xl) into NaN embeddings: "
                "use float32 (the default) or bfloat16"
            )
        return _DTYPE_ALIASES.get(value, value)
    return value


class InstructorSettings(BaseModel):
    """What decides an instructor vector besides the weights: instructions, length, dtype."""

    model_id: str = Field(INSTRUCTOR_XL, description="Recorded in the recipe of every index.")
    revision: str | None = Field(
        None, description="Model commit; default: the one pinned in the folder, else its sha256."
    )
    query_instruction: str = Field(QUERY_INSTRUCTION, min_length=1)
    document_instruction: str = Field(DOCUMENT_INSTRUCTION, min_length=1)
    max_seq_length: int = Field(512, ge=16, le=512, description="Tokens, instruction included.")
    dtype: Dtype = Field("float32", description="float32, or bfloat16 (validate it first).")
    encode_batch_size: int = Field(32, ge=1, le=1024, description="Texts per forward pass.")

    _check_dtype = field_validator("dtype", mode="before")(_dtype)


class RerankSettings(BaseModel):
    """The optional cross-encoder behind `POST /v1/rerank`; without a folder the route answers
    404 `rerank_unavailable`. Only a local folder is loaded: nothing is downloaded."""

    model_path: Path | None = Field(
        None, description="A cross-encoder folder, e.g. cross-encoder/ms-marco-MiniLM-L-6-v2."
    )
    model_id: str | None = Field(
        None, description="Answered as `model`; default: the folder's pinned id, else its name."
    )
    model_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="Expected sha256 of model.safetensors."
    )
    max_length: int = Field(512, ge=16, le=8192, description="Tokens per (query, document) pair.")
    max_documents: int = Field(256, ge=1, le=2048, description="Most documents per request.")
    batch_size: int = Field(32, ge=1, le=1024, description="Pairs per forward pass.")


class EmbedderServerSettings(BaseModel):
    """What the service loads and how it listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    backend: Literal["minilm", "instructor"] = Field(
        default="minilm",
        description="minilm: the bundled all-MiniLM-L6-v2 on CPU (384-d); "
        "instructor: an INSTRUCTOR folder at model_path (instructor-xl: 768-d).",
    )
    model_path: Path | None = Field(
        default=None, description="The model folder (minilm default: the bundled copy)."
    )
    model_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="Expected sha256 of model.safetensors (default: the backend's pinned one).",
    )
    instructor: InstructorSettings = Field(default_factory=InstructorSettings)
    rerank: RerankSettings = Field(default_factory=RerankSettings)
    token: SecretStr | None = Field(default=None, description="Bearer token for /v1/ routes.")
    allow_no_token: bool = Field(
        default=False,
        description="Listen on a non-loopback address without a token (a private network).",
    )
    device: str = "cpu"
    max_batch: int = Field(default=256, ge=1, le=2048, description="Most inputs per request.")
    max_body_bytes: int = Field(
        default=4 * 2**20, ge=1024, description="Larger request bodies are refused unread (413)."
    )
    max_input_chars: int = Field(
        default=8192, ge=1, description="Longer inputs are refused (413), not truncated."
    )
    threads: int | None = Field(default=None, ge=1, description="torch intra-op threads.")
    coalesce_max_texts: int = Field(
        default=64, ge=1, le=2048, description="Dynamic batching: most texts per encode call."
    )
    coalesce_wait_ms: float = Field(
        default=5.0, ge=0, le=1000, description="Dynamic batching: longest wait for company."
    )

    @model_validator(mode="after")
    def _instructor_needs_a_folder(self) -> EmbedderServerSettings:
        if self.backend == "instructor" and self.model_path is None:
            raise ValueError("backend=instructor needs model_path (an INSTRUCTOR model folder)")
        return self

    @model_validator(mode="after")
    def _public_needs_a_token(self) -> EmbedderServerSettings:
        """Anyone who reaches the port could spend the model: off loopback, a token is due."""
        if self.token is None and not self.allow_no_token and not _loopback(self.host):
            raise ValueError(
                f"listening on {self.host} without a token: set embedder_server.token, or "
                "embedder_server.allow_no_token=true on a private network"
            )
        return self


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


class EmbedderServiceSettings(BaseSettings):
    """The service's whole configuration; reads the environment only when instantiated."""

    model_config = ENV_CONFIG

    embedder_server: EmbedderServerSettings = EmbedderServerSettings()


class ModalSettings(BaseModel):
    """The Modal deployment: read when `modal deploy` imports the app, and again, from the same
    values (the app hands them to its containers), inside every container."""

    app_name: str = "podsearch-embedder"
    gpu: str = Field("A10G", description="Any Modal GPU spec: A10G, L4, L40S, A100-40GB, H100.")
    volume: str = Field("podsearch-models", description="modal.Volume that caches the weights.")
    models_dir: Path = Field(Path("/models"), description="Where containers mount the Volume.")
    instructor: InstructorSettings = Field(default_factory=InstructorSettings)
    rerank_model_id: str = Field(
        RERANK_MODEL, min_length=1, description="The cross-encoder baked into the reranker image."
    )
    rerank_revision: str | None = Field(
        None, description="Its commit; default: the one the image build resolves and pins."
    )
    rerank_dir: Path = Field(Path("/reranker"), description="Where the reranker image holds it.")
    rerank_min_containers: int = Field(0, ge=0, description="Warm reranker GPUs (cost!).")
    rerank_max_containers: int = Field(2, ge=1)
    query_min_containers: int = Field(0, ge=0, description="Warm GPUs kept for queries (cost!).")
    query_max_containers: int = Field(4, ge=1)
    query_scaledown_s: int = Field(120, ge=2, le=3600, description="Idle seconds before stop.")
    query_max_batch: int = Field(32, ge=1, le=1000, description="@modal.batched max_batch_size.")
    query_wait_ms: int = Field(5, ge=0, le=10_000, description="@modal.batched wait_ms.")
    bulk_max_containers: int = Field(4, ge=1, description="Indexing GPUs at most.")
    bulk_scaledown_s: int = Field(60, ge=2, le=3600)
    bulk_max_inputs: int = Field(1024, ge=1, le=8192, description="Texts per bulk call at most.")
    web_min_containers: int = Field(0, ge=0, description="CPU containers of the web endpoint.")
    token_secret: str | None = Field(
        "podsearch-embedder-token",
        description="modal.Secret holding PODSEARCH_EMBEDDER_SERVER__TOKEN for the web endpoint.",
    )
    proxy_auth: bool = Field(False, description="Also require Modal-Key/Modal-Secret headers.")

    @field_validator("token_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _web_endpoint_is_never_open(self) -> ModalSettings:
        if self.token_secret is None and not self.proxy_auth:
            raise ValueError("the web endpoint needs token_secret, proxy_auth, or both")
        if self.query_min_containers > self.query_max_containers:
            raise ValueError("query_min_containers cannot exceed query_max_containers")
        return self

    def container_env(self) -> dict[str, str]:
        """These settings as `PODSEARCH_MODAL__...` variables, for the containers to re-read."""
        env: dict[str, str] = {}
        for key, value in self.model_dump(exclude_none=True).items():
            if isinstance(value, dict):
                for sub, inner in value.items():
                    if inner is not None:
                        env[f"PODSEARCH_MODAL__{key.upper()}__{sub.upper()}"] = str(inner)
            else:
                env[f"PODSEARCH_MODAL__{key.upper()}"] = str(value)
        return env


class ModalDeploySettings(BaseSettings):
    """`PODSEARCH_MODAL__GPU=H100 modal deploy embedder/modal_app.py`, and so on."""

    model_config = ENV_CONFIG

    modal: ModalSettings = Field(default_factory=ModalSettings)
