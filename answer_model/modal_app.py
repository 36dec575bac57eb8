# # A small open instruct model on vLLM: the model behind podsearch's `/answer`
#
# Optional. `/answer` works with any OpenAI-compatible chat-completions endpoint (a hosted API,
# a local llama.cpp or vLLM server); this file deploys one on Modal GPUs: vLLM's
# OpenAI-compatible server (`POST /v1/chat/completions`, streaming) in front of
# [Qwen/Qwen2.5-1.5B-Instruct](https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct) (Apache-2.0).
# Answers are four sentences over a few excerpts, so a small model on one L4 is plenty.
#
# ```bash
# modal secret create podsearch-answers-key VLLM_API_KEY=$(openssl rand -hex 24)
# modal deploy -m answer_model.modal_app        # from the repository root
# modal run -m answer_model.modal_app           # smoke test: one streamed answer
# ```
#
# Then point the search API at it:
# `PODSEARCH_LLM__URL=https://<workspace>--podsearch-answers-serve.modal.run/v1`,
# `PODSEARCH_LLM__MODEL=podsearch-answers`, `PODSEARCH_LLM__API_KEY=<the same key>`.
#
# Every knob is a setting read when this file is imported (`PODSEARCH_ANSWER_MODEL__GPU=A10G
# modal deploy ...`, see `answer_model.settings`); the values are handed to the container.

from __future__ import annotations

import modal

from answer_model.settings import AnswerModelDeploySettings, vllm_command

settings = AnswerModelDeploySettings().answer_model
app = modal.App(settings.app_name)
PORT = 8000

# ## The image: vLLM, pinned
#
# vLLM's wheel brings its own CUDA build of torch; nothing of podsearch runs in this container
# but its settings module, which builds the command line.

image = (
    modal.Image.debian_slim(python_version="3.12")
    .pip_install(f"vllm=={settings.vllm_version}", "pydantic-settings>=2.3")
    .env({"HF_HUB_DISABLE_TELEMETRY": "1", "VLLM_NO_USAGE_STATS": "1"})
    .add_local_python_source("answer_model", "podsearch")
)

# ## Weights and compiled graphs cached in a Volume
#
# The first container downloads the weights (about 3 GB) into the Volume; later ones start from
# it, and vLLM's torch.compile cache lives there too, which cuts cold starts to about a minute.

cache = modal.Volume.from_name(settings.volume, create_if_missing=True)

# ## The server: `vllm serve` behind a Modal web server
#
# `@modal.web_server` proxies HTTPS to the port vLLM listens on once it answers; a container
# serves `max_inputs` requests at once (vLLM batches them on the GPU), and Modal adds
# containers up to `max_containers` under load and stops them after `scaledown_s` idle seconds.
# The key Secret is required: without it anyone who finds the URL spends your GPU.


@app.function(
    image=image,
    gpu=settings.gpu,
    volumes={"/cache": cache},
    secrets=[modal.Secret.from_name(settings.key_secret)],
    env=settings.container_env(),
    min_containers=settings.min_containers,
    max_containers=settings.max_containers,
    scaledown_window=settings.scaledown_s,
    timeout=600,
)
@modal.concurrent(max_inputs=settings.max_inputs)
@modal.web_server(port=PORT, startup_timeout=900)
def serve() -> None:
    import os
    import subprocess

    os.environ.setdefault("VLLM_CACHE_ROOT", "/cache/vllm")
    current = AnswerModelDeploySettings().answer_model
    subprocess.Popen(vllm_command(current, PORT))


# ## Smoke test: `modal run -m answer_model.modal_app`
#
# Streams one answer the way podsearch asks for it and checks the protocol podsearch relies on:
# `data:` chunks with `choices[0].delta.content`, ended by `data: [DONE]`.


@app.local_entrypoint()
def smoke(key: str = "") -> None:
    import json
    import os

    import httpx

    key = key or os.environ.get("VLLM_API_KEY", "")
    url = f"{serve.get_web_url()}/v1/chat/completions"
    body = {
        "model": settings.served_name,
        "stream": True,
        "max_tokens": 80,
        "messages": [
            {"role": "system", "content": "Answer from the excerpt, citing it as [1]."},
            {
                "role": "user",
                "content": 'Question: how do they handle on-call burnout?\n<excerpt n="1">'
                "We rotate the pager weekly and hand it off when exhausted.</excerpt>",
            },
        ],
    }
    text, done = "", False
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("POST", url, json=body, headers=headers, timeout=900) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line == "data: [DONE]":
                done = True
            elif line.startswith("data: "):
                delta = json.loads(line[6:])["choices"][0]["delta"]
                text += delta.get("content") or ""
    print("answer:", text)
    assert done and text.strip(), "no streamed answer ending in [DONE]"
