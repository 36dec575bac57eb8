"""`podsearch-api` as production runs it (the console script, its own process, JSON logs): each
request is logged once, by our access log; uvicorn's own access log would only repeat it.
The embedder is the real embedder app with the hash backend, on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from embedder.app import create_app as create_embedder
from podsearch.contract import EmbeddingRecipe
from podsearch.index_meta import REBUILD, SCHEMA_VERSION
from tests.loopback import HashBackend, serve
from tests.support import REPO, free_port

SCRIPT = str(Path(sys.executable).parent / "podsearch-api")


def api_env(index: Path, embedder_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODSEARCH_")}
    return env | {
        "PYTHONPATH": str(REPO),
        "PODSEARCH_STORE__PATH": str(index),
        "PODSEARCH_EMBEDDER__URL": embedder_url,
        "PODSEARCH_API__PORT": str(port),
    }


@pytest.mark.parametrize("json_logs", [True, False])
def test_podsearch_api_logs_each_request_once(
    index_root: Path, tmp_path: Path, json_logs: bool
) -> None:
    port, log = free_port(), tmp_path / "api.log"
    with serve(create_embedder(HashBackend(), warm_up=False)) as embedder_url:
        env = api_env(index_root, embedder_url, port)
        env["PODSEARCH_API__JSON_LOGS"] = str(json_logs).lower()
        with log.open("wb") as handle:
            api = subprocess.Popen([SCRIPT], env=env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            for q in ("compost", "liquidation preference", "on-call burnout"):
                assert httpx.get(f"{url}/search", params={"q": q}).status_code == 200
        finally:
            api.terminate()
            api.wait(timeout=20)

    searches = [line for line in log.read_text().splitlines() if "/search" in line]
    assert len(searches) == 3
    if json_logs:
        entries = [json.loads(line) for line in searches]
        assert [(e["logger"], e["route"], e["status"]) for e in entries] == [
            ("podsearch.access", "/search", 200)
        ] * 3
    else:
        assert all(line.startswith("INFO:podsearch.access:GET /search 200") for line in searches)


def test_an_index_of_an_older_schema_stops_podsearch_api_with_one_line(
    older_schema_index: Path,
) -> None:
    """No stack trace (nor a server path): the reason and what to do, as the indexer says it."""
    old = older_schema_index
    nobody = f"http://127.0.0.1:{free_port()}"  # the index is refused before any embedder call
    done = subprocess.run(
        [SCRIPT], env=api_env(old, nobody, free_port()), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"podsearch-api: the index has schema_version 1, this podsearch reads {SCHEMA_VERSION}: "
        f"{REBUILD}\n"
    )
    assert done.stdout == ""


def test_an_embedder_of_another_model_stops_podsearch_api_with_one_line(index_root: Path) -> None:
    other = HashBackend(recipe=EmbeddingRecipe(model_id="test/other-model", dimension=256))
    with serve(create_embedder(other, warm_up=False)) as embedder_url:
        done = subprocess.run(
            [SCRIPT],
            env=api_env(index_root, embedder_url, free_port()),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.startswith("podsearch-api: the embedder serves another recipe")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""
