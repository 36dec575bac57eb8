"""The one place where errors become HTTP responses: a stable `code`, a human message, no trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from podsearch.contract import ApiError, ErrorBody, ErrorCode
from podsearch.errors import (
    EmbedderResponseInvalid,
    EmbedderUnavailable,
    IndexMismatch,
    IndexNotReady,
    PodsearchError,
    StoreUnavailable,
)

log = logging.getLogger("podsearch.api")

# Most specific first: the first matching class wins.
_STATUS: list[tuple[type[PodsearchError], int, ErrorCode]] = [
    (EmbedderUnavailable, 503, ErrorCode.embedder_unavailable),
    (EmbedderResponseInvalid, 502, ErrorCode.embedder_invalid_response),
    (IndexNotReady, 503, ErrorCode.index_not_ready),
    (IndexMismatch, 409, ErrorCode.index_mismatch),
    (StoreUnavailable, 503, ErrorCode.store_unavailable),
]
_HTTP_CODES = {404: ErrorCode.not_found, 405: ErrorCode.method_not_allowed}


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    details: list[dict[str, object]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(ErrorBody.of(code, message, details), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in err["loc"][1:]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
        return error_response(422, ErrorCode.invalid_request, summary, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.http_error)
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(PodsearchError)
    async def _ours(request: Request, exc: PodsearchError) -> JSONResponse:
        for kind, status, code in _STATUS:
            if isinstance(exc, kind):
                log.warning("%s: %s", code, exc)
                return error_response(status, code, str(exc))
        return internal_error(exc)


def internal_error(exc: BaseException) -> JSONResponse:
    """A bug: the trace goes to the log, the client gets JSON (never the trace).

    Unexpected exceptions are answered by `ObservabilityMiddleware`, not by an exception handler:
    Starlette's handler for `Exception` runs outside every middleware and re-raises after
    answering, so the answer lacked the request id and uvicorn closed the keep-alive connection.
    """
    log.error("internal error: %s", type(exc).__name__, exc_info=exc)
    return error_response(500, ErrorCode.internal_error, "internal error")
