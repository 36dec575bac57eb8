"""Opaque cursors: the next offset, bound to the search (query, mode, filters) that made it,
and signed (HMAC-SHA256) so a client can neither forge one nor feed the server a crafted one.

The signature is checked before anything of the cursor is parsed, so a tampered cursor (deep
JSON, huge numbers, wrong types) is refused with 422 `invalid_cursor` without being decoded;
a genuine one is still checked for shape and range. The secret is `PODSEARCH_API__CURSOR_SECRET`;
unset, each process draws a random one at start-up, so cursors do not survive a restart or move
between replicas (a client then gets 422 and starts again from the first page).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from podsearch.contract import ApiError, ErrorCode

MAX_CURSOR_CHARS = 200
_MAC_BYTES = 16


def request_key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid(message: str) -> ApiError:
    return ApiError(422, ErrorCode.invalid_cursor, message)


@dataclass(frozen=True)
class CursorScope:
    """Cursors of one search: `key` binds them to it, `secret` signs them, and offsets past
    `max_offset` are refused."""

    secret: bytes
    key: str
    max_offset: int

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self.secret, payload, "sha256")[:_MAC_BYTES]

    def encode(self, offset: int) -> str:
        payload = json.dumps({"o": offset, "k": self.key}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, cursor: str) -> int:
        """The offset of a cursor this server made for this same search; 422 otherwise."""
        body, _, mac = cursor.partition(".")
        try:
            if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
                raise ValueError(cursor)
            payload, signature = _unb64(body), _unb64(mac)
        except (ValueError, binascii.Error) as exc:
            raise _invalid("cursor is malformed") from exc
        if not hmac.compare_digest(signature, self._mac(payload)):
            raise _invalid("cursor was not made by this server (or it restarted)")
        data = json.loads(payload)
        offset = data.get("o") if isinstance(data, dict) else None
        if type(offset) is not int or not 0 <= offset <= self.max_offset:
            raise _invalid("cursor is malformed")
        if data.get("k") != self.key:
            raise _invalid("cursor belongs to another search")
        return offset
