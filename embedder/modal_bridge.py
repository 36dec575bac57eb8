"""Both ends of the Modal transport, with no Modal and no torch in sight (tests run them as is).

GPU side: `answer_queries` and `answer_bulk` turn a loaded `Backend` into the answers the Modal
classes return (`podsearch.contract.ModalAnswer`), validating every vector and keeping
one bad vector from failing its neighbours in a batch; `answer_rerank` does the same for the
reranker class (`ModalRerankAnswer`). Web side: `ForwardingBackend` and `ForwardingReranker`
encode and score nothing themselves and forward to those classes, so the web endpoint is
`embedder.app.create_app` unchanged: the same contract as the local server, by construction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from embedder.backends import Backend, EncodeResult
from embedder.reranking import RerankBackend, ScoreResult, check_scores
from podsearch.contract import (
    EmbeddingRecipe,
    ErrorCode,
    InputType,
    ModalAnswer,
    ModalRerankAnswer,
    validate_vectors,
)
from podsearch.errors import EmbedderResponseInvalid

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

QueryCall = Callable[[list[str], list[str]], Sequence[Mapping[str, Any]]]
BulkCall = Callable[[list[str], str], Mapping[str, Any]]
RerankCall = Callable[[str, list[str]], Mapping[str, Any]]


def server_info(backend: Backend) -> dict[str, str]:
    """What a GPU container tells the web endpoint about itself (its /health shows it)."""
    info = {"device": backend.device, "dtype": backend.dtype, **backend.versions}
    if backend.load_seconds is not None:
        info["load_seconds"] = f"{backend.load_seconds:.2f}"
    return info


def _answer(backend: Backend, texts: list[str], input_type: InputType) -> list[ModalAnswer]:
    """One answer per text: its vector, or the reason it has none."""
    server = server_info(backend)
    try:
        result = backend.encode(texts, input_type)
        if len(result.vectors) != len(texts):
            raise EmbedderResponseInvalid(f"{len(texts)} texts, {len(result.vectors)} vectors")
    except EmbedderResponseInvalid as exc:
        invalid = ModalAnswer(error=str(exc), code=ErrorCode.invalid_embedding, server=server)
        return [invalid] * len(texts)
    except Exception as exc:
        log.exception("backend %s failed on %d inputs", backend.name, len(texts))
        failed = ModalAnswer(error=str(exc), code=ErrorCode.embedding_failed, server=server)
        return [failed] * len(texts)
    answers = []
    for vector, tokens, truncated in zip(
        result.vectors, result.tokens, result.truncated, strict=True
    ):
        try:
            validate_vectors([vector], 1, backend.recipe.dimension)
        except EmbedderResponseInvalid as exc:
            log.error("backend %s produced an invalid vector: %s", backend.name, exc)
            answers.append(
                ModalAnswer(error=str(exc), code=ErrorCode.invalid_embedding, server=server)
            )
            continue
        answers.append(
            ModalAnswer(embeddings=[vector], tokens=[tokens], truncated=[truncated], server=server)
        )
    return answers


def answer_queries(
    backend: Backend, texts: Sequence[str], input_types: Sequence[str]
) -> list[dict[str, Any]]:
    """The body of the `@modal.batched` method: texts of both input types, answered in order."""
    answers: list[dict[str, Any] | None] = [None] * len(texts)
    for input_type in ("query", "document"):
        indices = [i for i, kind in enumerate(input_types) if kind == input_type]
        if indices:
            group = _answer(backend, [texts[i] for i in indices], input_type)
            for i, answer in zip(indices, group, strict=True):
                answers[i] = answer.model_dump()
    unknown = ModalAnswer(
        error="input_type must be query or document", code=ErrorCode.invalid_request
    )
    return [a if a is not None else unknown.model_dump() for a in answers]


def answer_bulk(backend: Backend, texts: Sequence[str], input_type: InputType) -> dict[str, Any]:
    """The bulk class's answer: all vectors, or an error if any of them is unusable."""
    answers = _answer(backend, list(texts), input_type)
    failed = next((a for a in answers if a.error is not None), None)
    if failed is not None:
        return ModalAnswer(error=failed.error, code=failed.code, server=failed.server).model_dump()
    return ModalAnswer(
        embeddings=[a.embeddings[0] for a in answers],
        tokens=[a.tokens[0] for a in answers],
        truncated=[a.truncated[0] for a in answers],
        server=answers[0].server if answers else {},
    ).model_dump()


