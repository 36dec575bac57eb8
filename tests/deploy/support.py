"""Readers for the deployment files, so the tests can check them without a Docker engine.

Each reader covers the subset of its format that this repository uses and fails loudly on
anything else, rather than guessing: Dockerfile instructions with continuations, Compose
`${VAR}` / `${VAR:-default}` interpolation, `.dockerignore` patterns, `PODSEARCH_A__B` names.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from tests.support import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERIGNORE = REPO / ".dockerignore"
PYPROJECT = REPO / "pyproject.toml"

# An exact version (`python:3.11.15-slim-bookworm`, `qdrant/qdrant:v1.19.1`), optionally a digest.
PINNED_TAG = re.compile(r"^[^:@\s]+:v?\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$")
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


# --- pyproject ---------------------------------------------------------------------------------


def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text())


def console_scripts() -> dict[str, str]:
    """`podsearch-api` -> `search_api.cli:main`, as [project.scripts] declares them."""
    return dict(pyproject()["project"]["scripts"])


# --- Compose -----------------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's `${VAR}` / `${VAR:-default}` with `env` as the shell; `$$` is a literal `$`."""
    parts = value.split("$$")

    def one(match: re.Match[str]) -> str:
        given = env.get(match["name"], "")
        return given or (match["default"] or "")

    resolved = [_INTERPOLATION.sub(one, part) for part in parts]
    for part in resolved:
        assert "${" not in part, f"unsupported interpolation in {value!r}"
    return "$".join(resolved)


def interpolated_names(text: str) -> dict[str, str | None]:
    """Every `${VAR...}` in `text` (minus `$$` escapes) with its `:-` default, if any."""
    names: dict[str, str | None] = {}
    for part in text.split("$$"):
        for match in _INTERPOLATION.finditer(part):
            names[match["name"]] = match["default"]
    return names


def service_environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's `environment` as a dict; None marks a pass-through (value from shell/.env)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = [item.split("=", 1) for item in raw]
        return {p[0]: (p[1] if len(p) == 2 else None) for p in pairs}
    return {key: (None if value is None else str(value)) for key, value in raw.items()}


