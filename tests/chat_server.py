"""A chat-completions endpoint on loopback that speaks OpenAI's streaming wire format exactly.

The model behind `/answer` is outside the machine, so it is the one thing tests stand in for,
at the process boundary: a real HTTP/1.1 server on a real socket, answering
`POST /v1/chat/completions` with `stream: true` the way vLLM, TGI and hosted APIs do (chunked
transfer encoding, `data: {chat.completion.chunk}` events, `data: [DONE]`). A `Script` says how
it misbehaves: an error status, slow tokens, an error chunk, a dropped connection, no `[DONE]`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Script:
    tokens: list[str] = field(default_factory=lambda: ["Nothing to say."])
    status: int = 200
    delay_s: float = 0.0  # before each token
    error_chunk_after: int | None = None  # send an error event after this many tokens
    drop_after: int | None = None  # close the socket mid-body after this many tokens
    send_done: bool = True
    garbage_after: int | None = None  # send a chunk that is not JSON


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    event = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1764460800,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n".encode()


def _chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class ChatServer:
    """Serves one `Script` (replace `.script` between requests); records every request."""

    def __init__(self) -> None:
        self.script = Script()
        self.received: list[Received] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (line.split(":", 1) for line in head[1:] if ":" in line)
            }
            body = json.loads(await reader.readexactly(int(headers.get("content-length", "0"))))
            self.received.append(Received(headers, body))
            await self._answer(writer, head[0], body)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing to answer
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, request_line: str, body: Any) -> None:
        s = self.script
        if not request_line.startswith("POST /v1/chat/completions ") or s.status != 200:
            status = 404 if s.status == 200 else s.status
            error = {"error": {"message": "sk-te***1234 is not valid", "type": "server_error"}}
            payload = json.dumps(error).encode()
            writer.write(
                f"HTTP/1.1 {status} Error\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        writer.write(_chunked(_chunk({"role": "assistant", "content": ""})))
        for n, token in enumerate(s.tokens):
            if n == s.drop_after:
                writer.write(b'40\r\ndata: {"id":')  # half a chunk, then the socket closes
                await writer.drain()
                writer.transport.abort()
                return
            if n == s.error_chunk_after:
                error = {"error": {"message": "CUDA out of memory", "code": 500}}
                writer.write(_chunked(f"data: {json.dumps(error)}\n\n".encode()))
                break
            if n == s.garbage_after:
                writer.write(_chunked(b"data: {not json\n\n"))
                break
            await asyncio.sleep(s.delay_s)
            writer.write(_chunked(_chunk({"content": token})))
            await writer.drain()
        else:
            writer.write(_chunked(_chunk({}, finish="stop")))
        if s.send_done:
            writer.write(_chunked(b"data: [DONE]\n\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    @contextmanager
    def running(self) -> Iterator[ChatServer]:
        """Serve on a free loopback port in a thread; `url` is the `/v1` base to configure."""
        started = threading.Event()

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            port = self._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}/v1"
            started.set()

        thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(start(), self._loop)
        if not started.wait(10):
            raise RuntimeError("the chat server did not start")
        try:
            yield self
        finally:
            assert self._server is not None
            self._loop.call_soon_threadsafe(self._server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join(timeout=5)
            self._loop.close()
