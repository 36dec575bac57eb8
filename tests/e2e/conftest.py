"""Real processes, as `make demo` runs them: the embedder, the indexer CLI and the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.support import free_port

BIN = Path(sys.executable).parent


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def start(
    command: str | list[str], env: dict[str, str], port: int, log: Path, timeout_s: float = 90
) -> Service:
    """Start a console script (or an argv) and wait until its /health answers 200."""
    handle = log.open("wb")
    argv = [str(BIN / command)] if isinstance(command, str) else command
    process = subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            handle.close()
            raise RuntimeError(f"{command} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Service(process, url, handle)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    handle.close()
    raise RuntimeError(f"{command} did not become healthy: {log.read_text()[-2000:]}")


def environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODSEARCH_")}
    env.update({f"PODSEARCH_{k.upper()}": v for k, v in settings.items()})
    return env


@pytest.fixture(scope="session")
def embedder_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("embedder") / "embedder.log"
    service = start("podsearch-embedder", environment(embedder_server__port=str(port)), port, log)
    yield service.url
    service.stop()


def run_indexer(manifest: Path, index: Path, embedder_url: str, *args: str) -> str:
    env = environment(store__path=str(index), embedder__url=embedder_url)
    done = subprocess.run(
        [str(BIN / "podsearch-index"), str(manifest), "--no-progress", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


@pytest.fixture
def api_factory(tmp_path: Path, embedder_url: str) -> Iterator[object]:
    started: list[Service] = []

    def make(index: Path) -> str:
        port = free_port()
        env = environment(store__path=str(index), embedder__url=embedder_url, api__port=str(port))
        started.append(start("podsearch-api", env, port, tmp_path / f"api-{port}.log"))
        return started[-1].url

    yield make
    for service in started:
        service.stop()