def build_args(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's `build.args`; None marks a pass-through (unset keeps the Dockerfile ARG)."""
    raw = (service.get("build") or {}).get("args") or {}
    if isinstance(raw, list):
        pairs = [item.split("=", 1) for item in raw]
        return {p[0]: (p[1] if len(p) == 2 else None) for p in pairs}
    return {key: (None if value is None else str(value)) for key, value in raw.items()}


def container_port(mapping: str) -> int:
    """`127.0.0.1:${API_HOST_PORT:-8000}:8000` -> 8000 (the side inside the container)."""
    return int(interpolate(mapping, {}).rsplit(":", 1)[-1].split("/")[0])


def healthcheck_argv(service: Mapping[str, Any]) -> list[str] | None:
    """The healthcheck command as the container runs it (after `CMD`), None when there is none."""
    test = (service.get("healthcheck") or {}).get("test")
    if test is None:
        return None
    assert isinstance(test, list) and test[0] == "CMD", f"use the exec form ['CMD', ...]: {test}"
    return [interpolate(arg, {}) for arg in test[1:]]


# --- .env.example ------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^(?P<comment>#\s?)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


@dataclass(frozen=True)
class EnvEntry:
    name: str
    value: str
    commented: bool


def env_example() -> dict[str, EnvEntry]:
    """`NAME=value` and `# NAME=value` lines; any other comment line is prose."""
    entries: dict[str, EnvEntry] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            name = match["name"]
            assert name not in entries, f".env.example lists {name} twice"
            entries[name] = EnvEntry(name, match["value"], bool(match["comment"]))
    return entries


# --- Settings ----------------------------------------------------------------------------------


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    models = [a for a in getattr(annotation, "__args__", ()) if _model_of(a) is not None]
    return _model_of(models[0]) if len(models) == 1 else None


def setting_path(settings: type[BaseSettings], name: str) -> tuple[str, ...] | None:
    """`PODSEARCH_STORE__URL` -> ('store', 'url') if the settings have that field, else None.

    Walks the nested models the way pydantic-settings splits names (prefix, then `__`); needed
    because the settings ignore unknown variables (`extra="ignore"`), so a typo is silent.
    """
    config = settings.model_config
    prefix = str(config.get("env_prefix") or "")
    delimiter = str(config.get("env_nested_delimiter") or "__")
    if not name.upper().startswith(prefix.upper()):
        return None
    path = tuple(name[len(prefix) :].lower().split(delimiter))
    model: type[BaseModel] | None = settings
    for part in path:
        info: FieldInfo | None = model.model_fields.get(part) if model else None
        if info is None:
            return None
        model = _model_of(info.annotation)
    return path


def setting_value(settings: BaseModel, path: tuple[str, ...]) -> Any:
    value: Any = settings
    for part in path:
        value = getattr(value, part)
    return value


# --- Dockerfiles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str

    def exec_form(self) -> list[str]:
        """The JSON array of CMD/ENTRYPOINT/HEALTHCHECK ... CMD (the shell form is refused)."""
        text = self.value.split(" CMD ", 1)[-1] if self.keyword == "HEALTHCHECK" else self.value
        argv = json.loads(text.strip())
        assert isinstance(argv, list), f"{self.keyword} must use the exec (JSON) form"
        return [str(arg) for arg in argv]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for word in shlex.split(instruction.value):
                key, sep, value = word.partition("=")
                assert sep, f"use ENV KEY=value: {instruction.value!r}"
                values[key] = value
        return values


@dataclass
class Dockerfile:
    path: Path
    args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def arg_defaults(self) -> dict[str, str]:
        """Every ARG's default: the global ones and those declared inside stages."""
        defaults = dict(self.args)
        for stage in self.stages:
            for instruction in stage.all("ARG"):
                key, _, default = instruction.value.partition("=")
                defaults[key] = default
        return defaults


def _logical_lines(text: str) -> Iterator[str]:
    """Instructions with `\\` continuations joined; comment lines (also inside them) dropped."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        yield pending + line
        pending = ""
    assert not pending, "the Dockerfile ends inside a continuation"


def parse_dockerfile(path: Path) -> Dockerfile:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, value = line.partition(" ")
        keyword, value = keyword.upper(), value.strip()
        if keyword == "FROM":
            words = [w for w in value.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            base = interpolate(words[0], args)
            stages.append(Stage(base=base, name=name))
        elif keyword == "ARG" and not stages:
            key, _, default = value.partition("=")
            args[key] = default
        else:
            assert stages, f"{path.name}: {keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, value))
    return Dockerfile(path=path, args=args, stages=stages)


def copy_sources(instruction: Instruction) -> list[str]:
    """The context paths a COPY reads (none for `COPY --from=stage`)."""
    words = shlex.split(instruction.value)
    if any(w.startswith("--from=") for w in words):
        return []
    plain = [w for w in words if not w.startswith("--")]
    return plain[:-1]


# --- .dockerignore -----------------------------------------------------------------------------


def dockerignore_excludes(path: str) -> bool:
    """Whether the build context leaves `path` out: the last matching pattern wins, `!` keeps.

    Covers what this repository uses: plain names, `*` globs, `**/` prefixes; a pattern that
    matches a folder also matches everything below it.
    """
    excluded = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        keep = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if _ignore_match(pattern, path):
            excluded = not keep
    return excluded


def _ignore_match(pattern: str, path: str) -> bool:
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    if pattern.startswith("**/"):
        tail = pattern[3:]
        return any(fnmatch.fnmatchcase(part, tail) for part in parts)
    return any(
        fnmatch.fnmatchcase(prefix, pattern) and prefix.count("/") == pattern.count("/")
        for prefix in prefixes
    )


# --- health-check probes, run here -------------------------------------------------------------

_URL = re.compile(r"https?://[^\s'\"]+")


async def status_of(app: Any, path: str) -> int:
    """What the real app answers to `GET path` (in-process, no server, no lifespan)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        return (await client.get(path)).status_code


def probe_url(argv: list[str]) -> str:
    """The one URL a python/urllib probe asks."""
    urls = _URL.findall(" ".join(argv))
    assert len(urls) == 1, f"expected one URL in the probe {argv}"
    return str(urls[0])


@contextmanager
def http_stub(status: int) -> Iterator[tuple[int, list[str]]]:
    """A loopback HTTP server answering every GET with `status`; yields (port, paths asked)."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b"all shards are ready" if status == 200 else b"not ready"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_probe(argv: list[str], port: int) -> int:
    """Run a health-check command here, aimed at `port`; `python` is this interpreter."""
    argv = [re.sub(r"127\.0\.0\.1([:/])\d+", rf"127.0.0.1\g<1>{port}", a) for a in argv]
    if argv[0] == "python":
        argv[0] = sys.executable
    return subprocess.run(argv, capture_output=True, timeout=30).returncode
