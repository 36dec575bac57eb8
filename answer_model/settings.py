"""Settings of the answer model's Modal app: `PODSEARCH_ANSWER_MODEL__*`, read when
`modal deploy` imports the app and again, from the same values, inside every container."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings

from podsearch.settings import ENV_CONFIG


class AnswerModelSettings(BaseModel):
    app_name: str = "podsearch-answers"
    model_id: str = Field(
        "Qwen/Qwen2.5-1.5B-Instruct", description="Any chat model vLLM serves (Apache-2.0 here)."
    )
    revision: str = Field("main", description="A commit of the model repository, to pin it.")
    served_name: str = Field(
        "podsearch-answers", description="The `model` clients send (PODSEARCH_LLM__MODEL)."
    )
    vllm_version: str = "0.33.0"
    gpu: str = Field("L4", description="Any Modal GPU spec: L4, A10G, L40S, A100-40GB, H100.")
    min_containers: int = Field(0, ge=0, description="Warm GPUs kept (cost!).")
    max_containers: int = Field(2, ge=1)
    scaledown_s: int = Field(300, ge=2, le=3600, description="Idle seconds before a GPU stops.")
    max_inputs: int = Field(32, ge=1, le=1000, description="Concurrent requests per container.")
    max_model_len: int = Field(8192, ge=1024, description="Context: prompt + answer tokens.")
    volume: str = Field("podsearch-answer-cache", description="Caches weights and compiled graphs.")
    key_secret: str = Field(
        "podsearch-answers-key", description="modal.Secret holding VLLM_API_KEY (required)."
    )

    def container_env(self) -> dict[str, str]:
        """These settings as variables, for the containers to re-read."""
        return {
            f"PODSEARCH_ANSWER_MODEL__{key.upper()}": str(value)
            for key, value in self.model_dump().items()
        }


class AnswerModelDeploySettings(BaseSettings):
    model_config = ENV_CONFIG

    answer_model: AnswerModelSettings = Field(default_factory=AnswerModelSettings)


def vllm_command(settings: AnswerModelSettings, port: int) -> list[str]:
    """`vllm serve` with an OpenAI-compatible API; the key comes from VLLM_API_KEY (a Secret),
    never from the command line."""
    return [
        "vllm",
        "serve",
        settings.model_id,
        "--revision",
        settings.revision,
        "--served-model-name",
        settings.served_name,
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--max-model-len",
        str(settings.max_model_len),
        "--max-num-seqs",
        str(settings.max_inputs),
        "--download-dir",
        "/cache/huggingface",
        "--uvicorn-log-level",
        "warning",
    ]
