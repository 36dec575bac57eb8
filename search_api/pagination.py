"""Opaque cursors: the next offset, bound to the search (query, mode, filters) that made it."""

from __future__ import annotations

import base64
import hashlib
import json

from podsearch.contract import ApiError, ErrorCode


def request_key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode_cursor(offset: int, key: str) -> str:
    raw = json.dumps({"o": offset, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key: str) -> int:
    """The offset of a cursor made for this same search; 422 otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
        valid = data["k"] == key and offset >= 0
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(422, ErrorCode.invalid_cursor, "cursor is malformed") from exc
    if not valid:
        raise ApiError(422, ErrorCode.invalid_cursor, "cursor belongs to another search")
    return offset
