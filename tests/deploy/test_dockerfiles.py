"""The Dockerfiles and .dockerignore, checked against the repository (no Docker engine needed).

What a build would find out late (a COPY of a missing or ignored path, a CUDA torch, a root
user, a probe of a route that does not exist) is checked here from the files themselves.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any
from urllib.parse import urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic_settings import BaseSettings

from tests.deploy.conftest import LISTEN
from tests.deploy.support import (
    PINNED_TAG,
    Dockerfile,
    Instruction,
    console_scripts,
    copy_sources,
    dockerignore_excludes,
    http_stub,
    probe_url,
    pyproject,
    run_probe,
    setting_value,
    status_of,
)
from tests.support import REPO, free_port

# Deployable -> the extra its image installs (at the versions of requirements/<extra>.lock).
EXTRAS = {"search_api": "api", "embedder": "embedder", "indexer": "indexer"}
ML_STACK = {"torch", "torchvision", "sentence-transformers", "transformers", "instructorembedding"}
_PIP_INSTALL = re.compile(r"pip install\b[^&;]*")


def pip_installs(dockerfile: Dockerfile) -> Iterator[tuple[int, str]]:
    """(position, command) of every pip install, across stages, in build order."""
    position = 0
    for stage in dockerfile.stages:
        for instruction in stage.all("RUN"):
            for match in _PIP_INSTALL.finditer(instruction.value):
                position += 1
                yield position, match.group(0).strip()


def test_base_images_are_pinned_to_an_exact_version_or_digest(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    for name, dockerfile in dockerfiles.items():
        earlier: set[str] = set()
        for stage in dockerfile.stages:
            if stage.base not in earlier:
                assert PINNED_TAG.match(stage.base), f"{name}: FROM {stage.base} is not pinned"
                assert "slim" in stage.base, f"{name}: FROM {stage.base} is not a slim image"
            if stage.name:
                earlier.add(stage.name)


def test_images_build_in_one_stage_and_ship_only_the_venv_in_the_next(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    for name, dockerfile in dockerfiles.items():
        assert len(dockerfile.stages) >= 2, f"{name}: not multi-stage"
        builder, final = dockerfile.stages[0], dockerfile.final
        copies = [shlex.split(i.value) for i in final.all("COPY")]
        assert copies == [[f"--from={builder.name}", "/opt/venv", "/opt/venv"]], name
        installs = [i.value for i in final.all("RUN") if "pip " in i.value]
        assert not installs, f"{name}: the runtime stage installs packages: {installs}"
        assert final.env()["PATH"].startswith("/opt/venv/bin:"), f"{name}: venv not on PATH"
        built = " ".join(i.value for i in builder.all("RUN"))
        assert "pip uninstall --yes pip setuptools" in built, f"{name}: the venv keeps pip"


def test_images_run_as_a_non_root_user_they_create(dockerfiles: dict[str, Dockerfile]) -> None:
    for name, dockerfile in dockerfiles.items():
        user = dockerfile.final.last("USER")
        assert user is not None, f"{name}: runs as root"
        uid = user.value.split(":")[0]
        assert uid not in ("root", "0") and uid.isdigit(), f"{name}: USER {user.value}"
        created = " ".join(i.value for i in dockerfile.final.all("RUN"))
        assert f"--uid {uid}" in created, f"{name}: uid {uid} is never created"


def test_copy_sources_exist_and_are_in_the_build_context(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    for name, dockerfile in dockerfiles.items():
        for stage in dockerfile.stages:
            for instruction in stage.all("COPY"):
                for source in copy_sources(instruction):
                    assert (REPO / source).exists(), f"{name}: COPY {source}: no such path"
                    assert not dockerignore_excludes(source), f"{name}: {source} is ignored"


def test_each_image_installs_its_deployable_with_its_extra(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    scripts = console_scripts()
    extras = pyproject()["project"]["optional-dependencies"]
    for name, dockerfile in dockerfiles.items():
        extra = EXTRAS[name]
        assert extra in extras
        installs = [cmd for _, cmd in pip_installs(dockerfile)]
        locked = f'pip install --constraint requirements/{extra}.lock ".[{extra}]"'
        assert locked in installs, f"{name}: installs {installs}"
        copied = {s for st in dockerfile.stages for i in st.all("COPY") for s in copy_sources(i)}
        assert {"podsearch", name, "pyproject.toml", "README.md"} <= copied
        assert {"requirements", f"requirements/{extra}.lock"} & copied, f"{name}: no lock"
        command = dockerfile.final.last("CMD")
        assert command is not None and dockerfile.final.last("ENTRYPOINT") is None
        script = command.exec_form()[0]
        assert scripts[script].split(".", 1)[0] == name, f"{name}: CMD {script}"


def _closure(requirements: list[str], extra: str = "") -> set[str]:
    """Names of everything `requirements` pull in, from the metadata installed in .venv."""
    names: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    todo = [(Requirement(r), extra) for r in requirements]
    while todo:
        requirement, current_extra = todo.pop()
        marker = requirement.marker
        if marker is not None and not marker.evaluate({"extra": current_extra}):
            continue
        name = canonicalize_name(requirement.name)
        names.add(name)
        if (name, frozenset(requirement.extras)) in visited:
            continue
        visited.add((name, frozenset(requirement.extras)))
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue  # not installed here, so not needed on this platform
        for child in requires:
            for wanted in requirement.extras or {""}:
                todo.append((Requirement(child), wanted))
    return names


def test_search_api_image_installs_no_torch_nor_any_model_library(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    dockerfile = dockerfiles["search_api"]
    text = " ".join(i.value for s in dockerfile.stages for i in s.instructions).lower()
    for word in ("torch", "embedder", "sentence", "--no-deps"):
        assert word not in text, f"the search_api image mentions {word!r}"
    project = pyproject()["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["api"]
    pulled = _closure(wanted)
    assert not pulled & ML_STACK, f"`.[api]` pulls {sorted(pulled & ML_STACK)}"
    assert {"fastapi", "uvicorn", "qdrant-client"} <= pulled  # the walk itself works


def test_embedder_image_installs_cpu_torch_then_the_extra_then_the_nodeps_pins(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    dockerfile = dockerfiles["embedder"]
    order = {cmd: position for position, cmd in pip_installs(dockerfile)}
    torch = next(cmd for cmd in order if "torch==" in cmd)
    assert '--index-url "${TORCH_INDEX_URL}"' in torch
    extra = order['pip install --constraint requirements/embedder.lock ".[embedder]"']
    nodeps = order["pip install --no-deps -r requirements/embedder-nodeps.txt"]
    assert order[torch] < extra < nodeps
    args = dockerfile.arg_defaults()
    assert args["TORCH_INDEX_URL"].endswith("/whl/cpu")
    makefile_pin = re.search(r"pip install --quiet torch==(\S+)", (REPO / "Makefile").read_text())
    assert makefile_pin, "the Makefile no longer pins torch"
    assert args["TORCH_VERSION"] == makefile_pin[1], "the image and `make test` disagree on torch"


@pytest.mark.parametrize("service", ["search_api", "embedder"])
async def test_image_healthcheck_asks_a_route_that_answers_200_on_the_listen_port(
    service: str,
    dockerfiles: dict[str, Dockerfile],
    apps: dict[str, Any],
    effective_settings: Callable[..., BaseSettings],
) -> None:
    dockerfile = dockerfiles[service]
    check = dockerfile.final.last("HEALTHCHECK")
    assert check is not None, f"{service}: no HEALTHCHECK"
    argv = check.exec_form()
    assert argv[0] == "python", "no curl in slim images"
    url = urlsplit(probe_url(argv))
    # `docker run -p` publishes 0.0.0.0, where the embedder refuses to serve without a token.
    run_env = {"PODSEARCH_EMBEDDER_SERVER__TOKEN": "t"} if service == "embedder" else {}
    listen = setting_value(
        effective_settings(service, compose=False, run_env=run_env), LISTEN[service]
    )
    assert listen.host == "0.0.0.0", f"{service}: `docker run -p` could not reach it"
    assert (url.hostname, url.port) == ("127.0.0.1", listen.port)
    assert str(listen.port) in [p.split("/")[0] for p in _exposed(dockerfile.final.all("EXPOSE"))]
    assert await status_of(apps[service], url.path) == 200


def _exposed(instructions: list[Instruction]) -> list[str]:
    return [port for i in instructions for port in i.value.split()]


def test_the_indexer_image_is_a_job_without_a_healthcheck(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    final = dockerfiles["indexer"].final
    check = final.last("HEALTHCHECK")
    assert check is not None and check.value == "NONE"
    assert not final.all("EXPOSE")


@pytest.mark.parametrize("service", ["search_api", "embedder"])
def test_image_healthcheck_passes_on_200_and_fails_on_503_or_no_server(
    service: str, dockerfiles: dict[str, Dockerfile]
) -> None:
    check = dockerfiles[service].final.last("HEALTHCHECK")
    assert check is not None
    argv = check.exec_form()
    with http_stub(200) as (port, asked):
        assert run_probe(argv, port) == 0
    assert asked == [urlsplit(probe_url(argv)).path]
    with http_stub(503) as (port, _):
        assert run_probe(argv, port) != 0
    assert run_probe(argv, free_port()) != 0


@pytest.mark.parametrize(
    "path",
    [".venv/bin/python", "data/index", ".env", ".env.local", ".git/HEAD", "shared/data",
     "tests/conftest.py", "bench/out", "podsearch/__pycache__/x.pyc", ".pytest_cache/v",
     "search_api/.mypy_cache/x", "podsearch.egg-info/PKG-INFO", "sample/episodes.jsonl"],
)  # fmt: skip
def test_dockerignore_keeps_local_state_secrets_and_caches_out(path: str) -> None:
    assert dockerignore_excludes(path)


@pytest.mark.parametrize(
    "path",
    ["pyproject.toml", "README.md", "podsearch/models.py", "search_api/static/index.html",
     "requirements/embedder-nodeps.txt", "embedder/app.py", "indexer/cli.py"],
)  # fmt: skip
def test_dockerignore_lets_the_sources_the_images_need_in(path: str) -> None:
    assert not dockerignore_excludes(path)
