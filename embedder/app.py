"""The embedding service over HTTP: `POST /v1/embeddings` and `GET /health` (OpenAI-compatible).

The backend is injected, so the same app runs under uvicorn (`embedder.cli`), on Modal and in
tests through `httpx.ASGITransport`. Every vector is validated before it leaves: a non-finite or
wrong-dimension vector is a 500 with code `invalid_embedding`, never a 200 (the system this one
replaces answered 200 with `embedding: null`). Every error is JSON
`podsearch.contract.ErrorBody`, mapped in `_install_error_handlers` and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.exceptions import HTTPException as StarletteHTTPException

import podsearch
from embedder.backends import Backend, EncodeResult
from embedder.batching import MicroBatcher
from embedder.guard import RequestGuard, check_inputs
from embedder.reranking import RerankBackend, install_rerank_route
from podsearch.contract import (
    ApiError,
    EmbedderHealth,
    EmbeddingData,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingUsage,
    ErrorBody,
    ErrorCode,
    InputType,
    validate_vectors,
)
from podsearch.errors import EmbedderResponseInvalid

log = logging.getLogger(__name__)

_WARM_UP_TEXT = "warming up the embedding model"
_HTTP_CODES = {404: ErrorCode.not_found, 405: ErrorCode.method_not_allowed}
_BATCHES = {("body", "input"), ("body", "documents")}  # too many: 413, not 422


def _error(
    status: int, code: ErrorCode, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(ErrorBody.of(code, message), status_code=status, headers=headers)


class Encoder:
    """Runs the blocking backend in a worker thread and refuses to hand out vectors that fail
    validation. Concurrent requests are coalesced into one encode call (dynamic batching,
    `embedder.batching`); one batch runs at a time (the cores are few and torch already uses all
    of them) unless `concurrency` says otherwise (a backend that only forwards to a GPU service)."""

    def __init__(
        self,
        backend: Backend,
        *,
        max_texts: int = 64,
        max_wait_ms: float = 5.0,
        concurrency: int = 1,
    ) -> None:
        self.backend = backend
        self.warm = False
        self.batcher = MicroBatcher(
            self._encode_batch,
            max_texts=max_texts,
            max_wait_ms=max_wait_ms,
            concurrency=concurrency,
        )

    async def _encode_batch(self, texts: list[str], input_type: InputType) -> EncodeResult:
        try:
            return await anyio.to_thread.run_sync(self.backend.encode, texts, input_type)
        except EmbedderResponseInvalid:
            raise
        except Exception as exc:
            log.exception("backend %s failed on %d inputs", self.backend.name, len(texts))
            raise ApiError(500, ErrorCode.embedding_failed, f"the model failed: {exc}") from exc

    async def encode(self, texts: Sequence[str], input_type: InputType) -> EncodeResult:
        try:
            result = await self.batcher.submit(texts, input_type)
            validate_vectors(result.vectors, len(texts), self.backend.recipe.dimension)
        except EmbedderResponseInvalid as exc:
            log.error("backend %s produced invalid vectors: %s", self.backend.name, exc)
            raise ApiError(500, ErrorCode.invalid_embedding, str(exc)) from exc
        self.warm = True
        return result

    async def warm_up(self) -> None:
        """A real encode of each input type: `warm` means a request will not pay a cold start."""
        for input_type in ("query", "document"):
            await self.encode([_WARM_UP_TEXT], input_type)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e["type"] == "too_long" and tuple(e["loc"]) in _BATCHES for e in errors):
            return _error(413, ErrorCode.batch_too_large, "too many inputs in one request")
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return _error(422, ErrorCode.invalid_request, where)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.http_error)
        return _error(exc.status_code, code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, ErrorCode.internal_error, "unexpected error in the embedding service")


def create_app(
    backend: Backend,
    token: SecretStr | None = None,
    max_batch: int = 256,
    warm_up: bool = True,
    *,
    coalesce_max_texts: int = 64,
    coalesce_wait_ms: float = 5.0,
    concurrency: int = 1,
    max_body_bytes: int = 4 * 2**20,
    max_input_chars: int = 8192,
    reranker: RerankBackend | None = None,
    max_rerank_documents: int = 256,
) -> FastAPI:
    """Serve `backend` (and `reranker` at `/v1/rerank`, if any). With `warm_up`, start-up waits
    for a real encode of each input type (and a real rerank). Concurrent requests share encode
    calls of up to `coalesce_max_texts` texts. A request is refused before parsing without
    `token` or over `max_body_bytes`; an input over `max_input_chars` is refused (413), never
    silently truncated."""
    if token is not None and not token.get_secret_value():
        raise ValueError("an empty token would accept anyone: pass None to disable auth")
    encoder = Encoder(
        backend,
        max_texts=coalesce_max_texts,
        max_wait_ms=coalesce_wait_ms,
        concurrency=concurrency,
    )
    recipe = backend.recipe
    model_names = {recipe.model_id, recipe.model_id.rsplit("/", 1)[-1]}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            await encoder.warm_up()
            await rescorer.warm_up()
            log.info("embedder warm: %s", recipe.model_id)
        yield

    app = FastAPI(title="podsearch embedder", version=podsearch.__version__, lifespan=lifespan)
    app.state.encoder = encoder
    _install_error_handlers(app)
    app.add_middleware(RequestGuard, token=token, max_body_bytes=max_body_bytes)
    rescorer = install_rerank_route(
        app,
        reranker,
        max_documents=max_rerank_documents,
        max_input_chars=max_input_chars,
        concurrency=concurrency,
    )

    @app.post("/v1/embeddings")
    async def embeddings(body: EmbeddingRequest) -> EmbeddingResponse:
        if len(body.input) > max_batch:
            raise ApiError(
                413, ErrorCode.batch_too_large, f"{len(body.input)} inputs, at most {max_batch}"
            )
        check_inputs(body.input, max_input_chars)
        if body.model is not None and body.model not in model_names:
            raise ApiError(
                404, ErrorCode.model_not_found, f"this service embeds with {recipe.model_id}"
            )
        result = await encoder.encode(body.input, body.input_type)
        return EmbeddingResponse(
            data=[EmbeddingData(index=i, embedding=v) for i, v in enumerate(result.vectors)],
            model=recipe.model_id,
            usage=EmbeddingUsage(
                prompt_tokens=result.prompt_tokens,
                total_tokens=result.prompt_tokens,
                truncated_inputs=result.truncated_inputs,
            ),
        )

    @app.get("/health")
    async def health() -> EmbedderHealth:
        return EmbedderHealth(
            recipe=recipe,
            backend=backend.name,
            device=backend.device,
            dtype=backend.dtype,
            warm=encoder.warm,
            load_seconds=backend.load_seconds,
            rerank_model=reranker.model_id if reranker is not None else None,
            versions={**backend.versions, "podsearch": podsearch.__version__},
        )

    return app
