"""What a request must pass before anything parses it (the token, then a bounded body), and what
each of its texts must pass before it reaches a model (`check_inputs`).

FastAPI reads and parses a body before it solves a route's dependencies, so a token checked
there came after a stranger's 50 MB of JSON had been decoded. `RequestGuard` is a pure-ASGI
middleware in front of the app: a request to a guarded path without the right bearer token is
answered 401 unread, and a body over `max_body_bytes` (declared or streamed) 413 with at most
that many bytes read. The body it accepted is replayed to the app unchanged.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from pydantic import SecretStr
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podsearch.contract import ApiError, ErrorBody, ErrorCode


def _refusal(status: int, code: ErrorCode, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(ErrorBody.of(code, message), status_code=status, headers=headers or None)


class RequestGuard:
    """Auth and body size for every path under `guarded` (the embedding routes)."""

    def __init__(
        self,
        app: ASGIApp,
        token: SecretStr | None,
        max_body_bytes: int,
        guarded: str = "/v1/",
    ) -> None:
        self.app = app
        self._expected = token.get_secret_value().encode() if token is not None else None
        self._max = max_body_bytes
        self._guarded = guarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self._guarded):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if not self._authorized(headers.get(b"authorization", b"")):
            refusal = _refusal(
                401,
                "unauthorized",
                "missing or wrong bearer token",
                **{"WWW-Authenticate": "Bearer"},
            )
            await refusal(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self._max:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self._max:
                await self._too_large(scope, receive, send)
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _authorized(self, authorization: bytes) -> bool:
        if self._expected is None:
            return True
        scheme, _, given = authorization.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._expected)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body over {self._max} bytes"
        await _refusal(413, ErrorCode.body_too_large, message, Connection="close")(
            scope, receive, send
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then waits for the disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def check_inputs(texts: Sequence[str], max_chars: int, what: str = "input") -> None:
    """Each text on its own, before it can share a batch with other callers' texts: one bad
    text fails its own request, never the batch it would have joined."""
    for i, text in enumerate(texts):
        if len(text) > max_chars:
            raise ApiError(
                413,
                ErrorCode.input_too_long,
                f"{what} {i} has {len(text)} characters, at most {max_chars}",
            )
        if not text.strip():
            raise ApiError(422, ErrorCode.invalid_request, f"{what} {i} is empty or blank")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ApiError(422, ErrorCode.invalid_request, f"{what} {i}: lone surrogate") from exc
