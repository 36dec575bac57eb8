# # instructor-xl on a Modal GPU, behind the same contract as the local embedder
#
# This file is the whole deployment of podsearch's production embedder. It serves
# [hkunlp/instructor-xl](https://huggingface.co/hkunlp/instructor-xl) (768-d) in three shapes:
#
# - `QueryEmbedder`: one query at a time per caller, batched across callers by
#   `@modal.batched`: the search API's critical path;
# - `BulkEmbedder`: large batches of transcript segments for the indexer; scales to zero;
# - `Reranker`: a cross-encoder (cross-encoder/ms-marco-MiniLM-L-6-v2 by default) that rescores a
#   search's top candidates, the optional second stage of a search;
# - `web`: the OpenAI-compatible `POST /v1/embeddings`, `POST /v1/rerank` and `GET /health` of
#   `embedder.app`, so anything that speaks HTTP (our `HttpTransport`, curl, TEI-style clients)
#   can use it.
#
# ```bash
# modal deploy -m embedder.modal_app                  # from the repository root
# modal run -m embedder.modal_app::download_weights   # once: weights into the Volume
# modal run -m embedder.modal_app                     # smoke test against real GPUs
# ```
#
# Every knob is a setting read when this file is imported (`PODSEARCH_MODAL__GPU=H100 modal deploy
# ...`, see `embedder.settings.ModalSettings` and docs/modal.md); the values are handed to the
# containers, which re-read them, so what you deployed is what runs.

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import modal

from embedder.instructor_recipe import instructor_recipe
from embedder.modal_bridge import (
    BulkCall,
    ForwardingBackend,
    ForwardingReranker,
    QueryCall,
    RerankCall,
    answer_bulk,
    answer_queries,
    answer_rerank,
    build_web_app,
)
from embedder.settings import EmbedderServiceSettings, ModalDeploySettings, ModalSettings
from podsearch.contract import ErrorCode, InputType, ModalAnswer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from embedder.instructor import InstructorBackend

settings = ModalDeploySettings().modal
container_env = settings.container_env()
app = modal.App(settings.app_name)

# ## Two images, pinned
#
# The GPU image carries the instructor stack exactly as the CPU tests run it (docs/design-notes.md
# says why): InstructorEmbedding 1.0.1 needs sentence-transformers 2.2.2, which needs
# transformers 4.48.3 and huggingface_hub 0.25.2; torch is >= 2.6 (CVE-2025-32434). The two
# sentence-transformers-era packages go in with `--no-deps`: they declare a torchvision that
# nothing imports. The web image has no torch at all, so a web container starts in a second.

PYTHON = "3.11"
CORE = ["pydantic==2.14.4", "pydantic-settings==2.16.3", "httpx==0.28.1", "fastapi==0.165.0"]
MODEL_STACK = [
    "torch==2.13.0",
    "transformers==4.48.3",
    "huggingface_hub==0.25.2",
    "tokenizers==0.21.4",
    "safetensors==0.8.0",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "scikit-learn==1.9.1",
    "nltk==3.10.4",
    "sentencepiece==0.2.3",
    "pillow==13.0.0",  # sentence-transformers 2.2.2 imports it at import time
    "tqdm==4.70.1",
]
NO_DEPS = ["sentence-transformers==2.2.2", "InstructorEmbedding==1.0.1"]

web_image = (
    modal.Image.debian_slim(python_version=PYTHON)
    .pip_install(*CORE)
    .add_local_python_source("podsearch", "embedder")
)
model_stack = (
    modal.Image.debian_slim(python_version=PYTHON)
    .pip_install(*CORE, *MODEL_STACK)
    .pip_install(*NO_DEPS, extra_options="--no-deps")
    .env({"HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"})
)
gpu_image = model_stack.add_local_python_source("podsearch", "embedder")

# The reranker is small (~90 MB), so its weights are baked into its own image at build time, pinned
# to the commit the build resolved (`embedder.weights.fetch_weights`, the same step as the
# instructor download): a container never downloads anything, and a new pin is a new image.


def bake_reranker(folder: str, model_id: str, revision: str | None) -> None:
    from embedder.weights import fetch_weights

    fetch_weights(Path(folder), model_id, revision)


rerank_image = model_stack.add_local_python_source("podsearch", "embedder", copy=True).run_function(
    bake_reranker,
    kwargs={"model_id": settings.rerank_model_id, "revision": settings.rerank_revision},
)

# Heavy imports happen only in containers of the GPU image (and wherever torch is installed,
# such as the test suite); `modal deploy` itself needs neither torch nor a GPU.
with gpu_image.imports():
    import torch

    from embedder.instructor import InstructorBackend

with rerank_image.imports():
    from embedder.cross_encoder import CrossEncoderBackend

