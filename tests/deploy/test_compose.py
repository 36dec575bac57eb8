"""docker-compose.yml and .env.example, checked against the code (no Docker engine needed).

The file is parsed with PyYAML; every image, command, port, URL, health check and variable is
compared with what the repository really has: its Dockerfiles, console scripts, settings models
and the real FastAPI apps. The health-check commands are also run for real, against a local
HTTP server that answers the way the service would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic_settings import BaseSettings

from podsearch.manifest import read_manifest
from tests.deploy.conftest import LISTEN, SETTINGS
from tests.deploy.support import (
    COMPOSE_FILE,
    PINNED_TAG,
    Dockerfile,
    build_args,
    console_scripts,
    container_port,
    env_example,
    healthcheck_argv,
    http_stub,
    interpolate,
    interpolated_names,
    probe_url,
    run_probe,
    service_environment,
    setting_path,
    setting_value,
    status_of,
)
from tests.support import REPO, free_port

# Qdrant's own probes (https://qdrant.tech/documentation/guides/monitoring/#kubernetes-health-endpoints);
# its image is not ours to introspect.
QDRANT_PROBES = {"/healthz", "/livez", "/readyz"}
QDRANT_PORT = 6333
_TCP_PROBE = re.compile(r"/dev/tcp/(?P<host>[\w.]+)/(?P<port>\d+)")


def listen_port(service: str, settings: BaseSettings) -> int:
    return int(setting_value(settings, (*LISTEN[service], "port")))


# --- images, builds, commands ------------------------------------------------------------------


def test_every_service_runs_a_pinned_image_or_a_dockerfile_of_this_repo(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if "build" in service:
            build = service["build"]
            context = REPO / build["context"]
            assert context.resolve() == REPO, f"{name}: build context must be the repo root"
            assert (context / build["dockerfile"]).is_file(), f"{name}: no {build['dockerfile']}"
            assert "image" not in service, f"{name}: built here, so it names no registry image"
        else:
            image = service["image"]
            assert PINNED_TAG.match(image), f"{name}: {image} is not pinned to an exact version"
            assert ":latest" not in image


def test_every_dockerfile_in_docker_is_built_by_a_service(
    dockerfiles: dict[str, Dockerfile],
) -> None:
    built = {d.path.resolve() for d in dockerfiles.values()}
    assert set((REPO / "docker").glob("*.Dockerfile")) <= built
    assert set(dockerfiles) == set(SETTINGS), "each deployable is a service built here"


def test_commands_run_console_scripts_this_project_declares(
    services: dict[str, dict[str, Any]], dockerfiles: dict[str, Dockerfile]
) -> None:
    scripts = console_scripts()
    for name in dockerfiles:
        service = services[name]
        assert "entrypoint" not in service, f"{name}: keep the image's entrypoint"
        command = service["command"]
        assert isinstance(command, list), f"{name}: use the exec form (a list)"
        assert command[0] in scripts, f"{name}: {command[0]} is not in [project.scripts]"
        package = scripts[command[0]].split(".", 1)[0]
        assert package == name, f"{name} runs {command[0]}, which belongs to {package}"


def test_build_args_are_args_the_dockerfile_declares(
    services: dict[str, dict[str, Any]], dockerfiles: dict[str, Dockerfile]
) -> None:
    for name, dockerfile in dockerfiles.items():
        unknown = set(build_args(services[name])) - set(dockerfile.arg_defaults())
        assert not unknown, f"{name}: build args {unknown} are not ARGs of {dockerfile.path.name}"


# --- start-up order and health -----------------------------------------------------------------


def test_services_wait_for_their_dependencies_to_be_healthy(
    services: dict[str, dict[str, Any]], dockerfiles: dict[str, Dockerfile]
) -> None:
    for name in ("search_api", "indexer"):
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        assert set(depends) == {"qdrant", "embedder"}
        for dependency, rule in depends.items():
            assert rule == {"condition": "service_healthy"}, f"{name} -> {dependency}: {rule}"
            has_check = healthcheck_argv(services[dependency]) is not None or (
                dependency in dockerfiles
                and dockerfiles[dependency].final.last("HEALTHCHECK") is not None
            )
            assert has_check, f"{dependency} has no health check to wait for"


@pytest.mark.parametrize("service", ["search_api", "embedder"])
async def test_app_healthchecks_ask_a_route_that_answers_200_on_the_listen_port(
    service: str,
    services: dict[str, dict[str, Any]],
    apps: dict[str, Any],
    effective_settings: Callable[..., BaseSettings],
) -> None:
    argv = healthcheck_argv(services[service])
    assert argv is not None and argv[0] == "python", f"{service}: probe with python (no curl)"
    url = urlsplit(probe_url(argv))
    assert url.hostname == "127.0.0.1"
    assert url.port == listen_port(service, effective_settings(service))
    assert await status_of(apps[service], url.path) == 200, f"{service}: GET {url.path}"


def test_qdrant_healthcheck_asks_readyz_on_the_port_the_apps_use(
    services: dict[str, dict[str, Any]],
) -> None:
    argv = healthcheck_argv(services["qdrant"])
    assert argv is not None and argv[:2] == ["bash", "-c"], "the image has bash, not curl"
    script = argv[2]
    tcp = _TCP_PROBE.search(script)
    assert tcp and tcp["host"] == "127.0.0.1" and int(tcp["port"]) == QDRANT_PORT
    path = re.search(r"GET (\S+) HTTP/1\.[01]", script)
    assert path and path[1] == "/readyz" and path[1] in QDRANT_PROBES


# --- ports, addresses and URLs -----------------------------------------------------------------


@pytest.mark.parametrize("service", ["search_api", "embedder"])
def test_published_port_is_the_port_the_app_listens_on_all_interfaces(
    service: str,
    services: dict[str, dict[str, Any]],
    effective_settings: Callable[..., BaseSettings],
) -> None:
    settings = effective_settings(service)
    listen = setting_value(settings, LISTEN[service])
    assert listen.host == "0.0.0.0", f"{service} would listen on {listen.host} inside its container"
    [mapping] = services[service]["ports"]
    assert container_port(mapping) == listen.port
    assert interpolate(mapping, {}).startswith("127.0.0.1:"), "published on loopback only"


def test_search_api_and_indexer_share_the_qdrant_collection_and_the_embedder(
    services: dict[str, dict[str, Any]],
    effective_settings: Callable[..., BaseSettings],
) -> None:
    api, indexer = effective_settings("search_api"), effective_settings("indexer")
    embedder_port = listen_port("embedder", effective_settings("embedder"))
    [qdrant_ports] = services["qdrant"]["ports"]
    assert container_port(qdrant_ports) == QDRANT_PORT
    for settings in (api, indexer):
        store, embedder = settings.store, settings.embedder  # type: ignore[attr-defined]
        assert store.backend == "qdrant"
        url = urlsplit(store.url)
        assert (url.hostname, url.port) == ("qdrant", QDRANT_PORT)
        url = urlsplit(embedder.url)
        assert (url.hostname, url.port) == ("embedder", embedder_port)
        assert url.hostname in services and url.path in ("", "/")
    assert api.store == indexer.store  # type: ignore[attr-defined]


# --- the indexer job ---------------------------------------------------------------------------


def test_indexer_is_a_one_shot_job_that_indexes_the_mounted_folder(
    services: dict[str, dict[str, Any]],
) -> None:
    indexer = services["indexer"]
    assert indexer["profiles"] == ["index"], "`docker compose up` must not start it"
    assert indexer.get("restart", "no") == "no"
    assert "ports" not in indexer and "healthcheck" not in indexer
    [mount] = indexer["volumes"]
    source, target, mode = interpolate(mount, {}).split(":")
    assert mode == "ro"
    folder = (COMPOSE_FILE.parent / source).resolve()
    manifest_arg = interpolate(indexer["command"][1], {})
    assert manifest_arg.startswith(target + "/")
    manifest = folder / manifest_arg.removeprefix(target + "/")
    episodes = read_manifest(manifest)
    assert episodes, f"{manifest} lists no episodes"
    for episode in episodes:  # the mount holds every transcript the manifest names
        assert episode.transcript.resolve().is_relative_to(folder), episode.transcript
        assert episode.transcript.is_file(), episode.transcript


def test_qdrant_keeps_its_data_in_named_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    mounts = dict(m.split(":", 1) for m in services["qdrant"]["volumes"])
    storage = {v: k for k, v in mounts.items()}["/qdrant/storage"]
    assert storage in compose["volumes"], "storage must outlive the container"
    assert "/qdrant/snapshots" in mounts.values()


# --- environment variables ---------------------------------------------------------------------


def test_setting_resolver_accepts_real_settings_and_rejects_typos_and_foreign_ones() -> None:
    from indexer.settings import IndexerSettings
    from search_api.settings import ApiSettings

    assert setting_path(ApiSettings, "PODSEARCH_STORE__URL") == ("store", "url")
    assert setting_path(ApiSettings, "PODSEARCH_API__PORT") == ("api", "port")
    assert setting_path(ApiSettings, "PODSEARCH_STORE__URLS") is None
    assert setting_path(ApiSettings, "PODSEARCH_STORE_URL") is None
    assert setting_path(ApiSettings, "PODSEARCH_STORE__URL__X") is None
    assert setting_path(IndexerSettings, "PODSEARCH_API__PORT") is None
    assert setting_path(IndexerSettings, "PODSEARCH_CONCURRENCY") == ("concurrency",)


def test_every_podsearch_variable_a_service_gets_is_a_setting_of_that_service(
    services: dict[str, dict[str, Any]], dockerfiles: dict[str, Dockerfile]
) -> None:
    unknown = []
    for name, settings in SETTINGS.items():
        names = set(service_environment(services[name])) | set(dockerfiles[name].final.env())
        for variable in sorted(n for n in names if n.startswith("PODSEARCH_")):
            if setting_path(settings, variable) is None:
                unknown.append(f"{name}: {variable}")
    assert not unknown, f"not settings of the service that receives them: {unknown}"


def test_services_other_than_ours_get_no_podsearch_variables(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if name not in SETTINGS:
            assert not [k for k in service_environment(service) if k.startswith("PODSEARCH_")]


def test_every_podsearch_variable_the_deploy_guide_names_is_a_real_setting() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    named = set(re.findall(r"PODSEARCH_[A-Z][A-Z0-9_]*", guide))
    assert named, "docs/deploy.md names no settings"
    unknown = [n for n in sorted(named) if not any(setting_path(s, n) for s in SETTINGS.values())]
    assert not unknown, f"docs/deploy.md names variables no deployable reads: {unknown}"


def _variables_compose_reads(services: dict[str, dict[str, Any]]) -> dict[str, str | None]:
    """Name -> default of every variable compose takes from the shell or .env."""
    names = interpolated_names(COMPOSE_FILE.read_text())
    for service in services.values():
        for key, value in service_environment(service).items():
            if value is None:
                names.setdefault(key, None)
        for key, value in build_args(service).items():
            if value is None:
                names.setdefault(key, None)
    return names


def test_env_example_lists_exactly_the_variables_compose_reads(
    services: dict[str, dict[str, Any]],
) -> None:
    listed, read = set(env_example()), set(_variables_compose_reads(services))
    assert not read - listed, f"missing from .env.example: {sorted(read - listed)}"
    assert not listed - read, f"listed in .env.example but never read: {sorted(listed - read)}"


def test_env_example_shows_the_defaults_compose_and_the_dockerfiles_use(
    services: dict[str, dict[str, Any]], dockerfiles: dict[str, Dockerfile]
) -> None:
    entries = env_example()
    assert all(e.commented for e in entries.values()), "a copy of .env.example changes nothing"
    defaults = {k: v for k, v in _variables_compose_reads(services).items() if v is not None}
    for name, service in services.items():
        for arg in build_args(service):
            defaults[arg] = dockerfiles[name].arg_defaults()[arg]
    for name, default in defaults.items():
        assert entries[name].value == default, f"{name}: .env.example shows {entries[name].value}"


def test_env_example_podsearch_values_are_valid_and_match_the_settings_defaults(
    services: dict[str, dict[str, Any]],
    effective_settings: Callable[..., BaseSettings],
) -> None:
    entries = {k: v for k, v in env_example().items() if k.startswith("PODSEARCH_")}
    checked = set()
    for service in SETTINGS:
        passed = [k for k, v in service_environment(services[service]).items() if v is None]
        for name in passed:
            path = setting_path(SETTINGS[service], name)
            assert path is not None
            default = setting_value(effective_settings(service), path)
            shown = setting_value(effective_settings(service, {name: entries[name].value}), path)
            if default is not None:
                assert shown == default, f"{name}: .env.example shows {shown}, default {default}"
            checked.add(name)
    assert checked == set(entries)


# --- the probes, run for real against a stand-in server ----------------------------------------


@pytest.mark.parametrize("service", ["qdrant", "search_api", "embedder"])
def test_healthcheck_probe_passes_on_200_and_fails_on_503_or_no_server(
    service: str, services: dict[str, dict[str, Any]]
) -> None:
    argv = healthcheck_argv(services[service])
    assert argv is not None
    with http_stub(200) as (port, asked):
        assert run_probe(argv, port) == 0
    expected = "/readyz" if service == "qdrant" else urlsplit(probe_url(argv)).path
    assert asked == [expected]
    with http_stub(503) as (port, asked):
        assert run_probe(argv, port) != 0
    assert run_probe(argv, free_port()) != 0


def test_compose_file_needs_no_variable_it_does_not_default(
    services: dict[str, dict[str, Any]],
) -> None:
    """`docker compose up` works without a .env: every `${VAR}` has a `:-default`."""
    missing = [n for n, d in interpolated_names(COMPOSE_FILE.read_text()).items() if d is None]
    assert not missing, f"no default for {missing}"


def _compose_cli() -> list[str] | None:
    """Docker Compose v2, as a docker plugin or standalone, if this machine has it."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]):
            done = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=60)
            if done.returncode == 0 and re.search(r"version v?2\.", done.stdout):
                return argv
    return None


@pytest.mark.parametrize("profile", [[], ["--profile", "index"]])
def test_docker_compose_itself_accepts_the_file_with_every_documented_value(
    profile: list[str], tmp_path: Path
) -> None:
    """The one check that needs Compose (not an engine); skipped where Compose is absent."""
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker Compose v2 on this machine")
    every_value = tmp_path / "every-value.env"
    every_value.write_text(
        "".join(f"{e.name}={e.value}\n" for e in env_example().values()), encoding="utf-8"
    )
    for env_file in ([], ["--env-file", str(every_value)]):
        argv = [*cli, "-f", str(COMPOSE_FILE), *env_file, *profile, "config", "--quiet"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
