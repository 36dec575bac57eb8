"""Imports point one way: deployables -> `podsearch`, never `podsearch` -> fastapi, modal, torch
or a deployable; and no module of ours imports itself back through another."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.support import REPO

PACKAGES = ("podsearch", "embedder", "search_api", "indexer")
HEAVY = ("torch", "transformers", "sentence_transformers", "InstructorEmbedding", "modal")
WEB = ("fastapi", "starlette", "uvicorn")
# The one way from the core to a deployable: `open_embedder` imports the Modal SDK transport,
# which lives with the embedder deployable, inside the branch that the settings choose.
OPTIONAL = {("podsearch.remote_embedder", "embedder.modal_client")}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module a file imports, at its top or inside a function (`from package import
    module` names the module)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                is_module = (REPO / submodule.replace(".", "/")).with_suffix(".py").is_file()
                yield submodule if is_module else node.module


def sources(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((REPO / package).rglob("*.py"))]


def test_the_core_imports_no_framework_model_sdk_or_deployable() -> None:
    forbidden = {*HEAVY, *WEB, *PACKAGES} - {"podsearch"}
    offenders = [
        (module_name(path), name)
        for path in sources("podsearch")
        for name in imports(path)
        if name.split(".")[0] in forbidden and (module_name(path), name) not in OPTIONAL
    ]

    assert offenders == []


def test_no_deployable_imports_another() -> None:
    offenders = [
        (module_name(path), name)
        for package in PACKAGES[1:]
        for path in sources(package)
        for name in imports(path)
        if name.split(".")[0] in set(PACKAGES[1:]) - {package}
    ]

    assert offenders == []


def test_no_import_cycle() -> None:
    """Not even through an import inside a function: each module has one job and one place."""
    graph = {
        module_name(path): {name for name in imports(path) if name.split(".")[0] in PACKAGES}
        for path in sources(*PACKAGES)
    }
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        for target in sorted(graph.get(module, set()) - done):
            if target in trail:
                cycles.append([*trail[trail.index(target) :], target])
            else:
                visit(target, [*trail, target])
        done.add(module)

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


def test_importing_the_whole_core_loads_no_framework_or_model() -> None:
    modules = sorted(module_name(path) for path in sources("podsearch"))
    code = (
        f"import sys, {', '.join(modules)};"
        f"print(sorted({{*{HEAVY!r}, *{WEB!r}}} & {{m.split('.')[0] for m in sys.modules}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
