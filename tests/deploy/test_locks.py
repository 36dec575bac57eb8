"""requirements/*.lock against pyproject.toml, the Makefile and the images: exact versions, CPU
torch only, and in step with the ranges they were compiled from (no network needed)."""

from __future__ import annotations

import re

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.support import pyproject
from tests.support import REPO

REQUIREMENTS = REPO / "requirements"
# Lock -> the extras it was compiled for (`make lock`).
LOCKS = {
    "api": ("api",),
    "indexer": ("indexer",),
    "embedder": ("embedder",),
    "dev": ("api", "mcp", "indexer", "embedder", "dev"),
}
ML_STACK = {"torch", "torchvision", "sentence-transformers", "transformers", "instructorembedding"}


def pins(lock: str) -> dict[str, str]:
    """name -> exact version; every line that is not a comment must be `name==version`."""
    found: dict[str, str] = {}
    for line in (REQUIREMENTS / f"{lock}.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line)
        assert match, f"{lock}.lock: {line!r} is not an exact pin"
        found[canonicalize_name(match[1])] = match[2]
    return found


def wanted(extras: tuple[str, ...]) -> list[Requirement]:
    project = pyproject()["project"]
    lines = project["dependencies"] + [
        line for extra in extras for line in project["optional-dependencies"][extra]
    ]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_pins_every_direct_dependency_within_its_range(lock: str) -> None:
    locked = pins(lock)
    for requirement in wanted(LOCKS[lock]):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{lock}.lock lacks {name}: run `make lock`"
        version = Version(locked[name])
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock}.lock pins {name}=={version}, pyproject.toml asks {requirement}: `make lock`"
        )


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_no_lock_pulls_a_cuda_build(lock: str) -> None:
    locked = pins(lock)
    assert not [name for name in locked if name.startswith("nvidia-") or "cuda" in name]
    if "torch" in locked:
        assert locked["torch"].endswith("+cpu"), f"{lock}.lock: torch {locked['torch']}"


@pytest.mark.parametrize("lock", ["api", "indexer"])
def test_the_api_and_indexer_locks_hold_no_model_library(lock: str) -> None:
    assert not set(pins(lock)) & ML_STACK


def test_torch_is_one_version_in_the_locks_the_makefile_and_the_embedder_image() -> None:
    override = (REQUIREMENTS / "torch-cpu.txt").read_text()
    (pinned,) = re.findall(r"^torch==(\S+)$", override, re.M)
    makefile = (REPO / "Makefile").read_text()
    dockerfile = (REPO / "docker" / "embedder.Dockerfile").read_text()

    assert pins("embedder")["torch"] == pins("dev")["torch"] == pinned
    assert f"pip install --quiet torch=={pinned.removesuffix('+cpu')}" in makefile
    assert f"ARG TORCH_VERSION={pinned.removesuffix('+cpu')}" in dockerfile


def test_make_install_uses_the_dev_lock_and_make_lock_writes_every_lock() -> None:
    makefile = (REPO / "Makefile").read_text()

    assert "--constraint requirements/dev.lock -e '.[api,mcp,indexer,embedder,dev]'" in makefile
    for lock, extras in LOCKS.items():
        flags = " ".join(f"--extra {extra}" for extra in extras)
        assert f"$(COMPILE) {flags} -o requirements/{lock}.lock" in makefile
