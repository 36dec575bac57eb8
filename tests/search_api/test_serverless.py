"""The Vercel entry point builds the API from the environment, without any model."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import REPO


def test_the_vercel_entry_builds_a_model_free_app() -> None:
    script = (
        "import sys, importlib.util\n"
        "spec = importlib.util.spec_from_file_location('entry', 'api/index.py')\n"
        "entry = importlib.util.module_from_spec(spec); spec.loader.exec_module(entry)\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "print(type(entry.app).__name__, heavy, entry.app.state.settings.store.backend)"
    )
    env = {"PODSEARCH_STORE__BACKEND": "qdrant", "PODSEARCH_STORE__URL": "https://q.example:6333"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["FastAPI", "[]", "qdrant"]


def test_vercel_routes_everything_to_the_entry_and_installs_only_the_api_extra() -> None:
    config = json.loads((REPO / "vercel.json").read_text())
    assert config["rewrites"] == [{"source": "/(.*)", "destination": "/api/index"}]
    assert "api/index.py" in config["functions"]
    lines = (REPO / "requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == ["-c requirements/api.lock", ".[api]"]
