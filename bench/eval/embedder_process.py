"""A real local embedder (`podsearch-embedder`, MiniLM on CPU) on a free port, for one run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_embedder(log: Path, timeout_s: float = 180) -> Iterator[str]:
    """Start the embedder, yield its URL once /health answers, stop it on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODSEARCH_")}
    env["PODSEARCH_EMBEDDER_SERVER__PORT"] = str(port)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(BIN / "podsearch-embedder")], env=env, stdout=handle, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(process, url, timeout_s, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"podsearch-embedder exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"podsearch-embedder not healthy after {timeout_s} s; see {log}")