# ## Weights: downloaded once, into a Volume, as safetensors
#
# `download_weights` resolves the model's revision to a commit, fetches it, converts the pickled
# weights to safetensors and writes the commit beside them: it becomes the `revision` of the
# recipe that every index records. Run it once after the first deploy; later runs are no-ops.

volume = modal.Volume.from_name(settings.volume, create_if_missing=True)
VOLUMES = {str(settings.models_dir): volume}


def model_dir(current: ModalSettings) -> Path:
    return current.models_dir / current.instructor.model_id.replace("/", "--")


# The conversion holds the fp32 model (5 GB) in memory once: ask for room, for this job only.
@app.function(image=gpu_image, volumes=VOLUMES, env=container_env, memory=16384, timeout=3600)
def download_weights(force: bool = False) -> dict[str, str]:
    from embedder.weights import fetch_weights

    current = ModalDeploySettings().modal
    pin = fetch_weights(
        model_dir(current), current.instructor.model_id, current.instructor.revision, force=force
    )
    volume.commit()
    return {"model_id": pin.model_id, "revision": pin.revision}


def load_instructor() -> InstructorBackend:
    """Load from the Volume onto the GPU, then encode once per input type: kernels chosen and
    caches filled now end up in the memory snapshot, not in the first user's latency."""
    current = ModalDeploySettings().modal
    device = "cuda" if torch.cuda.is_available() else "cpu"
    backend = InstructorBackend(model_dir(current), current.instructor, device=device)
    for input_type in ("query", "document"):
        backend.encode(["warming up the embedding model"], input_type)
    return backend


# ## The query class: dynamic batching on a snapshotted GPU
#
# `@modal.enter(snap=True)` runs before the memory snapshot is taken and, with
# `enable_gpu_snapshot`, with the GPU attached: containers start from a loaded, warmed-up model
# in seconds instead of loading 5 GB again. A `@modal.batched` method must be its class's only
# method (Modal 1.6), hence a separate class for bulk work. `min_containers` keeps GPUs warm, at
# a price: `python -m embedder.cost` prints it.

GPU_SNAPSHOT = {"enable_gpu_snapshot": True}


@app.cls(
    image=gpu_image,
    gpu=settings.gpu,
    volumes=VOLUMES,
    env=container_env,
    enable_memory_snapshot=True,
    experimental_options=GPU_SNAPSHOT,
    min_containers=settings.query_min_containers,
    max_containers=settings.query_max_containers,
    scaledown_window=settings.query_scaledown_s,
    timeout=60,
    startup_timeout=900,
)
class QueryEmbedder:
    @modal.enter(snap=True)
    def load(self) -> None:
        self.backend = load_instructor()

    @modal.batched(max_batch_size=settings.query_max_batch, wait_ms=settings.query_wait_ms)
    def embed(self, texts: list[str], input_types: list[str]) -> list[dict[str, Any]]:
        """Called with one text and its input type; Modal hands us the lists of a batch."""
        return answer_queries(self.backend, texts, input_types)


# ## The bulk class: big batches for the indexer, scaled to zero between runs


@app.cls(
    image=gpu_image,
    gpu=settings.gpu,
    volumes=VOLUMES,
    env=container_env,
    enable_memory_snapshot=True,
    experimental_options=GPU_SNAPSHOT,
    min_containers=0,
    max_containers=settings.bulk_max_containers,
    scaledown_window=settings.bulk_scaledown_s,
    timeout=600,
    startup_timeout=900,
)
class BulkEmbedder:
    @modal.enter(snap=True)
    def load(self) -> None:
        self.backend = load_instructor()

    @modal.method()
    def embed(self, texts: list[str], input_type: InputType) -> dict[str, Any]:
        limit = ModalDeploySettings().modal.bulk_max_inputs
        if len(texts) > limit:
            refusal = f"{len(texts)} texts, at most {limit}"
            return ModalAnswer(error=refusal, code=ErrorCode.invalid_request).model_dump()
        return answer_bulk(self.backend, texts, input_type)


# ## The reranker class: a cross-encoder's second look at a search's top candidates
#
# One call scores one query against its candidates (a few dozen passages: one forward pass on a
# GPU). Its own small class: the query class may hold no other method than its batched one, and
# the bulk class scales to zero between indexing runs.


@app.cls(
    image=rerank_image,
    gpu=settings.gpu,
    env=container_env,
    enable_memory_snapshot=True,
    experimental_options=GPU_SNAPSHOT,
    min_containers=settings.rerank_min_containers,
    max_containers=settings.rerank_max_containers,
    scaledown_window=settings.query_scaledown_s,
    timeout=60,
    startup_timeout=600,
)
class Reranker:
    @modal.enter(snap=True)
    def load(self) -> None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        folder = ModalDeploySettings().modal.rerank_dir
        self.backend = CrossEncoderBackend(folder, device=device)
        self.backend.score("warming up the reranker", ["a first pair to score"])

    @modal.method()
    def rerank(self, query: str, documents: list[str]) -> dict[str, Any]:
        return answer_rerank(self.backend, query, documents)