class ForwardingBackend:
    """A `Backend` for the web endpoint: queries go to the query class (one call per text,
    batched by `@modal.batched`), documents to the bulk class in one call. Its device, versions
    and load time are those of the last GPU container that answered."""

    name = "modal"

    def __init__(
        self, recipe: EmbeddingRecipe, *, gpu: str, dtype: str, query: QueryCall, bulk: BulkCall
    ) -> None:
        self.recipe = recipe
        self.dtype = dtype
        self.device = f"modal {gpu} (no GPU container has answered yet)"
        self.load_seconds: float | None = None
        self.versions: dict[str, str] = {}
        self._query, self._bulk = query, bulk

    def encode(self, texts: Sequence[str], input_type: InputType) -> EncodeResult:
        if input_type == "query":
            raw = list(self._query(list(texts), [input_type] * len(texts)))
        else:
            raw = [self._bulk(list(texts), input_type)]
        answers = [ModalAnswer.model_validate(item) for item in raw]
        if any(a.error is not None and a.code != ErrorCode.invalid_embedding for a in answers):
            raise RuntimeError(next(a.error for a in answers if a.error is not None))
        if input_type == "query":  # a bad vector fails its own request only: see _unusable
            answers = [_unusable(a, self.recipe.dimension) for a in answers]
        elif answers[0].error is not None:
            raise EmbedderResponseInvalid(answers[0].error)
        self._remember(next((a.server for a in reversed(answers) if a.server), {}))
        return EncodeResult(
            vectors=[v for a in answers for v in a.embeddings],
            tokens=[n for a in answers for n in a.tokens],
            truncated=[t for a in answers for t in a.truncated],
        )

    def _remember(self, server: Mapping[str, str]) -> None:
        if not server:
            return
        info = dict(server)
        self.device = info.pop("device", self.device)
        self.dtype = info.pop("dtype", self.dtype)
        load = info.pop("load_seconds", None)
        self.load_seconds = float(load) if load is not None else self.load_seconds
        self.versions = info


def answer_rerank(backend: RerankBackend, query: str, documents: Sequence[str]) -> dict[str, Any]:
    """The reranker class's answer: a finite score per document, or why there is none."""
    server = {"device": backend.device, **backend.versions}
    try:
        result = backend.score(query, documents)
        check_scores(result, len(documents))
    except Exception as exc:
        log.exception("reranker %s failed on %d documents", backend.model_id, len(documents))
        return ModalRerankAnswer(
            error=str(exc), code=ErrorCode.rerank_failed, server=server
        ).model_dump()
    return ModalRerankAnswer(
        scores=result.scores,
        tokens=result.tokens,
        truncated=result.truncated,
        model=backend.model_id,
        revision=backend.revision,
        server=server,
    ).model_dump()


class ForwardingReranker:
    """A `RerankBackend` for the web endpoint: each call goes to the reranker class. Its
    revision, device and versions are those of the last GPU container that answered."""

    name = "modal"

    def __init__(self, model_id: str, *, gpu: str, rerank: RerankCall) -> None:
        self.model_id = model_id
        self.revision = ""
        self.device = f"modal {gpu} (no GPU container has answered yet)"
        self.versions: dict[str, str] = {}
        self._rerank = rerank

    def score(self, query: str, documents: Sequence[str]) -> ScoreResult:
        answer = ModalRerankAnswer.model_validate(self._rerank(query, list(documents)))
        if answer.error is not None:
            raise RuntimeError(answer.error)
        self.revision = answer.revision
        info = dict(answer.server)
        self.device = info.pop("device", self.device)
        self.versions = info
        return ScoreResult(answer.scores, answer.tokens, answer.truncated)


def _unusable(answer: ModalAnswer, dimension: int) -> ModalAnswer:
    """An item the GPU refused becomes a NaN vector: the app validates each request's vectors,
    so it fails that request (500 invalid_embedding) and none of the others batched with it."""
    if answer.error is None:
        return answer
    log.error("the GPU refused a vector: %s", answer.error)
    return ModalAnswer(embeddings=[[math.nan] * dimension], tokens=[0], truncated=[False])


def build_web_app(
    backend: ForwardingBackend,
    *,
    token: SecretStr | None,
    max_batch: int,
    coalesce_max_texts: int,
    reranker: ForwardingReranker | None = None,
) -> FastAPI:
    """The local server's app over the forwarding backend: same routes, errors and auth.
    Forwarding is I/O-bound, so several coalesced batches may be in flight at once."""
    from embedder.app import create_app

    return create_app(
        backend,
        token=token,
        max_batch=max_batch,
        warm_up=False,  # warming up here would wake a GPU whenever a web container starts
        coalesce_max_texts=coalesce_max_texts,
        coalesce_wait_ms=2.0,
        concurrency=16,
        reranker=reranker,
    )
