"""The one place where errors become HTTP responses: a stable `code`, a human message, no trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
_STATUS: list[tuple[type[PodsearchError], int, str]] = [
    (EmbedderUnavailable, 503, "embedder_unavailable"),
    (EmbedderResponseInvalid, 502, "embedder_invalid_response"),
    (IndexNotReady, 503, "index_not_ready"),
    (IndexMismatch, 409, "index_mismatch"),
    (StoreUnavailable, 503, "store_unavailable"),
]


class ApiError(Exception):
    """A client mistake found after schema validation (e.g. an empty query)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, object]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


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
        return error_response(422, "invalid_request", summary, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
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
    return error_response(500, "internal_error", "internal error")