# ## The recipe, without waking a GPU
#
# Clients check the recipe before trusting vectors (an index refuses another recipe). It is read
# from the Volume's files and the settings by a CPU function; the GPU containers build the same
# recipe from the loaded model and refuse to start if they disagree.


@app.function(image=web_image, volumes=VOLUMES, env=container_env, timeout=60)
def recipe() -> dict[str, Any]:
    current = ModalDeploySettings().modal
    return instructor_recipe(model_dir(current), current.instructor).model_dump()


# ## The web endpoint: the local server's app, forwarding to the GPU classes
#
# `serve` builds `embedder.app.create_app` over a backend that forwards queries to
# `QueryEmbedder` and documents to `BulkEmbedder`: same routes, errors, validation and bearer
# auth as the local server (the token comes from the `token_secret` Modal Secret). With
# `proxy_auth`, Modal also demands its `Modal-Key`/`Modal-Secret` headers before our code runs.


def serve(query: QueryCall, bulk: BulkCall, rerank: RerankCall) -> FastAPI:
    """The web app over any way of calling the classes (`.map`/`.remote` here, `.local()` in
    tests). Refuses to serve an open endpoint."""
    current = ModalDeploySettings().modal
    token = EmbedderServiceSettings().embedder_server.token
    if token is None and not current.proxy_auth:
        raise RuntimeError(
            f"no PODSEARCH_EMBEDDER_SERVER__TOKEN (Modal Secret {current.token_secret!r}) and no "
            "proxy auth: refusing to serve embeddings to anyone who finds the URL"
        )
    backend = ForwardingBackend(
        instructor_recipe(model_dir(current), current.instructor),
        gpu=current.gpu,
        dtype=current.instructor.dtype,
        query=query,
        bulk=bulk,
    )
    reranker = ForwardingReranker(current.rerank_model_id, gpu=current.gpu, rerank=rerank)
    return build_web_app(
        backend,
        token=token,
        max_batch=256,
        coalesce_max_texts=current.query_max_batch,
        reranker=reranker,
    )


token_secrets = [modal.Secret.from_name(settings.token_secret)] if settings.token_secret else []


@app.function(
    image=web_image,
    volumes=VOLUMES,
    env=container_env,
    secrets=token_secrets,
    min_containers=settings.web_min_containers,
    timeout=120,
)
@modal.concurrent(max_inputs=64)
@modal.asgi_app(requires_proxy_auth=settings.proxy_auth)
def web() -> FastAPI:
    queries, bulk, reranker = QueryEmbedder(), BulkEmbedder(), Reranker()
    return serve(
        lambda texts, input_types: list(queries.embed.map(texts, input_types)),
        lambda texts, input_type: bulk.embed.remote(texts, input_type),
        lambda query, documents: reranker.rerank.remote(query, documents),
    )


# ## Smoke test: `modal run -m embedder.modal_app`
#
# Fetches the weights if needed, then embeds a question and three passages on real GPUs and
# checks what a caller relies on: finite, normalised 768-d vectors, and the right passage first;
# then the reranker scores the same passages and must put the same one first.


@app.local_entrypoint()
def smoke(question: str = "how do they handle on-call burnout?") -> None:
    import math

    print("weights:", download_weights.remote())
    print("recipe:", recipe.remote())
    passages = [
        "We rotate the pager weekly and anyone can hand it off when they are exhausted.",
        "Our seed round closed in March with two funds leading.",
        "Tomatoes need deep, infrequent watering once they set fruit.",
    ]
    answer = QueryEmbedder().embed.remote(question, "query")
    bulk = BulkEmbedder().embed.remote(passages, "document")
    for reply in (answer, bulk):
        if reply.get("error"):
            raise SystemExit(f"embedding failed: {reply['code']}: {reply['error']}")
    (query_vector,) = answer["embeddings"]
    for vector in [query_vector, *bulk["embeddings"]]:
        norm = math.sqrt(sum(x * x for x in vector))
        assert len(vector) == 768 and all(map(math.isfinite, vector)), "bad vector"
        assert abs(norm - 1) < 1e-3, f"norm {norm}"
    scores = [sum(q * d for q, d in zip(query_vector, v, strict=True)) for v in bulk["embeddings"]]
    print("scores:", [round(s, 3) for s in scores], "served by:", answer["server"])
    assert scores.index(max(scores)) == 0, "the on-call passage should rank first"
    reranked = Reranker().rerank.remote(question, passages)
    if reranked.get("error"):
        raise SystemExit(f"reranking failed: {reranked['code']}: {reranked['error']}")
    print("rerank:", reranked["model"], reranked["revision"], reranked["scores"])
    assert reranked["scores"].index(max(reranked["scores"])) == 0, "the reranker disagrees"
    print("ok; web endpoint:", web.get_web_url())
