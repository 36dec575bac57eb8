"""Faults of the index and of our own code: a clear JSON answer with the request id, never a 500
for a missing index, never a server path, and the client's keep-alive connection stays usable."""

from __future__ import annotations

import base64
import json
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from podsearch.models import PodcastStats
from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiOptions, ApiSettings
from tests.fakes import HashEmbedder
from tests.loopback import serve


@pytest.fixture
def own_index(index_root: Path, tmp_path: Path) -> Path:
    """A private copy of the sample index, so a test may delete or break it."""
    return Path(shutil.copytree(index_root, tmp_path / "index"))


@pytest.fixture
async def api(own_index: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings(store=StoreSettings(path=own_index))
    app = create_app(settings, embedder=HashEmbedder(), reader=EdgeReader(own_index))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


def assert_clean_error(response: httpx.Response, status: int, code: str, root: Path) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert str(root) not in response.text and "/tmp" not in response.text
    assert response.headers["x-request-id"]


async def test_a_deleted_index_folder_is_a_503_not_stale_answers(
    api: httpx.AsyncClient, own_index: Path
) -> None:
    assert (await api.get("/search", params={"q": "compost"})).status_code == 200
    shutil.rmtree(own_index)
    search = await api.get("/search", params={"q": "compost"})
    assert_clean_error(search, 503, "index_not_ready", own_index)
    ready = await api.get("/ready")
    assert ready.status_code == 503 and str(own_index) not in ready.text


async def test_a_deleted_live_generation_is_a_503(api: httpx.AsyncClient, own_index: Path) -> None:
    assert (await api.get("/podcasts")).status_code == 200
    shutil.rmtree(own_index / "generations")
    assert_clean_error(await api.get("/podcasts"), 503, "store_unavailable", own_index)


@pytest.mark.parametrize("damage", ["pointer_is_a_folder", "pointer_names_nothing"])
async def test_an_unreadable_pointer_is_a_503_even_on_ready(
    damage: str, api: httpx.AsyncClient, own_index: Path
) -> None:
    pointer = own_index / "CURRENT"
    pointer.unlink()
    if damage == "pointer_is_a_folder":
        pointer.mkdir()
    else:
        pointer.write_bytes(b"\xff\xfe../../etc\n")
    for path in ("/search?q=compost", "/ready", "/podcasts"):
        response = await api.get(path)
        assert response.status_code == 503, (path, response.text)
        assert str(own_index) not in response.text


def cursor_of(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        cursor_of(b'{"o": 1e999, "k": "0123456789abcdef"}'),  # out of range: inf
        cursor_of(b'{"o": -5, "k": "0123456789abcdef"}'),
        cursor_of(b"[" * 20_000),  # deep nesting
        cursor_of(b'{"o": "10", "k": null}'),
        "x" * 5_000,
        "\u00e9t\u00e9.caf\u00e9",
    ],
    ids=["inf_offset", "negative_offset", "deep_nesting", "wrong_types", "huge", "not_ascii"],
)
async def test_a_tampered_cursor_is_a_422(cursor: str, api: httpx.AsyncClient) -> None:
    response = await api.get("/search", params={"q": "compost", "cursor": cursor})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_cursor"


async def test_a_forged_cursor_is_refused_and_a_signed_one_works_across_processes(
    own_index: Path,
) -> None:
    @asynccontextmanager
    async def api_with(secret: str | None) -> AsyncIterator[httpx.AsyncClient]:
        options = ApiOptions(cursor_secret=secret)
        settings = ApiSettings(api=options, store=StoreSettings(path=own_index))
        app = create_app(settings, embedder=HashEmbedder(), reader=EdgeReader(own_index))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
                yield client

    params = {"q": "the team", "limit": 2}
    async with api_with("s3") as first, api_with("s3") as second, api_with(None) as other:
        cursor = (await first.get("/search", params=params)).json()["next_cursor"]
        body, mac = cursor.split(".")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        forged = cursor_of(json.dumps({**payload, "o": 40}).encode()) + "." + mac

        assert (await second.get("/search", params={**params, "cursor": cursor})).status_code == 200
        for client, bad in ((second, forged), (other, cursor)):
            refused = await client.get("/search", params={**params, "cursor": bad})
            assert refused.status_code == 422
            assert refused.json()["error"]["code"] == "invalid_cursor"


class BuggyReader(EdgeReader):
    """A reader with a bug in one method, standing in for any bug of ours."""

    async def podcasts(self) -> dict[str, PodcastStats]:
        raise ZeroDivisionError("a bug")


def exchange(sock: socket.socket, path: str) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on a kept-alive socket; the status, headers and body back."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: api\r\nX-Request-ID: rid-{path}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_a_500_is_json_with_the_request_id_and_the_connection_stays_usable(
    own_index: Path,
) -> None:
    settings = ApiSettings(store=StoreSettings(path=own_index))
    app = create_app(settings, embedder=HashEmbedder(), reader=BuggyReader(own_index))
    with serve(app) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            status, headers, body = exchange(sock, "/podcasts")
            assert status == 500 and headers["x-request-id"] == "rid-/podcasts"
            assert json.loads(body) == {
                "error": {"code": "internal_error", "message": "internal error"}
            }
            assert b"ZeroDivisionError" not in body and b"Traceback" not in body
            status, headers, _ = exchange(sock, "/health")  # same connection
            assert status == 200 and headers["x-request-id"] == "rid-/health"


async def test_no_index_yet_is_a_503_that_names_no_server_path(tmp_path: Path) -> None:
    root = tmp_path / "never-indexed"
    settings = ApiSettings(store=StoreSettings(path=root))
    app = create_app(settings, embedder=HashEmbedder(), reader=EdgeReader(root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.get("/search", params={"q": "compost"})
            ready = await client.get("/ready")
    assert_clean_error(response, 503, "index_not_ready", root)
    assert ready.status_code == 503 and str(tmp_path) not in ready.text
