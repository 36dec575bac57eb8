"""A streaming client for any OpenAI-compatible chat-completions endpoint (vLLM, TGI, hosted).

It yields the answer's text as it arrives and turns every way the endpoint can fail (refused,
unreachable, an error status, an error chunk, a malformed chunk, a silent or dropped stream)
into one `LlmFailure` whose message is safe to show a client: no URL, key or provider text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from search_api.settings import LlmSettings

log = logging.getLogger("podsearch.llm")


class LlmFailure(Exception):
    """The chat model gave no usable answer; the message says why, in words a client may see."""


class ChatClient:
    """One pooled HTTP client per app; `stream` is one chat completion, token by token."""

    def __init__(self, settings: LlmSettings) -> None:
        if not settings.url:
            raise ValueError("ChatClient needs llm.url")
        self.settings = settings
        headers = {"Accept": "text/event-stream"}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        # Reads are bounded per token by `stream` itself; this outer bound only backs it up.
        read_s = settings.token_timeout_s + 1
        timeout = httpx.Timeout(read_s, connect=settings.connect_timeout_s)
        self._http = httpx.AsyncClient(
            base_url=settings.url.rstrip("/"), headers=headers, timeout=timeout
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def stream(self, messages: Sequence[dict[str, str]]) -> AsyncIterator[str]:
        """The answer's text pieces, in order; LlmFailure unless the stream ends with [DONE]."""
        s = self.settings
        body = {
            "model": s.model,
            "messages": list(messages),
            "stream": True,
            "max_tokens": s.max_tokens,
            "temperature": s.temperature,
        }
        deadline = time.monotonic() + s.deadline_s
        try:
            async with self._http.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code != 200:
                    await _refused(response)
                lines = response.aiter_lines()
                while True:
                    wait = min(s.token_timeout_s, deadline - time.monotonic())
                    try:
                        line = await asyncio.wait_for(anext(lines), max(wait, 0))
                    except StopAsyncIteration:
                        raise LlmFailure("the model's stream ended before [DONE]") from None
                    except TimeoutError:
                        if wait < s.token_timeout_s:
                            raise LlmFailure(
                                f"no complete answer within {s.deadline_s:g} s"
                            ) from None
                        raise LlmFailure(
                            f"the model sent nothing for {s.token_timeout_s:g} s"
                        ) from None
                    data = _data(line)
                    if data is None:
                        continue
                    if data == "[DONE]":
                        return
                    piece = _content(data)
                    if piece:
                        yield piece
        except httpx.ConnectError as exc:
            raise LlmFailure("cannot reach the model endpoint") from exc
        except httpx.TimeoutException as exc:
            raise LlmFailure("the model endpoint timed out") from exc
        except httpx.HTTPError as exc:  # e.g. the connection dropped mid-answer
            raise LlmFailure(f"the connection to the model broke ({type(exc).__name__})") from exc


async def _refused(response: httpx.Response) -> None:
    """An error status: log what kind of error (never its text, which may echo a key)."""
    await response.aread()
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    kind = error.get("type") or error.get("code") if isinstance(error, dict) else None
    log.warning("chat completion refused: HTTP %s (%s)", response.status_code, kind or "no type")
    raise LlmFailure(f"the model endpoint answered HTTP {response.status_code}")


def _data(line: str) -> str | None:
    """The payload of an SSE `data:` line; None for comments, other fields and blank lines."""
    if not line.startswith("data:"):
        return None
    return line[5:].strip()


def _content(data: str) -> str:
    """The text of one chunk; LlmFailure for an error chunk or one that is not a chunk."""
    try:
        chunk: Any = json.loads(data)
    except ValueError:
        raise LlmFailure("the model sent a chunk that is not JSON") from None
    if not isinstance(chunk, dict):
        raise LlmFailure("the model sent a chunk that is not an object")
    if "error" in chunk:
        raise LlmFailure("the model reported an error mid-answer")
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        raise LlmFailure("the model sent a chunk without choices")
    if not choices:  # e.g. a final usage-only chunk
        return ""
    delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""
