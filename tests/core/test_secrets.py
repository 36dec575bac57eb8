"""A misconfigured start never prints a secret: every entry point, started as the operator
starts it, with secret markers in the environment beside a setting that fails validation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

BIN = Path(sys.executable).parent
MARKERS = {
    "PODSEARCH_STORE__API_KEY": "marker-store-key-1f3a",
    "PODSEARCH_EMBEDDER__TOKEN": "marker-client-token-9c2e",
    "PODSEARCH_EMBEDDER_SERVER__TOKEN": "marker-server-token-77d0",
    "PODSEARCH_EMBEDDER_SERVER__MODEL_SHA256": "marker-sha-used-as-a-secret-5b1c",
}
BROKEN = {
    "podsearch-api": {"PODSEARCH_STORE__BACKEND": "qdrant"},
    "podsearch-index": {"PODSEARCH_STORE__BACKEND": "qdrant"},
    "podsearch-embedder": {"PODSEARCH_EMBEDDER_SERVER__BACKEND": "instructor"},
}


@pytest.mark.parametrize("command", list(BROKEN))
def test_settings_errors_never_echo_secret_values(command: str, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        **MARKERS,
        **BROKEN[command],
    }
    args = [str(BIN / command)] + (["episodes.jsonl"] if command == "podsearch-index" else [])
    done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"{command}: invalid settings:" in output and "Traceback" not in output
    assert [marker for marker in MARKERS.values() if marker in output] == []
